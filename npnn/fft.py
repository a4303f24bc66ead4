"""``npnn.fft``: discrete Fourier transforms over the array module's fft, with gradients.

Every transform is linear, so each backward rule is the adjoint transform: the adjoint of a DFT with one
normalisation is the inverse DFT with the dual one ('backward' <-> 'forward', 'ortho' <-> 'ortho').
Complex gradients follow PyTorch's convention (dL/dRe + i dL/dIm).
"""
import numbers

import numpy as np

from .autograd.node import Node
from .autograd.ops._util import make, recording, norm_dim, Tensor
from .backend import dtypes
from .backend.device import array_module, to_device, array_to

__all__ = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft', 'fft2', 'ifft2', 'rfft2', 'irfft2', 'hfft2', 'ihfft2',
           'fftn', 'ifftn', 'rfftn', 'irfftn', 'hfftn', 'ihfftn', 'fftfreq', 'rfftfreq', 'fftshift', 'ifftshift']

_DUAL = {'backward': 'forward', 'forward': 'backward', 'ortho': 'ortho'}
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128),
            np.dtype(np.float16): np.dtype(np.complex64)}


# --- nodes: one class per PyTorch grad_fn name, the adjoint stored as a closure -------------------------
class _Linear(Node):
    __slots__ = ('adj',)
    saves = False

    def backward(self, g):
        return self.adj(g)


class FftC2CBackward0(_Linear):
    __slots__ = ()


class FftR2CBackward0(_Linear):
    __slots__ = ()


class FftC2RBackward0(_Linear):
    __slots__ = ()


class ConstantPadNdBackward0(_Linear):
    __slots__ = ()


class ConjBackward0(_Linear):
    __slots__ = ()


class RealBackward0(_Linear):
    __slots__ = ()


def _record(cls, out, x, adj):
    if recording(x):
        n = cls((x,))
        n.adj = adj
        return make(out, n)
    return make(out)


# --- small differentiable pieces ----------------------------------------------------------------------
def _norm(norm):
    if norm is None:
        return 'backward'
    if norm not in _DUAL:
        raise ValueError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_dtype(a):
    if a.dtype.kind == 'c':
        return a.dtype
    return _COMPLEX.get(a.dtype, _COMPLEX[dtypes.get_default_dtype().np])


def _real_dtype(a):
    if a.dtype.kind == 'c':
        return np.dtype(np.float32) if a.dtype == np.complex64 else np.dtype(np.float64)
    if a.dtype.kind == 'f' and a.dtype != np.float16:
        return a.dtype
    return dtypes.get_default_dtype().np


def _fit(x, axes, sizes):
    """Zero-pad or truncate ``x`` along ``axes`` to ``sizes`` (differentiable: the adjoint fits back)."""
    a = x._data
    old = [a.shape[ax] for ax in axes]
    if old == list(sizes):
        return x
    xp = array_module(a)
    sl = [slice(None)] * a.ndim
    pad = [(0, 0)] * a.ndim
    for ax, n in zip(axes, sizes):
        if n < a.shape[ax]:
            sl[ax] = slice(0, n)
        else:
            pad[ax] = (0, n - a.shape[ax])
    r = a[tuple(sl)]
    if any(p[1] for p in pad):
        r = xp.pad(r, pad)
    return _record(ConstantPadNdBackward0, r, x, lambda g: _fit(g, axes, old))


def _conj(x):
    a = x._data
    if a.dtype.kind != 'c':
        return x
    return _record(ConjBackward0, a.conj(), x, lambda g: _conj(g))


def _real(x):
    a = x._data
    if a.dtype.kind != 'c':
        return x
    xp = array_module(a)
    return _record(RealBackward0, xp.ascontiguousarray(a.real), x, lambda g: _to_complex(g, a.dtype))


def _to_complex(g, cdt):
    """A real gradient as a complex tensor (the adjoint of taking the real part)."""
    if g._data.dtype.kind == 'c':
        return g
    from .spectral import view_as_complex
    from .autograd.ops import stack
    rdt = np.float32 if cdt == np.complex64 else np.float64
    g = g._cast(rdt)
    return view_as_complex(stack([g, g * 0.0], -1))


def _c2c(x, axes, norm, forward):
    """The full-size complex DFT over ``axes`` (real input allowed; its gradient is real)."""
    a = x._data
    xp = array_module(a)
    cdt = _complex_dtype(a)
    f = xp.fft.fftn if forward else xp.fft.ifftn
    r = f(a, axes=axes, norm=norm).astype(cdt, copy=False) if axes else a.astype(cdt)
    real_in = a.dtype.kind != 'c'

    def adj(g):
        r = _c2c(g, axes, _DUAL[norm], not forward)
        return _real(r) if real_in else r
    return _record(FftC2CBackward0, r, x, adj)


def _r2c(x, axes, norm):
    """The real-to-complex DFT over ``axes`` keeping the last axis' ``n // 2 + 1`` non-negative frequencies."""
    a = x._data
    xp = array_module(a)
    if a.dtype.kind not in 'f':
        a = a.astype(_real_dtype(a))
    cdt = _complex_dtype(a)
    n = a.shape[axes[-1]]
    r = xp.fft.rfftn(a, axes=axes, norm=norm).astype(cdt, copy=False)

    def adj(g):
        return _real(_c2c(_fit(g, [axes[-1]], [n]), axes, _DUAL[norm], False))
    return _record(FftR2CBackward0, r, x, adj)


def _c2r(x, axes, n, norm):
    """The complex-to-real inverse DFT over ``axes``: the last axis (of size ``n // 2 + 1``) gives ``n`` points."""
    a = x._data
    xp = array_module(a)
    cdt = _complex_dtype(a)
    if a.dtype != cdt:
        a = a.astype(cdt)
    s = [a.shape[ax] for ax in axes[:-1]] + [n]
    r = xp.fft.irfftn(a, s=s, axes=axes, norm=norm).astype(_real_dtype(a), copy=False)
    last = axes[-1]

    def adj(g):
        gc = _r2c(g, axes, _DUAL[norm])
        w = np.full(n // 2 + 1, 2.0)
        w[0] = 1.0
        if n % 2 == 0:
            w[-1] = 1.0
        shape = [1] * gc._data.ndim
        shape[last] = n // 2 + 1
        wt = make(array_module(gc._data).asarray(w.astype(_real_dtype(gc._data)).reshape(shape)))
        return gc * wt
    return _record(FftC2RBackward0, r, x, adj)


# --- argument handling ----------------------------------------------------------------------------------
def _check_tensor(input):
    if not isinstance(input, Tensor()):
        raise TypeError(f'fft: expected a Tensor as input, got {type(input).__name__}')


def _dims_sizes(input, s, dim, default_dims):
    """Normalise (s, dim) like PyTorch: returns (axes, sizes) with sizes[i] the transform length on axes[i]."""
    nd = input._data.ndim
    if dim is None:
        if s is not None:
            if len(s) > nd:
                raise RuntimeError(f'Got shape with {len(s)} values but input tensor only has {nd} dimensions.')
            axes = list(range(nd - len(s), nd))
        else:
            axes = list(range(nd)) if default_dims is None else [norm_dim(d, nd) for d in default_dims]
    else:
        dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
        axes = [norm_dim(d, nd) for d in dims]
        if len(set(axes)) != len(axes):
            raise RuntimeError('FFT dims must be unique')
    if s is not None:
        s = [s] if isinstance(s, numbers.Integral) else list(s)
        if len(s) != len(axes):
            raise RuntimeError('When given, dim and shape arguments must have the same length')
        sizes = [input._data.shape[ax] if n == -1 else int(n) for ax, n in zip(axes, s)]
    else:
        sizes = None
    return axes, sizes


def _check_sizes(sizes):
    for n in sizes:
        if n < 1:
            raise RuntimeError(f'Invalid number of data points ({n}) specified')


def _c2c_api(input, s, dim, norm, forward, default_dims):
    _check_tensor(input)
    norm = _norm(norm)
    axes, sizes = _dims_sizes(input, s, dim, default_dims)
    if sizes is None:
        sizes = [input._data.shape[ax] for ax in axes]
    _check_sizes(sizes)
    return _c2c(_fit(input, axes, sizes), axes, norm, forward)


def _r2c_api(input, s, dim, norm, default_dims, name):
    _check_tensor(input)
    if input._data.dtype.kind == 'c':
        raise RuntimeError(f'{name} expects a real input tensor, but got {_cname(input._data.dtype)}')
    norm = _norm(norm)
    axes, sizes = _dims_sizes(input, s, dim, default_dims)
    if sizes is None:
        sizes = [input._data.shape[ax] for ax in axes]
    _check_sizes(sizes)
    if not axes:
        raise RuntimeError('rfftn must transform at least one axis')
    return _r2c(_fit(input, axes, sizes), axes, norm)


def _c2r_api(input, s, dim, norm, default_dims):
    _check_tensor(input)
    norm = _norm(norm)
    axes, sizes = _dims_sizes(input, s, dim, default_dims)
    if not axes:
        raise RuntimeError('irfftn must transform at least one axis')
    shape = input._data.shape
    if sizes is None:
        sizes = [shape[ax] for ax in axes[:-1]] + [2 * (shape[axes[-1]] - 1)]
    _check_sizes(sizes)
    n = sizes[-1]
    x = _fit(input, axes, sizes[:-1] + [n // 2 + 1])
    if x._data.dtype.kind != 'c':
        x = _c2c(x, [], 'backward', True)  # a real input is promoted to complex (identity, real gradient)
    return _c2r(x, axes, n, norm)


def _cname(dt):
    return {'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble'}.get(np.dtype(dt).name, str(dt))


def _out(r, out):
    """Write ``r`` into ``out`` (resized, like PyTorch's out= variants) and return it."""
    if out is None:
        return r
    if out._data.dtype != r._data.dtype:
        raise RuntimeError(f'Expected out tensor to have dtype {r.dtype}, but got {out.dtype} instead')
    out._data = r._data.copy()
    out._vc[0] += 1
    return out


# --- public transforms ----------------------------------------------------------------------------------
def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """One-dimensional discrete Fourier transform along ``dim`` (``n`` pads or trims the signal)."""
    return _out(_c2c_api(input, None if n is None else [n], [dim], norm, True, None), out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """One-dimensional inverse discrete Fourier transform."""
    return _out(_c2c_api(input, None if n is None else [n], [dim], norm, False, None), out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Two-dimensional discrete Fourier transform."""
    return _out(_c2c_api(input, s, dim, norm, True, None), out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Two-dimensional inverse discrete Fourier transform."""
    return _out(_c2c_api(input, s, dim, norm, False, None), out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional discrete Fourier transform (all dims, or the last ``len(s)``, by default)."""
    return _out(_c2c_api(input, s, dim, norm, True, None), out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional inverse discrete Fourier transform."""
    return _out(_c2c_api(input, s, dim, norm, False, None), out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """DFT of a real signal: the ``n // 2 + 1`` non-negative frequencies."""
    return _out(_r2c_api(input, None if n is None else [n], [dim], norm, None, 'rfft'), out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Two-dimensional DFT of a real signal (last dim halved)."""
    return _out(_r2c_api(input, s, dim, norm, None, 'rfftn'), out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional DFT of a real signal (last transformed dim halved)."""
    return _out(_r2c_api(input, s, dim, norm, None, 'rfftn'), out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """Inverse of :func:`rfft`: ``n`` real points (default ``2 * (m - 1)``) from one-sided frequencies."""
    return _out(_c2r_api(input, None if n is None else [n], [dim], norm, None), out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Inverse of :func:`rfft2`."""
    return _out(_c2r_api(input, s, dim, norm, None), out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """Inverse of :func:`rfftn`."""
    return _out(_c2r_api(input, s, dim, norm, None), out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """DFT of a Hermitian-symmetric signal given by its first half: ``n`` real frequencies."""
    return _out(_c2r_api(_conj(input), None if n is None else [n], [dim], _DUAL[_norm(norm)], None), out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Two-dimensional :func:`hfft`."""
    return _out(_c2r_api(_conj(input), s, dim, _DUAL[_norm(norm)], None), out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional :func:`hfft`."""
    return _out(_c2r_api(_conj(input), s, dim, _DUAL[_norm(norm)], None), out)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """Inverse of :func:`hfft`: one-sided frequencies of a real signal."""
    return _out(_conj(_r2c_api(input, None if n is None else [n], [dim], _DUAL[_norm(norm)], None, 'ihfft')), out)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """Two-dimensional :func:`ihfft`."""
    return _out(_conj(_r2c_api(input, s, dim, _DUAL[_norm(norm)], None, 'ihfftn')), out)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """N-dimensional :func:`ihfft`."""
    return _out(_conj(_r2c_api(input, s, dim, _DUAL[_norm(norm)], None, 'ihfftn')), out)


# --- frequencies and shifts -----------------------------------------------------------------------------
def _freq_tensor(vals, dtype, device, requires_grad):
    d = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    dev = to_device(device)
    t = make(array_to(vals.astype(d.np), dev))
    if requires_grad:
        t.requires_grad_(True)
    return t


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Sample frequencies of a length-``n`` DFT with sample spacing ``d``."""
    if n < 0:
        raise RuntimeError(f'fftfreq expects n >= 0, got {n}')
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)]).astype(np.float64)
    return _freq_tensor(k / (n * d) if n else k, dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Sample frequencies of a length-``n`` :func:`rfft` (non-negative ones)."""
    if n < 0:
        raise RuntimeError(f'rfftfreq expects n >= 0, got {n}')
    k = np.arange(0, n // 2 + 1, dtype=np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        return _freq_tensor(k / (n * d), dtype, device, requires_grad)  # n = 0 gives [nan], as PyTorch


def _shift(input, dim, sign):
    _check_tensor(input)
    nd = input._data.ndim
    if dim is None:
        axes = list(range(nd))
    elif isinstance(dim, numbers.Integral):
        axes = [norm_dim(dim, nd)]
    else:
        axes = [norm_dim(d, nd) for d in dim]
    if not axes:
        return input
    shifts = [sign * (input._data.shape[ax] // 2) for ax in axes]
    return input.roll(tuple(shifts), tuple(axes))


def fftshift(input, dim=None):
    """Move the zero-frequency term to the centre (roll by ``n // 2`` along each of ``dim``)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """Inverse of :func:`fftshift`."""
    return _shift(input, dim, -1)
