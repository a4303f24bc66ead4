"""Pooling parity with PyTorch: values, indices and gradients."""
import numpy as np
import pytest

from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()


def F(L):
    return L.nn.functional


MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=2, stride=2, ceil_mode=True),
]


@pytest.mark.parametrize('kw', MAX2D)
@pytest.mark.parametrize('shape', [(2, 3, 9, 8), (1, 2, 7, 7), (3, 8, 6)])
def test_max_pool2d(device, kw, shape):
    compare(lambda L, x: F(L).max_pool2d(x, return_indices=True, **kw), randn(*shape, seed=1), device=device)


def test_max_pool2d_ties_after_relu(device):
    # many equal zeros in one window: the gradient goes to the first maximum only
    x = randn(2, 3, 8, 8, seed=2)
    compare(lambda L, x: F(L).max_pool2d(F(L).relu(x), 2, return_indices=True), x, device=device)
    compare(lambda L, x: F(L).max_pool2d(F(L).relu(x), 3, 2, 1, return_indices=True), x, device=device)
    compare(lambda L, x: F(L).max_pool2d(x, 2, return_indices=True), np.round(x), device=device)


def test_max_pool1d_3d(device):
    compare(lambda L, x: F(L).max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
            randn(2, 3, 10, seed=2), device=device)
    compare(lambda L, x: F(L).max_pool3d(x, 2, 1, 1, return_indices=True), randn(2, 3, 4, 5, 4, seed=2),
            device=device)
    compare(lambda L, x: F(L).max_pool3d(x, (2, 1, 3), (2, 1, 2), ceil_mode=True), randn(1, 2, 5, 3, 7, seed=3),
            device=device)


@pytest.mark.parametrize('cip', [True, False])
@pytest.mark.parametrize('ceil', [True, False])
def test_avg_pool(device, cip, ceil):
    x = randn(2, 3, 9, 8, seed=1)
    compare(lambda L, x: F(L).avg_pool2d(x, 3, 2, 1, ceil_mode=ceil, count_include_pad=cip), x, device=device)
    compare(lambda L, x: F(L).avg_pool2d(x, (2, 3), (2, 1), (1, 0), ceil_mode=ceil, count_include_pad=cip), x,
            device=device)
    compare(lambda L, x: F(L).avg_pool1d(x, 3, 2, 1, ceil_mode=ceil, count_include_pad=cip),
            randn(2, 3, 10, seed=2), device=device)
    compare(lambda L, x: F(L).avg_pool3d(x, 3, 2, 1, ceil_mode=ceil, count_include_pad=cip),
            randn(1, 2, 7, 5, 6, seed=2), device=device)


def test_avg_pool_divisor_override(device):
    compare(lambda L, x: F(L).avg_pool2d(x, 3, 2, 1, divisor_override=5), randn(2, 3, 9, 8, seed=1), device=device)
    compare(lambda L, x: F(L).avg_pool3d(x, 2, divisor_override=3), randn(1, 2, 4, 5, 6, seed=1), device=device)


@pytest.mark.parametrize('size', [(4, 3), (3, 4), (None, 3), 1, (9, 8), 5])
def test_adaptive_pool2d(device, size):
    x = randn(2, 3, 9, 8, seed=1)
    compare(lambda L, x: F(L).adaptive_avg_pool2d(x, size), x, device=device)
    compare(lambda L, x: F(L).adaptive_max_pool2d(x, size, return_indices=True), x, device=device)


def test_adaptive_pool1d_3d(device):
    compare(lambda L, x: F(L).adaptive_avg_pool1d(x, 4), randn(2, 3, 10, seed=2), device=device)
    compare(lambda L, x: F(L).adaptive_max_pool1d(x, 4, return_indices=True), randn(2, 3, 10, seed=2),
            device=device)
    x = randn(2, 3, 7, 5, 6, seed=2)
    compare(lambda L, x: F(L).adaptive_avg_pool3d(x, (2, 3, 4)), x, device=device)
    compare(lambda L, x: F(L).adaptive_max_pool3d(x, (2, 3, 4), return_indices=True), x, device=device)
    compare(lambda L, x: F(L).adaptive_avg_pool2d(x, (3, 2)), randn(3, 7, 5, seed=4), device=device)


def test_lp_pool(device):
    compare(lambda L, x: F(L).lp_pool2d(x, 2, 3, 2), randn(2, 3, 9, 8, seed=1), device=device)
    compare(lambda L, x: F(L).lp_pool2d(x, 1.5, (2, 3), ceil_mode=True), randn(2, 3, 9, 8, seed=1, low=0.1,
                                                                                  high=2.0), device=device)
    compare(lambda L, x: F(L).lp_pool1d(x, 3, 2), randn(2, 3, 10, seed=2, low=0.1, high=2), device=device)


def _samples(*shape):
    return np.random.default_rng(0).uniform(size=shape).astype(np.float32)


@pytest.mark.parametrize('kw', [dict(kernel_size=2, output_size=(5, 4)), dict(kernel_size=(3, 2),
                                output_ratio=(0.5, 0.6)), dict(kernel_size=3, output_size=(2, 7))])
def test_fractional_max_pool2d(device, kw):
    u = _samples(2, 3, 2)
    compare(lambda L, x, u: F(L).fractional_max_pool2d(x, _random_samples=u, return_indices=True, **kw),
            randn(2, 3, 13, 11, seed=4), u, grad_inputs=[0], device=device)
    compare(lambda L, x, u: F(L).fractional_max_pool2d_with_indices(x, _random_samples=u, **kw),
            randn(2, 3, 13, 11, seed=4), u, grad_inputs=[0], device=device)


def test_fractional_max_pool3d(device):
    u = _samples(2, 3, 3)
    compare(lambda L, x, u: F(L).fractional_max_pool3d(x, 2, output_size=(3, 4, 2), _random_samples=u,
                                                       return_indices=True),
            randn(2, 3, 7, 9, 5, seed=4), u, grad_inputs=[0], device=device)


def test_fractional_max_pool_random_shapes(device):
    import npnn
    x = npnn.tensor(randn(2, 3, 12, 10, seed=1), device=device, requires_grad=True)
    y, i = npnn.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)(x)
    assert tuple(y.shape) == (2, 3, 6, 5)
    # every output is the input value at its index
    flat = x.detach().cpu().numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, i.cpu().numpy().reshape(2, 3, -1), 2),
                                  y.detach().cpu().numpy().reshape(2, 3, -1))


@pytest.mark.parametrize('d,shape,kw', [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (2, (2, 3, 9, 8), dict(kernel_size=2)),
    (2, (1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
    (3, (1, 2, 4, 6, 5), dict(kernel_size=2)),
])
def test_max_unpool(device, d, shape, kw):
    def fn(L, x):
        pool = getattr(F(L), f'max_pool{d}d')
        unpool = getattr(F(L), f'max_unpool{d}d')
        o, i = pool(x, return_indices=True, **kw)
        return unpool(o * 2, i, output_size=x.shape[-d:], **kw)
    compare(fn, randn(*shape, seed=1), device=device)


POOL_MODULES = [
    ('MaxPool2d', (2,), {}), ('MaxPool1d', (3, 2, 1), dict(ceil_mode=True)), ('MaxPool3d', (3,), dict(dilation=2)),
    ('AvgPool1d', (3,), {}), ('AvgPool2d', (3, 2), {}), ('AvgPool3d', (2,), dict(divisor_override=2)),
    ('AdaptiveAvgPool2d', ((3, None),), {}), ('AdaptiveMaxPool1d', (4,), {}), ('AdaptiveAvgPool3d', (2,), {}),
    ('LPPool2d', (2, 3), {}), ('LPPool1d', (1.5, 2), dict(stride=1)), ('FractionalMaxPool2d', (3,), dict(output_ratio=0.5)),
    ('MaxUnpool2d', (2,), {}), ('MaxUnpool1d', (3, 2, 1), {}),
]


@pytest.mark.parametrize('name,args,kw', POOL_MODULES)
def test_pool_module_repr(name, args, kw):
    import npnn
    assert repr(getattr(npnn.nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_pool_modules_forward(device):
    import npnn
    x = randn(2, 3, 8, 8, seed=1)
    for name, args, kw in [('MaxPool2d', (3, 2, 1), {}), ('AvgPool2d', (3, 2, 1), dict(count_include_pad=False)),
                           ('AdaptiveMaxPool2d', ((3, 5),), {}), ('AdaptiveAvgPool2d', (3,), {}),
                           ('LPPool2d', (2, 2), {})]:
        yn = getattr(npnn.nn, name)(*args, **kw)(npnn.tensor(x, device=device))
        yt = getattr(torch.nn, name)(*args, **kw)(torch.tensor(x))
        np.testing.assert_allclose(yn.cpu().numpy(), yt.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


def test_max_pool_nan_propagates(device):
    x = randn(2, 3, 8, 6, seed=1)
    x[0, 0, 1, 1] = np.nan
    x[1, 2, 4:6, 2:4] = np.nan
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)]:
        compare(lambda L, x: F(L).max_pool2d(x, return_indices=True, **kw), x, device=device, grad=False)
    compare(lambda L, x: F(L).adaptive_max_pool2d(x, (3, 4), return_indices=True), x, device=device, grad=False)
