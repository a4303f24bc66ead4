"""nn.functional activations, linear, normalisation, distance and one_hot against PyTorch."""
import warnings

import numpy as np
import pytest

import npnn
from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()

X = randn(4, 6, seed=1) * 3.0          # spans the interesting regions of every activation
X4 = randn(2, 3, 4, 5, seed=2)

ACTS = [
    ('relu', lambda F, x: F.relu(x)),
    ('relu6', lambda F, x: F.relu6(x * 3.0)),
    ('threshold', lambda F, x: F.threshold(x, 0.5, -2.0)),
    ('leaky_relu', lambda F, x: F.leaky_relu(x, 0.2)),
    ('elu', lambda F, x: F.elu(x, 1.3)),
    ('selu', lambda F, x: F.selu(x)),
    ('celu', lambda F, x: F.celu(x, 0.7)),
    ('gelu', lambda F, x: F.gelu(x)),
    ('gelu_tanh', lambda F, x: F.gelu(x, approximate='tanh')),
    ('silu', lambda F, x: F.silu(x)),
    ('mish', lambda F, x: F.mish(x)),
    ('softplus', lambda F, x: F.softplus(x)),
    ('softplus_beta', lambda F, x: F.softplus(x, beta=2.0, threshold=3.0)),
    ('softsign', lambda F, x: F.softsign(x)),
    ('softshrink', lambda F, x: F.softshrink(x, 0.7)),
    ('hardshrink', lambda F, x: F.hardshrink(x, 0.7)),
    ('tanhshrink', lambda F, x: F.tanhshrink(x)),
    ('hardtanh', lambda F, x: F.hardtanh(x, -0.5, 2.0)),
    ('hardsigmoid', lambda F, x: F.hardsigmoid(x)),
    ('hardswish', lambda F, x: F.hardswish(x)),
    ('sigmoid', lambda F, x: F.sigmoid(x)),
    ('logsigmoid', lambda F, x: F.logsigmoid(x)),
    ('tanh', lambda F, x: F.tanh(x)),
    ('softmax0', lambda F, x: F.softmax(x, 0)),
    ('softmax1', lambda F, x: F.softmax(x, dim=-1)),
    ('softmin', lambda F, x: F.softmin(x, 1)),
    ('log_softmax', lambda F, x: F.log_softmax(x, 1)),
    ('log_softmax0', lambda F, x: F.log_softmax(x, 0)),
    ('glu', lambda F, x: F.glu(x, -1)),
    ('glu0', lambda F, x: F.glu(x, 0)),
    ('rrelu_eval', lambda F, x: F.rrelu(x, 0.1, 0.3, training=False)),
]


@pytest.mark.parametrize('name,fn', ACTS, ids=[a[0] for a in ACTS])
def test_activation(name, fn, device):
    compare(lambda lib, x: fn(lib.nn.functional, x), X, device=device)


@pytest.mark.parametrize('name', ['relu', 'elu', 'leaky_relu', 'hardtanh', 'selu', 'celu', 'silu', 'hardswish',
                                  'hardsigmoid', 'mish', 'relu6'])
def test_activation_inplace(name, device):
    def fn(lib, x):
        y = x * 1.0
        r = getattr(lib.nn.functional, name)(y, inplace=True)
        assert r is y
        return y
    compare(fn, X, device=device)


def test_softmax_large_and_dtype(device):
    big = np.array([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]], dtype=np.float32)
    compare(lambda lib, x: lib.nn.functional.log_softmax(x, 1), big, device=device)
    compare(lambda lib, x: lib.nn.functional.softmax(x, 1, dtype=lib.float64), big, device=device)


def test_softmax_implicit_dim_warns():
    x = npnn.tensor(X)
    with pytest.warns(UserWarning, match='Implicit dimension choice for softmax'):
        y = npnn.nn.functional.softmax(x)
    np.testing.assert_allclose(y.numpy(), torch.softmax(torch.tensor(X), 1).numpy(), rtol=1e-5)
    x3 = npnn.tensor(randn(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        y3 = npnn.nn.functional.log_softmax(x3)
    np.testing.assert_allclose(y3.numpy(), torch.log_softmax(torch.tensor(x3.numpy()), 0).numpy(), rtol=1e-5)


def test_prelu(device):
    w = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    compare(lambda lib, x, w: lib.nn.functional.prelu(x, w), randn(2, 3, 4), w, device=device)
    compare(lambda lib, x, w: lib.nn.functional.prelu(x, w), randn(2, 3, 4), np.array([0.25], np.float32),
            device=device)


def test_linear_bilinear(device):
    compare(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), randn(5, 4), randn(3, 4), randn(3),
            device=device)
    compare(lambda lib, x, w: lib.nn.functional.linear(x, w), randn(2, 5, 4), randn(3, 4), device=device)
    compare(lambda lib, a, b, w, c: lib.nn.functional.bilinear(a, b, w, c), randn(4, 3), randn(4, 5),
            randn(2, 3, 5), randn(2), device=device)


@pytest.mark.parametrize('shape', [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_train(shape, device):
    def fn(lib, x, w, b):
        rm = lib.zeros(3, device=x.device)
        rv = lib.ones(3, device=x.device)
        y = lib.nn.functional.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)
        return y, rm, rv
    compare(fn, randn(*shape), randn(3), randn(3), device=device)


def test_batch_norm_eval(device):
    rm, rv = randn(3, seed=5), randn(3, seed=6, low=0.5, high=2.0)
    compare(lambda lib, x, w, b, m, v: lib.nn.functional.batch_norm(x, m, v, w, b, training=False),
            X4, randn(3), randn(3), rm, rv, grad_inputs=(0, 1, 2), device=device)


def test_layer_group_instance_norm(device):
    compare(lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4, 5), w, b), X4, randn(4, 5), randn(4, 5),
            device=device)
    compare(lambda lib, x: lib.nn.functional.layer_norm(x, [5]), X4, device=device)
    compare(lambda lib, x, w, b: lib.nn.functional.group_norm(x, 3, w, b), randn(2, 6, 5), randn(6), randn(6),
            device=device)
    compare(lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b), X4, randn(3), randn(3),
            device=device)
    compare(lambda lib, x, w: lib.nn.functional.rms_norm(x, [5], w), X4, randn(5), device=device)
    compare(lambda lib, x: lib.nn.functional.local_response_norm(x, 3), X4, device=device)
    compare(lambda lib, x: lib.nn.functional.local_response_norm(x, 4, 0.1, 0.5, 2.0), X4, device=device)
    compare(lambda lib, x: lib.nn.functional.local_response_norm(x, 3, 0.2), randn(2, 5, 7), device=device)
    compare(lambda lib, x: lib.nn.functional.local_response_norm(x, 2, 0.2), randn(2, 5, 3, 2, 2), device=device)


def test_normalize_distance(device):
    compare(lambda lib, x: lib.nn.functional.normalize(x), X, device=device)
    compare(lambda lib, x: lib.nn.functional.normalize(x, p=1.0, dim=0), X, device=device)
    a, b = randn(5, 4, seed=3), randn(5, 4, seed=4)
    compare(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b), a, b, device=device)
    compare(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p=3.0, keepdim=True), a, b, device=device)
    compare(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), a, b, device=device)
    compare(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=0), a, b, device=device)
    compare(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b[:1]), a, b, device=device)   # broadcast
    compare(lambda lib, a: lib.nn.functional.pdist(a), a, device=device)
    compare(lambda lib, a: lib.nn.functional.pdist(a, p=1), a, device=device)
    compare(lambda lib, a, b: lib.cdist(a, b) if lib is torch else lib.nn.functional.cdist(a, b),
            randn(2, 5, 4), randn(2, 3, 4), device=device)
    compare(lambda lib, a, b: lib.cdist(a, b, p=1.0) if lib is torch else lib.nn.functional.cdist(a, b, p=1.0),
            randn(5, 4), randn(3, 4), device=device)
    compare(lambda lib, a, b: lib.cdist(a, b) if lib is torch else lib.nn.functional.cdist(a, b),
            randn(30, 4), randn(27, 4), device=device, rtol=1e-3, atol=1e-4)


def test_one_hot(device):
    t = np.array([[0, 2], [1, 3]], dtype=np.int64)
    compare(lambda lib, t: lib.nn.functional.one_hot(t), t, device=device)
    compare(lambda lib, t: lib.nn.functional.one_hot(t, 6), t, device=device)


def test_dropout_statistics(device):
    F = npnn.nn.functional
    x = npnn.ones(200, 100, device=device, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y.detach().cpu().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y.detach().cpu().numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy() != 0, kept)
    assert F.dropout(x, 0.3, training=False) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    # channel dropout zeroes whole channels
    z = F.dropout2d(npnn.ones(8, 16, 5, 5, device=device), 0.5).cpu().numpy()
    per_channel = z.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    z1 = F.dropout1d(npnn.ones(8, 16, 5, device=device), 0.5).cpu().numpy()
    assert np.all((z1 == 0).all(-1) | (z1 == 2.0).all(-1))
    z3 = F.dropout3d(npnn.ones(4, 6, 2, 3, 3, device=device), 0.5).cpu().numpy().reshape(4, 6, -1)
    assert np.all((z3 == 0).all(-1) | (z3 == 2.0).all(-1))


def test_alpha_dropout_keeps_moments(device):
    F = npnn.nn.functional
    x = npnn.randn(400, 500, device=device)
    y = F.alpha_dropout(x, 0.2, training=True).cpu().numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    assert F.alpha_dropout(x, 0.2, training=False) is x
    yf = F.feature_alpha_dropout(npnn.randn(50, 40, 30, device=device), 0.2, training=True).cpu().numpy()
    assert abs(yf.mean()) < 0.05 and abs(yf.std() - 1.0) < 0.05


def test_rrelu_training_slopes(device):
    x = npnn.tensor(-np.ones((50, 50), np.float32), device=device)
    y = npnn.nn.functional.rrelu(x, 0.1, 0.3, training=True).cpu().numpy()
    assert (-y).min() >= 0.1 - 1e-6 and (-y).max() <= 0.3 + 1e-6 and y.std() > 0.03


def test_gumbel_softmax(device):
    F = npnn.nn.functional
    logits = npnn.randn(20, 5, device=device, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(y.sum(-1).detach().cpu().numpy(), 1.0, rtol=1e-5)
    h = F.gumbel_softmax(logits, hard=True)
    hn = h.detach().cpu().numpy()
    assert set(np.unique(hn)) <= {0.0, 1.0} and np.all(hn.sum(-1) == 1)
    (h * npnn.arange(5, device=device).float()).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0


def test_create_graph_through_softmax_and_norm():
    # second derivatives through the fused nodes match torch
    xs = randn(3, 4, seed=7).astype(np.float64)
    ws = randn(4, seed=8).astype(np.float64)

    def run(lib):
        x = lib.tensor(xs, requires_grad=True)
        w = lib.tensor(ws)
        F = lib.nn.functional
        y = (F.log_softmax(x, 1) * w).sum() + (F.layer_norm(x, [4]) ** 3).sum() + \
            (F.softmax(x, 0) * w).sum() + F.cross_entropy(x, lib.tensor([0, 3, 1])) + (F.gelu(x) ** 2).sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        return x.grad.detach().numpy() if lib is npnn else x.grad.numpy()
    np.testing.assert_allclose(run(npnn), run(torch), rtol=1e-6, atol=1e-8)
