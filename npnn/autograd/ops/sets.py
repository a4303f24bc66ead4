"""Set and counting ops: unique, unique_consecutive, bincount, histc, histogram, searchsorted, bucketize, isin.

None of them is differentiable: their outputs are integers or counts (unique's values carry no gradient,
like PyTorch's).
"""
import collections
import numbers

import numpy as np

from ._util import make, norm_dim, Tensor, to_tensor_like
from ...backend import dtypes
from ...backend.device import array_module

__all__ = ['unique', 'unique_consecutive', 'bincount', 'histc', 'histogram', 'searchsorted', 'bucketize', 'isin']

histogram_result = collections.namedtuple('histogram', ['hist', 'bin_edges'])


def _pack(vals, inv, cnt, return_inverse, return_counts):
    out = [make(vals)]
    if return_inverse:
        out.append(make(inv.astype(np.int64, copy=False)))
    if return_counts:
        out.append(make(cnt.astype(np.int64, copy=False)))
    return tuple(out) if len(out) > 1 else out[0]


def _rows(a, dim):
    """``a`` with ``dim`` moved first and the rest flattened: (n, -1), plus the moved shape."""
    xp = array_module(a)
    m = xp.moveaxis(a, dim, 0)
    return m.reshape(m.shape[0], -1), m.shape


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements (sorted), optionally the inverse indices and the counts; ``dim`` takes unique
    slices along that dim."""
    a = input._data
    xp = array_module(a)
    if dim is None:
        flat = a.reshape(-1)
        order = xp.argsort(flat, kind='stable')
        s = flat[order]
        if s.size:
            neq = s[1:] != s[:-1]
            if s.dtype.kind in 'fc':
                neq = neq | xp.isnan(s[1:])  # NaNs are never equal, as in PyTorch
            first = xp.concatenate([xp.ones(1, bool), neq])
        else:
            first = xp.zeros(0, bool)
        vals = s[first]
        if return_inverse:
            ids = xp.cumsum(first) - 1
            inv = xp.empty_like(ids)
            inv[order] = ids
            inv = inv.reshape(a.shape)
        else:
            inv = None
        cnt = xp.diff(xp.concatenate([xp.nonzero(first)[0], xp.asarray([s.size])])) if return_counts else None
        return _pack(vals, inv, cnt, return_inverse, return_counts)
    d = norm_dim(dim, a.ndim)
    rows, mshape = _rows(a, d)
    n = rows.shape[0]
    if n == 0 or rows.shape[1] == 0:
        if n and rows.shape[1] == 0:
            vals = xp.moveaxis(xp.reshape(rows[:1], (1,) + mshape[1:]), 0, d)
            return _pack(vals, xp.zeros(n, np.int64), xp.asarray([n]), return_inverse, return_counts)
        return _pack(a.copy(), xp.zeros(0, np.int64), xp.zeros(0, np.int64), return_inverse, return_counts)
    keys = rows.T[::-1]  # lexsort's last key is primary: the first element of each slice
    order = xp.lexsort(keys) if xp is np else xp.lexsort(xp.ascontiguousarray(keys))
    s = rows[order]
    first = xp.concatenate([xp.ones(1, bool), (s[1:] != s[:-1]).any(axis=1)])
    vals = s[first].reshape((-1,) + mshape[1:])
    vals = xp.moveaxis(vals, 0, d)
    ids = xp.cumsum(first) - 1
    inv = xp.empty_like(ids)
    inv[order] = ids
    cnt = xp.diff(xp.concatenate([xp.nonzero(first)[0], xp.asarray([n])]))
    return _pack(xp.ascontiguousarray(vals), inv, cnt, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    a = input._data
    xp = array_module(a)
    if dim is None:
        rows = a.reshape(-1, 1)
        mshape = None
    else:
        d = norm_dim(dim, a.ndim)
        rows, mshape = _rows(a, d)
    n = rows.shape[0]
    if n == 0:
        vals = a.reshape(-1) if dim is None else a.copy()
        return _pack(vals, xp.zeros(a.shape if dim is None else (0,), np.int64), xp.zeros(0, np.int64),
                     return_inverse, return_counts)
    first = xp.concatenate([xp.ones(1, bool), (rows[1:] != rows[:-1]).any(axis=1)])
    sel = rows[first]
    if dim is None:
        vals = sel.reshape(-1)
    else:
        vals = xp.ascontiguousarray(xp.moveaxis(sel.reshape((-1,) + mshape[1:]), 0, d))
    inv = xp.cumsum(first) - 1
    if dim is None:
        inv = inv.reshape(a.shape)
    cnt = xp.diff(xp.concatenate([xp.nonzero(first)[0], xp.asarray([n])]))
    return _pack(vals, inv, cnt, return_inverse, return_counts)


def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer in a 1-D tensor (sums of ``weights`` when given)."""
    a = input._data
    xp = array_module(a)
    if a.dtype.kind not in 'iub' or a.dtype.kind == 'b':
        if a.dtype.kind not in 'iu':
            raise NotImplementedError(f'"bincount_cpu" not implemented for \'{_tname(a.dtype)}\'')
    if a.ndim != 1 or (a.size and bool((a < 0).any())):
        raise RuntimeError('bincount only supports 1-d non-negative integral inputs.')
    if minlength < 0:
        raise RuntimeError('minlength should be >= 0')
    if weights is None:
        return make(xp.bincount(a, minlength=minlength).astype(np.int64, copy=False))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError('weights should be 1-d and have the same length as input')
    dt = np.float32 if w.dtype == np.float32 else np.float64
    return make(xp.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dt))


def _tname(dt):
    from ._util import scalar_type_name
    return scalar_type_name(dt)


def _hist_bins(xp, a, bins, lo, hi):
    """Bin index of each element with PyTorch's linear rule (``-1`` outside ``[lo, hi]``)."""
    pos = ((a - lo) * bins / (hi - lo)).astype(np.int64) if a.size else xp.zeros(0, np.int64)
    pos = xp.where(pos == bins, bins - 1, pos)
    inside = (a >= lo) & (a <= hi)
    return pos, inside


def _range(xp, a, lo, hi, name):
    lo, hi = float(lo), float(hi)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f'{name}: range of [{lo}, {hi}] is not finite')
    if lo > hi:
        raise RuntimeError(f'{name}: max must be larger than min')
    return lo, hi


def histc(input, bins=100, min=0, max=0):
    """Histogram of ``bins`` equal bins over ``[min, max]`` (the data's range when min == max)."""
    a = input._data
    xp = array_module(a)
    if a.dtype.kind != 'f':
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{_tname(a.dtype)}\'')
    if bins <= 0:
        raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {bins} for dimension 0')
    if min > max:
        raise RuntimeError('torch.histc: max must be larger than min')
    flat = a.reshape(-1)
    lo, hi = _range(xp, flat, min, max, 'torch.histc')
    lo_, hi_ = a.dtype.type(lo), a.dtype.type(hi)
    pos, inside = _hist_bins(xp, flat, bins, lo_, hi_)
    return make(xp.bincount(pos[inside], minlength=bins)[:bins].astype(a.dtype))


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """Histogram with ``bins`` equal bins (int) or the given bin edges (1-D tensor): ``(hist, bin_edges)``."""
    a = input._data
    xp = array_module(a)
    if a.dtype.kind != 'f':
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{_tname(a.dtype)}\'')
    flat = a.reshape(-1)
    w = None if weight is None else weight._data.reshape(-1)
    if isinstance(bins, numbers.Integral):
        if bins <= 0:
            raise RuntimeError(f'torch.histogram(): bins must be > 0, but got {bins} for dimension 0')
        lo, hi = (0.0, 0.0) if range is None else range
        if range is not None and lo > hi:
            raise RuntimeError(f'torch.histogram(): min should not exceed max, but got min {lo} max {hi}')
        if range is None and flat.size:
            lo, hi = float(flat.min()), float(flat.max())
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5  # numpy's and PyTorch's widening of an empty range
        edges = xp.linspace(lo, hi, bins + 1).astype(a.dtype)
        lo_, hi_ = edges[0], edges[-1]
        pos = ((flat - lo_) * bins / (hi_ - lo_)).astype(np.int64) if flat.size else xp.zeros(0, np.int64)
        pos = xp.clip(pos, 0, bins - 1)
        # the linear guess, corrected by one against the actual edges
        pos = xp.where((pos > 0) & (flat < edges[pos]), pos - 1, pos)
        pos = xp.where((pos < bins - 1) & (flat >= edges[xp.minimum(pos + 1, bins)]), pos + 1, pos)
        inside = (flat >= lo_) & (flat <= hi_)
    else:
        edges = bins._data.astype(a.dtype)
        nb = edges.shape[0] - 1
        pos = xp.searchsorted(edges, flat, side='right') - 1
        pos = xp.where(flat == edges[-1], nb - 1, pos)
        inside = (flat >= edges[0]) & (flat <= edges[-1])
        bins = nb
    ww = None if w is None else w[inside].astype(np.float64)
    hist = xp.bincount(pos[inside], weights=ww, minlength=bins)[:bins].astype(a.dtype)
    if density:
        widths = xp.diff(edges)
        total = hist.sum()
        hist = hist / (total * widths) if total else hist / widths * 0
        hist = hist.astype(a.dtype)
    return histogram_result(make(hist), make(edges))


def _side(right, side):
    if side is not None:
        if side not in ('left', 'right'):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == 'left':
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        return side
    return 'right' if right else 'left'


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None, sorter=None):
    """Indices where ``input``'s values would be inserted into ``sorted_sequence`` (last dim) to keep it sorted;
    the leading dims of a batched sequence match ``input``'s."""
    side = _side(right, side)
    seq = sorted_sequence._data
    xp = array_module(seq)
    scalar = not isinstance(input, Tensor())
    if scalar:
        if seq.ndim != 1:
            raise RuntimeError(f'torch.searchsorted(): input value can be a scalar only when boundaries tensor '
                               f'dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value\'s '
                               f'dimension 0 numel 1')
        input = to_tensor_like(input, sorted_sequence)
    v = input._data
    if sorter is not None:
        srt = sorter._data
        if srt.shape != seq.shape:
            raise RuntimeError(f'torch.searchsorted(): boundary and sorter must have the same size, but got '
                               f'boundary tensor {list(seq.shape)} and got sorter tensor {list(srt.shape)}')
        seq = xp.take_along_axis(seq, srt.astype(np.int64), -1)
    odt = np.int32 if out_int32 else np.int64
    if seq.ndim == 0:
        raise RuntimeError('torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 '
                           'dimensions of boundaries tensor and input value tensor must match, but we got '
                           f'boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}')
    if seq.dtype != v.dtype:
        dt = dtypes.result_np_dtype(seq.dtype, v.dtype, False, False)
        seq, v = seq.astype(dt), v.astype(dt)
    if seq.ndim == 1:
        return make(xp.asarray(xp.searchsorted(seq, v, side=side)).astype(odt))
    if seq.shape[:-1] != v.shape[:-1]:
        raise RuntimeError('torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 '
                           'dimensions of boundaries tensor and input value tensor must match, but we got '
                           f'boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}')
    m, k = seq.shape[-1], v.shape[-1]
    rows = int(np.prod(seq.shape[:-1]))
    s2, v2 = seq.reshape(rows, m), v.reshape(rows, k)
    # rank all values together (order-preserving integers), then offset each row into its own range:
    # one searchsorted over the concatenated rows answers every row at once
    _, rank = xp.unique(xp.concatenate([s2.reshape(-1), v2.reshape(-1)]), return_inverse=True)
    rank = rank.reshape(-1).astype(np.int64)
    span = int(rank.max()) + 2 if rank.size else 1
    base = xp.arange(rows, dtype=np.int64)[:, None] * span
    ks = (rank[:rows * m].reshape(rows, m) + base).reshape(-1)
    kv = rank[rows * m:].reshape(rows, k) + base
    idx = xp.searchsorted(ks, kv.reshape(-1), side=side).reshape(rows, k) - xp.arange(rows)[:, None] * m
    return make(idx.reshape(v.shape).astype(odt))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each element of ``input`` given 1-D ``boundaries`` (``searchsorted`` on them)."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f'boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})')
    if not isinstance(input, Tensor()):
        input = to_tensor_like(input, boundaries)
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor shaped like ``elements``: whether each element occurs in ``test_elements``."""
    T = Tensor()
    if not isinstance(elements, T) and not isinstance(test_elements, T):
        raise TypeError("isin() received an invalid combination of arguments: at least one of 'elements' and "
                        "'test_elements' must be a Tensor")
    if not isinstance(elements, T):
        elements = to_tensor_like(elements, test_elements)
    if not isinstance(test_elements, T):
        test_elements = to_tensor_like(test_elements, elements)
    xp = array_module(elements._data)
    r = xp.isin(elements._data, test_elements._data, assume_unique=assume_unique, invert=invert)
    return make(xp.asarray(r))
