"""Lazy modules against PyTorch's: reprs, parameter names and state-dict entries before and after the first call,
inferred shapes, outputs and gradients with the same weights, loading a checkpoint into a lazy module, errors."""
import numpy as np
import pytest

import npnn
from tests.helpers import to_numpy, torch_or_skip

torch = torch_or_skip()

CASES = [
    ('LazyLinear', (3,), {}, (2, 5)),
    ('LazyLinear', (4,), {'bias': False}, (2, 3, 6)),
    ('LazyConv1d', (4, 3), {'padding': 1, 'groups': 2}, (2, 6, 8)),
    ('LazyConv2d', (4, 3), {'stride': 2, 'padding_mode': 'reflect', 'padding': 1}, (2, 3, 7, 7)),
    ('LazyConv2d', (4, 3), {}, (3, 6, 6)),  # unbatched
    ('LazyConv3d', (2, 2), {'bias': False}, (1, 3, 3, 4, 4)),
    ('LazyConvTranspose1d', (4, 3), {'stride': 2, 'output_padding': 1}, (2, 5, 6)),
    ('LazyConvTranspose2d', (4, 3), {'groups': 2, 'dilation': 2}, (2, 4, 4, 4)),
    ('LazyConvTranspose3d', (2, 2), {}, (1, 3, 2, 3, 3)),
    ('LazyBatchNorm1d', (), {}, (4, 5)),
    ('LazyBatchNorm1d', (), {'momentum': None, 'bias': False}, (4, 5, 3)),
    ('LazyBatchNorm2d', (), {'affine': False}, (4, 3, 3, 3)),
    ('LazyBatchNorm3d', (), {'track_running_stats': False}, (2, 3, 2, 3, 3)),
    ('LazyInstanceNorm1d', (), {}, (2, 5, 7)),
    ('LazyInstanceNorm2d', (), {'affine': False}, (2, 3, 4, 4)),
    ('LazyInstanceNorm3d', (), {'track_running_stats': False}, (2, 3, 2, 3, 3)),
]
IDS = [f'{c[0]}-{i}' for i, c in enumerate(CASES)]


def _entries(module):
    """(name, type name, shape or None) of every state-dict entry, placeholders shown by their type only."""
    out = []
    for k, v in module.state_dict().items():
        lazy = type(v).__name__.startswith('Uninitialized')
        out.append((k, type(v).__name__ if lazy else 'tensor', None if lazy else tuple(v.shape)))
    return out


def _load_from_torch(n_mod, t_mod):
    n_mod.load_state_dict({k: npnn.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()})


@pytest.mark.parametrize('name, args, kw, shape', CASES, ids=IDS)
def test_before_and_after_first_call(name, args, kw, shape):
    t = getattr(torch.nn, name)(*args, **kw)
    n = getattr(npnn.nn, name)(*args, **kw)
    assert repr(n) == repr(t)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in n.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert _entries(n) == _entries(t)
    assert n.has_uninitialized_params() == t.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t(torch.tensor(x))
    n(npnn.tensor(x))
    assert type(n).__name__ == type(t).__name__ and repr(n) == repr(t)
    assert _entries(n) == _entries(t)
    assert [type(p).__name__ for p in n.parameters()] == [type(p).__name__ for p in t.parameters()]


@pytest.mark.parametrize('name, args, kw, shape', CASES, ids=IDS)
def test_outputs_and_gradients_with_torch_weights(name, args, kw, shape, device):
    t = getattr(torch.nn, name)(*args, **kw)
    n = getattr(npnn.nn, name)(*args, **kw)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    t(torch.tensor(x))
    n(npnn.tensor(x))
    # random weights (the norms start at ones/zeros) copied from torch into npnn
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    _load_from_torch(n, t)
    n.to(device)
    x2 = rng.standard_normal(shape).astype(np.float32)
    tx = torch.tensor(x2, requires_grad=True)
    nx = npnn.tensor(x2, device=device, requires_grad=True)
    ty, ny = t(tx), n(nx)
    np.testing.assert_allclose(to_numpy(ny), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    (ty * torch.tensor(g)).sum().backward()
    (ny * npnn.tensor(g, device=device)).sum().backward()
    np.testing.assert_allclose(to_numpy(nx.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (k, np_), (_, tp) in zip(n.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(to_numpy(np_.grad), tp.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=k)
    for (k, nb), (_, tb) in zip(n.named_buffers(), t.named_buffers()):
        np.testing.assert_allclose(to_numpy(nb), tb.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.filterwarnings("ignore:input's size at dim=1 does not match num_features")
@pytest.mark.parametrize('name, args, kw, shape', CASES, ids=IDS)
def test_checkpoint_into_lazy_module(name, args, kw, shape):
    t = getattr(torch.nn, name)(*args, **kw)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    t(torch.tensor(x))
    t_lazy = getattr(torch.nn, name)(*args, **kw)
    n = getattr(npnn.nn, name)(*args, **kw)
    t_lazy.load_state_dict(t.state_dict())
    _load_from_torch(n, t)
    assert type(n).__name__ == type(t_lazy).__name__ == name
    assert n.has_uninitialized_params() == t_lazy.has_uninitialized_params()
    assert _entries(n) == _entries(t_lazy)
    t_lazy.eval()
    n.eval()
    try:
        ty = t_lazy(torch.tensor(x))
    except ValueError as e:
        # a loaded affine instance norm keeps num_features=0 in PyTorch and then refuses the input; so do we
        with pytest.raises(ValueError, match=f'^{e}$'.replace('(', r'\(').replace(')', r'\)')):
            n(npnn.tensor(x))
        assert 'InstanceNorm' in name and kw.get('affine', True)
        return
    ny = n(npnn.tensor(x))
    np.testing.assert_allclose(to_numpy(ny), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert repr(n) == repr(t_lazy)  # in_features is recovered for Linear only, as in PyTorch


def test_placeholder_state_dict_round_trip():
    t, n = torch.nn.LazyLinear(3), npnn.nn.LazyLinear(3)
    t.load_state_dict(torch.nn.LazyLinear(3).state_dict())
    n.load_state_dict(npnn.nn.LazyLinear(3).state_dict())
    assert n.has_uninitialized_params() and t.has_uninitialized_params()
    for lib in (torch, npnn):
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
            lib.nn.Linear(2, 3).load_state_dict(lib.nn.LazyLinear(3).state_dict())


def test_conversions_before_first_call():
    for lib in (torch, npnn):
        m = lib.nn.LazyBatchNorm1d().double()
        assert type(m.running_mean).__name__ == 'UninitializedBuffer' and str(m.weight.dtype).endswith('float64')
        m(lib.ones(4, 3, dtype=lib.float64))
        assert str(m.running_var.dtype).endswith('float64') and str(m.num_batches_tracked.dtype).endswith('int64')
    t, n = torch.nn.LazyLinear(2).half(), npnn.nn.LazyLinear(2).half()
    assert str(t.weight.dtype).split('.')[-1] == str(n.weight.dtype).split('.')[-1] == 'float16'


def test_errors_match():
    cases = [
        (lambda lib: lib.nn.LazyConv2d(4, 3)(lib.ones(3, 5)), RuntimeError,
         r'Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d'),
        (lambda lib: lib.nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5)), ValueError,
         'in_channels must be divisible by groups'),
        (lambda lib: lib.nn.LazyConvTranspose1d(2, 3, padding_mode='circular'), ValueError,
         'Only "zeros" padding mode is supported for LazyConvTranspose1d'),
        (lambda lib: lib.nn.LazyBatchNorm2d()(lib.ones(3, 5)), ValueError, r'expected 4D input \(got 2D input\)'),
        # unbatched instance norm input: num_features comes from dim 1 in PyTorch too, then the check fails
        (lambda lib: lib.nn.LazyInstanceNorm1d()(lib.ones(3, 5)), ValueError,
         r"expected input's size at dim=0 to match num_features \(5\), but got: 3"),
        (lambda lib: lib.nn.LazyLinear(3).weight.shape, RuntimeError, "Can't access the shape"),
        (lambda lib: lib.nn.LazyLinear(3).weight.numel(), ValueError,
         'Attempted to use an uninitialized parameter in'),
        (lambda lib: lib.nn.LazyLinear(3).weight + 1, ValueError, 'Attempted to use an uninitialized parameter in'),
        (lambda lib: lib.nn.LazyLinear(3).share_memory(), RuntimeError,
         "Can't share memory on an uninitialized parameter or buffer"),
        (lambda lib: lib.nn.LazyLinear(3)._replicate_for_data_parallel(), RuntimeError,
         "Modules with uninitialized parameters can't be used with `DataParallel`"),
    ]
    for fn, exc, msg in cases:
        for lib in (torch, npnn):
            with pytest.raises(exc, match=msg):
                fn(lib)


def test_optimizer_built_before_first_call_matches():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    t, n = torch.nn.LazyLinear(2), npnn.nn.LazyLinear(2)
    t_opt = torch.optim.Adam(t.parameters(), lr=0.1)
    n_opt = npnn.optim.Adam(n.parameters(), lr=0.1)
    t(torch.tensor(x))
    n(npnn.tensor(x))
    _load_from_torch(n, t)
    for _ in range(3):
        for lib, m, opt in ((torch, t, t_opt), (npnn, n, n_opt)):
            opt.zero_grad()
            (m(lib.tensor(x)) ** 2).sum().backward()
            opt.step()
    np.testing.assert_allclose(to_numpy(n.weight), t.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(n.bias), t.bias.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name, args, x_shape', [('LazyLinear', (256,), (1, 300)),
                                                 ('LazyConv2d', (256, 3), (1, 40, 5, 5)),
                                                 ('LazyConvTranspose1d', (256, 3), (1, 64, 4))])
def test_init_distribution_like_torch(name, args, x_shape):
    # the generators differ, so the distributions are compared: both uniform on +-1/sqrt(fan_in), the bound
    # PyTorch's reset_parameters gives weight (kaiming_uniform, a=sqrt(5)) and bias
    torch.manual_seed(0)
    t, n = getattr(torch.nn, name)(*args), getattr(npnn.nn, name)(*args)
    t(torch.ones(x_shape))
    n(npnn.ones(*x_shape))
    tw = t.weight.detach().numpy()
    fan_in = tw.shape[1] * int(np.prod(tw.shape[2:]))
    bound = 1 / np.sqrt(fan_in)
    for k in ('weight', 'bias'):
        for w in (getattr(t, k).detach().numpy(), to_numpy(getattr(n, k))):
            assert w.shape == getattr(t, k).shape
            assert np.abs(w).max() <= bound * (1 + 1e-6), k
            # a uniform sample of >= 256 values: std within 20% (over 3 standard errors) of bound/sqrt(3)
            assert abs(w.std() - bound / np.sqrt(3)) < 0.2 * bound / np.sqrt(3), k
            assert abs(w.mean()) < 0.25 * bound, k
