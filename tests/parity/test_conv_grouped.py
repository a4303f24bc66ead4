"""Grouped and depthwise convolution parity with PyTorch: values and gradients (input, weight, bias) for
depthwise with channel multiplier 1 and 2, strides, dilations, 1-D/2-D/3-D, padding modes, both depthwise
formulations, double backward, and float64 gradcheck."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck
from npnn.backend import depthwise
from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()

TOL = dict(rtol=1e-4, atol=1e-4)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# (spatial, kernel, kwargs) per dimensionality; every case runs with multiplier 1 and 2
DEPTHWISE = [
    ((9, 8), (3, 3), dict(padding=1)),
    ((9, 8), (3, 3), dict(padding=1, stride=2)),
    ((10, 9), (3, 3), dict(padding=2, dilation=2)),
    ((11, 10), (3, 2), dict(padding=(2, 1), stride=(2, 3), dilation=(2, 1))),
    ((8, 7), (5, 5), dict(padding='same')),
    ((6, 7), (4, 3), dict(padding='same', dilation=2)),   # even kernel: asymmetric padding
    ((7, 6), (3, 3), dict(padding='valid', stride=3)),
    ((3, 4), (3, 3), dict(padding=3)),                     # padding wider than the kernel reach
    ((2, 2), (5, 5), dict(padding=2)),                     # kernel larger than the input
    ((13,), (3,), dict(padding=1)),
    ((13,), (5,), dict(stride=2, dilation=2, padding=3)),
    ((5, 6, 4), (3, 3, 3), dict(padding=1)),
    ((5, 6, 7), (3, 2, 3), dict(stride=(1, 2, 2), dilation=(2, 1, 1), padding=(2, 0, 1))),
]


def _fn(d):
    return 'conv%dd' % d


@pytest.mark.parametrize('spatial,kernel,kw', DEPTHWISE)
@pytest.mark.parametrize('mult', [1, 2])
@pytest.mark.parametrize('bias', [True, False])
def test_depthwise(device, spatial, kernel, kw, mult, bias):
    c = 3
    name = _fn(len(spatial))
    x = randn(2, c, *spatial, seed=1)
    w = randn(c * mult, 1, *kernel, seed=2)
    if bias:
        compare(lambda L, x, w, b: getattr(L.nn.functional, name)(x, w, b, groups=c, **kw), x, w,
                randn(c * mult, seed=3), device=device, **TOL)
    else:
        compare(lambda L, x, w: getattr(L.nn.functional, name)(x, w, groups=c, **kw), x, w, device=device, **TOL)


@pytest.mark.parametrize('spatial,kernel,kw', DEPTHWISE[::2])
@pytest.mark.parametrize('mult', [1, 2])
def test_depthwise_per_offset_formulation(device, monkeypatch, spatial, kernel, kw, mult):
    """The formulation CuPy uses (one multiply-add per kernel offset), forced on NumPy too."""
    monkeypatch.setattr(depthwise, '_TAPS_ON_NUMPY', True)
    c = 4
    name = _fn(len(spatial))
    compare(lambda L, x, w, b: getattr(L.nn.functional, name)(x, w, b, groups=c, **kw), randn(2, c, *spatial, seed=1),
            randn(c * mult, 1, *kernel, seed=2), randn(c * mult, seed=3), device=device, **TOL)


@pytest.mark.parametrize('taps', [False, True])
@pytest.mark.parametrize('kw', [dict(padding=1), dict(padding=1, stride=2), dict(padding=2, dilation=2)])
def test_depthwise_blocked_and_threaded(device, monkeypatch, taps, kw):
    """Tiny blocks (split over samples and channels) and the thread pool even on small arrays."""
    monkeypatch.setattr(depthwise, '_TAPS_ON_NUMPY', taps)
    monkeypatch.setattr(depthwise, '_BLOCK', 40)
    monkeypatch.setattr(depthwise, '_COLS_BLOCK', 300)
    monkeypatch.setattr(depthwise, '_PARALLEL_MIN', 0)
    compare(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, groups=6, **kw), randn(5, 6, 7, 9, seed=1),
            randn(12, 1, 3, 3, seed=2), randn(12, seed=3), device=device, **TOL)


def test_depthwise_larger_float32(device):
    """A MobileNet-like layer at float32 (blocks of several samples, threads on)."""
    compare(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1, groups=32), randn(8, 32, 20, 20, seed=1),
            randn(32, 1, 3, 3, seed=2), randn(32, seed=3), device=device, rtol=1e-4, atol=2e-4)


def test_depthwise_unbatched_and_partial_grads(device):
    compare(lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1, stride=2, groups=3), randn(3, 7, 6, seed=1),
            randn(6, 1, 3, 3, seed=2), device=device, **TOL)
    # only the weight needs a gradient, then only the input
    compare(lambda L, x, w: L.nn.functional.conv1d(x, w, padding=2, groups=4), randn(2, 4, 9, seed=1),
            randn(4, 1, 5, seed=2), grad_inputs=[1], device=device, **TOL)
    compare(lambda L, x, w: L.nn.functional.conv1d(x, w, padding=2, stride=2, groups=4), randn(2, 4, 9, seed=1),
            randn(8, 1, 5, seed=2), grad_inputs=[0], device=device, **TOL)


@pytest.mark.parametrize('groups,cin,cout', [(2, 4, 6), (3, 6, 3), (4, 8, 8)])
@pytest.mark.parametrize('kw', [dict(padding=1), dict(padding=(3, 0)), dict(padding='same', dilation=(2, 1)),
                                dict(stride=2, dilation=(1, 2), padding=(0, 2))])
def test_grouped(device, groups, cin, cout, kw):
    compare(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, groups=groups, **kw), randn(2, cin, 8, 9, seed=1),
            randn(cout, cin // groups, 3, 3, seed=2), randn(cout, seed=3), device=device, **TOL)


@pytest.mark.parametrize('mode', ['zeros', 'reflect', 'replicate', 'circular'])
@pytest.mark.parametrize('dims', [1, 2, 3])
def test_depthwise_module_padding_modes(device, mode, dims):
    cls = 'Conv%dd' % dims
    kw = dict(stride=2, padding=1, groups=4, padding_mode=mode)
    tm = getattr(torch.nn, cls)(4, 8, 3, **kw)
    nm = getattr(npnn.nn, cls)(4, 8, 3, **kw).to(device)
    with npnn.no_grad():
        nm.weight.copy_(npnn.tensor(tm.weight.detach().numpy(), device=device))
        nm.bias.copy_(npnn.tensor(tm.bias.detach().numpy(), device=device))
    x = randn(2, 4, *([5, 6, 4][:dims]), seed=4)
    xn = npnn.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yn, yt = nm(xn), tm(xt)
    np.testing.assert_allclose(yn.detach().cpu().numpy(), yt.detach().numpy(), **TOL)
    gy = randn(*yt.shape, seed=5)
    yn.backward(npnn.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(xn.grad.cpu().numpy(), xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(nm.weight.grad.cpu().numpy(), tm.weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(nm.bias.grad.cpu().numpy(), tm.bias.grad.numpy(), **TOL)


@pytest.mark.parametrize('groups,cin,cout,kw', [
    (3, 3, 6, dict(padding=1, stride=2)),        # depthwise, multiplier 2
    (2, 4, 4, dict(padding=1, dilation=2)),      # two channels per group
    (3, 6, 3, dict(stride=(2, 1))),
])
def test_grouped_double_backward_matches_torch(device, groups, cin, cout, kw):
    """A gradient penalty: the create_graph backward (the single grouped weight-gradient conv) against torch."""
    rng = np.random.default_rng(0)
    xa, wa = rng.standard_normal((2, cin, 6, 5)), rng.standard_normal((cout, cin // groups, 3, 3))
    res = []
    for L in (npnn, torch):
        if L is npnn:
            x = npnn.tensor(xa, device=device, requires_grad=True)
            w = npnn.tensor(wa, device=device, requires_grad=True)
        else:
            x, w = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
        y = L.nn.functional.conv2d(x, w, groups=groups, **kw)
        gx, gw = L.autograd.grad(y.pow(2).sum(), (x, w), create_graph=True)
        (gx.pow(2).sum() + gw.pow(2).sum()).backward()
        res.append([a.detach().cpu().numpy() for a in (gx, gw, x.grad, w.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


def _t(*shape, seed=0):
    return npnn.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=npnn.float64, requires_grad=True)


@pytest.mark.parametrize('d,kw,mult', [
    (1, dict(padding=1, stride=2), 2),
    (2, dict(padding=1), 1),
    (2, dict(padding=2, stride=2, dilation=2), 2),
    (2, dict(padding='same'), 1),
    (3, dict(padding=(1, 0, 1), stride=(1, 2, 1)), 1),
])
def test_depthwise_gradcheck(d, kw, mult):
    F = npnn.nn.functional
    fn = getattr(F, _fn(d))
    sp = [5, 4, 3][:d]
    x, w, b = _t(2, 2, *sp, seed=1), _t(2 * mult, 1, *([3] * d), seed=2), _t(2 * mult, seed=3)
    assert gradcheck(lambda x, w, b: fn(x, w, b, groups=2, **kw), (x, w, b), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize('groups,cin,cout', [(2, 2, 4), (2, 4, 2)])
def test_grouped_gradgradcheck(groups, cin, cout):
    F = npnn.nn.functional
    x, w, b = _t(1, cin, 5, 4, seed=1), _t(cout, cin // groups, 3, 2, seed=2), _t(cout, seed=3)
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, stride=(2, 1), groups=groups), (x, w, b),
                         eps=1e-6, atol=1e-5, rtol=1e-3)


def test_depthwise_errors():
    F = npnn.nn.functional
    x = npnn.randn(2, 4, 6, 6)
    for w, groups in [(npnn.randn(4, 2, 3, 3), 4), (npnn.randn(6, 1, 3, 3), 4), (npnn.randn(4, 1, 3, 3), 3)]:
        with pytest.raises(RuntimeError) as e:
            F.conv2d(x, w, groups=groups, padding=1)
        with pytest.raises(RuntimeError) as et:
            torch.nn.functional.conv2d(torch.randn(2, 4, 6, 6), torch.randn(*w.shape), groups=groups, padding=1)
        # the same complaint: the expected channel count or divisibility
        assert ('divisible' in str(e.value)) == ('divisible' in str(et.value))
        assert ('channels' in str(e.value)) == ('channels' in str(et.value))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(npnn.randn(1, 4, 2, 2), npnn.randn(4, 1, 3, 3), groups=4)
