"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode.

Values are taken from the input with ``gather`` at the computed indices, so gradients flow to the selected
elements; ``median()``/``nanmedian()`` over all elements share the gradient evenly among the elements equal to
the result, as PyTorch does. NaN sorts as the largest value.
"""
import collections

import numpy as np

from ...backend.device import array_module
from ._util import make, norm_dim, recording

values_indices = collections.namedtuple('values_indices', ['values', 'indices'])
sort_result = collections.namedtuple('sort', ['values', 'indices'])
topk_result = collections.namedtuple('topk', ['values', 'indices'])
kthvalue_result = collections.namedtuple('kthvalue', ['values', 'indices'])
median_result = collections.namedtuple('median', ['values', 'indices'])
nanmedian_result = collections.namedtuple('nanmedian', ['values', 'indices'])
mode_result = collections.namedtuple('mode', ['values', 'indices'])


def _complex_kernel(kernel, a):
    """PyTorch's error for an order statistic of a complex tensor (complex numbers have no order)."""
    from ._util import scalar_type_name
    raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(a.dtype)}\'')


def _argsort_arr(a, axis, descending):
    """Stable argsort along ``axis``; NaN is the largest value (last ascending, first descending)."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind='stable')
    if a.dtype.kind == 'f':
        i1 = xp.argsort(-a, axis=axis, kind='stable')  # NaNs (still NaN) go last
        notnan = xp.take_along_axis(~xp.isnan(a), i1, axis=axis).astype(np.int8)
        i2 = xp.argsort(notnan, axis=axis, kind='stable')  # then bring them to the front, in order
        return xp.take_along_axis(i1, i2, axis=axis)
    if a.dtype.kind == 'b':
        return xp.argsort(~a, axis=axis, kind='stable')
    return xp.argsort(~a, axis=axis, kind='stable')  # ~x reverses the order of ints without overflow


def _take(input, dim, idx):
    """``input.gather(dim, idx)`` (differentiable) for an index array."""
    from .indexing import gather
    it = make(idx)
    if recording(input):
        return gather(input, dim, it)
    return make(array_module(idx).take_along_axis(input._data, idx, axis=dim))


def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values and their indices along ``dim`` (always stable here)."""
    a = input._data
    if a.dtype.kind == 'c':
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    xp = array_module(a)
    if a.ndim == 0:
        norm_dim(dim, 0)
        return sort_result(input.clone(), make(xp.zeros((), dtype=np.int64)))
    d = norm_dim(dim, a.ndim)
    idx = _argsort_arr(a, d, descending).astype(np.int64, copy=False)
    return sort_result(_take(input, d, idx), make(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def msort(input):
    """Sort along the first dim (values only)."""
    return sort(input, 0).values


def _partitions(xp, n, k):
    """Whether selecting ``k`` of ``n`` by argpartition beats a full sort (CuPy's argpartition is a full
    argsort, so there it never does)."""
    return xp is np and 0 < k <= n // 2


def _topk_indices(a, k, d, largest):
    """Indices of the ``k`` largest/smallest entries along ``d``, best first; NaN counts as the largest."""
    xp = array_module(a)
    n = a.shape[d]
    if not _partitions(xp, n, k):
        order = _argsort_arr(a, d, largest)
        return xp.take(order, xp.arange(k), axis=d)
    # argpartition places NaN last like a sort: the k largest are the tail, the k smallest the head
    cut = n - k if largest else k - 1
    part = xp.argpartition(a, cut, axis=d)
    sel = xp.take(part, xp.arange(n - k, n) if largest else xp.arange(k), axis=d)
    # only the k selected are sorted; ordering them by position first keeps equal values in input order,
    # as the stable full sort does
    sel = xp.sort(sel, axis=d)
    order = _argsort_arr(xp.take_along_axis(a, sel, axis=d), d, largest)
    return xp.take_along_axis(sel, order, axis=d)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices (always in sorted order)."""
    a = input._data
    if a.dtype.kind == 'c':
        raise RuntimeError("topk does not support complex dtypes on CPU")
    xp = array_module(a)
    if a.ndim == 0:
        norm_dim(dim, 0)
        if k not in (0, 1):
            raise RuntimeError("selected index k out of range")
        return topk_result(input.clone(), make(xp.zeros((), dtype=np.int64)))
    d = norm_dim(dim, a.ndim)
    n = a.shape[d]
    if k < 0 or k > n:
        raise RuntimeError("selected index k out of range")
    idx = _topk_indices(a, k, d, largest).astype(np.int64, copy=False)
    return topk_result(_take(input, d, idx), make(idx))


def _select(input, dim, keepdim, locate, result):
    """Per row along ``dim``, the element at the keepdim-shaped indices ``locate(array, dim)``."""
    a = input._data
    xp = array_module(a)
    if a.ndim == 0:
        norm_dim(dim, 0)
        return result(input.clone(), make(xp.zeros((), dtype=np.int64)))
    d = norm_dim(dim, a.ndim)
    if a.shape[d] == 0:
        raise IndexError(f"{result.__name__}(): Expected reduction dim {d} to have non-zero size.")
    idx = locate(a, d).astype(np.int64, copy=False)
    vals = _take(input, d, idx)
    it = make(idx)
    if not keepdim:
        vals = vals.squeeze(d)
        it = make(idx.squeeze(d))
    return result(vals, it)


def _select_sorted(input, dim, keepdim, pick, result):
    """Sort ascending along ``dim`` and take, per row, the sorted position ``pick(sorted_arr, order)``."""
    def locate(a, d):
        xp = array_module(a)
        order = _argsort_arr(a, d, False)
        pos = pick(xp.take_along_axis(a, order, axis=d), order, d)  # keepdim-shaped positions into the sort
        return xp.take_along_axis(order, pos, axis=d)
    return _select(input, dim, keepdim, locate, result)


def _kth_index(a, kth, d):
    """Keepdim-shaped indices of the element at ascending sorted position ``kth`` (NaN largest) along ``d``;
    a linear-time selection, not a sort, on NumPy."""
    xp = array_module(a)
    at = xp.asarray([kth])
    if xp is np:
        return xp.take(xp.argpartition(a, kth, axis=d), at, axis=d)
    return xp.take(_argsort_arr(a, d, False), at, axis=d)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (1-based) along ``dim`` and its index."""
    a = input._data
    if a.dtype.kind == 'c':
        _complex_kernel('kthvalue_cpu', a)
    n = a.shape[norm_dim(dim, a.ndim)] if a.ndim else 1
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {norm_dim(dim, max(a.ndim, 1))}")
    return _select(input, dim, keepdim, lambda a, d: _kth_index(a, k - 1, d), kthvalue_result)


def _lower_median_pos(srt, d, ignore_nan):
    """Keepdim-shaped sorted positions of the lower median along ``d`` (only NaN counts are used, so ``srt``
    need not actually be sorted)."""
    xp = array_module(srt)
    n = srt.shape[d]
    if srt.dtype.kind != 'f':
        shape = list(srt.shape)
        shape[d] = 1
        return xp.full(shape, (n - 1) // 2, dtype=np.int64)
    nans = xp.isnan(srt).sum(axis=d, keepdims=True)
    valid = n - nans
    if ignore_nan:  # lower median of the non-NaN values (all NaN: the middle one, a NaN)
        return xp.where(valid == 0, (n - 1) // 2, (valid - 1) // 2).astype(np.int64)
    # any NaN: the result is NaN, at the first NaN's place in sorted order
    return xp.where(nans > 0, valid, (n - 1) // 2).astype(np.int64)


def _median_index(a, d):
    """Keepdim-shaped indices of the lower median along ``d``; a row holding NaN gives its first NaN."""
    xp = array_module(a)
    idx = _kth_index(a, (a.shape[d] - 1) // 2, d)
    if a.dtype.kind == 'f':
        nan = xp.isnan(a)
        first_nan = xp.expand_dims(xp.argmax(nan, axis=d), d)
        idx = xp.where(xp.expand_dims(nan.any(axis=d), d), first_nan, idx)
    return idx


def _median_all(input, ignore_nan):
    from .reduction import MaxBackward2
    a = input._data
    xp = array_module(a)
    flat = a.reshape(-1)
    if flat.size == 0:
        return make(xp.asarray(np.nan, dtype=a.dtype))
    pos = int(_lower_median_pos(flat, 0, ignore_nan).reshape(()))
    # NumPy's partition puts NaN last as its sort does; CuPy's does not order NaN, so sort there
    srt = xp.partition(flat, pos) if xp is np else xp.sort(flat)
    r = srt[pos].reshape(())
    r = xp.asarray(r)
    if recording(input):
        n = MaxBackward2((input,))
        n.save(input)
        n.axes, n.keepdim, n.shape = tuple(range(a.ndim)), False, a.shape
        res = make(r, n)
        n.save_output(res)
        return res
    return make(r)


def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or ``(values, indices)`` along ``dim``; NaN propagates."""
    if input._data.dtype.kind == 'c':
        _complex_kernel('median_cpu' if dim is None else 'median_out', input._data)
    if dim is None:
        return _median_all(input, False)
    return _select(input, dim, keepdim, _median_index, median_result)


def nanmedian(input, dim=None, keepdim=False):
    """Like ``median`` but ignoring NaN values."""
    if input._data.dtype.kind == 'c':
        _complex_kernel('median_cpu' if dim is None else 'median_out', input._data)
    if dim is None:
        return _median_all(input, True)
    a = input._data
    if a.dtype.kind != 'f' or not bool(array_module(a).isnan(a).any()):
        return _select(input, dim, keepdim, _median_index, nanmedian_result)
    # the non-NaN count, hence the median's sorted position, differs between rows: sort
    return _select_sorted(input, dim, keepdim, lambda srt, order, d: _lower_median_pos(srt, d, True),
                          nanmedian_result)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the index of its
    last occurrence."""
    if input._data.dtype.kind == 'c':
        _complex_kernel('mode_cpu', input._data)

    def pick(srt, order, d):
        xp = array_module(srt)
        n = srt.shape[d]
        shape = [1] * srt.ndim
        shape[d] = n
        ar = xp.arange(n).reshape(shape)
        first = xp.take(srt, xp.arange(1, n), axis=d) != xp.take(srt, xp.arange(0, n - 1), axis=d)
        edge = [(0, 0)] * srt.ndim
        edge[d] = (1, 0)
        starts = xp.pad(first, edge, constant_values=True)  # a run of equal values starts here
        edge[d] = (0, 1)
        ends = xp.pad(first, edge, constant_values=True)  # ... ends here
        start = _accumulate_max(xp, xp.where(starts, ar, 0), d)
        end_rev = _accumulate_max(xp, xp.flip(xp.where(ends, n - 1 - ar, 0), d), d)
        end = n - 1 - xp.flip(end_rev, d)
        count = end - start + 1
        best = xp.argmax(count, axis=d)  # first maximum: the smallest value among the most frequent
        best = xp.expand_dims(best, d)
        run_start = xp.take_along_axis(start, best, axis=d)
        run_end = xp.take_along_axis(end, best, axis=d)
        # the last occurrence in the input: the largest original index within the run
        in_run = (ar >= run_start) & (ar <= run_end)
        last = xp.argmax(xp.where(in_run, order, -1), axis=d)
        return xp.expand_dims(last, d)
    return _select_sorted(input, dim, keepdim, pick, mode_result)


def _accumulate_max(xp, a, axis):
    from ._util import accumulate
    return accumulate('maximum', a, axis)
