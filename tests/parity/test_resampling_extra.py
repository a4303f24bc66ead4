"""Bicubic grid_sample and antialiased interpolate: values and gradients against PyTorch, gradcheck, errors."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck
from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()


def F(L):
    return L.nn.functional


# PyTorch's CPU antialias kernel returns wrong values when the output width is 1, so every case here keeps it > 1.
AA_SIZES = [dict(size=(3, 4)), dict(size=(2, 11)), dict(size=(15, 20)), dict(size=(4, 9)),
            dict(scale_factor=0.37), dict(scale_factor=(0.5, 2.3)), dict(scale_factor=3),
            dict(scale_factor=(0.45, 0.3), recompute_scale_factor=True),
            # height unchanged (7 -> 7) under a 1.1 scale factor: PyTorch's forward leaves that dim alone while
            # its backward still applies the 1/1.1-scale weights there
            dict(scale_factor=(1.1, 0.8))]


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('kw', AA_SIZES, ids=lambda kw: '-'.join(f'{k}={v}' for k, v in kw.items()))
def test_interpolate_antialias(device, mode, align_corners, kw):
    x = randn(2, 3, 7, 9, seed=1)
    compare(lambda L, x: F(L).interpolate(x, mode=mode, align_corners=align_corners, antialias=True, **kw), x,
            device=device, rtol=1e-4, atol=2e-5)


def _torch_has_lanczos():
    try:
        torch.nn.functional.interpolate(torch.ones(1, 1, 4, 4), size=(2, 2), mode='lanczos', antialias=True)
    except (NotImplementedError, ValueError, RuntimeError):
        return False
    return True


needs_lanczos = pytest.mark.skipif(not _torch_has_lanczos(), reason='this PyTorch has no lanczos mode')


@needs_lanczos
@pytest.mark.parametrize('kw', AA_SIZES, ids=lambda kw: '-'.join(f'{k}={v}' for k, v in kw.items()))
def test_interpolate_lanczos(device, kw):
    x = randn(2, 3, 7, 9, seed=1)
    compare(lambda L, x: F(L).interpolate(x, mode='lanczos', antialias=True, **kw), x, device=device,
            rtol=1e-4, atol=2e-5)


@needs_lanczos
@pytest.mark.parametrize('kw,shape,exc,msg', [
    (dict(), (1, 1, 4, 4), ValueError, 'Lanczos mode requires antialias=True'),
    (dict(align_corners=True, antialias=True), (1, 1, 4, 4), ValueError, 'does not support align_corners=True'),
    (dict(antialias=True), (1, 1, 4), ValueError, 'Anti-alias option is restricted'),
    (dict(), (1, 1, 4, 4, 4), NotImplementedError, r'\(got 5D\).*\(got lanczos\)')])
def test_interpolate_lanczos_errors(kw, shape, exc, msg):
    for L in (npnn, torch):
        with pytest.raises(exc, match=msg):
            F(L).interpolate(L.ones(*shape), scale_factor=0.5, mode='lanczos', **kw)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_interpolate_antialias_float64_large_ratio(device, mode):
    x = randn(1, 2, 40, 33, seed=2, dtype=np.float64)
    for kw in [dict(size=(5, 3)), dict(scale_factor=(0.13, 0.21)), dict(size=(41, 6), align_corners=True)]:
        compare(lambda L, x: F(L).interpolate(x, mode=mode, antialias=True, **kw), x, device=device,
                rtol=1e-10, atol=1e-12)


def test_interpolate_antialias_differs_from_plain(device):
    # a checkerboard averages out only when the filter widens with the downsampling ratio
    x = np.indices((1, 1, 16, 16)).sum(axis=0) % 2 * 2.0 - 1.0
    t = npnn.tensor(x.astype(np.float32), device=device)
    for mode in ('bilinear', 'bicubic'):
        aa = F(npnn).interpolate(t, size=(5, 5), mode=mode, antialias=True).cpu().numpy()
        plain = F(npnn).interpolate(t, size=(5, 5), mode=mode).cpu().numpy()
        assert np.abs(aa).max() < 0.01
        assert np.abs(plain).max() > 0.5


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('align_corners', [False, True])
def test_interpolate_antialias_gradcheck(mode, align_corners):
    x = npnn.tensor(randn(1, 2, 6, 5, seed=3, dtype=np.float64), requires_grad=True)
    for kw in [dict(size=(3, 2)), dict(size=(4, 8)), dict(scale_factor=(0.6, 1.7))]:
        assert gradcheck(lambda x: F(npnn).interpolate(x, mode=mode, align_corners=align_corners,
                                                         antialias=True, **kw), (x,))


def test_interpolate_lanczos_gradcheck():
    x = npnn.tensor(randn(1, 2, 9, 5, seed=3, dtype=np.float64), requires_grad=True)
    for kw in [dict(size=(3, 2)), dict(size=(4, 8)), dict(scale_factor=(0.6, 1.7))]:
        assert gradcheck(lambda x: F(npnn).interpolate(x, mode='lanczos', antialias=True, **kw), (x,))


@pytest.mark.parametrize('mode,shape', [('nearest', (1, 1, 4, 4)), ('nearest-exact', (1, 1, 4, 4)),
                                        ('area', (1, 1, 4, 4)), ('bilinear', (1, 1, 4)),
                                        ('bicubic', (1, 1, 2, 4, 4)), ('trilinear', (1, 1, 2, 4, 4)),
                                        ('linear', (1, 1, 4))])
def test_interpolate_antialias_errors(mode, shape):
    x = np.ones(shape, dtype=np.float32)
    for L in (npnn, torch):
        with pytest.raises(ValueError, match='Anti-alias option is restricted to bilinear'):
            F(L).interpolate(L.tensor(x), scale_factor=0.5, mode=mode, antialias=True)


@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [True, False])
def test_grid_sample_bicubic(device, padding_mode, align_corners):
    x = randn(2, 3, 5, 6, seed=1)
    # the wide range puts taps several pixels outside, so reflection folds more than once
    g = randn(2, 4, 5, 2, seed=5, low=-2.5, high=2.5)
    compare(lambda L, x, g: F(L).grid_sample(x, g, mode='bicubic', padding_mode=padding_mode,
                                             align_corners=align_corners),
            x, g, device=device, rtol=1e-4, atol=5e-5)


@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [True, False])
def test_grid_sample_bicubic_thin_inputs(device, padding_mode, align_corners):
    for shape in [(1, 2, 1, 4), (1, 2, 3, 1), (1, 1, 2, 2)]:
        x = randn(*shape, seed=2, dtype=np.float64)
        g = randn(1, 3, 4, 2, seed=6, low=-1.5, high=1.5, dtype=np.float64)
        compare(lambda L, x, g: F(L).grid_sample(x, g, mode='bicubic', padding_mode=padding_mode,
                                                 align_corners=align_corners),
                x, g, device=device, rtol=1e-9, atol=1e-10)


def test_grid_sample_bicubic_through_affine_grid(device):
    def fn(L, x, t):
        g = F(L).affine_grid(t, (2, 3, 7, 6), align_corners=False)
        return F(L).grid_sample(x, g, mode='bicubic', padding_mode='reflection', align_corners=False)
    compare(fn, randn(2, 3, 5, 6, seed=1), randn(2, 2, 3, seed=2) * 0.7, device=device, rtol=1e-4, atol=5e-5)


def test_grid_sample_bicubic_reproduces_pixels(device):
    # grid points on pixel centres hit one tap with weight 1: the output is the input, whatever the padding
    x = randn(1, 2, 4, 5, seed=4)
    g = F(npnn).affine_grid(npnn.tensor(np.array([[[1.0, 0, 0], [0, 1.0, 0]]], dtype=np.float32)), (1, 2, 4, 5),
                            align_corners=True)
    y = F(npnn).grid_sample(npnn.tensor(x, device=device), g.to(device), mode='bicubic', align_corners=True)
    np.testing.assert_allclose(y.cpu().numpy(), x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [True, False])
def test_grid_sample_bicubic_gradcheck(padding_mode, align_corners):
    x = npnn.tensor(randn(1, 2, 4, 5, seed=3, dtype=np.float64), requires_grad=True)
    g = npnn.tensor(randn(1, 3, 2, 2, seed=7, low=-1.4, high=1.4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda x, g: F(npnn).grid_sample(x, g, mode='bicubic', padding_mode=padding_mode,
                                                      align_corners=align_corners), (x, g))


def test_grid_sample_bicubic_5d_error():
    x = np.ones((1, 1, 2, 3, 4), dtype=np.float32)
    g = np.zeros((1, 2, 2, 2, 3), dtype=np.float32)
    for L in (npnn, torch):
        with pytest.raises(RuntimeError, match='bicubic interpolation only supports 4D input'):
            F(L).grid_sample(L.tensor(x), L.tensor(g), mode='bicubic', align_corners=False)
