"""Layers against PyTorch: weights copied from a torch layer, then outputs and gradients of inputs and parameters,
train/eval behaviour, running statistics and reprs."""
import inspect
import math

import numpy as np
import pytest

import npnn
from tests.helpers import randn, to_numpy, torch_or_skip

torch = torch_or_skip()
# reprs and the keyword-only ``bias`` of the norm layers follow recent PyTorch (the version the tests target)
NEW_TORCH = 'bias' in inspect.signature(torch.nn.GroupNorm.__init__).parameters


def copy_state(t_mod, n_mod, device='cpu'):
    """Copy every parameter and buffer of a torch module into the npnn module (same names)."""
    n_all = dict(n_mod.named_parameters())
    n_all.update(dict(n_mod.named_buffers()))
    t_sd = t_mod.state_dict()
    assert set(t_sd) == set(n_all), f'{sorted(t_sd)} != {sorted(n_all)}'
    for k, v in t_sd.items():
        assert tuple(n_all[k].shape) == tuple(v.shape), k
        n_all[k].data = npnn.tensor(v.numpy(), device=device)


def run_both(name, args, inputs, kwargs=None, device='cpu', train=True, rtol=1e-4, atol=1e-5, steps=1,
             grad=True):
    """Build ``nn.<name>(*args, **kwargs)`` in both libraries, copy torch's state, run ``steps`` forward/backward
    passes and compare outputs, input gradients, parameter gradients and the final buffers."""
    kwargs = kwargs or {}
    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    n_mod = getattr(npnn.nn, name)(*args, **kwargs).to(device)
    if NEW_TORCH:
        assert repr(n_mod) == repr(t_mod)
    copy_state(t_mod, n_mod, device)
    t_mod.train(train)
    n_mod.train(train)
    rng = np.random.default_rng(0)
    for step in range(steps):
        t_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in inputs]
        n_in = [npnn.tensor(a, device=device, requires_grad=grad and a.dtype.kind == 'f') for a in inputs]
        t_out = t_mod(*t_in)
        n_out = n_mod(*n_in)
        np.testing.assert_allclose(to_numpy(n_out), to_numpy(t_out), rtol=rtol, atol=atol,
                                   err_msg=f'{name}: output (step {step})')
        if grad:
            g = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
            (t_out * torch.tensor(g)).sum().backward()
            (n_out * npnn.tensor(g, device=device)).sum().backward()
            for i, (a, b) in enumerate(zip(n_in, t_in)):
                if b.grad is not None:
                    np.testing.assert_allclose(to_numpy(a.grad), b.grad.numpy(), rtol=rtol, atol=atol,
                                               err_msg=f'{name}: grad of input {i}')
            t_params = dict(t_mod.named_parameters())
            for k, p in n_mod.named_parameters():
                tp = t_params[k]
                if tp.grad is None:
                    assert p.grad is None
                    continue
                np.testing.assert_allclose(to_numpy(p.grad), tp.grad.numpy(), rtol=rtol, atol=atol,
                                           err_msg=f'{name}: grad of {k}')
    t_buf = dict(t_mod.named_buffers())
    for k, b in n_mod.named_buffers():
        np.testing.assert_allclose(to_numpy(b), t_buf[k].numpy(), rtol=rtol, atol=atol, err_msg=f'{name}: {k}')
    return n_mod, t_mod


X2 = randn(6, 5, seed=1)
X3 = randn(4, 3, 7, seed=2)
X4 = randn(3, 3, 4, 5, seed=3)
X5 = randn(2, 3, 2, 3, 4, seed=4)

LAYERS = [
    ('Linear', (5, 3), [X2], {}),
    ('Linear', (5, 3), [randn(2, 4, 5, seed=5)], {'bias': False}),
    ('Bilinear', (5, 4, 3), [X2, randn(6, 4, seed=6)], {}),
    ('Identity', (), [X2], {}),
    ('PReLU', (), [X3], {}),
    ('PReLU', (3,), [X3], {'init': 0.1}),
    ('LayerNorm', (7,), [X3], {}),
    ('LayerNorm', ((4, 5),), [X4], {'elementwise_affine': True, 'bias': False} if NEW_TORCH else {}),
    ('LayerNorm', (7,), [X3], {'elementwise_affine': False}),
    ('GroupNorm', (3, 3), [X4], {}),
    ('GroupNorm', (1, 3), [X3], {'affine': False}),
    ('RMSNorm', (7,), [X3], {}),
    ('RMSNorm', ((4, 5),), [X4], {'eps': 1e-3}),
    ('LocalResponseNorm', (2,), [X4], {}),
    ('Flatten', (), [X4], {}),
    ('Flatten', (0, 2), [X4], {}),
    ('Unflatten', (2, (1, 7)), [X3], {}),
    ('PairwiseDistance', (), [X2, randn(6, 5, seed=7)], {}),
    ('CosineSimilarity', (0,), [X2, randn(6, 5, seed=8)], {}),
]


@pytest.mark.parametrize('name,args,inputs,kw', LAYERS, ids=[f'{x[0]}{i}' for i, x in enumerate(LAYERS)])
def test_layer(name, args, inputs, kw, device):
    run_both(name, args, inputs, kw, device=device)


ACTS = [('Threshold', (0.1, 20.0), {}), ('ReLU', (), {}), ('ReLU6', (), {}), ('LeakyReLU', (0.2,), {}),
        ('ELU', (0.5,), {}), ('SELU', (), {}), ('CELU', (2.0,), {}), ('GELU', (), {}), ('GELU', ('tanh',), {}),
        ('SiLU', (), {}), ('Mish', (), {}), ('Softplus', (2.0, 5.0), {}), ('Softsign', (), {}),
        ('Softshrink', (0.3,), {}), ('Hardshrink', (0.3,), {}), ('Tanhshrink', (), {}), ('Hardtanh', (-2.0, 1.5), {}),
        ('Hardsigmoid', (), {}), ('Hardswish', (), {}), ('Sigmoid', (), {}), ('LogSigmoid', (), {}),
        ('Tanh', (), {}), ('Softmax', (1,), {}), ('Softmin', (-1,), {}), ('LogSoftmax', (0,), {}),
        ('Softmax2d', (), {}), ('GLU', (2,), {}), ('RReLU', (), {}), ('ReLU', (), {'inplace': True})]


@pytest.mark.parametrize('name,args,kw', ACTS, ids=[f'{a[0]}{i}' for i, a in enumerate(ACTS)])
def test_activation_layer(name, args, kw, device):
    x = randn(3, 3, 4, 6, seed=9) * 3.0
    if kw.get('inplace'):
        t_out = getattr(torch.nn, name)(*args, **kw)(torch.tensor(x))
        n_out = getattr(npnn.nn, name)(*args, **kw)(npnn.tensor(x, device=device))
        np.testing.assert_allclose(to_numpy(n_out), t_out.numpy(), rtol=1e-5)
        return
    run_both(name, args, [x], kw, device=device, train=name != 'RReLU')


@pytest.mark.parametrize('name,x', [('BatchNorm1d', X2), ('BatchNorm1d', X3), ('BatchNorm2d', X4),
                                    ('BatchNorm3d', X5)])
@pytest.mark.parametrize('kw', [{}, {'momentum': None}, {'affine': False}, {'momentum': 0.3, 'eps': 1e-3},
                                {'track_running_stats': False}, {'bias': False}])
def test_batchnorm_train_then_eval(name, x, kw, device):
    if 'bias' in kw and not NEW_TORCH:
        pytest.skip('this PyTorch has no bias= for BatchNorm')
    n_mod, t_mod = run_both(name, (3 if name != 'BatchNorm1d' or x is not X2 else 5,), [x], kw, device=device,
                            train=True, steps=3)
    # eval uses the running statistics (or batch statistics when not tracked)
    run_eval = run_both(name, (x.shape[1],), [x * 2.0 + 1.0], kw, device=device, train=False)
    assert run_eval is not None
    if kw.get('track_running_stats', True):
        assert int(n_mod.num_batches_tracked) == 3


def test_batchnorm_running_stats_after_steps(device):
    t_mod, n_mod = torch.nn.BatchNorm2d(3, momentum=None), npnn.nn.BatchNorm2d(3, momentum=None).to(device)
    for s in range(4):
        x = randn(4, 3, 2, 2, seed=40 + s) * (s + 1) + s
        t_mod(torch.tensor(x))
        n_mod(npnn.tensor(x, device=device))
    np.testing.assert_allclose(to_numpy(n_mod.running_mean), t_mod.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(n_mod.running_var), t_mod.running_var.numpy(), rtol=1e-5, atol=1e-6)
    t_mod.eval()
    n_mod.eval()
    x = randn(2, 3, 2, 2, seed=50)
    np.testing.assert_allclose(to_numpy(n_mod(npnn.tensor(x, device=device))), t_mod(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    assert n_mod.running_mean.dtype == npnn.float32 and n_mod.num_batches_tracked.dtype == npnn.int64


@pytest.mark.parametrize('name,x', [('InstanceNorm1d', X3), ('InstanceNorm2d', X4), ('InstanceNorm3d', X5)])
@pytest.mark.parametrize('kw', [{}, {'affine': True}, {'affine': True, 'track_running_stats': True,
                                                       'momentum': 0.2}])
def test_instancenorm(name, x, kw, device):
    run_both(name, (3,), [x], kw, device=device, train=True, steps=2)
    run_both(name, (3,), [x], kw, device=device, train=False)
    run_both(name, (3,), [x[0]], kw, device=device, train=True)   # unbatched


@pytest.mark.parametrize('name', ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout',
                                  'FeatureAlphaDropout'])
def test_dropout_layers_train_eval(name, device):
    shape = {'Dropout1d': (4, 8, 16), 'Dropout3d': (2, 8, 2, 4, 4)}.get(name, (4, 8, 6, 6))
    m = getattr(npnn.nn, name)(p=0.25).to(device)
    assert repr(m) == repr(getattr(torch.nn, name)(p=0.25))
    x = npnn.randn(*shape, device=device, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == shape
    assert not np.allclose(to_numpy(y), to_numpy(x))
    y.sum().backward()
    assert x.grad is not None
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match='dropout probability has to be between 0 and 1, but got 1.5'):
        getattr(npnn.nn, name)(p=1.5)


def test_dropout_inplace_train(device):
    m = npnn.nn.Dropout(0.5, inplace=True)
    x = npnn.ones(100, 100, device=device)
    y = m(x)
    assert y is x and set(np.unique(to_numpy(x))) <= {0.0, 2.0}


def test_linear_init_distribution():
    npnn.manual_seed(0)
    m = npnn.nn.Linear(400, 300)
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    bound = 1 / math.sqrt(400)   # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound
    bl = npnn.nn.Bilinear(20, 30, 5)
    assert np.abs(to_numpy(bl.weight)).max() <= 1 / math.sqrt(20)
    assert npnn.nn.Linear(4, 2, bias=False).bias is None


def test_lazy_linear(device):
    m = npnn.nn.LazyLinear(3)
    assert repr(m) == repr(torch.nn.LazyLinear(3))
    y = m(npnn.randn(2, 7))
    assert type(m) is npnn.nn.Linear and tuple(m.weight.shape) == (3, 7) and tuple(y.shape) == (2, 3)
    assert repr(m) == 'Linear(in_features=7, out_features=3, bias=True)'
    assert len(list(m.parameters())) == 2


@pytest.mark.skipif(not NEW_TORCH, reason='reprs of an older PyTorch')
def test_reprs():
    cases = [('BatchNorm2d', (3,), {'momentum': None, 'affine': False}), ('InstanceNorm2d', (3,), {'affine': True}),
             ('LayerNorm', ((3, 4),), {}), ('GroupNorm', (2, 4), {}), ('RMSNorm', (4,), {'eps': 1e-3}),
             ('LocalResponseNorm', (2,), {}), ('Unflatten', (1, (2, 2)), {}), ('ELU', (), {'inplace': True}),
             ('Softplus', (2, 10), {}), ('RReLU', (0.1, 0.2, True), {}), ('Hardtanh', (-2, 3), {}),
             ('Threshold', (0.1, 20), {}), ('Softmax', (), {}), ('PReLU', (4,), {}), ('GELU', ('tanh',), {}),
             ('Dropout2d', (0.2, True), {}), ('PairwiseDistance', (3, 1e-3, True), {}), ('Softshrink', (), {})]
    for name, a, k in cases:
        assert repr(getattr(npnn.nn, name)(*a, **k)) == repr(getattr(torch.nn, name)(*a, **k)), name
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                            torch.nn.Linear(8, 2), torch.nn.LogSoftmax(dim=1))
    n = npnn.nn.Sequential(npnn.nn.Linear(4, 8), npnn.nn.BatchNorm1d(8), npnn.nn.ReLU(), npnn.nn.Dropout(0.1),
                           npnn.nn.Linear(8, 2), npnn.nn.LogSoftmax(dim=1))
    assert repr(n) == repr(t)


def test_mlp_training_step_matches_torch(device):
    """A small model's loss and every parameter gradient agree after copying weights."""
    t = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.LayerNorm(16), torch.nn.GELU(), torch.nn.Linear(16, 4))
    n = npnn.nn.Sequential(npnn.nn.Linear(5, 16), npnn.nn.LayerNorm(16), npnn.nn.GELU(),
                           npnn.nn.Linear(16, 4)).to(device)
    copy_state(t, n, device)
    target = np.array([0, 1, 2, 3, 1, 0], np.int64)
    tl = torch.nn.CrossEntropyLoss()(t(torch.tensor(X2)), torch.tensor(target))
    nl = npnn.nn.CrossEntropyLoss()(n(npnn.tensor(X2, device=device)), npnn.tensor(target, device=device))
    tl.backward()
    nl.backward()
    np.testing.assert_allclose(float(nl), float(tl.detach()), rtol=1e-5)
    tp = dict(t.named_parameters())
    for k, p in n.named_parameters():
        np.testing.assert_allclose(to_numpy(p.grad), tp[k].grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
