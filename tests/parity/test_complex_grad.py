"""Gradients through complex tensors follow PyTorch's convention (the conjugate Wirtinger derivative: for a
holomorphic f, ``grad_in = grad_out * conj(f'(z))``; a real input of a complex op gets the real part).

Each case runs the same function in npnn and torch, reduces its (possibly complex) output to a real loss
that weighs the real and the imaginary parts differently, and compares values and ``.grad``; the ops are
also gradchecked in complex128 (which perturbs both parts of complex inputs)."""
import warnings

import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck
from tests.helpers import to_numpy

torch = pytest.importorskip('torch')

_rng = np.random.default_rng(7)
Z = (_rng.standard_normal((3, 4)) + 1j * _rng.standard_normal((3, 4))) * 0.7
W = _rng.standard_normal((3, 4)) + 1j * _rng.standard_normal((3, 4))
R = _rng.standard_normal((3, 4))
M = _rng.standard_normal((4, 2)) + 1j * _rng.standard_normal((4, 2))
Z0 = Z.copy()
Z0[0, 1] = 0
Z0[2, 3] = 0
A = _rng.standard_normal(64)  # weights of the real parts in the loss
B = _rng.standard_normal(64)  # ... and of the imaginary parts


def _loss(lib, y, dev):
    kw = {} if lib is torch else {'device': dev}
    n = y.numel()
    a = lib.tensor(A[:n], **kw)
    if y.is_complex():
        return (y.real.reshape(-1) * a).sum() + (y.imag.reshape(-1) * lib.tensor(B[:n], **kw)).sum()
    return (y.reshape(-1) * a).sum()


def _run(lib, f, arrays, dev, create_graph=False):
    kw = {} if lib is torch else {'device': dev}
    ts = [lib.tensor(a, requires_grad=True, **kw) for a in arrays]
    y = f(lib, *ts)
    grads = lib.autograd.grad(_loss(lib, y, dev), ts, create_graph=create_graph)
    if lib is torch:
        return y.detach().resolve_conj().numpy(), [g.detach().resolve_conj().numpy() for g in grads]
    return to_numpy(y), [to_numpy(g) for g in grads]


def _unary(name):
    return lambda L, a: getattr(L, name)(a)


UNARY = ['exp', 'log', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tan', 'sinh', 'cosh', 'tanh', 'asin', 'acos',
         'atan', 'asinh', 'acosh', 'atanh', 'sigmoid', 'expm1', 'log1p', 'log2', 'log10', 'exp2', 'square', 'sgn',
         'abs', 'neg']

CASES = {
    'mul': (lambda L, a, b: a * b, [Z, W]),
    'mul_complex_real': (lambda L, a, b: a * b, [Z, R]),
    'mul_real_complex': (lambda L, a, b: a * b, [R, Z]),
    'mul_broadcast': (lambda L, a, b: a * b[:1], [Z, W]),
    'mul_complex_scalar': (lambda L, a: a * (2 - 1j), [Z]),
    'real_times_complex_scalar': (lambda L, a: a * (2 - 1j), [R]),
    'abs_of_product': (lambda L, a, b: (a * b).abs(), [Z, W]),
    'div': (lambda L, a, b: a / b, [Z, W]),
    'div_complex_real': (lambda L, a, b: a / b, [Z, R]),
    'div_real_complex': (lambda L, a, b: a / b, [R, Z]),
    'div_complex_scalar': (lambda L, a: a / (2 - 1j), [Z]),
    'rdiv_complex_scalar': (lambda L, a: (2 - 1j) / a, [Z]),
    'rdiv_real_tensor': (lambda L, a: (1 + 1j) / a, [R]),
    'normalize': (lambda L, a: a / a.abs(), [Z]),
    'add_alpha': (lambda L, a, b: L.add(a, b, alpha=1 - 2j), [Z, W]),
    'sub_alpha': (lambda L, a, b: L.sub(a, b, alpha=1 - 2j), [Z, W]),
    'add_real_complex': (lambda L, a, b: a + b, [R, Z]),
    'pow_2': (lambda L, a: a ** 2, [Z]),
    'pow_3': (lambda L, a: a ** 3, [Z]),
    'pow_half': (lambda L, a: a ** 0.5, [Z]),
    'pow_complex_scalar': (lambda L, a: a ** (0.5 + 1j), [Z]),
    'pow_tensor': (lambda L, a, b: a ** b, [Z, W]),
    'rpow': (lambda L, a: 2 ** a, [Z]),
    'rpow_complex_base': (lambda L, a: (1 + 1j) ** a, [Z]),
    'real_pow_complex': (lambda L, a: a.abs() ** (1 + 0.5j), [R]),
    'sgn_at_zero': (lambda L, a: L.sgn(a), [Z0]),
    'abs_at_zero': (lambda L, a: a.abs(), [Z0]),
    'angle': (lambda L, a: a.angle(), [Z]),
    'real_imag': (lambda L, a: a.real * 2.0 - a.imag, [Z]),
    'conj': (lambda L, a, b: a.conj() * b, [Z, W]),
    'view_as_real': (lambda L, a: L.view_as_real(a) * 1.5, [Z]),
    'view_as_complex': (lambda L, a, b: L.view_as_complex(a.reshape(3, 2, 2)) * b[:, :2], [R, W]),
    'sum': (lambda L, a, b: (a * b).sum(0), [Z, W]),
    'mean': (lambda L, a, b: (a * b).mean(1), [Z, W]),
    'prod': (lambda L, a: a.prod(1), [Z]),
    'prod_all': (lambda L, a: a.prod(), [Z]),
    'prod_with_zeros': (lambda L, a: a.prod(1), [Z0]),
    'cumsum': (lambda L, a: a.cumsum(0) ** 2, [Z]),
    'cumprod': (lambda L, a: a.cumprod(1), [Z]),
    'cumprod_with_zeros': (lambda L, a: a.cumprod(1), [Z0]),
    'logsumexp': (lambda L, a: L.logsumexp(a, 1), [Z]),
    'var': (lambda L, a: a.var(1), [Z]),
    'var_all': (lambda L, a: a.var(), [Z]),
    'std': (lambda L, a: a.std(0), [Z]),
    'norm': (lambda L, a: a.norm(), [Z]),
    'vector_norm_dim': (lambda L, a: L.linalg.vector_norm(a, dim=1), [Z]),
    'norm_p3': (lambda L, a: a.norm(p=3), [Z]),
    'abs2': (lambda L, a: (a * a.conj()).real.sum(), [Z]),
    'matmul': (lambda L, a, b: a @ b, [Z, M]),
    'matmul_transposed': (lambda L, a, b: a.mT @ b, [Z, W]),
    'mm': (lambda L, a, b: L.mm(a, b), [Z, M]),
    'bmm': (lambda L, a, b: L.bmm(a.reshape(1, 3, 4), b.reshape(1, 4, 2)), [Z, M]),
    'matmul_broadcast': (lambda L, a, b: a.reshape(3, 1, 4) @ b, [Z, M]),
    'mv': (lambda L, a, b: L.mv(a, b[0]), [Z, W]),
    'vec_mat': (lambda L, a, b: a[0] @ b, [Z, M]),
    'dot': (lambda L, a, b: L.dot(a[0], b[1]), [Z, W]),
    'vdot': (lambda L, a, b: L.vdot(a[0], b[1]), [Z, W]),
    'outer': (lambda L, a, b: L.outer(a[0], b[1]), [Z, W]),
    'einsum': (lambda L, a, b: L.einsum('ij,kj->ik', a, b), [Z, W]),
    'tensordot': (lambda L, a, b: L.tensordot(a, b, ([1], [1])), [Z, W]),
    'addmm': (lambda L, a, b: L.addmm(a[:, :2], a, b), [Z, M]),
    'addcmul': (lambda L, a, b: L.addcmul(a, a, b, value=0.5), [Z, W]),
    'addcdiv': (lambda L, a, b: L.addcdiv(a, a, b, value=0.5), [Z, W]),
    'lerp': (lambda L, a, b: L.lerp(a, b, 0.3), [Z, W]),
    'sinc': (lambda L, a: L.sinc(a), [Z]),
    'exp_of_real_times_i': (lambda L, a: L.exp(a * 1j), [R]),
    'cov': (lambda L, a: L.cov(a), [Z]),
    'corrcoef': (lambda L, a: L.corrcoef(a), [Z]),
    'float_power': (lambda L, a: L.float_power(a, 2), [Z]),
    'float_power_real_complex': (lambda L, a, b: L.float_power(a.abs(), b), [R, W]),
}
CASES.update({name: (_unary(name), [Z]) for name in UNARY})


@pytest.mark.parametrize('create_graph', [False, True], ids=['plain', 'create_graph'])
@pytest.mark.parametrize('name', sorted(CASES))
def test_complex_grad_matches_torch(name, create_graph, device):
    f, arrays = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no "discards the imaginary part" warning on the way
        ny, ng = _run(npnn, f, arrays, device, create_graph)
    ty, tg = _run(torch, f, arrays, device, create_graph)
    assert ny.dtype == ty.dtype
    np.testing.assert_allclose(ny, ty, rtol=1e-9, atol=1e-12)
    for i, (a, b) in enumerate(zip(ng, tg)):
        assert a.dtype == b.dtype, f'gradient {i} dtype'
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f'gradient {i}')


def test_complex64_matches_torch(device):
    f = lambda L, a, b: ((a * b).exp() / b).abs() * (a @ b.mT).abs().sum()  # noqa: E731
    arrays = [Z.astype(np.complex64), W.astype(np.complex64)]
    ny, ng = _run(npnn, f, arrays, device)
    ty, tg = _run(torch, f, arrays, device)
    np.testing.assert_allclose(ny, ty, rtol=1e-5, atol=1e-5)
    for a, b in zip(ng, tg):
        assert a.dtype == b.dtype == np.complex64
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_real_input_of_complex_op_gets_real_gradient(device):
    """x * c with real x and complex c: x.grad is the real part, as in PyTorch (it used to be the real part of
    g * c instead of g * conj(c))."""
    x = npnn.tensor(R, requires_grad=True, device=device)
    c = npnn.tensor(W, requires_grad=True, device=device)
    (x * c).imag.sum().backward()
    assert x.grad.dtype == npnn.float64
    np.testing.assert_allclose(to_numpy(x.grad), W.imag)  # d Im(x c)/dx = Im(c) = Re(1j * conj(c))
    np.testing.assert_allclose(to_numpy(c.grad), 1j * R)  # d/d Re(c) + i d/d Im(c) of x Im(c)
    tx, tc = torch.tensor(R, requires_grad=True), torch.tensor(W, requires_grad=True)
    (tx * tc).imag.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy())
    np.testing.assert_allclose(to_numpy(c.grad), tc.grad.numpy())


def test_second_order_through_mul_and_exp(device):
    def f(lib, a, b):
        y = (a * b).exp()
        g, = lib.autograd.grad(_loss(lib, y, device), a, create_graph=True)
        return g

    ny, ng = _run(npnn, f, [Z, W], device)
    ty, tg = _run(torch, f, [Z, W], device)
    np.testing.assert_allclose(ny, ty, rtol=1e-9, atol=1e-12)
    for a, b in zip(ng, tg):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_var_of_complex_is_real(device):
    z = npnn.tensor(Z, device=device)
    assert z.var(1).dtype == npnn.float64
    np.testing.assert_allclose(to_numpy(z.var(1)), torch.tensor(Z).var(1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(z.std()), torch.tensor(Z).std().numpy(), rtol=1e-12)
    assert z.norm().dtype == npnn.float64
    z0 = npnn.tensor(Z0, device=device)
    n0 = npnn.linalg.vector_norm(z0, 0)
    assert n0.dtype == npnn.float64 and float(n0) == float(torch.linalg.vector_norm(torch.tensor(Z0), 0))


def test_sigmoid_of_complex_value(device):
    z = npnn.tensor(Z * 3, device=device)
    np.testing.assert_allclose(to_numpy(z.sigmoid()), torch.tensor(Z * 3).sigmoid().numpy(), rtol=1e-12)


def test_sign_rejects_complex_like_torch(device):
    z = npnn.tensor(Z, device=device)
    with pytest.raises(RuntimeError) as ours:
        z.sign()
    with pytest.raises(RuntimeError) as theirs:
        torch.tensor(Z).sign()
    assert str(ours.value) == str(theirs.value)
    np.testing.assert_allclose(to_numpy(z.sgn()), torch.tensor(Z).sgn().numpy(), rtol=1e-12)


GRADCHECK = ['mul', 'mul_complex_real', 'mul_real_complex', 'div', 'div_real_complex', 'rdiv_complex_scalar',
             'normalize', 'pow_tensor', 'pow_complex_scalar', 'rpow_complex_base', 'sgn', 'abs', 'prod',
             'cumprod_with_zeros', 'logsumexp', 'var', 'norm', 'matmul', 'vdot', 'tanh', 'acosh', 'sigmoid',
             'real_times_complex_scalar', 'conj', 'angle', 'cov', 'corrcoef', 'float_power_real_complex']


@pytest.mark.parametrize('name', GRADCHECK)
def test_gradcheck_complex(name, device):
    f, arrays = CASES[name]
    ts = [npnn.tensor(a, requires_grad=True, device=device) for a in arrays]
    assert gradcheck(lambda *xs: f(npnn, *xs), ts)


@pytest.mark.parametrize('name', ['mul', 'div', 'normalize', 'matmul', 'exp', 'sqrt', 'prod', 'sgn', 'pow_2'])
def test_gradgradcheck_complex(name, device):
    f, arrays = CASES[name]
    ts = [npnn.tensor(a[:2, :2] if a.shape == (3, 4) else a[:2], requires_grad=True, device=device)
          for a in arrays]
    assert gradgradcheck(lambda *xs: f(npnn, *xs), ts)


def test_real_fast_paths_unchanged(device):
    """Real dtypes keep their real gradients (and dtypes) through the rules that now branch on complex."""
    x = npnn.tensor(R, requires_grad=True, device=device)
    y = npnn.tensor(R[::-1].copy() + 3.0, requires_grad=True, device=device)
    tx = torch.tensor(R, requires_grad=True)
    ty = torch.tensor(R[::-1].copy() + 3.0, requires_grad=True)
    for lib, a, b in ((npnn, x, y), (torch, tx, ty)):
        (a * b / b.exp() + a.tanh() * b.prod() + (a @ b.mT).sum() + a.var()).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(y.grad), ty.grad.numpy(), rtol=1e-10)
    assert x.grad.dtype == npnn.float64
