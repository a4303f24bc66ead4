"""Lookups: embedding, embedding_bag and one_hot."""
import numpy as np

from ...autograd.node import Node
from ...autograd.ops._util import recording
from ...backend.device import array_module
from ...backend.kernels import index_add_at

__all__ = ['embedding', 'embedding_bag', 'one_hot']


def _T():
    from ...tensor import Tensor
    return Tensor


def _check_indices(idx, fn):
    if idx.dtype.kind not in 'iu':
        from ...backend.dtypes import from_numpy_dtype
        name = {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'bool': 'Bool'}.get(
            from_numpy_dtype(idx.dtype).name if idx.dtype.kind != 'b' else 'bool', str(idx.dtype))
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got torch.{name}Tensor instead (while checking arguments "
                           f"for {fn})")


def _check_range(idx, n):
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError("index out of range in self")


class EmbeddingBackward0(Node):
    """Gradient of a row lookup: rows of the output gradient summed into their weight rows (repeated
    indices accumulate). Computed on arrays: no double backward through it."""
    __slots__ = ()
    saves = False

    def backward(self, g):
        idx, V, pad, freq = self.idx, self.V, self.pad, self.freq
        xp = array_module(g._data)
        D = g._data.shape[-1]
        rows = g._data.reshape(-1, D)
        if freq or pad is not None:
            scale = None
            if freq:
                counts = xp.bincount(idx, minlength=V)
                scale = (1.0 / counts[idx]).astype(rows.dtype)
            if pad is not None:
                keep = (idx != pad).astype(rows.dtype)
                scale = keep if scale is None else scale * keep
            rows = rows * scale[:, None]
        gw = xp.zeros((V, D), dtype=rows.dtype)
        index_add_at(gw, idx, rows)
        return _T()._make(gw)


def _renorm_(weight, idx, max_norm, norm_type):
    """Rescale (in place) the rows of ``weight`` looked up by ``idx`` whose norm exceeds ``max_norm``."""
    w = weight._data
    xp = array_module(w)
    u = xp.unique(idx)
    rows = w[u]
    if norm_type == float('inf'):
        norms = xp.abs(rows).max(1)
    else:
        norms = (xp.abs(rows) ** norm_type).sum(1) ** (1.0 / norm_type)
    big = norms > max_norm
    scale = xp.where(big, max_norm / (norms + 1e-7), 1).astype(w.dtype)
    w[u] = rows * scale[:, None]
    weight._vc[0] += 1


def _norm_padding(padding_idx, num_embeddings):
    """``padding_idx`` checked against the table size, a negative one counted from the end."""
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < num_embeddings, 'Padding_idx must be within num_embeddings'
    elif padding_idx < 0:
        assert padding_idx >= -num_embeddings, 'Padding_idx must be within num_embeddings'
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Look up rows of ``weight`` at integer ``input``; output shape ``input.shape + (embedding_dim,)``.

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalises the looked-up rows in place;
    ``scale_grad_by_freq`` divides gradients by the indices' counts in the batch. ``sparse`` is accepted
    (the gradient is dense).
    """
    idx_t = input
    a = idx_t._data
    _check_indices(a, 'embedding')
    w = weight._data
    V = w.shape[0]
    padding_idx = _norm_padding(padding_idx, V)
    flat = a.reshape(-1)
    _check_range(flat, V)
    if max_norm is not None:
        _renorm_(weight, flat, max_norm, norm_type)
        w = weight._data
    xp = array_module(w)
    out = xp.take(w, flat, axis=0).reshape(a.shape + w.shape[1:])
    T = _T()
    if recording(weight):
        n = EmbeddingBackward0((weight,))
        n.idx, n.V, n.pad, n.freq = flat.astype(np.int64, copy=False), V, padding_idx, scale_grad_by_freq
        return T._make(out, n)
    return T._make(out)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode='mean', sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materialising per-bag Python loops.

    ``input`` is 2-D ``(B, L)`` (fixed-size bags) or 1-D with ``offsets`` (bag starts). Entries equal to
    ``padding_idx`` are left out of their bag; empty bags give zeros.
    """
    from ...autograd import ops
    T = _T()
    if mode not in ('sum', 'mean', 'max'):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != 'sum':
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  f"on the Pytorch GitHub.")
    a = input._data
    _check_indices(a, 'embedding_bag')
    xp = array_module(a)
    V = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx = V + padding_idx
        if not 0 <= padding_idx < V:
            raise AssertionError('padding_idx must be within the number of embeddings')
    if a.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                             "of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        B, L = a.shape
        idx2 = a
        mask = xp.ones(a.shape, dtype=bool)
        psw = per_sample_weights
    elif a.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = offsets._data if isinstance(offsets, T) else xp.asarray(offsets)
        if off.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = off.astype(np.int64)
        n = a.shape[0]
        if off.shape[0] and int(off[0]) != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {int(off[0])}")
        if include_last_offset:
            ends = off[1:]
            starts = off[:-1]
        else:
            starts = off
            ends = xp.concatenate([off[1:], xp.asarray([n], dtype=np.int64)])
        B = starts.shape[0]
        lens = xp.maximum(ends - starts, 0)
        L = int(lens.max()) if B else 0
        pos = xp.arange(L)[None, :]
        mask = pos < lens[:, None]
        src = xp.where(mask, starts[:, None] + pos, 0)
        src = xp.minimum(src, max(n - 1, 0))
        idx2 = a[src] if n else xp.zeros((B, L), dtype=a.dtype)
        psw = None
        if per_sample_weights is not None:
            psw = ops.index_select(per_sample_weights, 0, T._make(src.reshape(-1))).reshape(B, L)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {a.ndim}")
    if padding_idx is not None:
        mask = mask & (idx2 != padding_idx)
    _check_range(idx2[mask] if a.ndim == 1 else idx2.reshape(-1), V)
    idx2 = xp.where(mask, idx2, 0) if a.ndim == 1 or padding_idx is not None else idx2
    if max_norm is not None:
        _renorm_(weight, idx2[mask], max_norm, norm_type)
    emb = embedding(T._make(idx2), weight, scale_grad_by_freq=scale_grad_by_freq)                               # (B, L, D)
    dt = weight._data.dtype
    if mode == 'max':
        neg = T._make(~mask[:, :, None])
        vals = ops.masked_fill(emb, neg, float('-inf'))
        if L == 0:
            return T._make(xp.zeros((B, weight._data.shape[1]), dtype=dt))
        out = vals.max(1)[0]
        empty = T._make(~mask.any(1)[:, None])
        return ops.masked_fill(out, empty, 0.0)
    m = T._make(mask.astype(dt)[:, :, None])
    w = emb * m
    if psw is not None:
        w = w * psw.unsqueeze(-1)
    out = w.sum(1)
    if mode == 'mean':
        cnt = xp.maximum(mask.sum(1), 1).astype(dt)[:, None]
        out = out / T._make(cnt)
    return out


def one_hot(tensor, num_classes=-1):
    """``(..., num_classes)`` int64 one-hot encoding of integer class values."""
    a = tensor._data
    if a.dtype.kind not in 'iu':
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = array_module(a)
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size:
        if int(a.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(a.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes)).astype(np.int64)
    return _T()._make(out)
