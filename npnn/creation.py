"""Creation functions: tensor, zeros, ones, arange, random tensors and their ``*_like`` forms."""
import builtins
import numbers
import math

import numpy as np

from .backend import dtypes
from .backend.device import array_module, array_to, to_device, xp_for, cupy_if_loaded
from .backend.random import generator_for
from .tensor import Tensor


def _dev(device):
    return to_device(device)


def _finish(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_array(data, target=None):
    """A NumPy/CuPy array from nested data with PyTorch's dtype inference. With a ``target`` NumPy dtype,
    Python numbers are converted straight to it (0.2 as float64 stays exactly 0.2, not float32-rounded)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    cp = cupy_if_loaded()
    if cp is not None and isinstance(data, cp.ndarray):
        return data
    typed = None
    if isinstance(data, (list, tuple)):
        typed = _sequence_dtype(data)
        if typed is not None and any(isinstance(x, Tensor) for x in _flat(data)):
            data = _untensor(data)
    if isinstance(data, np.generic):
        return np.asarray(data)
    arr = np.asarray(data)
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if typed is not None:
        return arr.astype(typed, copy=False)
    if target is not None and arr.dtype.kind not in 'US':
        return arr.astype(target, copy=False)
    if arr.dtype == np.float64:
        arr = arr.astype(dtypes.get_default_dtype().np)
    elif arr.dtype.kind in 'iu':
        arr = arr.astype(np.int64)
    elif arr.dtype == np.complex128:
        arr = arr.astype(np.complex64 if dtypes.get_default_dtype() is not dtypes.float64 else np.complex128)
    elif arr.dtype.kind in 'US':
        raise TypeError(f"new(): invalid data type '{arr.dtype.kind and 'str'}'")
    return arr


def _sequence_dtype(data):
    """PyTorch's dtype for a nested sequence holding NumPy arrays or scalars or tensors: their dtypes,
    promoted with the default dtypes of the Python numbers beside them (``[np.float64(1), 2.0]`` is
    float64). None when every leaf is a Python number (the plain inference applies)."""
    typed = None
    py = set()
    for x in _flat(data):
        if isinstance(x, Tensor):
            d = x._data.dtype
        elif isinstance(x, (np.ndarray, np.generic)):
            d = x.dtype
        else:
            py.add(type(x))
            continue
        typed = d if typed is None else dtypes.promote_np(typed, d)
    if typed is None:
        return None
    for t in py:
        if t is bool:
            d = np.dtype(np.bool_)
        elif issubclass(t, numbers.Integral):
            d = np.dtype(np.int64)
        elif issubclass(t, numbers.Real):
            d = dtypes.get_default_dtype().np
        elif issubclass(t, numbers.Complex):
            d = np.dtype(np.complex64 if dtypes.get_default_dtype() is not dtypes.float64 else np.complex128)
        else:
            continue
        typed = dtypes.promote_np(typed, d)
    return typed


def _flat(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x


def _untensor(x):
    if isinstance(x, (list, tuple)):
        return [_untensor(y) for y in x]
    if isinstance(x, Tensor):
        return x._data.tolist() if isinstance(x._data, np.ndarray) else x._data.get().tolist()
    return x


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor copying ``data`` (nested lists, numbers, arrays or tensors)."""
    d = dtypes.to_dtype(dtype)
    arr = _infer_array(data, None if d is None else d.np)
    if device is None and isinstance(data, Tensor):
        dev = data.device
    else:
        dev = _dev(device)
    if d is not None and arr.dtype != d.np:
        arr = arr.astype(d.np)
    out = array_to(arr, dev)
    if out is arr or out is getattr(data, '_data', None) or (isinstance(data, np.ndarray) and out is data):
        out = out.copy()
    return _finish(out, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """A tensor sharing ``data``'s memory when dtype and device allow it."""
    if isinstance(data, Tensor):
        t = data
        if dtype is not None or device is not None:
            t = t.to(device=device, dtype=dtype) if device is not None else t.to(dtypes.to_dtype(dtype))
        return t
    d = dtypes.to_dtype(dtype)
    arr = _infer_array(data, None if d is None else d.np) if not isinstance(data, np.ndarray) else data
    if d is not None and arr.dtype != d.np:
        arr = arr.astype(d.np)
    if isinstance(arr, np.ndarray) and arr.dtype not in dtypes._from_np:
        dtypes.from_numpy_dtype(arr.dtype)
    dev = _dev(device) if device is not None else None
    if dev is not None:
        arr = array_to(arr, dev)
    return Tensor._make(arr)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing the NumPy array's memory."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, numbers.Integral):
            raise TypeError(f"zeros(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _size_kw(args, size):
    """``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``."""
    if size is None:
        return args
    if args:
        raise TypeError("got multiple values for argument 'size'")
    return (size,)


def _float_or(dtype):
    d = dtypes.to_dtype(dtype)
    return d if d is not None else dtypes.get_default_dtype()


def _filled(fill, size, dtype, device, requires_grad):
    shape = _shape(size)
    d = _float_or(dtype)
    dev = _dev(device)
    xp = xp_for(dev)
    if dev.type == 'cuda':
        with xp.cuda.Device(dev.index):
            arr = fill(xp, shape, d.np)
    else:
        arr = fill(xp, shape, d.np)
    return _finish(arr, requires_grad)


def zeros(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros of the given shape."""
    size = _size_kw(args, size)
    return _filled(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones of the given shape."""
    size = _size_kw(args, size)
    return _filled(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor of the given shape."""
    size = _size_kw(args, size)
    return _filled(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value``; the dtype follows the value when not given."""
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = dtypes.int64
        elif isinstance(fill_value, builtins.complex):
            dtype = dtypes.complex64
    if isinstance(size, numbers.Integral):
        size = (size,)
    return _filled(lambda xp, s, d: xp.full(s, fill_value, d), (tuple(size),), dtype, device, requires_grad)


def _like(fn):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None, **kw):
        return fn(*args, input._data.shape, dtype=dtype or input.dtype,
                  device=device if device is not None else input.device, requires_grad=requires_grad, **kw) \
            if fn is full else fn(input._data.shape, dtype=dtype or input.dtype,
                                  device=device if device is not None else input.device,
                                  requires_grad=requires_grad, **kw)
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return full(input._data.shape, fill_value, dtype=dtype or input.dtype,
                device=device if device is not None else input.device, requires_grad=requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    m = n if m is None else m
    return _filled(lambda xp, s, d: xp.eye(n, m, dtype=d), (), dtype, device, requires_grad)


def _tri_indices(name, which, row, col, offset, dtype, device):
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    d = dtypes.to_dtype(dtype) or dtypes.int64
    if d.is_floating_point or d.is_complex or d == dtypes.bool_:
        from .autograd.ops._util import scalar_type_name
        raise NotImplementedError(f'"{name}" not implemented for \'{scalar_type_name(d.np)}\'')
    xp = xp_for(_dev(device))
    r, c = getattr(xp, which)(row, offset, col)
    return _finish(xp.stack([r, c]).astype(d.np), False)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices (a 2 x N tensor, row-major order) of the lower triangle of a row x col matrix."""
    return _tri_indices('tril_indices', 'tril_indices', row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Row and column indices (a 2 x N tensor, row-major order) of the upper triangle of a row x col matrix."""
    return _tri_indices('triu_indices', 'triu_indices', row, col, offset, dtype, device)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in a tensor of ``shape``: a tuple of int64 tensors (indices wrap
    modulo each size, as PyTorch's do)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a Tensor, but got {type(indices).__name__}")
    if indices._data.dtype.kind not in 'iub' or indices._data.dtype == np.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)
    if builtins.any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    rest = indices._data.astype(np.int64)
    coords = []
    for size in reversed(shape):
        coords.append(rest % size if size else rest * 0)
        rest = rest // size if size else rest
    return tuple(Tensor._make(c) for c in reversed(coords))


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values in ``[start, end)`` spaced by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = builtins.all(isinstance(v, numbers.Integral) for v in (start, end, step))
        d = dtypes.int64 if is_int else dtypes.get_default_dtype()
    else:
        d = dtypes.to_dtype(dtype)
    n = int(np.ceil((end - start) / step))
    dev = _dev(device)
    xp = xp_for(dev)
    if d.is_floating_point:
        arr = (start + xp.arange(n, dtype=np.float64) * step).astype(d.np)
    else:
        arr = xp.arange(start, end, step).astype(d.np)
    return _finish(arr, requires_grad)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated ``range``: like arange but including ``end``; float by default."""
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    d = dtypes.to_dtype(dtype) or dtypes.get_default_dtype()
    xp = xp_for(_dev(device))
    return _finish((start + xp.arange(n, dtype=np.float64) * step).astype(d.np), requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = _float_or(dtype)
    xp = xp_for(_dev(device))
    return _finish(xp.linspace(float(start), float(end), int(steps)).astype(d.np), requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    d = _float_or(dtype)
    xp = xp_for(_dev(device))
    return _finish((base ** xp.linspace(float(start), float(end), int(steps))).astype(d.np), requires_grad)


# --- random -------------------------------------------------------------------------------------------------

def _rng(generator, device):
    dev = _dev(device) if device is not None else (generator.device if generator is not None else _dev(None))
    return generator_for(generator, dev).xp_rng, dev


def _random(draw, size, generator, dtype, device, requires_grad):
    shape = _shape(size)
    d = _float_or(dtype)
    rng, dev = _rng(generator, device)
    if dev.type == 'cuda':
        with xp_for(dev).cuda.Device(dev.index):
            arr = draw(rng, shape, d.np, True)
    else:
        arr = draw(rng, shape, d.np, False)
    return _finish(arr, requires_grad)


def _complex_draw(draw, rng, shape, dt, gpu, scale):
    # both parts drawn in the matching real precision (PyTorch fills the real view of the tensor)
    parts = draw(rng, tuple(shape) + (2,), np.float32 if dt == np.complex64 else np.float64, gpu)
    if scale != 1:
        parts *= scale
    return parts.view(dt)[..., 0]


def _uniform_draw(rng, shape, dt, gpu):
    if dt in (np.complex64, np.complex128):
        return _complex_draw(_uniform_draw, rng, shape, dt, gpu, 1)
    if dt in (np.float32, np.float64):
        return rng.random(shape, dtype=dt) if not gpu else rng.random_sample(shape, dtype=dt)
    a = rng.random(shape, dtype=np.float32) if not gpu else rng.random_sample(shape, dtype=np.float32)
    return a.astype(dt)


def _normal_draw(rng, shape, dt, gpu):
    if dt in (np.complex64, np.complex128):  # each part N(0, 1/2): unit variance in all
        return _complex_draw(_normal_draw, rng, shape, dt, gpu, math.sqrt(0.5))
    if dt in (np.float32, np.float64):
        return rng.standard_normal(shape, dtype=dt)
    return rng.standard_normal(shape, dtype=np.float32).astype(dt)


def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples on ``[0, 1)``."""
    size = _size_kw(args, size)
    return _random(_uniform_draw, size, generator, dtype, device, requires_grad)


def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples."""
    size = _size_kw(args, size)
    return _random(_normal_draw, size, generator, dtype, device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None, memory_format=None):
    return rand(input._data.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None, memory_format=None):
    return randn(input._data.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad, generator=generator)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniform on ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _shape((tuple(size),))
    d = dtypes.to_dtype(dtype) or dtypes.int64
    rng, dev = _rng(generator, device)
    if dev.type == 'cuda':
        with xp_for(dev).cuda.Device(dev.index):
            arr = rng.randint(low, high, size=shape, dtype=np.int64).astype(d.np)
    else:
        arr = rng.integers(low, high, size=shape, dtype=np.int64).astype(d.np)
    return _finish(arr, requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, device=device or input.device,
                   generator=generator)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of ``0..n-1`` (int64)."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    d = dtypes.to_dtype(dtype) or dtypes.int64
    rng, dev = _rng(generator, device)
    if dev.type == 'cuda':
        with xp_for(dev).cuda.Device(dev.index):
            arr = rng.permutation(n).astype(d.np)
    else:
        arr = rng.permutation(n).astype(d.np)
    return _finish(arr, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples with tensor or scalar ``mean``/``std`` (broadcast), or of ``size`` for scalars."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and std._data.dtype.kind == 'c':
            raise RuntimeError("normal expects standard deviation to be non-complex")
        if isinstance(std, Tensor) and bool((std._data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        z = randn(shape, dtype=ref.dtype, device=ref.device, generator=generator)
        return Tensor._make(z._data * s + m)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    z = randn(tuple(size), dtype=dtype, device=device, generator=generator)
    if z._data.dtype.kind == 'c':  # a real mean shifts both parts, as PyTorch's normal of the real view
        mean = mean * (1 + 1j)
    z._data = z._data * std + mean
    return _finish(z._data, requires_grad)


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or ``p``)."""
    probs = input._data if p is None else p
    if p is None and (bool((input._data < 0).any()) or bool((input._data > 1).any())):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = rand(input._data.shape, dtype=input.dtype if input.is_floating_point() else None, device=input.device,
             generator=generator)
    return Tensor._make((u._data < probs).astype(input._data.dtype))


def poisson(input, generator=None):
    rng, dev = _rng(generator, input.device)
    return Tensor._make(rng.poisson(input._data).astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Sample category indices from (unnormalised) row probabilities."""
    p = input._data
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind != 'f':
        raise RuntimeError("multinomial only supports floating-point dtypes for input")
    xp = array_module(p)
    if bool((p < 0).any()) or not bool(xp.isfinite(p).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    P = p.reshape(1, -1) if p.ndim == 1 else p
    n_cat = P.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    sums = P.sum(axis=1, keepdims=True)
    if bool((sums == 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    u = rand((P.shape[0], num_samples if replacement else n_cat), dtype=dtypes.float64, device=input.device,
             generator=generator)._data
    P64 = P.astype(np.float64) / sums
    if replacement:
        cdf = xp.cumsum(P64, axis=1)
        cdf[:, -1] = 1.0
        # inverse CDF for every row at once: count the categories whose cumulative mass is <= u
        idx = (cdf[:, None, :] <= u[:, :, None]).sum(axis=2)
        idx = xp.minimum(idx, n_cat - 1)
    else:
        # Gumbel/exponential-race trick: keys = u^(1/p); take the top num_samples
        with np.errstate(divide='ignore'):
            keys = xp.where(P64 > 0, xp.log(u) / P64, -xp.inf)
        idx = xp.argsort(-keys, axis=1, kind='stable')[:, :num_samples]
    idx = idx.astype(np.int64)
    return Tensor._make(idx.reshape(-1) if p.ndim == 1 else idx)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _complex_parts_check(real, imag):
    from .autograd.ops._util import scalar_type_name
    a, b = real._data, imag._data
    if a.dtype.kind != 'f' or b.dtype.kind != 'f':
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{scalar_type_name(a.dtype)} and {scalar_type_name(b.dtype)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"Expected object of scalar type {scalar_type_name(a.dtype)} but got scalar type "
                           f"{scalar_type_name(b.dtype)} for second argument")
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"complex tensors of {scalar_type_name(a.dtype)} parts (complex32) are not supported")


def complex(real, imag):
    """The complex tensor ``real + i * imag`` (broadcast; both float32 or both float64); differentiable."""
    _complex_parts_check(real, imag)
    from .autograd.ops.shape import broadcast_tensors, stack
    from .spectral import view_as_complex
    if real.shape != imag.shape:
        real, imag = broadcast_tensors(real, imag)
    return view_as_complex(stack([real, imag], -1))


def polar(abs, angle):
    """The complex tensor ``abs * (cos(angle) + i * sin(angle))``; differentiable in both."""
    _complex_parts_check(abs, angle)
    return complex(abs * angle.cos(), abs * angle.sin())
