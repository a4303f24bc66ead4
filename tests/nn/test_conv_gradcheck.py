"""float64 gradcheck of convolution, pooling, padding and resampling (tiny sizes)."""
import numpy as np
import pytest

import npnn
import npnn.nn.functional as F
from npnn.autograd import gradcheck, gradgradcheck


def t(*shape, seed=0, grad=True, distinct=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if distinct:  # well-separated values keep max/argmax away from ties under finite differences
        a = rng.permutation(np.prod(shape)).reshape(shape) * 0.1 + rng.uniform(0, 0.01, size=shape)
    return npnn.tensor(a, dtype=npnn.float64, requires_grad=grad)


def check(fn, *inputs):
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize('kw', [dict(), dict(stride=2, padding=1), dict(dilation=2, padding='same'),
                                dict(groups=2, padding=(1, 0))])
def test_conv2d(kw):
    g = kw.get('groups', 1)
    check(lambda x, w, b: F.conv2d(x, w, b, **kw), t(2, 2, 5, 4, seed=1), t(2, 2 // g, 3, 2, seed=2), t(2, seed=3))


def test_conv1d_3d():
    check(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), t(2, 2, 6, seed=1), t(3, 2, 3, seed=2),
          t(3, seed=3))
    check(lambda x, w: F.conv3d(x, w, padding=1), t(1, 2, 3, 3, 2, seed=1), t(2, 2, 2, 2, 2, seed=2))


def test_conv_transpose():
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2),
          t(1, 2, 3, 2, seed=1), t(2, 1, 3, 2, seed=2), t(2, seed=3))
    check(lambda x, w: F.conv_transpose1d(x, w, stride=3, dilation=2), t(2, 2, 3, seed=1), t(2, 2, 2, seed=2))
    check(lambda x, w: F.conv_transpose3d(x, w, stride=(1, 2, 1)), t(1, 1, 2, 2, 2, seed=1),
          t(1, 2, 2, 1, 2, seed=2))


def test_pooling():
    x = t(2, 2, 6, 5, distinct=True, seed=4)
    check(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), x)
    check(lambda x: F.max_pool2d(x, 2), t(1, 2, 4, 6, distinct=True, seed=5))
    check(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), x)
    check(lambda x: F.adaptive_avg_pool2d(x, (4, 3)), x)
    check(lambda x: F.adaptive_max_pool2d(x, (4, 3)), x)
    check(lambda x: F.lp_pool2d(x, 2, 2), t(1, 2, 4, 4, seed=6))
    u = npnn.tensor(np.random.default_rng(0).uniform(size=(2, 2, 2)))
    check(lambda x: F.fractional_max_pool2d(x, 2, output_size=(3, 3), _random_samples=u), x)
    check(lambda x: F.max_pool1d(x, 2, 1), t(1, 2, 5, distinct=True, seed=7))
    check(lambda x: F.avg_pool3d(x, 2, 1, 1), t(1, 1, 3, 3, 2, seed=8))

    def unpool(x):
        o, i = F.max_pool2d(x, 2, return_indices=True)
        return F.max_unpool2d(o, i, 2)
    check(unpool, t(1, 2, 4, 4, distinct=True, seed=9))


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
def test_pad(mode):
    check(lambda x: F.pad(x, (1, 2, 2, 1), mode=mode), t(1, 2, 3, 4, seed=1))


@pytest.mark.parametrize('mode,kw', [('nearest', {}), ('bilinear', dict(align_corners=False)),
                                     ('bicubic', dict(align_corners=True)), ('area', {})])
def test_interpolate(mode, kw):
    x = t(1, 2, 3, 4, seed=1)
    check(lambda x: F.interpolate(x, size=(5, 3), mode=mode, **kw), x)
    check(lambda x: F.interpolate(x, scale_factor=2, mode=mode, **kw), x)


@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
def test_grid_sample(padding_mode):
    x = t(1, 2, 3, 4, seed=1)
    # grid points kept away from pixel boundaries where bilinear weights have kinks
    g = npnn.tensor(np.random.default_rng(2).uniform(-0.9, 0.9, size=(1, 2, 3, 2)) * 1.1, requires_grad=True)
    check(lambda x, g: F.grid_sample(x, g, padding_mode=padding_mode, align_corners=False), x, g)


def test_affine_grid_and_fold():
    check(lambda th: F.affine_grid(th, (1, 1, 3, 4), align_corners=False), t(1, 2, 3, seed=1))
    check(lambda x: F.unfold(x, 2, padding=1, stride=2), t(1, 2, 3, 4, seed=2))
    check(lambda x: F.fold(x, (3, 4), 2, padding=1, stride=2), t(1, 8, 6, seed=3))
    check(lambda x: F.pixel_shuffle(x, 2), t(1, 4, 2, 3, seed=4))


@pytest.mark.parametrize('kw', [dict(), dict(stride=2, padding=1, groups=2), dict(dilation=2, padding='same')])
def test_conv_double_backward(kw):
    g = kw.get('groups', 1)
    x, w, b = t(1, 2, 5, 4, seed=1), t(2, 2 // g, 3, 2, seed=2), t(2, seed=3)
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_conv_transpose_double_backward():
    x, w = t(1, 2, 3, 2, seed=1), t(2, 1, 3, 2, seed=2)
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
                         (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(lambda x, w: F.conv_transpose1d(x, w, dilation=2), (t(1, 2, 4, seed=3), t(2, 3, 2, seed=4)),
                         eps=1e-6, atol=1e-5, rtol=1e-3)


def test_gradient_penalty_matches_torch():
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(0)
    xa, wa = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    res = []
    for L in (npnn, torch):
        x = L.tensor(xa, requires_grad=True)
        w = L.tensor(wa, requires_grad=True)
        y = L.nn.functional.conv2d(x, w, stride=2, padding=1).pow(2).sum()
        gx, = L.autograd.grad(y, x, create_graph=True)
        gx.pow(2).sum().backward()
        res.append((gx.detach().numpy(), w.grad.numpy(), x.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_grid_sample_3d():
    x = t(1, 2, 2, 3, 3, seed=1)
    g = npnn.tensor(np.random.default_rng(3).uniform(-0.9, 0.9, size=(1, 2, 2, 2, 3)), requires_grad=True)
    check(lambda x, g: F.grid_sample(x, g, padding_mode='border', align_corners=True), x, g)
