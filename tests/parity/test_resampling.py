"""Padding, interpolation, grid sampling, pixel/channel shuffles and fold/unfold: parity with PyTorch."""
import numpy as np
import pytest

from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()


def F(L):
    return L.nn.functional


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
def test_pad_modes(device, mode):
    compare(lambda L, x: F(L).pad(x, (1, 2, 3, 0), mode=mode), randn(2, 3, 5, 6, seed=1), device=device)
    compare(lambda L, x: F(L).pad(x, (2, 1), mode=mode), randn(2, 3, 5, seed=3), device=device)
    compare(lambda L, x: F(L).pad(x, (1, 2, 1, 0, 2, 1), mode=mode), randn(1, 2, 4, 3, 5, seed=3), device=device)


def test_pad_constant_value_and_negative(device):
    x = randn(2, 3, 5, 6, seed=1)
    compare(lambda L, x: F(L).pad(x, (1, -2, -1, 2), value=1.5), x, device=device)
    compare(lambda L, x: F(L).pad(x, (1, 1)), randn(4, seed=2), device=device)
    compare(lambda L, x: F(L).pad(x, (5, 5, 6, 6), mode='replicate'), x, device=device)
    compare(lambda L, x: F(L).pad(x, (6, 6, 5, 5), mode='circular'), x, device=device)


INTERP = [('nearest', {}), ('nearest-exact', {}), ('bilinear', dict(align_corners=False)),
          ('bilinear', dict(align_corners=True)), ('bicubic', dict(align_corners=False)),
          ('bicubic', dict(align_corners=True)), ('area', {})]


@pytest.mark.parametrize('mode,kw', INTERP)
def test_interpolate_2d(device, mode, kw):
    x = randn(2, 3, 5, 6, seed=1)
    for size in [(10, 12), (3, 4), (7, 13)]:
        compare(lambda L, x: F(L).interpolate(x, size=size, mode=mode, **kw), x, device=device)
    for sf in [2, 1.7, (0.6, 2.5)]:
        compare(lambda L, x: F(L).interpolate(x, scale_factor=sf, mode=mode, **kw), x, device=device)
        compare(lambda L, x: F(L).interpolate(x, scale_factor=sf, mode=mode, recompute_scale_factor=True, **kw),
                x, device=device)


def test_interpolate_1d_3d(device):
    x1 = randn(2, 3, 7, seed=3)
    for mode, kw in [('linear', {}), ('linear', dict(align_corners=True)), ('nearest', {}), ('area', {}),
                     ('nearest-exact', {})]:
        compare(lambda L, x: F(L).interpolate(x, scale_factor=2.3, mode=mode, **kw), x1, device=device)
        compare(lambda L, x: F(L).interpolate(x, size=4, mode=mode, **kw), x1, device=device)
    compare(lambda L, x: F(L).interpolate(x, scale_factor=3, mode='nearest'), x1, device=device)
    x3 = randn(1, 2, 3, 4, 5, seed=3)
    for mode, kw in [('trilinear', dict(align_corners=True)), ('trilinear', {}), ('nearest', {}), ('area', {})]:
        compare(lambda L, x: F(L).interpolate(x, size=(4, 5, 6), mode=mode, **kw), x3, device=device)
        compare(lambda L, x: F(L).interpolate(x, scale_factor=2, mode=mode, **kw), x3, device=device)


def test_upsample_modules(device):
    import npnn
    x = randn(2, 3, 4, 5, seed=1)
    for name, args, kw in [('Upsample', (), dict(scale_factor=2)), ('Upsample', ((3, 7),), dict(mode='bilinear')),
                           ('UpsamplingNearest2d', (), dict(scale_factor=3)),
                           ('UpsamplingBilinear2d', ((8, 9),), {}),
                           ('Upsample', (), dict(scale_factor=(2, 1.5), mode='bicubic', align_corners=True))]:
        nm, tm = getattr(npnn.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(nm) == repr(tm)
        np.testing.assert_allclose(nm(npnn.tensor(x, device=device)).cpu().numpy(), tm(torch.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [True, False])
def test_grid_sample(device, mode, padding_mode, align_corners):
    x = randn(2, 3, 5, 6, seed=1)
    g = randn(2, 4, 5, 2, seed=5, low=-1.3, high=1.3)
    compare(lambda L, x, g: F(L).grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                             align_corners=align_corners),
            x, g, device=device, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize('align_corners', [True, False])
def test_affine_grid(device, align_corners):
    compare(lambda L, t: F(L).affine_grid(t, (2, 3, 4, 5), align_corners=align_corners), randn(2, 2, 3, seed=7),
            device=device)
    compare(lambda L, t: F(L).affine_grid(t, (2, 3, 4, 5, 3), align_corners=align_corners),
            randn(2, 3, 4, seed=8), device=device)


def test_affine_grid_then_sample(device):
    def fn(L, x, t):
        g = F(L).affine_grid(t, (2, 3, 7, 6), align_corners=False)
        return F(L).grid_sample(x, g, align_corners=False)
    compare(fn, randn(2, 3, 5, 6, seed=1), randn(2, 2, 3, seed=2) * 0.5, device=device, rtol=1e-3, atol=1e-4)


def test_shuffles(device):
    import npnn
    compare(lambda L, x: F(L).pixel_shuffle(x, 2), randn(2, 8, 3, 4, seed=1), device=device)
    compare(lambda L, x: F(L).pixel_shuffle(x, 3), randn(9, 2, 3, seed=1), device=device)
    compare(lambda L, x: F(L).pixel_unshuffle(x, 2), randn(2, 2, 4, 6, seed=1), device=device)
    compare(lambda L, x: F(L).channel_shuffle(x, 3), randn(2, 6, 4, 6, seed=1), device=device)
    for name, a in [('PixelShuffle', 2), ('PixelUnshuffle', 3), ('ChannelShuffle', 2)]:
        assert repr(getattr(npnn.nn, name)(a)) == repr(getattr(torch.nn, name)(a))
    x = randn(2, 8, 3, 4, seed=1)
    y = npnn.nn.PixelUnshuffle(2)(npnn.nn.PixelShuffle(2)(npnn.tensor(x, device=device)))
    np.testing.assert_array_equal(y.cpu().numpy(), x)


def test_fold_unfold(device):
    import npnn
    x = randn(2, 3, 5, 6, seed=1)
    compare(lambda L, x: F(L).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), x, device=device)
    compare(lambda L, x: F(L).unfold(x, 2), randn(3, 4, 4, seed=3), device=device)
    compare(lambda L, x: F(L).fold(x, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
            randn(2, 18, 12, seed=2), device=device)
    compare(lambda L, x: F(L).fold(x, (4, 5), 2), randn(12, 12, seed=2), device=device)
    for name, a, kw in [('Fold', ((4, 5), 2), {}), ('Unfold', (2,), dict(stride=2, padding=1))]:
        assert repr(getattr(npnn.nn, name)(*a, **kw)) == repr(getattr(torch.nn, name)(*a, **kw))


PAD_MODULES = [('ZeroPad1d', (2,)), ('ZeroPad2d', (2,)), ('ZeroPad3d', ((1, 2, 0, 1, 1, 0),)),
               ('ConstantPad1d', ((1, 2), 3.5)), ('ConstantPad2d', (1, -1.0)), ('ConstantPad3d', (1, 0.0)),
               ('ReflectionPad1d', (2,)), ('ReflectionPad2d', ((1, 0, 2, 1),)), ('ReflectionPad3d', (1,)),
               ('ReplicationPad1d', (3,)), ('ReplicationPad2d', (1,)), ('ReplicationPad3d', (1,)),
               ('CircularPad1d', (2,)), ('CircularPad2d', ((1, 2, 0, 1),)), ('CircularPad3d', (1,))]


@pytest.mark.parametrize('name,args', PAD_MODULES)
def test_padding_modules(device, name, args):
    import npnn
    nm, tm = getattr(npnn.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(nm) == repr(tm)
    d = int(name[-2])
    x = randn(*((2, 3) + (4, 5, 6)[:d]), seed=1)
    compare(lambda L, x: getattr(L.nn, name)(*args)(x), x, device=device)


@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
def test_grid_sample_3d(device, mode, padding_mode):
    x = randn(2, 2, 3, 4, 5, seed=1)
    g = randn(2, 2, 3, 4, 3, seed=5, low=-1.3, high=1.3)
    for ac in (True, False):
        compare(lambda L, x, g: F(L).grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=ac),
                x, g, device=device, rtol=1e-3, atol=1e-4)
