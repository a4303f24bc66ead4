"""npnn.fft against torch.fft: values, dtypes, gradients (through .abs() of complex outputs), gradcheck."""
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


def _input(shape, cplx, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if cplx:
        a = a + 1j * rng.standard_normal(shape)
        return a.astype(np.complex64 if dtype == np.float32 else np.complex128)
    return a.astype(dtype)


def check(fn, shape, device, cplx=False, dtype=np.float64, tol=1e-6):
    """Compare fn(lib, x) values and the gradient of sum(|fn| * g) (or sum(fn * g) for real outputs)."""
    a = _input(shape, cplx, dtype)
    xt = torch.tensor(a, requires_grad=True)
    xn = npnn.tensor(a, device=device, requires_grad=True)
    yt, yn = fn(torch, xt), fn(npnn, xn)
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
    assert xn.grad.dtype == xn.dtype
    np.testing.assert_allclose(_np(xn.grad), _np(xt.grad), rtol=tol, atol=tol)


NORMS = [None, 'ortho', 'forward']
C2C = [
    ('fft', lambda L, x, nm: L.fft.fft(x, norm=nm), (3, 8)),
    ('fft_n_dim0', lambda L, x, nm: L.fft.fft(x, n=5, dim=0, norm=nm), (3, 8)),
    ('ifft_pad', lambda L, x, nm: L.fft.ifft(x, n=11, norm=nm), (3, 8)),
    ('fft2_s', lambda L, x, nm: L.fft.fft2(x, s=(4, 6), norm=nm), (2, 3, 8)),
    ('ifft2', lambda L, x, nm: L.fft.ifft2(x, norm=nm), (2, 3, 8)),
    ('fftn', lambda L, x, nm: L.fft.fftn(x, norm=nm), (2, 3, 5)),
    ('ifftn_dim', lambda L, x, nm: L.fft.ifftn(x, s=(4, -1), dim=(0, 2), norm=nm), (2, 3, 5)),
    ('irfft', lambda L, x, nm: L.fft.irfft(x, norm=nm), (3, 8)),
    ('irfft_odd', lambda L, x, nm: L.fft.irfft(x, n=9, norm=nm), (3, 8)),
    ('irfft_short', lambda L, x, nm: L.fft.irfft(x, n=6, norm=nm), (3, 8)),
    ('irfft2', lambda L, x, nm: L.fft.irfft2(x, norm=nm), (2, 3, 5)),
    ('irfftn_s', lambda L, x, nm: L.fft.irfftn(x, s=(4, 7), norm=nm), (2, 3, 5)),
    ('hfft', lambda L, x, nm: L.fft.hfft(x, n=7, norm=nm), (3, 5)),
    ('hfftn', lambda L, x, nm: L.fft.hfftn(x, norm=nm), (3, 6)),
]
R2C = [
    ('rfft', lambda L, x, nm: L.fft.rfft(x, norm=nm), (3, 8)),
    ('rfft_odd', lambda L, x, nm: L.fft.rfft(x, n=9, norm=nm), (3, 8)),
    ('rfft_dim0', lambda L, x, nm: L.fft.rfft(x, dim=0, norm=nm), (6, 3)),
    ('rfft2', lambda L, x, nm: L.fft.rfft2(x, norm=nm), (2, 3, 6)),
    ('rfftn_s', lambda L, x, nm: L.fft.rfftn(x, s=(3, 4, 5), norm=nm), (2, 3, 5)),
    ('ihfft', lambda L, x, nm: L.fft.ihfft(x, norm=nm), (3, 7)),
    ('ihfft2', lambda L, x, nm: L.fft.ihfft2(x, norm=nm), (3, 6)),
]


@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('cplx', [False, True])
@pytest.mark.parametrize('name,fn,shape', C2C, ids=[c[0] for c in C2C])
def test_complex_input_transforms(name, fn, shape, cplx, norm, device):
    check(lambda L, x: fn(L, x, norm), shape, device, cplx)


@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('name,fn,shape', R2C, ids=[c[0] for c in R2C])
def test_real_input_transforms(name, fn, shape, norm, device):
    check(lambda L, x: fn(L, x, norm), shape, device)


@pytest.mark.parametrize('name', ['fft', 'rfft', 'ifft', 'fft2'])
def test_float32_gives_complex64(name, device):
    check(lambda L, x: getattr(L.fft, name)(x), (4, 8), device, dtype=np.float32, tol=1e-4)


def test_irfft_complex64(device):
    check(lambda L, x: L.fft.irfft(x), (4, 8), device, cplx=True, dtype=np.float32, tol=1e-4)


def test_int_input_promotes(device):
    x = npnn.tensor([1, 2, 3, 4], device=device)
    y = npnn.fft.fft(x)
    assert y.dtype == npnn.complex64
    np.testing.assert_allclose(_np(y), torch.fft.fft(torch.tensor([1, 2, 3, 4])).numpy(), atol=1e-5)


def test_abs_real_imag_angle_of_result(device):
    a = _input((2, 8), False, np.float64)
    xt, xn = torch.tensor(a, requires_grad=True), npnn.tensor(a, device=device, requires_grad=True)
    ft, fn = torch.fft.rfft(xt), npnn.fft.rfft(xn)
    lt = (ft.abs() ** 2).sum() + (torch.real(ft) * 3).sum() + torch.imag(ft).sum()
    ln = (fn.abs() ** 2).sum() + (npnn.real(fn) * 3).sum() + npnn.imag(fn).sum()
    lt.backward()
    ln.backward()
    np.testing.assert_allclose(_np(ln), _np(lt), rtol=1e-6)
    np.testing.assert_allclose(_np(xn.grad), _np(xt.grad), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('fname,kw', [('fftshift', {}), ('ifftshift', {}), ('fftshift', {'dim': 1}),
                                      ('ifftshift', {'dim': (0,)})])
def test_shifts(fname, kw, device):
    check(lambda L, x: getattr(L.fft, fname)(x, **kw), (4, 7), device)


@pytest.mark.parametrize('n,d', [(0, 1.0), (1, 1.0), (5, 1.0), (6, 0.5)])
def test_freqs(n, d, device):
    for name in ('fftfreq', 'rfftfreq'):
        a, b = getattr(npnn.fft, name)(n, d, device=device), getattr(torch.fft, name)(n, d)
        assert a.dtype == npnn.float32 and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), b.numpy(), rtol=1e-6, equal_nan=True)
    a = npnn.fft.fftfreq(4, dtype=npnn.float64, requires_grad=True)
    assert a.dtype == npnn.float64 and a.requires_grad


def test_roundtrips(device):
    x = npnn.tensor(_input((3, 10), False, np.float64), device=device)
    np.testing.assert_allclose(_np(npnn.fft.irfft(npnn.fft.rfft(x), n=10)), _np(x), atol=1e-12)
    np.testing.assert_allclose(_np(npnn.fft.ifftn(npnn.fft.fftn(x, norm='ortho'), norm='ortho').real), _np(x),
                               atol=1e-12)


def _gc_real_out(f):
    return lambda x: npnn.view_as_real(f(x))


@pytest.mark.parametrize('f', [
    _gc_real_out(lambda x: npnn.fft.fft(x, n=5)),
    _gc_real_out(lambda x: npnn.fft.rfft(x, norm='ortho')),
    _gc_real_out(lambda x: npnn.fft.rfft2(x, s=(3, 5))),
    _gc_real_out(lambda x: npnn.fft.ifft2(npnn.view_as_complex(x.reshape(3, 2, 2)))),
    lambda x: npnn.fft.irfft(npnn.view_as_complex(x.reshape(2, 3, 2)), n=5),
    lambda x: npnn.fft.irfftn(npnn.view_as_complex(x.reshape(2, 3, 2)), norm='forward'),
    lambda x: npnn.fft.hfft(npnn.view_as_complex(x.reshape(3, 2, 2)), n=4),
    _gc_real_out(lambda x: npnn.fft.ihfft(x)),
])
def test_gradcheck(f):
    x = npnn.tensor(np.random.default_rng(3).standard_normal((3, 4)), dtype=npnn.float64, requires_grad=True)
    assert gradcheck(f, (x,), eps=1e-6, atol=1e-5)


def test_second_order():
    a = _input((6,), False, np.float64)
    xt, xn = torch.tensor(a, requires_grad=True), npnn.tensor(a, requires_grad=True)
    for L, x in ((torch, xt), (npnn, xn)):
        f = L.fft.rfft(x, n=8)
        y = (L.real(f) ** 2 + L.imag(f) ** 3).sum()
        (g,) = (torch.autograd.grad if L is torch else npnn.autograd.grad)(y, x, create_graph=True)
        (g ** 2).sum().backward()
    np.testing.assert_allclose(_np(xn.grad), _np(xt.grad), rtol=1e-6)


def test_errors():
    x = npnn.randn(4, 8)
    with pytest.raises(RuntimeError, match='Invalid number of data points'):
        npnn.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match='expects a real input tensor'):
        npnn.fft.rfft(npnn.fft.fft(x))
    with pytest.raises(ValueError, match='Invalid normalization mode'):
        npnn.fft.fft(x, norm='bad')
    with pytest.raises(IndexError, match='Dimension out of range'):
        npnn.fft.fft(x, dim=2)
    with pytest.raises(RuntimeError, match='same length'):
        npnn.fft.fftn(x, s=(3, 3), dim=(0,))


def test_out_argument():
    x = npnn.randn(8)
    o = npnn.empty(5, dtype=npnn.complex64)
    assert npnn.fft.rfft(x, out=o) is o
    np.testing.assert_allclose(o.numpy(), npnn.fft.rfft(x).numpy())
    with pytest.raises(RuntimeError, match='dtype'):
        npnn.fft.rfft(x, out=npnn.empty(5))
