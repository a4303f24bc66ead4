"""Packed and padded variable-length sequences: ``PackedSequence`` and the pack/pad helpers."""
from collections import namedtuple

import numpy as np

from ... import creation
from ...autograd import ops
from ...backend.device import array_module

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence',
           'pad_sequence', 'unpad_sequence', 'pack_sequence', 'unpack_sequence']

_Base = namedtuple('PackedSequence_', ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])


def _T():
    from ...tensor import Tensor
    return Tensor


class PackedSequence(_Base):
    """Data of a batch of variable-length sequences, packed time step by time step.

    ``data`` holds the steps' rows one after another, ``batch_sizes`` (an int64 CPU tensor) the number of
    sequences still running at each step; ``sorted_indices``/``unsorted_indices`` map between the original
    batch order and the length-sorted order (None when the batch was already sorted).
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence(data, batch_sizes) given as a tuple
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Move ``data`` (and the index tensors, to the data's device); ``batch_sizes`` stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        si = self.sorted_indices.to(dev) if self.sorted_indices is not None else None
        ui = self.unsorted_indices.to(dev) if self.unsorted_indices is not None else None
        return type(self)(data, self.batch_sizes, si, ui)

    def cuda(self, *args, **kwargs):
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self):
        return self.to('cpu')

    def double(self):
        return self.to(dtype=ops_dtype('float64'))

    def float(self):
        return self.to(dtype=ops_dtype('float32'))

    def half(self):
        return self.to(dtype=ops_dtype('float16'))

    @property
    def is_cuda(self):
        return self.data.device.type == 'cuda'

    def is_pinned(self):
        return False


def ops_dtype(name):
    from ...backend import dtypes
    return getattr(dtypes, name)


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    xp = array_module(permutation._data)
    p = permutation._data
    out = xp.empty_like(p)
    out[p] = xp.arange(p.shape[0], dtype=p.dtype)
    return _T()._make(out)


def _lengths_np(lengths):
    T = _T()
    if isinstance(lengths, T):
        arr = lengths.detach().cpu().numpy()
    else:
        arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D tensor, but got a {arr.ndim}D tensor")
    return arr.astype(np.int64)


def _long(arr, dev=None):
    t = _T()._make(np.ascontiguousarray(arr, dtype=np.int64))
    return t if dev is None or dev.type == 'cpu' else t.to(dev)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with batch_first) of sequences of ``lengths``."""
    L = _lengths_np(lengths)
    if enforce_sorted:
        if L.size > 1 and np.any(L[:-1] < L[1:]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
                "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
                "requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-L, kind='stable')
        L = L[order]
    B = input.shape[0 if batch_first else 1]
    T = input.shape[1 if batch_first else 0]
    if L.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {L.shape[0]} "
                           f"(batch_size={B})")
    if L.size and L.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if L.size and L[0] > T:
        raise RuntimeError(f"Expected sequence length to be at most {T}, but got {int(L[0])}")
    bsz = (L[None, :] > np.arange(int(L[0]))[:, None]).sum(1)       # batch size of every step
    # flat row index (into the time-major (T*B) view) of every packed row
    steps = np.repeat(np.arange(bsz.shape[0]), bsz)
    col = np.arange(steps.shape[0]) - np.repeat(np.cumsum(bsz) - bsz, bsz)
    batch = order[col] if order is not None else col
    if batch_first:
        flat = batch * T + steps
    else:
        flat = steps * B + batch
    rest = tuple(input.shape[2:])
    src = input.reshape((T * B,) + rest)
    dev = input.device
    data = ops.index_select(src, 0, _long(flat, dev))
    sorted_idx = _long(order, dev) if order is not None else None
    return PackedSequence(data, _long(bsz), sorted_idx, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a PackedSequence into ``(padded, lengths)``; the batch is in its original order."""
    data, bsz_t, _, unsorted = sequence
    bsz = bsz_t.detach().cpu().numpy().astype(np.int64)
    B = int(bsz[0])
    Tmax = bsz.shape[0]
    if total_length is not None:
        if total_length < Tmax:
            raise ValueError("Expected total_length to be at least the length of the longest sequence "
                             f"in input, but got total_length={total_length} and max sequence length being "
                             f"{Tmax}")
        T = total_length
    else:
        T = Tmax
    lengths = (bsz[None, :] > np.arange(B)[:, None]).sum(1)        # sorted order
    unsorted_np = unsorted.detach().cpu().numpy().astype(np.int64) if unsorted is not None else None
    N = data.shape[0]
    offs = np.cumsum(bsz) - bsz
    # for every (t, b) slot of the padded output: the packed row, or N (a padding row)
    t_idx = np.arange(T)[:, None]
    b_sorted = np.arange(B)[None, :] if unsorted_np is None else unsorted_np[None, :]
    valid = t_idx < lengths[b_sorted]
    tt = np.minimum(np.arange(T), Tmax - 1)[:, None]
    src = np.where(valid, offs[tt] + b_sorted, N)                  # (T, B)
    if batch_first:
        src = src.T
    rest = tuple(data.shape[1:])
    pad = creation.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    full = ops.cat([data, pad], 0)
    out = ops.index_select(full, 0, _long(src.reshape(-1), data.device)).reshape(src.shape + rest)
    out_lengths = lengths[unsorted_np] if unsorted_np is not None else lengths
    return out, _long(out_lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack variable-length tensors ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with batch_first)."""
    T = _T()
    if isinstance(sequences, T):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if padding_side not in ('left', 'right'):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    B, Lmax = len(sequences), int(lens.max())
    rest = tuple(sequences[0].shape[1:])
    N = int(lens.sum())
    starts = np.cumsum(lens) - lens
    pos = np.arange(Lmax)[None, :]
    if padding_side == 'right':
        valid = pos < lens[:, None]
        src = starts[:, None] + pos
    else:
        shift = Lmax - lens[:, None]
        valid = pos >= shift
        src = starts[:, None] + pos - shift
    src = np.where(valid, src, N)                                    # (B, Lmax)
    if not batch_first:
        src = src.T
    ref = sequences[0]
    pad = creation.full((1,) + rest, padding_value, dtype=ref.dtype, device=ref.device)
    full = ops.cat(sequences + [pad], 0)
    return ops.index_select(full, 0, _long(src.reshape(-1), ref.device)).reshape(src.shape + rest)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of tensors of the given lengths."""
    L = _lengths_np(lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(L)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (sorted by decreasing length unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Unpack a PackedSequence into a list of variable-length tensors."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
