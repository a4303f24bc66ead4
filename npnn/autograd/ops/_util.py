"""Shared helpers for op implementations: argument coercion, promotion, broadcasting reduction."""
import numbers

import numpy as np

from ...backend import dtypes
from ...backend.device import array_module, cupy_if_loaded, device_of
from ..grad_mode import state, inference_regions

SCALARS = (int, float, bool, complex, np.number, np.bool_)


_TENSOR = None  # the Tensor class, installed by npnn.tensor once it is defined (ops load before it)


def Tensor():
    return _TENSOR


def make(data, node=None, out=0):
    """Wrap an op's result array as a Tensor (recorded on ``node`` when given); also ``Tensor._make``."""
    t = _new(_TENSOR)
    if isinstance(data, _np_generic):
        data = np.asarray(data)
    t._data = data
    t._node = node
    t._rg = node is not None
    t._vc = [0]
    if out:
        t._out = out
    if inference_regions[0] and state.inference:  # (a plain list read while no inference region is open)
        t._inference = True
    return t


_new = object.__new__
_np_generic = np.generic


def recording(*ts):
    """True when grad mode is on and some input requires grad."""
    if not state.enabled:
        return False
    for t in ts:
        if t is not None and t._rg:
            return True
    return False


def check_same_device(a, b):
    """Raise PyTorch's error when two arrays live on different devices."""
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is np.ndarray:
            return
        cp = cupy_if_loaded()
        if cp is not None and ta is cp.ndarray and a.device.id != b.device.id:
            _mismatch(a, b)
        return
    if isinstance(a, (np.ndarray, np.generic)) and isinstance(b, (np.ndarray, np.generic)):
        return
    _mismatch(a, b)


def _mismatch(a, b):
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                       f"{device_of(a)} and {device_of(b)}!")


def to_tensor_like(x, ref):
    """Turn a scalar/array/list into a tensor on ``ref``'s device (for ops that need a tensor)."""
    T = Tensor()
    if isinstance(x, T):
        return x
    xp = array_module(ref._data)
    if isinstance(x, SCALARS):
        dt = dtypes.scalar_np_dtype(ref._data.dtype, x)
        return T._make(xp.asarray(x, dtype=dt))
    arr = xp.asarray(x)
    if arr.dtype == np.float64 and not isinstance(x, np.ndarray):
        arr = arr.astype(dtypes.get_default_dtype().np)
    return T._make(arr)


def binary_arrays(a, b):
    """Arrays for a binary op between tensor ``a`` and ``b`` (tensor or scalar), promoted like PyTorch.

    Returns ``(a_array, b_array_or_scalar, b_tensor_or_None)``.
    """
    ad = a._data
    T = Tensor()
    if isinstance(b, T):
        bd = b._data
        if type(ad) is not type(bd) or type(ad) is not np.ndarray:
            if bd.ndim == 0 and isinstance(bd, np.ndarray) and not isinstance(ad, np.ndarray):
                bd = array_module(ad).asarray(bd)  # a CPU 0-dim tensor may meet a GPU tensor
            elif ad.ndim == 0 and isinstance(ad, np.ndarray) and not isinstance(bd, np.ndarray):
                ad = array_module(bd).asarray(ad)
            else:
                check_same_device(ad, bd)
        if ad.shape != bd.shape:
            for x, y in zip(ad.shape[::-1], bd.shape[::-1]):
                if x != y and x != 1 and y != 1:
                    raise broadcast_error(ad.shape, bd.shape)
        if ad.dtype != bd.dtype:
            dt = dtypes.result_np_dtype(ad.dtype, bd.dtype, ad.ndim == 0, bd.ndim == 0)
            if ad.dtype != dt:
                ad = ad.astype(dt)
            if bd.dtype != dt:
                bd = bd.astype(dt)
        return ad, bd, b
    if isinstance(b, SCALARS):
        if isinstance(b, np.generic):
            b = b.item()
        dt = dtypes.scalar_np_dtype(ad.dtype, b)
        if dt != ad.dtype:
            ad = ad.astype(dt)
        return ad, b, None
    bt = to_tensor_like(b, a)
    return binary_arrays(a, bt)


_SCALAR_NAMES = {'float16': 'Half', 'float32': 'Float', 'float64': 'Double', 'int8': 'Char', 'int16': 'Short',
                 'int32': 'Int', 'int64': 'Long', 'uint8': 'Byte', 'bool': 'Bool', 'complex64': 'ComplexFloat',
                 'complex128': 'ComplexDouble', 'bfloat16': 'BFloat16'}


def scalar_type_name(np_dtype):
    """PyTorch's scalar type name of a dtype ('Float', 'Long' ...), as its error messages print it."""
    return _SCALAR_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))


def broadcast_error(*shapes):
    """PyTorch's error for shapes that do not broadcast, naming the first mismatching dimension."""
    nd = max(len(s) for s in shapes)
    full = [(1,) * (nd - len(s)) + tuple(s) for s in shapes]
    for d in range(nd - 1, -1, -1):
        sizes = [s[d] for s in full]
        big = [x for x in sizes if x != 1]
        if big and any(x != big[0] for x in big):
            i = sizes.index(big[0])
            j = next(k for k, x in enumerate(sizes) if x != 1 and x != big[0])
            a, b = sorted((i, j))
            return RuntimeError(f"The size of tensor a ({sizes[a]}) must match the size of tensor b "
                                f"({sizes[b]}) at non-singleton dimension {d}")
    return RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: {shapes}")


def check_broadcast(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error(*shapes) from None


def sum_to(g, shape):
    """Reduce a broadcast gradient back to ``shape`` (the one shared broadcasting helper)."""
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and gs[lead + i] != 1:
            axes.append(lead + i)
    if axes:
        g = g.sum(tuple(axes), keepdim=True) if lead == 0 else g.sum(tuple(axes))
    if g._data.shape != shape:
        g = g.reshape(shape)
    return g


def reduce_array(a, ref):
    """Array counterpart of ``grad_for`` for backward rules run without graph recording."""
    if a.shape != ref.shape:
        lead = a.ndim - ref.ndim
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(ref.shape) if n == 1 and a.shape[lead + i] != 1)
        a = a.sum(axis=axes, keepdims=False) if axes else a
        if a.shape != ref.shape:
            a = a.reshape(ref.shape)
    if a.dtype != ref.dtype:
        a = a.astype(ref.dtype)
    return a


def grad_for(g, t):
    """The gradient for input ``t``: reduced to its shape and cast to its dtype."""
    g = sum_to(g, t._data.shape)
    if g._data.dtype != t._data.dtype:
        g = g.to(dtypes.from_numpy_dtype(t._data.dtype))
    return g


def norm_dim(dim, ndim, name='dim'):
    """Wrap a possibly negative dim; PyTorch's IndexError when out of range."""
    lo, hi = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name} must be int, got {type(dim).__name__}")
    if dim < lo or dim > hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % ndim if ndim > 0 else 0


def norm_dims(dim, ndim):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of axes (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, numbers.Integral):
        return (norm_dim(dim, ndim),)
    dims = tuple(norm_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def float_dtype_of(arr):
    """The floating dtype ops like mean/exp compute in for this array (default dtype for ints/bools)."""
    if arr.dtype.kind in 'fc':
        return arr.dtype
    return dtypes.get_default_dtype().np


def accumulate(ufunc_name, a, axis):
    """``np.<ufunc>.accumulate`` along ``axis`` on either device (a log-step scan where the array module
    has no ``accumulate`` for that ufunc)."""
    xp = array_module(a)
    if xp is np:
        return getattr(np, ufunc_name).accumulate(a, axis=axis)
    f = getattr(xp, ufunc_name)
    n = a.shape[axis]
    k = 1
    while k < n:
        head = xp.take(a, xp.arange(0, k), axis=axis)
        shifted = xp.concatenate([head, xp.take(a, xp.arange(0, n - k), axis=axis)], axis=axis)
        a = f(a, shifted)
        k *= 2
    return a
