"""npnn.special's Bessel, error-function, zeta and incomplete-gamma functions against torch.special:
values (edge values included) in float32/float64, int promotion, gradients, gradcheck, errors."""
import numpy as np
import pytest

import npnn
import npnn.special as S
from npnn.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip('torch')

EDGE = [0.0, -0.0, 1e-30, 1e-6, 0.3, -0.3, 0.999, 1.0, -1.0, 2.5, -2.5, 7.0, -7.0, 30.0, -30.0, 88.7228, 88.7229,
        -88.7229, 90.0, -90.0, 200.0, -200.0, 800.0, np.inf, -np.inf, np.nan]
HUGE = [1e4, -1e4]

# name: (float32 rtol, atol, float64 rtol, atol, include HUGE in float32)
# torch's own Bessel J/Y and Airy kernels are less accurate than scipy's near their zeros (absolute error up to
# ~3e-8 in float64), and in float32 at large |x| (argument reduction in single precision)
FUNCS = {
    'i0e': (1e-5, 1e-7, 1e-12, 0, True), 'i1': (1e-5, 1e-7, 1e-12, 0, True), 'i1e': (1e-5, 1e-7, 1e-12, 0, True),
    'log_ndtr': (1e-5, 1e-7, 1e-12, 0, True), 'ndtri': (1e-5, 1e-7, 1e-12, 0, True),
    'erfcx': (1e-5, 1e-7, 1e-12, 0, True),
    'bessel_j0': (1e-4, 1e-6, 1e-6, 1e-7, False), 'bessel_j1': (1e-4, 1e-6, 1e-6, 1e-7, False),
    'bessel_y0': (1e-4, 1e-6, 1e-6, 1e-7, False), 'bessel_y1': (1e-4, 1e-6, 1e-6, 1e-7, False),
    'modified_bessel_i0': (1e-5, 1e-7, 1e-12, 0, True), 'modified_bessel_i1': (1e-5, 1e-7, 1e-12, 0, True),
    'modified_bessel_k0': (1e-5, 1e-7, 1e-12, 0, True), 'modified_bessel_k1': (1e-5, 1e-7, 1e-12, 0, True),
    'scaled_modified_bessel_k0': (1e-5, 1e-7, 1e-12, 0, True),
    'scaled_modified_bessel_k1': (1e-5, 1e-7, 1e-12, 0, True),
    'spherical_bessel_j0': (1e-5, 1e-7, 1e-12, 1e-16, True), 'airy_ai': (1e-4, 1e-5, 1e-6, 1e-6, False),
}
DIFFERENTIABLE = ['i0e', 'i1', 'i1e', 'log_ndtr', 'ndtri', 'erfcx']
NOT_DIFFERENTIABLE = [n for n in FUNCS if n not in DIFFERENTIABLE]


def _np(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', list(FUNCS))
def test_values(name, dtype, device):
    r32, a32, r64, a64, huge32 = FUNCS[name]
    vals = EDGE + (HUGE if dtype == np.float64 or huge32 else [])
    if name == 'ndtri':
        vals = [0.0, 1e-30, 1e-6, 0.02, 0.3, 0.5, 0.7, 0.999, 1 - 1e-7, 1.0, -0.5, 1.5, np.inf, -np.inf, np.nan]
    x = np.array(vals, dtype=dtype)
    got = getattr(S, name)(npnn.tensor(x, device=device))
    want = getattr(torch.special, name)(torch.tensor(x)).numpy()
    assert got.dtype == getattr(npnn, np.dtype(dtype).name)
    tol = dict(rtol=r32, atol=a32) if dtype == np.float32 else dict(rtol=r64, atol=a64)
    np.testing.assert_allclose(_np(got), want, equal_nan=True, **tol)
    # the same infinities (sign included) and nans
    np.testing.assert_array_equal(np.isnan(_np(got)), np.isnan(want))
    np.testing.assert_array_equal(_np(got)[np.isinf(want)], want[np.isinf(want)])


@pytest.mark.parametrize('name', list(FUNCS))
def test_int_input_promotes_to_default_float(name, device):
    x = np.array([0, 1, -1, 2, 5], dtype=np.int64)
    got = getattr(S, name)(npnn.tensor(x, device=device))
    want = getattr(torch.special, name)(torch.tensor(x))
    assert want.dtype == torch.float32 and got.dtype == npnn.float32
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-4, atol=1e-6, equal_nan=True)
    b = getattr(S, name)(npnn.tensor([True, False], device=device))
    np.testing.assert_allclose(_np(b), getattr(torch.special, name)(torch.tensor([True, False])).numpy(),
                               rtol=1e-5, atol=1e-7, equal_nan=True)


GRAD_POINTS = {
    'i0e': [0.0, 0.4, -0.4, 1.7, -3.2, 9.0, -12.0, 40.0],
    'i1': [0.0, 0.4, -0.4, 1.7, -3.2, 9.0, -12.0],
    'i1e': [0.0, 0.4, -0.4, 1.7, -3.2, 9.0, -12.0, 40.0],
    'log_ndtr': [0.0, 0.4, -0.4, 1.7, -3.2, 9.0, -12.0, -40.0],
    'ndtri': [0.01, 0.2, 0.5, 0.77, 0.999],
    'erfcx': [0.0, 0.4, -0.4, 1.7, -3.2, 9.0, 25.0, -2.0],
}


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', DIFFERENTIABLE)
def test_gradient_matches_torch(name, dtype, device):
    x = np.array(GRAD_POINTS[name], dtype=dtype)
    g = np.random.default_rng(0).uniform(0.5, 1.5, x.shape).astype(dtype)
    nx = npnn.tensor(x, device=device, requires_grad=True)
    ny = getattr(S, name)(nx)
    ny.backward(npnn.tensor(g, device=device))
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.special, name)(tx)
    ty.backward(torch.tensor(g))
    assert type(ny.grad_fn).__name__ == type(ty.grad_fn).__name__
    # float32 atol: erfcx's 2 x erfcx(x) - 2/sqrt(pi) cancels at large x in both libraries
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(_np(nx.grad), tx.grad.numpy(), **tol)


@pytest.mark.parametrize('name', DIFFERENTIABLE)
def test_gradcheck(name):
    pts = [p for p in GRAD_POINTS[name] if p != 0.0 or name not in ('i1', 'i1e', 'i0e')]
    x = npnn.tensor(np.array(pts), dtype=npnn.float64, requires_grad=True)
    f = getattr(S, name)
    assert gradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(f, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize('name', ['i1', 'i1e'])
def test_derivative_at_zero_is_half(name):
    x = npnn.tensor([0.0, -0.0], dtype=npnn.float64, requires_grad=True)
    getattr(S, name)(x).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0.5, 0.5])


@pytest.mark.parametrize('name', NOT_DIFFERENTIABLE)
def test_no_derivative_like_torch(name, device):
    x = npnn.tensor([0.5, 1.5], device=device, requires_grad=True)
    y = getattr(S, name)(x)
    t = getattr(torch.special, name)(torch.tensor([0.5, 1.5], requires_grad=True))
    assert y.requires_grad is t.requires_grad is False
    assert y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        t.sum().backward()


@pytest.mark.parametrize('name', list(FUNCS))
def test_complex_input_raises(name):
    kernel = name + '_cpu'
    msg = f'"{kernel}" not implemented for \'ComplexFloat\''
    with pytest.raises(NotImplementedError, match=msg):
        getattr(torch.special, name)(torch.ones(2, dtype=torch.complex64))
    with pytest.raises(NotImplementedError, match=msg):
        getattr(S, name)(npnn.ones(2, dtype=npnn.complex64))


@pytest.mark.parametrize('name', list(FUNCS))
def test_half(name):
    x = np.array([0.0, 0.5, -2.0, 12.0], dtype=np.float16)
    try:
        want = getattr(torch.special, name)(torch.tensor(x))
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for \'Half\''):
            getattr(S, name)(npnn.tensor(x))
        assert "'Half'" in str(e)
        return
    got = getattr(S, name)(npnn.tensor(x))
    assert got.dtype == npnn.float16
    np.testing.assert_allclose(_np(got).astype(np.float64), want.numpy().astype(np.float64), rtol=2e-3)


def test_out_argument():
    x = np.array([0.2, 1.5, -3.0], dtype=np.float64)
    out = npnn.empty(3, dtype=npnn.float64)
    res = S.erfcx(npnn.tensor(x), out=out)
    assert res is out
    np.testing.assert_allclose(_np(out), torch.special.erfcx(torch.tensor(x)).numpy(), rtol=1e-12)


# --- zeta and the incomplete gamma functions ----------------------------------------------------------------------

XS = [2.0, 1.0, 0.5, 0.0, -1.0, -2.5, 3.0, 1.5, 10.0, -3.0, np.inf, np.nan]
QS = [1.0, 0.5, 0.0, -1.0, -2.5, 2.0, 1e-3, -0.5, 30.0, np.inf, np.nan]


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', ['zeta', 'gammainc', 'gammaincc'])
def test_binary_values(name, dtype, device):
    X, Q = (a.astype(dtype) for a in np.meshgrid(XS, QS))
    got = _np(getattr(S, name)(npnn.tensor(X, device=device), npnn.tensor(Q, device=device)))
    want = getattr(torch.special, name)(torch.tensor(X), torch.tensor(Q)).numpy()
    assert got.dtype == want.dtype
    tol = dict(rtol=1e-5, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-12, atol=0)
    np.testing.assert_allclose(got, want, equal_nan=True, **tol)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize('name', ['zeta', 'gammainc', 'gammaincc'])
def test_binary_promotion_and_scalars(name, device):
    a = np.array([2, 3, 4], dtype=np.int64)
    b = np.array([1.5, 2.5, 0.5], dtype=np.float64)
    cases = [(npnn.tensor(a, device=device), npnn.tensor(b, device=device), torch.tensor(a), torch.tensor(b)),
             (npnn.tensor(b.astype(np.float32), device=device), npnn.tensor(3.0, dtype=npnn.float64, device=device),
              torch.tensor(b.astype(np.float32)), torch.tensor(3.0, dtype=torch.float64))]
    if name == 'zeta':  # torch's zeta takes Python numbers and int pairs; gammainc/gammaincc do not
        cases += [(npnn.tensor(a, device=device), npnn.tensor(a + 1, device=device), torch.tensor(a),
                   torch.tensor(a + 1)),
                  (npnn.tensor(a, device=device), 2, torch.tensor(a), 2),
                  (npnn.tensor(b, device=device), 1.5, torch.tensor(b), 1.5),
                  (2.5, npnn.tensor(b, device=device), 2.5, torch.tensor(b))]
    for ga, gb, ta, tb in cases:
        got = getattr(S, name)(ga, gb)
        want = getattr(torch.special, name)(ta, tb)
        assert str(got.dtype).split('.')[-1] == str(want.dtype).split('.')[-1]
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize('name', ['gammainc', 'gammaincc'])
def test_incomplete_gamma_rejects_numbers_and_int_pairs(name):
    kernel = {'gammainc': 'igamma_cpu', 'gammaincc': 'igammac_cpu'}[name]
    for lib, mod in ((npnn, S), (torch, torch.special)):
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Long\''):
            getattr(mod, name)(lib.tensor([1, 2]), lib.tensor([3, 4]))
    for args, msg in [((npnn.ones(2), 2), f"special_{name}(): argument 'other' (position 2) must be Tensor, not int"),
                      ((1.5, npnn.ones(2)),
                       f"special_{name}(): argument 'input' (position 1) must be Tensor, not float")]:
        with pytest.raises(TypeError, match=msg.replace('(', r'\(').replace(')', r'\)')):
            getattr(S, name)(*args)
        targs = tuple(torch.ones(2) if isinstance(x, npnn.Tensor) else x for x in args)
        with pytest.raises(TypeError, match=msg.replace('(', r'\(').replace(')', r'\)')):
            getattr(torch.special, name)(*targs)


@pytest.mark.parametrize('name', ['zeta', 'gammainc', 'gammaincc'])
def test_binary_gradient_second_argument(name, device):
    x = np.array([[2.0, 3.5, 1.5]])
    q = np.array([[0.7], [2.0]])
    nx, nq = npnn.tensor(x, device=device), npnn.tensor(q, device=device, requires_grad=True)
    tx, tq = torch.tensor(x), torch.tensor(q, requires_grad=True)
    getattr(S, name)(nx, nq).sum().backward()
    getattr(torch.special, name)(tx, tq).sum().backward()
    np.testing.assert_allclose(_np(nq.grad), tq.grad.numpy(), rtol=1e-10)
    nq64 = npnn.tensor(q, requires_grad=True)
    assert gradcheck(lambda t: getattr(S, name)(npnn.tensor(x), t), (nq64,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize('name,label', [('zeta', 'zeta'), ('gammainc', 'igamma: input'),
                                        ('gammaincc', 'igammac: input')])
def test_binary_first_argument_derivative_not_implemented(name, label):
    msg = f"the derivative for '{label}' is not implemented."
    for lib, mod in ((npnn, S), (torch, torch.special)):
        x = lib.tensor([2.0, 3.0], requires_grad=True)
        y = getattr(mod, name)(x, lib.tensor([1.0, 2.0]))
        assert y.requires_grad
        with pytest.raises(RuntimeError, match=msg):
            y.sum().backward()


@pytest.mark.parametrize('name,kernel', [('zeta', 'zeta_cpu'), ('gammainc', 'igamma_cpu'),
                                         ('gammaincc', 'igammac_cpu')])
def test_binary_complex_raises(name, kernel):
    msg = f'"{kernel}" not implemented for \'ComplexFloat\''
    with pytest.raises(NotImplementedError, match=msg):
        getattr(torch.special, name)(torch.ones(2, dtype=torch.complex64), torch.ones(2))
    with pytest.raises(NotImplementedError, match=msg):
        getattr(S, name)(npnn.ones(2, dtype=npnn.complex64), npnn.ones(2))


def test_exports():
    for name in list(FUNCS) + ['zeta', 'gammainc', 'gammaincc']:
        assert name in S.__all__ and callable(getattr(S, name))


def test_i0_second_derivative_matches_torch():
    xs = np.array([-2.5, -0.3, 0.0, 0.7, 3.0])
    n = npnn.tensor(xs, requires_grad=True)
    t = torch.tensor(xs, requires_grad=True)
    (gn,) = npnn.autograd.grad(npnn.i0(n).sum(), n, create_graph=True)
    (gt,) = torch.autograd.grad(torch.i0(t).sum(), t, create_graph=True)
    gn.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(gn.detach().numpy(), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(n.grad.numpy(), t.grad.numpy(), rtol=1e-10)
