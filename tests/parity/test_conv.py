"""Convolution parity with PyTorch: values and gradients (input, weight, bias) over a grid of options."""
import numpy as np
import pytest

from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()

TOL = dict(rtol=1e-4, atol=1e-4)
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CONV2D = [
    # (N, C, H, W), (Cout, kh, kw), kwargs
    ((2, 4, 9, 8), (6, 3, 3), dict()),
    ((1, 3, 7, 7), (5, 3, 2), dict(stride=2)),
    ((2, 4, 9, 8), (6, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ((2, 4, 10, 7), (4, 3, 3), dict(padding=(2, 1), dilation=2)),
    ((2, 6, 8, 8), (6, 3, 3), dict(padding=1, groups=6)),      # depthwise
    ((2, 3, 8, 9), (4, 4, 3), dict(padding='same')),          # even kernel: asymmetric padding
    ((2, 3, 8, 9), (4, 3, 3), dict(padding='same', dilation=2)),
    ((1, 2, 6, 5), (3, 3, 3), dict(padding='valid', stride=3)),
    ((3, 1, 11, 11), (2, 5, 5), dict(padding=2)),
]


@pytest.mark.parametrize('xs,ws,kw', CONV2D)
@pytest.mark.parametrize('bias', [True, False])
def test_conv2d(device, xs, ws, kw, bias):
    g = kw.get('groups', 1)
    x = randn(*xs, seed=1)
    w = randn(ws[0], xs[1] // g, ws[1], ws[2], seed=2)
    b = randn(ws[0], seed=3)
    if bias:
        compare(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, **kw), x, w, b, device=device, **TOL)
    else:
        compare(lambda L, x, w: L.nn.functional.conv2d(x, w, **kw), x, w, device=device, **TOL)


@pytest.mark.parametrize('kw', [dict(), dict(stride=2, padding=1), dict(dilation=3, padding='same'),
                                dict(groups=3, padding=2), dict(stride=3)])
def test_conv1d(device, kw):
    g = kw.get('groups', 1)
    compare(lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, **kw), randn(2, 6, 13, seed=1),
            randn(9, 6 // g, 3, seed=2), randn(9, seed=3), device=device, **TOL)


@pytest.mark.parametrize('kw', [dict(), dict(stride=(1, 2, 1), padding=1), dict(dilation=(1, 1, 2), groups=2),
                                dict(padding='same')])
def test_conv3d(device, kw):
    g = kw.get('groups', 1)
    compare(lambda L, x, w, b: L.nn.functional.conv3d(x, w, b, **kw), randn(2, 4, 5, 6, 7, seed=1),
            randn(4, 4 // g, 3, 2, 3, seed=2), randn(4, seed=3), device=device, **TOL)


def test_conv_unbatched(device):
    compare(lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1), randn(3, 5, 6, seed=1),
            randn(2, 3, 3, 3, seed=2), device=device, **TOL)
    compare(lambda L, x, w: L.nn.functional.conv_transpose1d(x, w, stride=2), randn(3, 5, seed=1),
            randn(3, 2, 3, seed=2), device=device, **TOL)


CONVT2D = [
    ((2, 4, 5, 4), (4, 3, 3, 3), dict()),
    ((2, 4, 5, 4), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
                                      dilation=(2, 1))),
    ((1, 3, 4, 4), (3, 2, 4, 4), dict(stride=2, padding=1)),
    ((2, 6, 3, 5), (6, 1, 3, 3), dict(stride=2, groups=6, output_padding=1)),
    ((2, 2, 4, 3), (2, 3, 3, 3), dict(padding=2, dilation=2)),
]


@pytest.mark.parametrize('xs,ws,kw', CONVT2D)
def test_conv_transpose2d(device, xs, ws, kw):
    g = kw.get('groups', 1)
    compare(lambda L, x, w, b: L.nn.functional.conv_transpose2d(x, w, b, **kw), randn(*xs, seed=1),
            randn(*ws, seed=2), randn(ws[1] * g, seed=3), device=device, **TOL)


def test_conv_transpose1d_3d(device):
    compare(lambda L, x, w, b: L.nn.functional.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2),
            randn(2, 4, 6, seed=1), randn(4, 3, 4, seed=2), randn(3, seed=3), device=device, **TOL)
    compare(lambda L, x, w: L.nn.functional.conv_transpose3d(x, w, stride=2, padding=1),
            randn(2, 3, 3, 4, 2, seed=1), randn(3, 5, 3, 2, 3, seed=2), device=device, **TOL)


@pytest.mark.parametrize('mode', ['zeros', 'reflect', 'replicate', 'circular'])
def test_conv2d_module_padding_modes(device, mode):
    import npnn
    tm = torch.nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), padding_mode=mode)
    nm = npnn.nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(2, 1), padding_mode=mode).to(device)
    with npnn.no_grad():
        nm.weight.copy_(npnn.tensor(tm.weight.detach().numpy(), device=device))
        nm.bias.copy_(npnn.tensor(tm.bias.detach().numpy(), device=device))
    x = randn(2, 3, 6, 7, seed=4)
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


def test_conv_transpose_output_size(device):
    import npnn
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    nm = npnn.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).to(device)
    with npnn.no_grad():
        nm.weight.copy_(npnn.tensor(tm.weight.detach().numpy(), device=device))
        nm.bias.copy_(npnn.tensor(tm.bias.detach().numpy(), device=device))
    x = randn(1, 3, 4, 5, seed=1)
    for size in [(7, 9), (8, 10), (1, 2, 8, 9)]:
        yn = nm(npnn.tensor(x, device=device), output_size=size)
        yt = tm(torch.tensor(x), output_size=size)
        assert tuple(yn.shape) == tuple(yt.shape)
        np.testing.assert_allclose(yn.detach().cpu().numpy(), yt.detach().numpy(), **TOL)


MODULES = [
    ('Conv1d', (3, 6, 3), {}),
    ('Conv2d', (3, 6, 3), {}),
    ('Conv2d', (4, 8, (3, 2)), dict(stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode='reflect')),
    ('Conv2d', (4, 8, 3), dict(padding='same')),
    ('Conv3d', (2, 4, 3), dict(padding='valid', padding_mode='circular')),
    ('ConvTranspose1d', (4, 6, 3), {}),
    ('ConvTranspose2d', (4, 6, 3), dict(stride=2, output_padding=1, groups=2)),
    ('ConvTranspose3d', (4, 6, 3), dict(dilation=2, bias=False)),
]


@pytest.mark.parametrize('name,args,kw', MODULES)
def test_conv_module_repr_and_init(name, args, kw):
    import npnn
    n = getattr(npnn.nn, name)(*args, **kw)
    t = getattr(torch.nn, name)(*args, **kw)
    assert repr(n) == repr(t)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert tuple(n.weight.shape) == tuple(t.weight.shape)
    assert n.weight.dtype == npnn.float32
    # kaiming_uniform(a=sqrt(5)) gives bound 1/sqrt(fan_in) for the weight, and the bias uses the same bound
    fan_in = n.weight.shape[1] * int(np.prod(n.weight.shape[2:]))
    bound = 1 / np.sqrt(fan_in)
    wv = n.weight.detach().numpy()
    assert np.abs(wv).max() <= bound + 1e-6 and np.abs(wv).max() > 0.5 * bound
    if n.bias is not None:
        assert np.abs(n.bias.detach().numpy()).max() <= bound + 1e-6
    for attr in ('in_channels', 'out_channels', 'kernel_size', 'stride', 'padding', 'dilation', 'groups',
                 'output_padding', 'padding_mode', 'transposed'):
        assert getattr(n, attr) == getattr(t, attr), attr


def test_conv_lenet_shapes_float32(device):
    """The benchmark network's two convs, compared at full size (float32 throughout)."""
    compare(lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=2), randn(4, 16, 14, 14, seed=1),
            randn(32, 16, 5, 5, seed=2), randn(32, seed=3), device=device, rtol=1e-4, atol=2e-4)


def test_interleaved_graphs_and_retain_graph(device):
    """Several graphs alive at once (work buffers are reused between steps) and retain_graph backward twice."""
    import npnn
    xs = [randn(4, 16, 14, 14, seed=s, dtype=np.float64) for s in (1, 2)]
    w, b = randn(8, 16, 5, 5, seed=3, dtype=np.float64), randn(8, seed=4, dtype=np.float64)
    grads = {}
    for L in (npnn, torch):
        wt = L.tensor(w, requires_grad=True) if L is torch else L.tensor(w, device=device, requires_grad=True)
        bt = L.tensor(b, requires_grad=True) if L is torch else L.tensor(b, device=device, requires_grad=True)
        xt = [L.tensor(x, requires_grad=True) if L is torch else L.tensor(x, device=device, requires_grad=True)
              for x in xs]
        ys = [L.nn.functional.conv2d(x, wt, bt, padding=2).pow(2).sum() for x in xt]
        ys[1].backward(retain_graph=True)
        ys[0].backward()
        ys[1].backward()
        grads[L.__name__] = [wt.grad, bt.grad] + [x.grad for x in xt]
    for a, t in zip(grads['npnn'], grads['torch']):
        np.testing.assert_allclose(a.cpu().numpy(), t.numpy(), rtol=1e-9, atol=1e-9)
