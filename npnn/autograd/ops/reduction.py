"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, cumulative ops, all/any."""
import collections

import numpy as np

from ...backend.device import array_module
from ...backend import dtypes
from ..node import Node
from ._util import float_dtype_of, make, norm_dim, norm_dims, recording, Tensor

values_indices = collections.namedtuple('values_indices', ['values', 'indices'])


def _axes(dim, ndim):
    """Reduced axes for ``dim`` (None or an empty sequence: all dims); a 0-dim tensor accepts dim 0/-1."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        return tuple(range(ndim))
    axes = norm_dims(dim, ndim)
    return axes if ndim else ()


def _expand_back(g, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced ``axes`` of ``shape``."""
    if not keepdim and axes:
        ks = list(shape)
        for a in axes:
            ks[a] = 1
        g = g.reshape(tuple(ks))
    return g.expand(shape)


def _accumulation_dtype(a, dtype):
    """``a`` in ``dtype`` when given; else ints and bools widened to int64 (PyTorch's rule for sum/prod/cum*)."""
    if dtype is not None:
        return a.astype(dtypes.to_dtype(dtype).np)
    if a.dtype.kind in 'biu':
        return a.astype(np.int64)
    return a


class SumBackward0(Node):
    __slots__ = ('shape', 'axes', 'keepdim')
    saves = False

    def backward(self, g):
        return _expand_back(g, self.shape, self.axes, self.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (int, tuple, or all); ints and bools sum to int64 like PyTorch."""
    a = input._data
    axes = _axes(dim, a.ndim)
    xp = array_module(a)
    a = _accumulation_dtype(a, dtype)
    r = a.sum(axis=axes, keepdims=keepdim) if axes else a.copy()
    if not isinstance(r, xp.ndarray):
        r = xp.asarray(r)
    if recording(input):
        n = SumBackward0((input,))
        n.shape, n.axes, n.keepdim = input._data.shape, axes, keepdim
        return make(r, n)
    return make(r)


class MeanBackward0(SumBackward0):
    __slots__ = ('count',)

    def backward(self, g):
        return _expand_back(g / self.count, self.shape, self.axes, self.keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; integer inputs need a floating ``dtype`` as in PyTorch."""
    a = input._data
    if dtype is not None:
        a = a.astype(dtypes.to_dtype(dtype).np)
    elif a.dtype.kind in 'biu':
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_dtn(a)}")
    axes = _axes(dim, a.ndim)
    xp = array_module(a)
    r = a.mean(axis=axes, keepdims=keepdim) if axes else a.copy()
    if not isinstance(r, xp.ndarray):
        r = xp.asarray(r)
    if recording(input):
        n = MeanBackward0((input,))
        n.shape, n.axes, n.keepdim = a.shape, axes, keepdim
        cnt = 1
        for ax in axes:
            cnt *= a.shape[ax]
        n.count = float(cnt)
        return make(r, n)
    return make(r)


def _dtn(a):
    name = {'f': 'Float', 'i': 'Long', 'u': 'Byte', 'b': 'Bool'}[a.dtype.kind]
    return name


class ProdBackward0(Node):
    __slots__ = ('axis', 'keepdim')

    def backward(self, g):
        (x,) = self.saved_tensors()
        ax = self.axis
        cplx = x._data.dtype.kind == 'c'  # PyTorch's convention: g * conj(d prod / d x)
        if ax is None:
            g = g.reshape((1,) * x.ndim).expand(x.shape)
            flat = x.reshape(-1)
            d = _prod_others(flat, 0)
            return (g.reshape(-1) * (d.conj() if cplx else d)).reshape(x.shape)
        if not self.keepdim:
            g = g.unsqueeze(ax)
        d = _prod_others(x, ax)
        return g * (d.conj() if cplx else d)


def _prod_others(x, ax):
    """Product of all other elements along ``ax`` for each element (exclusive cumprods, zero-safe)."""
    n = x.shape[ax]
    ones_shape = list(x.shape)
    ones_shape[ax] = 1
    one = make(array_module(x._data).ones(ones_shape, dtype=x._data.dtype))
    left = cat_([one, x.narrow(ax, 0, n - 1).cumprod(ax)], ax) if n > 1 else one
    rev = x.flip(ax)
    right = cat_([one, rev.narrow(ax, 0, n - 1).cumprod(ax)], ax).flip(ax) if n > 1 else one
    return left * right


def cat_(ts, ax):
    from .shape import cat
    return cat(ts, ax)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along ``dim``."""
    a = input._data
    a = _accumulation_dtype(a, dtype)
    xp = array_module(a)
    if dim is None:
        r = xp.asarray(a.prod())
        ax = None
    elif a.ndim == 0:
        norm_dim(dim, 0)
        r = a.copy()
        ax = None
    else:
        ax = norm_dim(dim, a.ndim)
        r = xp.asarray(a.prod(axis=ax, keepdims=keepdim))
    if recording(input):
        n = ProdBackward0((input,))
        n.save(input)
        n.axis, n.keepdim = ax, keepdim
        return make(r, n)
    return make(r)


# --- max / min ---------------------------------------------------------------------------------------------

class MaxBackward1(Node):
    """Gradient of a full max/min/amax/amin: split evenly among the tied extremes."""
    __slots__ = ('axes', 'keepdim', 'shape')
    nan_aware = False

    def backward(self, g):
        (x,) = self.saved_tensors()
        y = self.output()
        ge = _expand_back(g, self.shape, self.axes, self.keepdim)
        ye = _expand_back(y, self.shape, self.axes, self.keepdim)
        xd, yd = x._data, ye._data
        xp = array_module(xd)
        eq = xd == yd
        if self.nan_aware and xd.dtype.kind == 'f':  # max()/min()/median(): a NaN result's gradient goes to the NaNs
            eq |= xp.isnan(xd) & xp.isnan(yd)
        mask = make(eq.astype(g._data.dtype))
        cnt = mask.sum(self.axes, keepdim=True)
        return ge * mask / cnt


class MaxBackward2(MaxBackward1):
    __slots__ = ()
    nan_aware = True


MaxBackward2.__name__ = 'MaxBackward1'


def _extreme(input, axes, keepdim, fn, name):
    a = input._data
    xp = array_module(a)
    if a.size == 0 and not axes:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    r = xp.asarray(fn(a, axis=axes, keepdims=keepdim))
    if recording(input):
        n = (MaxBackward2 if name in ('max', 'min') else MaxBackward1)((input,))
        n.save(input)
        n.axes, n.keepdim, n.shape = axes, keepdim, a.shape
        res = make(r, n)
        n.save_output(res)
        return res
    return make(r)


class MaxBackward0(Node):
    """Gradient of max/min along a dim: flows to the selected index."""
    __slots__ = ('dim', 'keepdim', 'shape')
    saves = False

    def backward(self, g):
        from .indexing import scatter_into_zeros
        if not self.shape:
            return g.reshape(())
        idx = self.idx
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            idx = idx.unsqueeze(self.dim)
        return scatter_into_zeros(g, self.dim, idx, self.shape)


def _extreme_dim(input, dim, keepdim, argfn, name):
    a = input._data
    xp = array_module(a)
    d = norm_dim(dim, a.ndim)
    if a.ndim == 0:
        idx = xp.zeros((), dtype=np.int64)
        vals = a.copy()
    else:
        if a.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        idx = argfn(a, axis=d, keepdims=True)
        vals = xp.take_along_axis(a, idx, axis=d)
        if not keepdim:
            idx = idx.squeeze(d)
            vals = vals.squeeze(d)
    idx = idx.astype(np.int64, copy=False)
    it = make(idx)
    if recording(input):
        n = MaxBackward0((input,))
        n.dim, n.keepdim, n.shape = d, keepdim, a.shape
        n.idx = it
        return values_indices(make(vals, n), it)
    return values_indices(make(vals), it)


def _nan_arg(fnname):
    def f(a, axis, keepdims):
        xp = array_module(a)
        i = getattr(xp, fnname)(a, axis=axis, keepdims=True)
        if a.dtype.kind == 'f':  # NaN propagates: it is the max and the min
            nanpos = xp.isnan(a)
            i = xp.where(nanpos.any(axis=axis, keepdims=True), xp.argmax(nanpos, axis=axis, keepdims=True), i)
        return i if keepdims else i.squeeze(axis)
    return f


_argmax = _nan_arg('argmax')
_argmin = _nan_arg('argmin')


def _complex_kernel(kernel, a):
    """PyTorch's error for an order-based reduction of a complex tensor (complex numbers have no order)."""
    from ._util import scalar_type_name
    raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(a.dtype)}\'')


def _max_min(input, dim, keepdim, binary, full, argfn, name):
    if isinstance(dim, Tensor()):  # max(a, b) is the elementwise maximum
        from . import elementwise
        return getattr(elementwise, binary)(input, dim)
    if input._data.dtype.kind == 'c':
        if dim is None:
            _complex_kernel(f'{name}_all', input._data)
        raise RuntimeError(f"{name}(): does not support complex input")
    if dim is None:
        return _extreme(input, (), False, lambda a, axis, keepdims: getattr(a, full)(), name)
    return _extreme_dim(input, dim, keepdim, argfn, name)


def max(input, dim=None, keepdim=False, *, out=None):
    """The maximum of all elements, or ``(values, indices)`` along ``dim``; ``max(a, b)`` is ``maximum``."""
    return _max_min(input, dim, keepdim, 'maximum', 'max', _argmax, 'max')


def min(input, dim=None, keepdim=False, *, out=None):
    """The minimum of all elements, or ``(values, indices)`` along ``dim``; ``min(a, b)`` is ``minimum``."""
    return _max_min(input, dim, keepdim, 'minimum', 'min', _argmin, 'min')


def amax(input, dim=(), keepdim=False):
    """Maximum over one or more dims (all when ``dim=()``); ties share the gradient evenly."""
    if input._data.dtype.kind == 'c':
        _complex_kernel('max_values_cpu', input._data)
    axes = _axes(dim, input.ndim)
    return _extreme(input, axes, keepdim, lambda a, axis, keepdims: a.max(axis=axis, keepdims=keepdims), 'amax')


def amin(input, dim=(), keepdim=False):
    """Minimum over one or more dims (all when ``dim=()``)."""
    if input._data.dtype.kind == 'c':
        _complex_kernel('min_values_cpu', input._data)
    axes = _axes(dim, input.ndim)
    return _extreme(input, axes, keepdim, lambda a, axis, keepdims: a.min(axis=axis, keepdims=keepdims), 'amin')


def aminmax(input, *, dim=None, keepdim=False):
    if input._data.dtype.kind == 'c':
        _complex_kernel('aminmax_cpu', input._data)
    r = collections.namedtuple('aminmax', ['min', 'max'])
    d = () if dim is None else dim
    return r(amin(input, d, keepdim), amax(input, d, keepdim))


def _arg_extreme(input, dim, keepdim, argfn, name):
    a = input._data
    if a.dtype.kind == 'c':
        raise RuntimeError(f"{name}(): does not support complex input")
    xp = array_module(a)
    if dim is None:
        r = argfn(a.reshape(-1), 0, False)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return make(xp.asarray(r, dtype=np.int64))
    return make(xp.asarray(argfn(a, norm_dim(dim, a.ndim), keepdim), dtype=np.int64)) if a.ndim else \
        make(xp.zeros((), np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the maximum (of the flattened tensor when ``dim`` is None)."""
    return _arg_extreme(input, dim, keepdim, _argmax, 'argmax')


def argmin(input, dim=None, keepdim=False):
    """Index of the minimum (of the flattened tensor when ``dim`` is None)."""
    return _arg_extreme(input, dim, keepdim, _argmin, 'argmin')


# --- statistics --------------------------------------------------------------------------------------------

def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with ``correction`` (default 1, Bessel); ``unbiased=False`` means correction 0."""
    if isinstance(unbiased, bool) is False and unbiased is not None and dim is None:
        dim, unbiased = unbiased, None  # var(x, dim) positional
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    a = input._data
    if a.dtype.kind not in 'fc':
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _axes(dim, a.ndim)
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    mu = input.mean(axes, keepdim=True) if axes else input
    d = input - mu
    if a.dtype.kind == 'c':  # |d|^2: the variance of a complex tensor is real
        d2 = d.real * d.real + d.imag * d.imag
    else:
        d2 = d * d
    s = d2.sum(axes, keepdim=keepdim) if axes else d2
    return s / float(max_(n - correction, 0))


def max_(a, b):
    return a if a > b else b


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation (see ``var``); its gradient is 0 where the result is 0, as in PyTorch."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    r = array_module(v._data).sqrt(v._data)
    if recording(v):
        n = StdBackward0((v,))
        res = make(r, n)
        n.save_output(res)
        return res
    return make(r)


class StdBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        y = self.output()
        safe = y.masked_fill(y == 0, 1.0)
        return (g / (safe * 2.0)).masked_fill(y == 0, 0.0)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


class LogsumexpBackward0(Node):
    __slots__ = ('axes', 'keepdim')

    def backward(self, g):
        (x,) = self.saved_tensors()
        y = self.output()
        shape = x.shape
        ge = _expand_back(g, shape, self.axes, self.keepdim)
        ye = _expand_back(y, shape, self.axes, self.keepdim)
        d = (x - ye).exp()
        return ge * (d.conj() if d._data.dtype.kind == 'c' else d)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    a = input._data
    if a.dtype.kind in 'biu':
        a = a.astype(float_dtype_of(a))
    xp = array_module(a)
    axes = _axes(dim, a.ndim)
    if a.ndim == 0:
        r = a.copy()
    elif a.size == 0:
        r = xp.full([s for i, s in enumerate(a.shape) if i not in axes], -np.inf, a.dtype)
    else:
        m = a.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide='ignore', invalid='ignore'):  # all -inf gives -inf, silently
            r = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True)) + m
        if not keepdim:
            r = r.squeeze(axes)
    r = xp.asarray(r)
    if recording(input):
        n = LogsumexpBackward0((input,))
        n.save(input)
        n.axes, n.keepdim = axes, keepdim
        res = make(r, n)
        n.save_output(res)
        return res
    return make(r)


class CumsumBackward0(Node):
    __slots__ = ('dim',)
    saves = False

    def backward(self, g):
        return g.flip(self.dim).cumsum(self.dim).flip(self.dim)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``."""
    a = input._data
    a = _accumulation_dtype(a, dtype)
    d = norm_dim(dim, a.ndim)
    r = array_module(a).cumsum(a, axis=d) if a.ndim else a.copy()
    if recording(input):
        n = CumsumBackward0((input,))
        n.dim = d
        return make(r, n)
    return make(r)


class CumprodBackward0(Node):
    __slots__ = ('dim',)

    def backward(self, g):
        if g._data.dtype.kind == 'c':  # the rule below is g * d/dx; PyTorch's is g * conj(d/dx)
            return self._rule(g.conj()).conj()
        return self._rule(g)

    def _rule(self, g):
        (x,) = self.saved_tensors()
        d = self.dim
        # zero-safe: d/dx_i sum_{j>=i} g_j prod_{k<=j, k!=i} x_k, via exclusive products
        n = x.shape[d]
        if n == 0:
            return g
        xp = array_module(x._data)
        if not bool((x._data == 0).any()):
            y = self.output()
            return (g * y).flip(d).cumsum(d).flip(d) / x
        idx = []
        parts = []
        for i in range(n):  # rare path with zeros: O(n^2) over the dim, not over elements
            xi = x.narrow(d, i, 1)
            left = x.narrow(d, 0, i).prod(d, keepdim=True) if i > 0 else xi * 0.0 + 1.0
            rest = x.narrow(d, i + 1, n - i - 1)
            if n - i - 1 > 0:
                cp = cat_([xi * 0.0 + 1.0, rest.cumprod(d)], d)
            else:
                cp = xi * 0.0 + 1.0
            gi = (g.narrow(d, i, n - i) * cp).sum(d, keepdim=True) * left
            parts.append(gi)
        del xp, idx
        return cat_(parts, d)


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``."""
    a = input._data
    a = _accumulation_dtype(a, dtype)
    d = norm_dim(dim, a.ndim)
    r = array_module(a).cumprod(a, axis=d) if a.ndim else a.copy()
    if recording(input):
        n = CumprodBackward0((input,))
        n.save(input)
        n.dim = d
        res = make(r, n)
        n.save_output(res)
        return res
    return make(r)


def _cum_extreme(fn, name):
    def op(input, dim):
        a = input._data
        if a.ndim == 0:  # a 0-d input is its own running extreme, at index 0
            norm_dim(dim, 0)
            return values_indices(input.clone(), make(array_module(a).zeros((), dtype=np.int64)))
        if a.dtype.kind == 'c':
            _complex_kernel(f'{name}_cpu', a)
        xp = array_module(a)
        d = norm_dim(dim, a.ndim)
        from ._util import accumulate
        vals = accumulate(fn.__name__, a, d)
        n = a.shape[d]
        # index of the running extreme: last position where a equals the running value
        ar = xp.arange(n).reshape([-1 if i == d else 1 for i in range(a.ndim)])
        hit = xp.where(a == vals, ar, 0)
        idx = accumulate('maximum', hit, d).astype(np.int64)
        it = make(idx)
        v = input.gather(d, it) if recording(input) else make(vals)
        return values_indices(v, it)
    return op


cummax = _cum_extreme(np.maximum, 'cummax')
cummin = _cum_extreme(np.minimum, 'cummin')


def logcumsumexp(input, dim):
    d = norm_dim(dim, input.ndim)
    if input._data.dtype.kind == 'c':
        return _logcumsumexp_complex(input, d)
    m = input.detach().amax(d, keepdim=True) if input.numel() else input.detach()
    return (input - m).exp().cumsum(d).log() + m


def _logcumsumexp_complex(input, d):
    # PyTorch's scan: acc <- hi + log1p(exp(lo - hi)), hi being the operand with the larger real part. The
    # imaginary part is carried along unwrapped, so a one-shot log(cumsum(exp)) would differ from it by 2*pi*k.
    if input.ndim == 0 or input.shape[d] <= 1:
        return input.clone()
    from .elementwise import where
    from .shape import stack
    xs = input.unbind(d)
    acc = xs[0]
    outs = [acc]
    for x in xs[1:]:
        take_x = x.real > acc.real
        hi, lo = where(take_x, x, acc), where(take_x, acc, x)
        acc = hi + (lo - hi).exp().log1p()
        outs.append(acc)
    return stack(outs, d)


def _logical(input, dim, keepdim, method):
    a = input._data
    xp = array_module(a)
    if dim is None:
        return make(xp.asarray(getattr(a, method)()))
    return make(xp.asarray(getattr(a, method)(axis=_axes(dim, a.ndim), keepdims=keepdim)))


def all(input, dim=None, keepdim=False):
    """True where all elements (along ``dim``) are nonzero."""
    return _logical(input, dim, keepdim, 'all')


def any(input, dim=None, keepdim=False):
    """True where any element (along ``dim``) is nonzero."""
    return _logical(input, dim, keepdim, 'any')


def count_nonzero(input, dim=None):
    a = input._data
    xp = array_module(a)
    axes = None if dim is None else _axes(dim, a.ndim)
    return make(xp.asarray(xp.count_nonzero(a, axis=axes), dtype=np.int64))


def norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    """Vector/matrix norm (``p`` = number, inf, -inf, 'fro' or 'nuc')."""
    x = input if dtype is None else input.to(dtype)
    if p == 'fro' or p is None:
        p = 2
    if p == 'nuc':
        from ...linalg import matrix_norm
        return matrix_norm(x, 'nuc', dim=dim if dim is not None else (-2, -1), keepdim=keepdim)
    return vector_norm(x, p, _axes(dim, x.ndim), keepdim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (all elements when None)."""
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind in 'biu':
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long")
    axes = _axes(dim, x.ndim)
    if not axes:
        return x.abs()
    ax = x.abs()
    if ord == float('inf'):
        return ax.amax(axes, keepdim)
    if ord == float('-inf'):
        return ax.amin(axes, keepdim)
    if ord == 0:
        return (x != 0)._cast(ax._data.dtype).sum(axes, keepdim)
    if ord == 1:
        return ax.sum(axes, keepdim)
    if ord == 2:
        return _Norm2.apply_(x, axes, keepdim)
    return (ax ** ord).sum(axes, keepdim) ** (1.0 / ord)


class _Norm2(Node):
    """The 2-norm with a subgradient of 0 at the origin (like PyTorch), not NaN."""
    __slots__ = ('axes', 'keepdim')

    @classmethod
    def apply_(cls, x, axes, keepdim):
        a = x._data
        xp = array_module(a)
        sq = a * a if a.dtype.kind != 'c' else a.real * a.real + a.imag * a.imag
        r = xp.sqrt(sq.sum(axis=axes, keepdims=keepdim))
        r = xp.asarray(r)
        if recording(x):
            n = cls((x,))
            n.save(x)
            n.axes, n.keepdim = axes, keepdim
            res = make(r, n)
            n.save_output(res)
            return res
        return make(r)

    def backward(self, g):
        (x,) = self.saved_tensors()
        y = self.output()
        ye = _expand_back(y, x.shape, self.axes, self.keepdim)
        ge = _expand_back(g, x.shape, self.axes, self.keepdim)
        safe = ye.masked_fill(ye == 0, 1.0)
        return ge * x / safe * (ye != 0)._cast(x._data.dtype)


_Norm2.__name__ = 'NormBackward1'


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero."""
    from .elementwise import where
    if input._data.dtype.kind != 'f':
        return sum(input, dim, keepdim, dtype=dtype)
    return sum(where(input.isnan(), 0.0, input), dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over the non-NaN elements."""
    if input._data.dtype.kind != 'f':
        return mean(input, dim, keepdim, dtype=dtype)
    cnt = (~input.isnan()).sum(dim if dim is not None else (), keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / cnt


# --- differences, distances, covariance, quantiles ----------------------------------------------------------

def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
    from .shape import cat
    d = norm_dim(dim, input.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = [_as_edge(prepend, x, d), x, _as_edge(append, x, d)]
        x = cat([p for p in parts if p is not None], d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        x = x.narrow(d, 1, m - 1) - x.narrow(d, 0, m - 1) if x._data.dtype != np.bool_ else \
            x.narrow(d, 1, m - 1) ^ x.narrow(d, 0, m - 1)
    return x


def _trapezoid_terms(y, x, dx, dim, name):
    """The per-interval areas ``(y[i] + y[i+1]) / 2 * width`` along ``dim``."""
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: pass either x or dx, not both")
    d = norm_dim(dim, y.ndim)
    m = y.shape[d]
    k = m - 1 if m > 0 else 0          # (the builtins max/min are shadowed by the ops here)
    avg = (y.narrow(d, 1 if m > 0 else 0, k) + y.narrow(d, 0, k)) / 2
    if x is None:
        return avg * (1 if dx is None else dx)
    if x.ndim == 1:
        if x.shape[0] != m:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        shape = [1] * y.ndim
        shape[d] = k
        widths = diff(x).reshape(shape)
    else:
        widths = diff(x, dim=dim)
    return avg * widths


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: sample points ``x`` (1-D or broadcastable) or spacing ``dx``."""
    return sum(_trapezoid_terms(y, x, dx, dim, 'trapezoid'), dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of ``trapezoid``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along ``dim`` (one element shorter than ``y`` there)."""
    return cumsum(_trapezoid_terms(y, x, dx, dim, 'cumulative_trapezoid'), dim)


def _as_edge(extra, x, d):
    if extra is None:
        return None
    if not isinstance(extra, Tensor()):
        from ._util import to_tensor_like
        extra = to_tensor_like(extra, x)
    if extra.ndim == 0:
        shape = list(x.shape)
        shape[d] = 1
        extra = extra.expand(shape)
    return extra


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other``."""
    return norm(input - other, p)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in columns)."""
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if x._data.dtype.kind not in 'fc':
        x = x._cast(float_dtype_of(x._data))
    nobs = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights._cast(x._data.dtype)
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1, keepdim=True)
        w_sum = float(nobs)
        norm_ = w_sum - correction
        xc = x - avg
        c = xc.matmul(_adjoint(xc))
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        if correction == 0:
            norm_ = w_sum
        elif aweights is None:
            norm_ = w_sum - correction
        else:
            norm_ = w_sum - correction * (w * aweights).sum() / w_sum
        xc = x - avg
        c = (xc * w).matmul(_adjoint(xc))
    if isinstance(norm_, Tensor()):
        norm_ = norm_.clamp(min=0)
    else:
        norm_ = max_(norm_, 0)
    c = c / norm_
    return c.reshape(()) if input.ndim < 2 else c


def _adjoint(m):
    """The conjugate transpose of a 2-D tensor (the transpose for real ones)."""
    return m.t().conj() if m._data.dtype.kind == 'c' else m.t()


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input``."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    sd = d.sqrt()
    c = c / sd.unsqueeze(1) / sd.unsqueeze(0)
    if c._data.dtype.kind == 'c':  # the real and imaginary parts are clipped separately, as in PyTorch
        from ...spectral import view_as_complex
        from .shape import stack
        return view_as_complex(stack([c.real.clamp(-1.0, 1.0), c.imag.clamp(-1.0, 1.0)], -1))
    return c.clamp(-1.0, 1.0)


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    from .sorting import sort
    T = Tensor()
    if input._data.dtype.kind != 'f':
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in ('linear', 'lower', 'higher', 'midpoint', 'nearest'):
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                         f"Got {interpolation}")
    xp = array_module(input._data)
    scalar_q = not isinstance(q, T)
    qa = xp.asarray([q] if scalar_q else q._data.reshape(-1), dtype=input._data.dtype)
    if not scalar_q and q._data.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if bool(((qa < 0) | (qa > 1)).any()):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else norm_dim(dim, x.ndim)
    x = x.movedim(d, -1) if x.ndim else x.reshape(1)
    srt = sort(x, -1).values  # NaN last
    n = srt.shape[-1]
    sd = srt._data
    nans = xp.isnan(sd).sum(axis=-1, keepdims=True)
    valid = (n - nans) if ignore_nan else xp.full(nans.shape, n)
    # positions per q (leading axis) and row
    pos = qa.reshape((-1,) + (1,) * sd.ndim) * (valid - 1).astype(sd.dtype)
    pos = xp.maximum(pos, 0)
    lo = xp.floor(pos).astype(np.int64)
    hi = xp.ceil(pos).astype(np.int64)
    if interpolation == 'lower':
        hi = lo
    elif interpolation == 'higher':
        lo = hi
    elif interpolation == 'nearest':
        lo = hi = xp.rint(pos).astype(np.int64)
    frac = (pos - lo).astype(sd.dtype)
    if interpolation == 'midpoint':
        frac = xp.where(hi != lo, sd.dtype.type(0.5), sd.dtype.type(0))
    k = qa.shape[0]
    srt_k = srt.unsqueeze(0).expand((k,) + tuple(srt.shape))
    # a NaN result (any NaN, or all NaN for nanquantile) is read from the last sorted place, a NaN
    bad = xp.broadcast_to((nans > 0) if not ignore_nan else (valid == 0), lo.shape)
    lo = xp.where(bad, n - 1, xp.minimum(lo, n - 1))
    hi = xp.where(bad, n - 1, xp.minimum(hi, n - 1))
    frac = xp.where(bad, sd.dtype.type(0), frac)
    vlo = srt_k.gather(-1, make(lo))
    vhi = srt_k.gather(-1, make(hi))
    r = vlo + (vhi - vlo) * make(frac) if interpolation not in ('lower', 'higher', 'nearest') else vlo
    r = r.squeeze(-1)  # (k, rows...)
    if keepdim:
        if dim is None:
            r = r.reshape((k,) + (1,) * input.ndim)
        else:
            r = r.unsqueeze(d + 1)
    return r.squeeze(0) if scalar_q else r


def quantile(input, q, dim=None, keepdim=False, *, interpolation='linear'):
    """The ``q``-quantiles (a number or 1-D tensor) of all elements or along ``dim``; NaN propagates."""
    return _quantile(input, q, dim, keepdim, interpolation, False, 'quantile')


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear'):
    """Like ``quantile`` but ignoring NaN values."""
    return _quantile(input, q, dim, keepdim, interpolation, True, 'nanquantile')
