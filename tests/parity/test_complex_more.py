"""More complex-number parity with PyTorch: gradients of linear, complex() and polar(); complex random and
filled creation; and the errors PyTorch raises for ops that are not defined on complex tensors."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck
from tests.helpers import to_numpy

torch = pytest.importorskip('torch')

_rng = np.random.default_rng(11)
X = _rng.standard_normal((5, 4)) + 1j * _rng.standard_normal((5, 4))
X3 = _rng.standard_normal((2, 3, 4)) + 1j * _rng.standard_normal((2, 3, 4))
W = _rng.standard_normal((3, 4)) + 1j * _rng.standard_normal((3, 4))
B = _rng.standard_normal(3) + 1j * _rng.standard_normal(3)
P = _rng.standard_normal((2, 3))
Q = _rng.standard_normal((2, 3))
PA = np.abs(P) + 0.1  # polar's abs (PyTorch leaves negative abs undefined)
LA = _rng.standard_normal(64)  # loss weights of the real parts
LB = _rng.standard_normal(64)  # ... and of the imaginary parts


def _loss(lib, y, dev):
    kw = {} if lib is torch else {'device': dev}
    n = y.numel()
    a = lib.tensor(LA[:n], **kw)
    if y.is_complex():
        return (y.real.reshape(-1) * a).sum() + (y.imag.reshape(-1) * lib.tensor(LB[:n], **kw)).sum()
    return (y.reshape(-1) * a).sum()


def _run(lib, f, arrays, dev, create_graph=False):
    kw = {} if lib is torch else {'device': dev}
    ts = [lib.tensor(a, requires_grad=True, **kw) for a in arrays]
    y = f(lib, *ts)
    grads = lib.autograd.grad(_loss(lib, y, dev), ts, create_graph=create_graph)
    return to_numpy(y), [to_numpy(g) for g in grads]


GRAD_CASES = {
    'linear': (lambda L, x, w, b: L.nn.functional.linear(x, w, b), [X, W, B]),
    'linear_no_bias': (lambda L, x, w: L.nn.functional.linear(x, w), [X, W]),
    'linear_3d': (lambda L, x, w, b: L.nn.functional.linear(x, w, b), [X3, W, B]),
    'linear_then_abs': (lambda L, x, w: L.nn.functional.linear(x, w).abs() ** 2, [X, W]),
    'complex': (lambda L, a, b: L.complex(a, b) ** 2, [P, Q]),
    'complex_broadcast': (lambda L, a, b: L.complex(a[:1], b) * (1 - 2j), [P, Q]),
    'polar': (lambda L, a, b: L.polar(a, b), [PA, Q]),
    'polar_squared': (lambda L, a, b: L.polar(a, b) ** 2, [PA, Q * 3]),
    'polar_broadcast': (lambda L, a, b: L.polar(a[:, :1], b), [PA, Q]),
}


@pytest.mark.parametrize('create_graph', [False, True], ids=['plain', 'create_graph'])
@pytest.mark.parametrize('name', sorted(GRAD_CASES))
def test_complex_grad_matches_torch(name, create_graph, device):
    f, arrays = GRAD_CASES[name]
    ny, ng = _run(npnn, f, arrays, device, create_graph)
    ty, tg = _run(torch, f, arrays, device, create_graph)
    assert ny.dtype == ty.dtype
    np.testing.assert_allclose(ny, ty, rtol=1e-9, atol=1e-12)
    for i, (a, b) in enumerate(zip(ng, tg)):
        assert a.dtype == b.dtype, f'gradient {i} dtype'
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f'gradient {i}')


@pytest.mark.parametrize('name', sorted(GRAD_CASES))
def test_gradcheck(name, device):
    f, arrays = GRAD_CASES[name]
    ts = [npnn.tensor(a, requires_grad=True, device=device) for a in arrays]
    assert gradcheck(lambda *xs: f(npnn, *xs), ts)


@pytest.mark.parametrize('name', ['linear', 'polar', 'complex'])
def test_gradgradcheck(name, device):
    f, arrays = GRAD_CASES[name]
    ts = [npnn.tensor(a, requires_grad=True, device=device) for a in arrays]
    assert gradgradcheck(lambda *xs: f(npnn, *xs), ts)


def test_nn_linear_complex64_module(device):
    x = X.astype(np.complex64)
    m = npnn.nn.Linear(4, 3, dtype=npnn.complex64).to(device)
    tm = torch.nn.Linear(4, 3, dtype=torch.complex64)
    with npnn.no_grad():
        m.weight.copy_(npnn.tensor(W.astype(np.complex64)))
        m.bias.copy_(npnn.tensor(B.astype(np.complex64)))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(W.astype(np.complex64)))
        tm.bias.copy_(torch.tensor(B.astype(np.complex64)))
    xi = npnn.tensor(x, requires_grad=True, device=device)
    txi = torch.tensor(x, requires_grad=True)
    for lib, mod, inp in ((npnn, m, xi), (torch, tm, txi)):
        _loss(lib, mod(inp), device).backward()
    for a, b in ((xi.grad, txi.grad), (m.weight.grad, tm.weight.grad), (m.bias.grad, tm.bias.grad)):
        assert a.dtype == npnn.complex64
        np.testing.assert_allclose(to_numpy(a), b.numpy(), rtol=1e-5, atol=1e-5)


def test_linear_real_unchanged(device):
    x, w, b = X.real.copy(), W.real.copy(), B.real.copy()
    ny, ng = _run(npnn, GRAD_CASES['linear'][0], [x, w, b], device)
    ty, tg = _run(torch, GRAD_CASES['linear'][0], [x, w, b], device)
    np.testing.assert_allclose(ny, ty, rtol=1e-12)
    for a, c in zip(ng, tg):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('fn', ['complex', 'polar'])
def test_complex_polar_dtype_errors_match_torch(fn, device):
    f32 = np.ones(3, np.float32)
    cases = [(f32, np.ones(3)), (np.ones(3, np.int64), np.ones(3, np.int64)),
             (np.ones(3, np.complex64), np.ones(3, np.complex64))]
    for a, b in cases:
        with pytest.raises(RuntimeError) as ours:
            getattr(npnn, fn)(npnn.tensor(a, device=device), npnn.tensor(b, device=device))
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch, fn)(torch.tensor(a), torch.tensor(b))
        assert str(ours.value) == str(theirs.value)
    z = getattr(npnn, fn)(npnn.tensor(f32, device=device), npnn.tensor(f32, device=device))
    assert z.dtype == npnn.complex64


# --- creation ----------------------------------------------------------------------------------------------

CDTYPES = [('complex64', np.float32), ('complex128', np.float64)]


@pytest.mark.parametrize('name,part', CDTYPES)
def test_randn_complex_draws_both_parts(name, part, device):
    n = 40000
    z = npnn.randn(n, dtype=getattr(npnn, name), device=device)
    assert z.dtype == getattr(npnn, name)
    a = to_numpy(z)
    t = torch.randn(n, dtype=getattr(torch, name)).numpy()
    for parts in ((a.real, a.imag), (t.real, t.imag)):
        for p in parts:
            assert p.dtype == part
            assert abs(p.mean()) < 0.02 and abs(p.var() - 0.5) < 0.02  # N(0, 1/2) for each part
    assert abs(np.corrcoef(a.real, a.imag)[0, 1]) < 0.03
    if part == np.float64:  # drawn in double precision, not float32 values widened
        assert np.mean(a.real.astype(np.float32).astype(np.float64) != a.real) > 0.99
    like = npnn.randn_like(z[:5])
    assert like.dtype == z.dtype and bool((like.imag != 0).all())


@pytest.mark.parametrize('name,part', CDTYPES)
def test_rand_complex_uniform_parts(name, part, device):
    n = 40000
    a = to_numpy(npnn.rand(n, dtype=getattr(npnn, name), device=device))
    assert a.real.dtype == part
    for p in (a.real, a.imag):
        assert p.min() >= 0 and p.max() < 1 and abs(p.mean() - 0.5) < 0.01
    a = to_numpy(npnn.rand_like(npnn.zeros(n, dtype=getattr(npnn, name), device=device)))
    assert abs(a.imag.mean() - 0.5) < 0.01


@pytest.mark.parametrize('name,part', CDTYPES)
def test_normal_complex(name, part, device):
    n = 40000
    a = to_numpy(npnn.normal(2.0, 3.0, (n,), dtype=getattr(npnn, name), device=device))
    t = torch.normal(2.0, 3.0, (n,), dtype=getattr(torch, name)).numpy()
    for x in (a, t):  # PyTorch shifts both parts by a real mean; each part has variance std**2 / 2
        for p in (x.real, x.imag):
            assert abs(p.mean() - 2.0) < 0.05 and abs(p.var() - 4.5) < 0.15
    m = npnn.full((n,), 1 + 2j, dtype=getattr(npnn, name), device=device)
    a = to_numpy(npnn.normal(m, 3.0))
    assert a.dtype == np.dtype(name)
    assert abs(a.real.mean() - 1) < 0.05 and abs(a.imag.mean() - 2) < 0.05 and abs(a.imag.var() - 4.5) < 0.15
    with pytest.raises(RuntimeError) as ours:
        npnn.normal(npnn.zeros(3, device=device), npnn.ones(3, dtype=getattr(npnn, name), device=device))
    with pytest.raises(RuntimeError) as theirs:
        torch.normal(torch.zeros(3), torch.ones(3, dtype=getattr(torch, name)))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize('name', ['complex64', 'complex128'])
def test_filled_complex(name, device):
    dt, tdt = getattr(npnn, name), getattr(torch, name)
    for ours, theirs in ((npnn.zeros(2, 3, dtype=dt, device=device), torch.zeros(2, 3, dtype=tdt)),
                         (npnn.ones(2, 3, dtype=dt, device=device), torch.ones(2, 3, dtype=tdt)),
                         (npnn.full((2, 3), 1.5 - 2j, dtype=dt, device=device), torch.full((2, 3), 1.5 - 2j, dtype=tdt)),
                         (npnn.full((2,), 1.5, dtype=dt, device=device), torch.full((2,), 1.5, dtype=tdt))):
        assert ours.dtype == dt
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    e = npnn.empty(2, 3, dtype=dt, device=device)
    assert e.dtype == dt and tuple(e.shape) == (2, 3)
    assert npnn.full((2,), 1 + 2j, device=device).dtype == npnn.complex64  # the default complex type
