"""nn.init: exact gains and fans, bounds, and distributions checked statistically with fixed seeds."""
import math

import numpy as np
import pytest

import npnn
from npnn import nn
from npnn.nn import init


@pytest.mark.parametrize('name,param,expected', [
    ('linear', None, 1), ('conv2d', None, 1), ('conv_transpose3d', None, 1), ('sigmoid', None, 1),
    ('tanh', None, 5.0 / 3), ('relu', None, math.sqrt(2.0)), ('leaky_relu', None, math.sqrt(2.0 / (1 + 0.01 ** 2))),
    ('leaky_relu', 0.2, math.sqrt(2.0 / 1.04)), ('leaky_relu', 0, math.sqrt(2.0)), ('selu', None, 0.75)])
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match='Unsupported nonlinearity foo'):
        init.calculate_gain('foo')
    with pytest.raises(ValueError, match='negative_slope True not a valid number'):
        init.calculate_gain('leaky_relu', True)


def test_fans():
    assert init._calculate_fan_in_and_fan_out(npnn.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(npnn.empty(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match='fewer than 2 dimensions'):
        init._calculate_fan_in_and_fan_out(npnn.empty(3))
    with pytest.raises(ValueError, match='Mode fan_avg not supported'):
        init.kaiming_uniform_(npnn.empty(3, 3), mode='fan_avg')


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def test_uniform_and_normal_statistics(device):
    t = npnn.empty(200, 300, device=device)
    assert init.uniform_(t, -2.0, 3.0) is t
    m, s, lo, hi = _stats(t.cpu())
    assert lo >= -2.0 and hi < 3.0 and abs(m - 0.5) < 0.03 and abs(s - 5 / math.sqrt(12)) < 0.02
    init.normal_(t, 1.5, 0.5)
    m, s, _, _ = _stats(t.cpu())
    assert abs(m - 1.5) < 0.01 and abs(s - 0.5) < 0.01


def test_trunc_normal_bounds_and_moments():
    t = npnn.empty(400, 250)
    init.trunc_normal_(t, mean=0.0, std=1.0, a=-1.0, b=2.0)
    m, s, lo, hi = _stats(t)
    assert lo >= -1.0 and hi <= 2.0
    # moments of N(0,1) truncated to [-1, 2]
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    z = 0.5 * (math.erf(2 / math.sqrt(2)) - math.erf(-1 / math.sqrt(2)))
    mean = (pdf(-1) - pdf(2)) / z
    std = math.sqrt(1 + (-1 * pdf(-1) - 2 * pdf(2)) / z - mean ** 2)
    assert abs(m - mean) < 0.01 and abs(s - std) < 0.01
    t2 = init.trunc_normal_(npnn.empty(1000), std=0.02)
    assert float(t2.abs().max()) <= 2.0 and abs(_stats(t2)[1] - 0.02) < 0.003


def test_constant_ones_zeros_eye_dirac():
    t = npnn.empty(3, 4)
    assert np.all(init.constant_(t, 0.3).numpy() == np.float32(0.3))
    assert np.all(init.ones_(t).numpy() == 1) and np.all(init.zeros_(t).numpy() == 0)
    assert np.array_equal(init.eye_(npnn.empty(3, 4)).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match='Only tensors with 2 dimensions'):
        init.eye_(npnn.empty(3))
    w = init.dirac_(npnn.empty(6, 3, 3, 3), groups=2)
    a = w.numpy()
    expected = np.zeros((6, 3, 3, 3), np.float32)
    for g in range(2):
        for d in range(3):
            expected[g * 3 + d, d, 1, 1] = 1
    assert np.array_equal(a, expected)
    # a dirac-initialised 1d kernel is the identity convolution on its channels
    w1 = init.dirac_(npnn.empty(2, 2, 5)).numpy()
    assert w1[0, 0, 2] == 1 and w1[1, 1, 2] == 1 and w1.sum() == 2
    with pytest.raises(ValueError, match='3, 4, or 5 dimensions'):
        init.dirac_(npnn.empty(3, 3))
    with pytest.raises(ValueError, match='divisible by groups'):
        init.dirac_(npnn.empty(5, 3, 3), groups=2)


def test_xavier_bounds_and_std():
    t = npnn.empty(300, 200)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / 500)
    m, s, lo, hi = _stats(t)
    assert -bound <= lo and hi <= bound and hi > 0.98 * bound and abs(s - bound / math.sqrt(3)) < 0.01 * bound
    init.xavier_normal_(t)
    assert abs(_stats(t)[1] - math.sqrt(2.0 / 500)) < 0.002


@pytest.mark.parametrize('mode,nl,a', [('fan_in', 'leaky_relu', math.sqrt(5)), ('fan_out', 'relu', 0),
                                       ('fan_in', 'tanh', 0)])
def test_kaiming(mode, nl, a):
    t = npnn.empty(128, 64, 3, 3)
    fan = 64 * 9 if mode == 'fan_in' else 128 * 9
    std = init.calculate_gain(nl, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nl)
    bound = math.sqrt(3) * std
    _, s, lo, hi = _stats(t)
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound and abs(s - std) < 0.02 * std
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nl)
    assert abs(_stats(t)[1] - std) < 0.02 * std


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match='zero-element'):
        init.kaiming_uniform_(npnn.empty(0, 3))


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (5, 2, 3)]:
        t = init.orthogonal_(npnn.empty(*shape), gain=1.5)
        a = t.numpy().reshape(shape[0], -1).astype(np.float64)
        if a.shape[0] >= a.shape[1]:
            assert np.allclose(a.T @ a, 2.25 * np.eye(a.shape[1]), atol=1e-5)
        else:
            assert np.allclose(a @ a.T, 2.25 * np.eye(a.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match='2 or more dimensions'):
        init.orthogonal_(npnn.empty(3))


def test_sparse():
    t = init.sparse_(npnn.empty(10, 40), sparsity=0.3, std=0.5)
    a = t.numpy()
    assert np.all((a == 0).sum(0) == 3)
    nz = a[a != 0]
    assert abs(nz.std() - 0.5) < 0.1
    with pytest.raises(ValueError, match='Only tensors with 2 dimensions'):
        init.sparse_(npnn.empty(3), 0.1)


def test_generator_reproducible_and_default_seed():
    g1 = npnn.Generator().manual_seed(7)
    g2 = npnn.Generator().manual_seed(7)
    a = init.kaiming_normal_(npnn.empty(5, 5), generator=g1).numpy().copy()
    b = init.kaiming_normal_(npnn.empty(5, 5), generator=g2).numpy().copy()
    assert np.array_equal(a, b)
    npnn.manual_seed(3)
    c = init.uniform_(npnn.empty(4)).numpy().copy()
    npnn.manual_seed(3)
    assert np.array_equal(c, init.uniform_(npnn.empty(4)).numpy())


def test_init_on_parameters_records_nothing_and_keeps_identity():
    p = nn.Parameter(npnn.empty(4, 3))
    v = p._version
    out = init.xavier_uniform_(p)
    assert out is p and p.is_leaf and p.requires_grad and p.grad_fn is None and p._version > v
    # float64 and float16 tensors keep their dtype
    assert init.normal_(npnn.empty(3, dtype=npnn.float64)).dtype == npnn.float64
    assert init.uniform_(npnn.empty(3, dtype=npnn.float16)).dtype == npnn.float16


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match='deprecated'):
        init.xavier_uniform(npnn.empty(2, 2))


def test_gains_and_bounds_equal_torch():
    torch = pytest.importorskip('torch')
    for name, param in [('linear', None), ('tanh', None), ('relu', None), ('leaky_relu', None),
                        ('leaky_relu', 0.3), ('selu', None), ('sigmoid', None)]:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    for shape in [(7, 3), (8, 4, 3), (8, 4, 3, 2), (2, 5, 1, 1, 3)]:
        assert init._calculate_fan_in_and_fan_out(npnn.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    # the same bounds: the max |value| of a large draw approaches the same limit in both libraries
    for fn, kw in [('kaiming_uniform_', dict(a=math.sqrt(5))), ('xavier_uniform_', dict(gain=0.7)),
                   ('kaiming_uniform_', dict(mode='fan_out', nonlinearity='relu'))]:
        ours = getattr(init, fn)(npnn.empty(64, 32, 3), **kw).numpy()
        theirs = getattr(torch.nn.init, fn)(torch.empty(64, 32, 3), **kw).numpy()
        assert abs(np.abs(ours).max() - np.abs(theirs).max()) < 0.01 * np.abs(theirs).max()
        assert abs(ours.std() - theirs.std()) < 0.03 * theirs.std()
