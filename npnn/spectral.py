"""Spectral helpers at the top level: stft, istft, window functions, and the differentiable complex helpers
``real``, ``imag``, ``view_as_real``, ``view_as_complex``, ``conj``, ``conj_physical``, ``angle``."""
import math
import numbers
import warnings

import numpy as np

from .autograd.ops._util import make, Tensor
from .backend import dtypes
from .backend.device import array_module, to_device, array_to
from .fft import _Linear, _record

__all__ = ['stft', 'istft', 'hann_window', 'hamming_window', 'blackman_window', 'bartlett_window',
           'kaiser_window', 'real', 'imag', 'view_as_real', 'view_as_complex', 'conj', 'conj_physical', 'angle']


class ImagBackward0(_Linear):
    __slots__ = ()


class ViewAsRealBackward0(_Linear):
    __slots__ = ()


class ViewAsComplexBackward0(_Linear):
    __slots__ = ()


class AngleBackward0(_Linear):
    __slots__ = ()


class AsStridedBackward0(_Linear):
    __slots__ = ()


class OverlapAddBackward0(_Linear):
    __slots__ = ()


# --- complex views ----------------------------------------------------------------------------------------
def real(input):
    """The real part (the input itself for real tensors); differentiable."""
    from .fft import _real
    return _real(input)


def imag(input):
    """The imaginary part of a complex tensor; differentiable."""
    a = input._data
    if a.dtype.kind != 'c':
        raise RuntimeError('imag is not implemented for tensors with non-complex dtypes.')
    xp = array_module(a)
    cdt = a.dtype

    def adj(g):
        z = g * 0.0
        return view_as_complex(_stack_last(z, g))
    return _record(ImagBackward0, xp.ascontiguousarray(a.imag), input, adj)


def _stack_last(a, b):
    from .autograd.ops import stack
    return stack([a, b], -1)


def view_as_real(input):
    """A complex tensor as a real one with a trailing dimension of size 2 (real, imaginary)."""
    a = input._data
    if a.dtype.kind != 'c':
        raise RuntimeError('view_as_real is only supported for complex tensors')
    xp = array_module(a)
    rdt = np.float32 if a.dtype == np.complex64 else np.float64
    if a.ndim and a.strides[-1] == a.itemsize or a.ndim == 0:
        r = a.reshape(a.shape + (1,)).view(rdt)  # shares memory, like PyTorch's view
    else:
        r = xp.stack([a.real, a.imag], -1)
    return _record(ViewAsRealBackward0, r, input, lambda g: view_as_complex(g))


def view_as_complex(input):
    """A real tensor with a trailing dimension of size 2 as a complex tensor."""
    a = input._data
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError('Tensor must have a last dimension of size 2')
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f'view_as_complex is only supported for float and double tensors, but got a tensor '
                           f'of scalar type: {a.dtype}')
    xp = array_module(a)
    cdt = np.complex64 if a.dtype == np.float32 else np.complex128
    if a.strides[-1] == a.itemsize and (a.ndim == 1 or a.strides[-2] % (2 * a.itemsize) == 0) and a.ndim > 0:
        try:
            r = a.view(cdt).reshape(a.shape[:-1])
        except (ValueError, TypeError):
            r = (a[..., 0] + 1j * a[..., 1]).astype(cdt)
    else:
        r = (a[..., 0] + 1j * a[..., 1]).astype(cdt)
    return _record(ViewAsComplexBackward0, r, input, lambda g: view_as_real(g))


def conj(input):
    """The complex conjugate (the input itself for real tensors); differentiable."""
    from .fft import _conj
    return _conj(input)


conj_physical = conj


def angle(input):
    """The argument ``atan2(imag, real)`` of each element; real inputs give 0 or pi (NaN stays NaN)."""
    a = input._data
    if a.dtype.kind != 'c':
        from .autograd.ops import elementwise
        return elementwise.angle(input)
    xp = array_module(a)

    def adj(g):  # d angle: (-imag + i real) / |z|^2, zero at z = 0
        from .autograd.ops import where, stack
        re, im = real(input), imag(input)
        r2 = re * re + im * im
        zero = r2 == 0
        r2 = where(zero, r2 + 1.0, r2)
        s = g / r2
        s = where(zero, s * 0.0, s)
        return view_as_complex(stack([-im * s, re * s], -1))
    return _record(AngleBackward0, xp.angle(a), input, adj)


# --- framing and overlap-add (adjoint pair) ---------------------------------------------------------------
def _frame(x, n, hop):
    """Frames of ``n`` samples every ``hop`` along the last dim: (..., L) -> (..., F, n), a strided view."""
    a = x._data
    xp = array_module(a)
    L = a.shape[-1]
    F = 1 + (L - n) // hop
    if not a.flags.c_contiguous:
        a = xp.ascontiguousarray(a)
    s = a.strides[-1]
    r = xp.lib.stride_tricks.as_strided(a, a.shape[:-1] + (F, n), a.strides[:-1] + (hop * s, s))
    return _record(AsStridedBackward0, r, x, lambda g: _overlap_add(g, hop, L))


def _overlap_add(fr, hop, length):
    """Sum frames (..., F, n) placed every ``hop`` samples into a signal of ``length`` samples."""
    a = fr._data
    xp = array_module(a)
    F, n = a.shape[-2], a.shape[-1]
    r = -(-n // hop)
    lead = a.shape[:-2]
    if r * hop != n:
        a = xp.concatenate([a, xp.zeros(lead + (F, r * hop - n), a.dtype)], -1)
    blocks = a.reshape(lead + (F, r, hop))
    out = xp.zeros(lead + (F + r - 1, hop), a.dtype)
    for j in range(r):  # a loop over the n/hop overlaps, each one vectorised over all frames
        out[..., j:j + F, :] += blocks[..., :, j, :]
    out = out.reshape(lead + ((F + r - 1) * hop,))
    total = out.shape[-1]
    if total >= length:
        out = out[..., :length]
    else:
        out = xp.concatenate([out, xp.zeros(lead + (length - total,), a.dtype)], -1)
    return _record(OverlapAddBackward0, out, fr, lambda g: _frame(_fit_last(g, n + hop * (F - 1)), n, hop))


def _fit_last(x, n):
    from .fft import _fit
    return _fit(x, [x._data.ndim - 1], [n])


def _pad_window(window, win_length, n_fft, like):
    """The window (rectangular when None) zero-padded on both sides to ``n_fft`` (centred)."""
    from .autograd.ops import cat
    a = like._data
    xp = array_module(a)
    if window is None:
        rdt = np.float32 if a.dtype in (np.complex64, np.float32, np.float16) else np.float64
        window = make(xp.ones(win_length, rdt))
    left = (n_fft - win_length) // 2
    right = n_fft - win_length - left
    if left or right:
        wd = window._data
        window = cat([make(xp.zeros(left, wd.dtype)), window, make(xp.zeros(right, wd.dtype))])
    return window


def _sig(name, input, n_fft, hop_length, win_length, window, extra):
    shape = list(input._data.shape)
    w = 'None' if window is None else f'torch.FloatTensor{{{list(window._data.shape)}}}'
    return (f'{name}(torch.FloatTensor{shape}, n_fft={n_fft}, hop_length={hop_length}, win_length={win_length}, '
            f'window={w}{extra})')


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode='reflect',
         normalized=False, onesided=None, return_complex=None):
    """Short-time Fourier transform of a 1-D (L) or 2-D (B, L) signal: (B?, freq, frames) complex."""
    from . import fft as _fft
    from .autograd.ops import index_select, cat
    a = input._data
    is_c = a.dtype.kind == 'c' or (window is not None and window._data.dtype.kind == 'c')
    if return_complex is None:
        if not is_c:
            raise RuntimeError('stft requires the return_complex parameter be given for real inputs, and will '
                               'further require that return_complex=True in a future PyTorch release.')
        return_complex = True
    if not return_complex:
        warnings.warn('stft with return_complex=False is deprecated. In a future pytorch release, stft will '
                      'return complex tensors for all inputs, and return_complex=False will raise an error.')
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    xp = array_module(a)
    if a.ndim not in (1, 2):
        raise RuntimeError(_sig('stft', input, n_fft, hop_length, win_length, window, '') +
                           ' : expected a 1D or 2D tensor')
    x = input if a.ndim == 2 else input.unsqueeze(0)
    if a.dtype.kind in 'biu':
        x = x._cast(dtypes.get_default_dtype().np)
    if center:
        p = n_fft // 2
        L = x._data.shape[-1]
        i = np.arange(-p, L + p)
        if pad_mode == 'constant':
            z = make(xp.zeros((x._data.shape[0], p), x._data.dtype))
            x = cat([z, x, z], -1)
        else:
            if pad_mode == 'reflect':
                if p >= L:
                    raise RuntimeError(f'Argument #4: Padding size should be less than the corresponding input '
                                       f'dimension, but got: padding ({p}, {p}) at dimension 2 of input '
                                       f'[1, {x._data.shape[0]}, {L}]')
                i = (L - 1) - np.abs((L - 1) - np.abs(i))
            elif pad_mode == 'replicate':
                i = np.clip(i, 0, L - 1)
            elif pad_mode == 'circular':
                i = i % L
            else:
                raise NotImplementedError(f"stft: unsupported pad_mode '{pad_mode}'")
            x = index_select(x, 1, make(xp.asarray(i)))
    L = x._data.shape[-1]
    sig = _sig('stft', x.squeeze(0) if a.ndim == 1 else x, n_fft, hop_length, win_length, window,
               f', normalized={int(bool(normalized))}, onesided={onesided}, return_complex={int(bool(return_complex))})')
    if n_fft <= 0 or n_fft > L:
        raise RuntimeError(f'{sig} : expected 0 < n_fft < {L}, but got n_fft={n_fft}')
    if hop_length <= 0:
        raise RuntimeError(f'{sig} : expected hop_length > 0, but got hop_length={hop_length}')
    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(f'{sig} : expected 0 < win_length <= n_fft, but got win_length={win_length}')
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win_length):
        raise RuntimeError(f'{sig} : expected a 1D window tensor of size equal to win_length={win_length}, '
                           f'but got window with size {list(window._data.shape)}')
    w = _pad_window(window, win_length, n_fft, x)
    frames = _frame(x, n_fft, hop_length) * w
    if onesided is None:
        onesided = not is_c
    if onesided and is_c:
        raise RuntimeError(f'{sig} : Cannot have onesided output if window or input is complex')
    norm = 'ortho' if normalized else 'backward'
    spec = _fft.rfft(frames, norm=norm) if onesided else _fft.fft(frames, norm=norm)
    spec = spec.transpose(-1, -2)
    if a.ndim == 1:
        spec = spec.squeeze(0)
    return spec if return_complex else view_as_real(spec)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """Inverse short-time Fourier transform: overlap-add of the inverse DFT of each frame, divided by the
    summed squared window."""
    from . import fft as _fft
    a = input._data
    if a.dtype.kind != 'c':
        raise RuntimeError('istft requires a complex-valued input tensor matching the output from stft with '
                           'return_complex=True.')
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    xp = array_module(a)
    sig = _sig('istft', input, n_fft, hop_length, win_length, window,
               f', center={int(bool(center))}, normalized={int(bool(normalized))}, onesided={onesided}, '
               f'length={length}, return_complex={int(bool(return_complex))})')
    if a.ndim not in (2, 3):
        raise RuntimeError(f'{sig} : expected a tensor with 2 or 3 dimensions of complex, but got {a.ndim}')
    x = input if a.ndim == 3 else input.unsqueeze(0)
    fft_size, n_frames = x._data.shape[-2], x._data.shape[-1]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided:
        if n_fft // 2 + 1 != fft_size:
            raise RuntimeError(f'{sig} : expected the frequency dimension (3rd to the last) of the input tensor '
                               f'to match n_fft / 2 + 1 when onesided=True, but got {fft_size}')
    elif n_fft != fft_size:
        raise RuntimeError(f'{sig} : expected the frequency dimension (3rd to the last) of the input tensor to '
                           f'match n_fft when onesided=False, but got {fft_size}')
    if not (0 < hop_length <= win_length):
        raise RuntimeError(f'{sig} : expected 0 < hop_length <= win_length')
    if not (0 < win_length <= n_fft):
        raise RuntimeError(f'{sig} : expected 0 < win_length <= n_fft')
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win_length):
        raise RuntimeError(f'{sig} : Invalid window shape. window has to be 1D and length of `win_length`')
    if onesided and return_complex:
        raise RuntimeError(f'{sig} : cannot have onesided output if window or input is complex')
    norm = 'ortho' if normalized else 'backward'
    spec = x.transpose(-1, -2)  # (B, F, freq)
    if return_complex:
        frames = _fft.ifft(spec, n=n_fft, norm=norm)
    else:  # like PyTorch, a two-sided input is cut to its one-sided half and inverted as a real signal
        if not onesided:
            spec = spec[..., :n_fft // 2 + 1]
        frames = _fft.irfft(spec, n=n_fft, norm=norm)
    w = _pad_window(window, win_length, n_fft, frames)
    frames = frames * w
    total = n_fft + hop_length * (n_frames - 1)
    y = _overlap_add(frames, hop_length, total)
    w2 = w * w
    env = _overlap_add(w2.unsqueeze(0).expand(n_frames, n_fft), hop_length, total)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = total - n_fft // 2
    else:
        end = total
    stop = min(end, total)
    y = y[..., start:stop]
    env = env[start:stop]
    if bool((xp.abs(env._data) < 1e-11).any()):
        raise RuntimeError(f'{sig} window overlap add min: 1')
    y = y / env
    if end > total:
        from .fft import _fit
        y = _fit(y, [y._data.ndim - 1], [end - start])
    if a.ndim == 2:
        y = y.squeeze(0)
    return y


# --- windows ------------------------------------------------------------------------------------------------
def _window(name, window_length, periodic, dtype, device, requires_grad, fn):
    d = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f'{name} expects floating point dtypes, got: {d}')
    if window_length < 0:
        raise RuntimeError(f'{name} requires non-negative window_length, got window_length={window_length}')
    if window_length == 0:
        w = np.zeros(0)
    elif window_length == 1:
        w = np.ones(1)
    else:
        N = window_length + 1 if periodic else window_length
        w = fn(np.arange(N, dtype=np.float64), N)[:window_length]
    t = make(array_to(w.astype(d.np), to_device(device)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))`` (periodic: N = window_length + 1, last dropped)."""
    return _window('hann_window', window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.5 - 0.5 * np.cos(2 * math.pi * n / (N - 1)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """Hamming window ``alpha - beta cos(2 pi n / (N - 1))``."""
    return _window('hamming_window', window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: alpha - beta * np.cos(2 * math.pi * n / (N - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _window('blackman_window', window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 0.42 - 0.5 * np.cos(2 * math.pi * n / (N - 1)) + 0.08 * np.cos(4 * math.pi * n / (N - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Bartlett (triangular) window ``1 - |2 n / (N - 1) - 1|``."""
    return _window('bartlett_window', window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: 1 - np.abs(2 * n / (N - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """Kaiser window ``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)``."""
    return _window('kaiser_window', window_length, periodic, dtype, device, requires_grad,
                   lambda n, N: np.i0(beta * np.sqrt(np.clip(1 - (2 * n / (N - 1) - 1) ** 2, 0, None))) / np.i0(beta))
