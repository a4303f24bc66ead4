"""More complex-number parity with PyTorch: gradients of linear, complex() and polar(); complex random and
filled creation; and the errors PyTorch raises for ops that are not defined on complex tensors."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck
from tests.helpers import to_numpy
from tests.parity.test_complex_grad import _loss, _run  # loss weighting real and imaginary parts

torch = pytest.importorskip('torch')

_rng = np.random.default_rng(11)
X = _rng.standard_normal((5, 4)) + 1j * _rng.standard_normal((5, 4))
X3 = _rng.standard_normal((2, 3, 4)) + 1j * _rng.standard_normal((2, 3, 4))
W = _rng.standard_normal((3, 4)) + 1j * _rng.standard_normal((3, 4))
B = _rng.standard_normal(3) + 1j * _rng.standard_normal(3)
P = _rng.standard_normal((2, 3))
Q = _rng.standard_normal((2, 3))
PA = np.abs(P) + 0.1  # polar's abs (PyTorch leaves negative abs undefined)


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


# --- ops PyTorch does not define on complex tensors ----------------------------------------------------------

_ZE = np.array([[1 + 2j, -3 + 0.5j, 0.2 - 1j], [0.5 + 0.5j, 2 - 2j, -1 - 1j]])
_WE = np.array([[2 - 1j, 1 + 1j, -0.5 + 2j], [1 + 0j, -1 + 3j, 0.25 - 0.5j]])
_RE = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])

REJECTED = {
    'clamp': lambda L, z, w, r: L.clamp(z, -1, 1),
    'clamp_min': lambda L, z, w, r: L.clamp(z, min=0),
    'clamp_max_method': lambda L, z, w, r: z.clamp_max(0),
    'clamp_tensor_bound': lambda L, z, w, r: L.clamp(z, min=w),
    'clamp_tensor_bound_grad': lambda L, z, w, r: L.clamp(z, min=w.requires_grad_()),
    'clip': lambda L, z, w, r: L.clip(z, -1, 1),
    'clamp_': lambda L, z, w, r: z.clone().clamp_(-1, 1),
    'relu': lambda L, z, w, r: L.relu(z),
    'maximum': lambda L, z, w, r: L.maximum(z, w),
    'maximum_real_complex': lambda L, z, w, r: L.maximum(r, z),
    'minimum': lambda L, z, w, r: L.minimum(z, w),
    'fmax': lambda L, z, w, r: L.fmax(z, w),
    'fmin': lambda L, z, w, r: L.fmin(r, z),
    'max_binary': lambda L, z, w, r: L.max(z, w),
    'erf': lambda L, z, w, r: L.erf(z),
    'erfc': lambda L, z, w, r: L.erfc(z),
    'erfinv': lambda L, z, w, r: L.erfinv(z),
    'special_erf': lambda L, z, w, r: L.special.erf(z),
    'frac': lambda L, z, w, r: L.frac(z),
    'deg2rad': lambda L, z, w, r: L.deg2rad(z),
    'rad2deg': lambda L, z, w, r: L.rad2deg(z),
    'logit': lambda L, z, w, r: L.logit(z),
    'logit_eps': lambda L, z, w, r: L.logit(z, 1e-3),
    'xlogy': lambda L, z, w, r: L.xlogy(z, w),
    'xlogy_real_complex': lambda L, z, w, r: L.xlogy(r, z),
    'xlogy_scalar': lambda L, z, w, r: L.xlogy(z, 2.0),
    'floor': lambda L, z, w, r: L.floor(z),
    'ceil': lambda L, z, w, r: z.ceil(),
    'trunc': lambda L, z, w, r: L.trunc(z),
    'fix': lambda L, z, w, r: L.fix(z),
    'round': lambda L, z, w, r: L.round(z),
    'round_decimals': lambda L, z, w, r: L.round(z, decimals=2),
    'remainder': lambda L, z, w, r: L.remainder(z, w),
    'remainder_scalar': lambda L, z, w, r: L.remainder(z, 2.0),
    'mod_operator': lambda L, z, w, r: z % w,
    'remainder_real_complex': lambda L, z, w, r: L.remainder(r, z),
    'fmod': lambda L, z, w, r: L.fmod(z, w),
    'fmod_complex_scalar': lambda L, z, w, r: L.fmod(r, 1j),
    'floor_divide': lambda L, z, w, r: L.floor_divide(z, w),
    'div_trunc': lambda L, z, w, r: L.div(z, w, rounding_mode='trunc'),
    'heaviside': lambda L, z, w, r: L.heaviside(z, w),
    'heaviside_real_complex': lambda L, z, w, r: L.heaviside(r, z),
    'lt': lambda L, z, w, r: z < w,
    'le': lambda L, z, w, r: L.le(z, w),
    'gt': lambda L, z, w, r: z > 0,
    'ge': lambda L, z, w, r: L.ge(r, z),
    'lt_complex_scalar': lambda L, z, w, r: r < 1j,
    'gt_method': lambda L, z, w, r: z.gt(r),
    'atan2': lambda L, z, w, r: L.atan2(z, w),
    'hypot': lambda L, z, w, r: L.hypot(z, w),
    'copysign': lambda L, z, w, r: L.copysign(z, w),
    'lgamma': lambda L, z, w, r: L.lgamma(z),
    'digamma': lambda L, z, w, r: L.digamma(z),
    'signbit': lambda L, z, w, r: L.signbit(z),
    'isposinf': lambda L, z, w, r: L.isposinf(z),
    'isneginf': lambda L, z, w, r: L.isneginf(z),
    'sign': lambda L, z, w, r: L.sign(z),
    'sort': lambda L, z, w, r: L.sort(z),
    'sort_descending': lambda L, z, w, r: L.sort(z, 0, descending=True),
    'argsort': lambda L, z, w, r: L.argsort(z),
    'msort': lambda L, z, w, r: L.msort(z),
    'topk': lambda L, z, w, r: L.topk(z, 2),
    'topk_0d': lambda L, z, w, r: z[0, 0].topk(1),
    'max_all': lambda L, z, w, r: L.max(z),
    'min_all': lambda L, z, w, r: z.min(),
    'max_dim': lambda L, z, w, r: L.max(z, 0),
    'min_dim_keepdim': lambda L, z, w, r: z.min(1, keepdim=True),
    'amax': lambda L, z, w, r: L.amax(z),
    'amin_dim': lambda L, z, w, r: L.amin(z, 0),
    'aminmax': lambda L, z, w, r: L.aminmax(z),
    'argmax': lambda L, z, w, r: L.argmax(z),
    'argmin_dim': lambda L, z, w, r: z.argmin(1),
    'kthvalue': lambda L, z, w, r: L.kthvalue(z, 1),
    'median': lambda L, z, w, r: L.median(z),
    'median_dim': lambda L, z, w, r: L.median(z, 0),
    'nanmedian': lambda L, z, w, r: L.nanmedian(z),
    'nanmedian_dim': lambda L, z, w, r: L.nanmedian(z, 1),
    'mode': lambda L, z, w, r: L.mode(z),
    'cummax': lambda L, z, w, r: L.cummax(z, 0),
    'cummin': lambda L, z, w, r: L.cummin(z, 1),
}


@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
@pytest.mark.parametrize('name', sorted(REJECTED))
def test_complex_rejected_like_torch(name, dtype, device):
    f = REJECTED[name]
    cd, rd = np.dtype(dtype), np.float32 if dtype == 'complex64' else np.float64
    args = [_ZE.astype(cd), _WE.astype(cd), _RE.astype(rd)]
    with pytest.raises(Exception) as theirs:
        f(torch, *[torch.tensor(a) for a in args])
    with pytest.raises(Exception) as ours:
        f(npnn, *[npnn.tensor(a, device=device) for a in args])
    assert type(ours.value) is type(theirs.value)
    # PyTorch names its CPU kernels; the message is the same on every npnn device
    assert str(ours.value).strip() == str(theirs.value).strip()


ALLOWED = {
    'eq': lambda L, z, w: z == w,
    'ne': lambda L, z, w: L.ne(z, w),
    'isclose': lambda L, z, w: L.isclose(z, z + 1e-12),
    'logaddexp': lambda L, z, w: L.logaddexp(z, w),
    'logaddexp_real_complex': lambda L, z, w: L.logaddexp(z.real, w),
    'logcumsumexp': lambda L, z, w: L.logcumsumexp(z * 3, 1),
    'logcumsumexp_dim0': lambda L, z, w: L.logcumsumexp(L.cat([z, w]) * 2, 0),
    'nan_to_num': lambda L, z, w: L.nan_to_num(z),
    'cumsum': lambda L, z, w: L.cumsum(z, 0),
    'cummax_0d': lambda L, z, w: L.cummax(z[0, 0], 0).values,
    'cummin_0d_indices': lambda L, z, w: L.cummin(z[0, 0].real, -1).indices,
}


@pytest.mark.parametrize('name', sorted(ALLOWED))
def test_complex_still_allowed_like_torch(name, device):
    f = ALLOWED[name]
    ours = f(npnn, npnn.tensor(_ZE, device=device), npnn.tensor(_WE, device=device))
    theirs = f(torch, torch.tensor(_ZE), torch.tensor(_WE))
    assert to_numpy(ours).dtype == theirs.numpy().dtype
    np.testing.assert_allclose(to_numpy(ours), theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name', ['logaddexp', 'logcumsumexp_dim0'])
def test_complex_logaddexp_grad(name, device):
    ny, ng = _run(npnn, ALLOWED[name], [_ZE, _WE], device)
    ty, tg = _run(torch, ALLOWED[name], [_ZE, _WE], device)
    np.testing.assert_allclose(ny, ty, rtol=1e-12, atol=1e-12)
    for a, b in zip(ng, tg):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_real_order_ops_unchanged(device):
    """The complex checks leave real inputs alone (a few spot values against torch)."""
    r, s = _RE, _RE[::-1].copy()
    for f in (lambda L, a, b: L.clamp(a, -1, 1), lambda L, a, b: L.maximum(a, b), lambda L, a, b: a < b,
              lambda L, a, b: L.sort(a).values, lambda L, a, b: L.max(a, 0).values, lambda L, a, b: L.amax(a),
              lambda L, a, b: L.floor(a * 1.5), lambda L, a, b: L.remainder(a, 0.7), lambda L, a, b: L.erf(a),
              lambda L, a, b: L.topk(a, 2).values, lambda L, a, b: L.median(a), lambda L, a, b: L.cummax(a, 1).values):
        np.testing.assert_allclose(to_numpy(f(npnn, npnn.tensor(r, device=device), npnn.tensor(s, device=device))),
                                   f(torch, torch.tensor(r), torch.tensor(s)).numpy(), rtol=1e-12)


@pytest.mark.parametrize('name', ['logaddexp', 'logcumsumexp', 'logcumsumexp_dim0'])
def test_complex_logaddexp_gradcheck(name, device):
    ts = [npnn.tensor(a, requires_grad=True, device=device) for a in (_ZE, _WE)]
    assert gradcheck(lambda z, w: ALLOWED[name](npnn, z, w), ts)
