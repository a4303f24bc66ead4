"""stft/istft, windows and complex views against PyTorch: values, dtypes, gradients, gradcheck, errors."""
import warnings

import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck
from tests.helpers import torch_or_skip

torch = torch_or_skip()


def _np(t):
    t = t.detach()
    if hasattr(t, 'resolve_conj'):
        t = t.resolve_conj().resolve_neg()
    return np.asarray(t.cpu().numpy())


def check(fn, arrays, device, tol=1e-6):
    """fn(lib, *tensors) in both libraries: values, then gradients of sum(|out| * g) for floating inputs."""
    tin = [torch.tensor(a, requires_grad=a.dtype.kind in 'fc') for a in arrays]
    nin = [npnn.tensor(a, device=device, requires_grad=a.dtype.kind in 'fc') for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yt, yn = fn(torch, *tin), fn(npnn, *nin)
    assert str(yn.dtype).split('.')[-1] == str(yt.dtype).split('.')[-1]
    assert tuple(yn.shape) == tuple(yt.shape)
    np.testing.assert_allclose(_np(yn), _np(yt), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    gt, gn = torch.tensor(g), npnn.tensor(g, device=device)
    if yt.is_complex():
        (yt.abs() * gt).sum().backward()
        (yn.abs() * gn).sum().backward()
    else:
        (yt * gt).sum().backward()
        (yn * gn).sum().backward()
    for a, b in zip(nin, tin):
        if b.grad is not None:
            np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=tol, atol=tol)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 40))
W = RNG.uniform(0.5, 1.0, 10)
HANN16 = torch.hann_window(16, dtype=torch.float64)
SPEC = torch.stft(torch.tensor(X), 16, 4, window=HANN16, return_complex=True).numpy()
SPEC2 = torch.stft(torch.tensor(X), 8, 2, window=torch.hann_window(8, dtype=torch.float64), return_complex=True,
                   onesided=False).numpy()


@pytest.mark.parametrize('mode', ['reflect', 'constant', 'replicate', 'circular'])
def test_stft_pad_modes_window_grad(mode, device):
    check(lambda L, x, w: L.stft(x, 16, 4, 10, w, pad_mode=mode, return_complex=True), [X, W], device)


@pytest.mark.parametrize('kw', [dict(n_fft=16, hop_length=5, center=False, normalized=True),
                                dict(n_fft=8, onesided=False), dict(n_fft=8), dict(n_fft=7, hop_length=3),
                                dict(n_fft=8, return_complex=False)], ids=str)
def test_stft_options(kw, device):
    kw = dict(kw)
    kw.setdefault('return_complex', True)
    check(lambda L, x: L.stft(x, **kw), [X[0]], device)
    check(lambda L, x: L.stft(x, **kw), [X], device)


def test_stft_hann_and_complex_input(device):
    check(lambda L, x: L.stft(x, 8, window=L.hann_window(8, dtype=L.float64), return_complex=True), [X], device)
    xc = X + 1j * RNG.standard_normal(X.shape)
    check(lambda L, x: L.stft(x, 8, return_complex=True), [xc], device)


def test_stft_float32(device):
    check(lambda L, x: L.stft(x, 8, window=L.hann_window(8), return_complex=True), [X.astype(np.float32)],
          device, tol=1e-4)


@pytest.mark.parametrize('kw', [dict(), dict(length=45), dict(center=True, length=30), dict(normalized=True),
                                dict(win_length=10)], ids=str)
def test_istft(kw, device):
    wl = kw.get('win_length', 16)
    check(lambda L, s, w: L.istft(s, 16, 4, window=w, **kw), [SPEC, np.hamming(wl) + 0.1], device)


def test_istft_unbatched_and_nocenter(device):
    check(lambda L, s: L.istft(s[0], 16, 4, window=L.hamming_window(16, dtype=L.float64), center=False),
          [SPEC], device)


def test_istft_twosided(device):
    hann8 = lambda L: L.hann_window(8, dtype=L.float64)  # noqa: E731
    check(lambda L, s: L.istft(s, 8, 2, window=hann8(L)), [SPEC2], device)
    check(lambda L, s: L.istft(s, 8, 2, window=hann8(L), return_complex=True), [SPEC2], device)


def test_stft_istft_roundtrip(device):
    x = npnn.tensor(X, device=device)
    w = npnn.hann_window(16, dtype=npnn.float64, device=device)
    s = npnn.stft(x, 16, 4, window=w, return_complex=True)
    np.testing.assert_allclose(_np(npnn.istft(s, 16, 4, window=w, length=40)), X, atol=1e-10)


WINDOWS = ['hann_window', 'hamming_window', 'blackman_window', 'bartlett_window', 'kaiser_window']


@pytest.mark.parametrize('name', WINDOWS)
def test_windows(name, device):
    for n in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            a, b = getattr(npnn, name)(n, periodic, device=device), getattr(torch, name)(n, periodic)
            assert a.dtype == npnn.float32 and tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(_np(a), b.numpy(), rtol=1e-5, atol=1e-6)
    a = getattr(npnn, name)(6, dtype=npnn.float64, requires_grad=True)
    assert a.dtype == npnn.float64 and a.requires_grad and a.is_leaf
    with pytest.raises(RuntimeError, match='expects floating point dtypes'):
        getattr(npnn, name)(4, dtype=npnn.int64)


def test_window_parameters():
    np.testing.assert_allclose(npnn.hamming_window(7, False, alpha=0.6, beta=0.3).numpy(),
                               torch.hamming_window(7, False, alpha=0.6, beta=0.3).numpy(), rtol=1e-6)
    np.testing.assert_allclose(npnn.kaiser_window(9, True, 5.0).numpy(), torch.kaiser_window(9, True, 5.0).numpy(),
                               rtol=1e-5)


def test_complex_views(device):
    xr = RNG.standard_normal((3, 4, 2))
    check(lambda L, x: L.view_as_complex(x), [xr], device)
    check(lambda L, x: L.view_as_real(L.view_as_complex(x) * 2), [xr], device)
    check(lambda L, x: L.real(L.view_as_complex(x)) * 3 + L.imag(L.view_as_complex(x)), [xr], device)
    check(lambda L, x: L.imag(L.fft.fft(x)) + L.real(L.fft.fft(x)), [xr], device)
    check(lambda L, x: L.angle(L.view_as_complex(x)), [xr], device)
    check(lambda L, x: L.angle(L.fft.rfft(x)) + L.imag(L.conj(L.fft.rfft(x))), [xr], device)
    check(lambda L, x: L.view_as_real(L.conj_physical(L.view_as_complex(x))), [xr], device)
    check(lambda L, x: L.angle(x) + L.conj(x), [xr], device)


def test_complex_view_errors():
    with pytest.raises(RuntimeError, match='last dimension of size 2'):
        npnn.view_as_complex(npnn.randn(3))
    with pytest.raises(RuntimeError, match='only supported for complex'):
        npnn.view_as_real(npnn.randn(3))
    with pytest.raises(RuntimeError, match='non-complex'):
        npnn.imag(npnn.randn(3))
    x = npnn.randn(3)
    assert npnn.real(x) is x


@pytest.mark.parametrize('f', [
    lambda x, w: npnn.view_as_real(npnn.stft(x, 8, 2, window=w, return_complex=True)),
    lambda x, w: npnn.view_as_real(npnn.stft(x, 6, 4, 5, window=w[:5], center=False, normalized=True,
                                             return_complex=True)),
    lambda x, w: npnn.istft(npnn.stft(x, 8, 2, window=w, return_complex=True) * 1.5, 8, 2, window=w + 0.2),
])
def test_gradcheck(f):
    rng = np.random.default_rng(5)
    x = npnn.tensor(rng.standard_normal((1, 20)), dtype=npnn.float64, requires_grad=True)
    w = npnn.tensor(rng.uniform(0.5, 1, 8), dtype=npnn.float64, requires_grad=True)
    assert gradcheck(f, (x, w), eps=1e-6, atol=1e-5)


def test_errors():
    x = npnn.randn(10)
    with pytest.raises(RuntimeError, match='requires the return_complex parameter'):
        npnn.stft(x, 4)
    with pytest.raises(RuntimeError, match='expected 0 < n_fft'):
        npnn.stft(x, 16, center=False, return_complex=True)
    with pytest.raises(RuntimeError, match='hop_length > 0'):
        npnn.stft(x, 4, hop_length=0, return_complex=True)
    with pytest.raises(RuntimeError, match='win_length'):
        npnn.stft(x, 4, window=npnn.ones(3), return_complex=True)
    with pytest.raises(RuntimeError, match='1D or 2D'):
        npnn.stft(npnn.randn(2, 2, 10), 4, return_complex=True)
    s = npnn.stft(x, 4, return_complex=True)
    with pytest.raises(RuntimeError, match='window overlap add min'):
        npnn.istft(s, 4, window=npnn.zeros(4))
    with pytest.raises(RuntimeError, match='complex-valued input'):
        npnn.istft(npnn.randn(3, 5), 4)
