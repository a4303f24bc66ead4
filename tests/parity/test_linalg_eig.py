"""``linalg.eig`` / ``linalg.eigvals`` against PyTorch: dtypes, the eigen-equation, unit norms, eigenvalues as
sorted sets, gradients of phase-invariant losses, and the errors (bad inputs, phase-dependent losses)."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck
from tests.helpers import to_numpy

torch = pytest.importorskip('torch')

_rng = np.random.default_rng(3)
REAL = _rng.standard_normal((2, 3, 5, 5))
CPLX = _rng.standard_normal((3, 4, 4)) + 1j * _rng.standard_normal((3, 4, 4))


def _sorted(w):
    w = np.asarray(w)
    idx = np.lexsort((np.round(w.imag, 5), np.round(w.real, 5)), axis=-1)  # by real part, then imaginary
    return np.take_along_axis(w, idx, -1)


def _t(a, dev, **kw):
    return npnn.tensor(a, device=dev, **kw)


@pytest.mark.parametrize('arr,dt,cdt', [(REAL, 'float32', 'complex64'), (REAL, 'float64', 'complex128'),
                                         (CPLX, 'complex64', 'complex64'), (CPLX, 'complex128', 'complex128')])
def test_eig_values_and_vectors(device, arr, dt, cdt):
    a = arr.astype(dt)
    L, V = npnn.linalg.eig(_t(a, device))
    tL, tV = torch.linalg.eig(torch.tensor(a))
    assert str(L.dtype) == f'npnn.{cdt}' and str(V.dtype) == f'npnn.{cdt}'
    assert tuple(L.shape) == tuple(tL.shape) and tuple(V.shape) == tuple(tV.shape)
    tol = 1e-3 if dt in ('float32', 'complex64') else 1e-9
    w, v = to_numpy(L), to_numpy(V)
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=tol * 10)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, atol=tol)
    np.testing.assert_allclose(_sorted(w), _sorted(tL.numpy()), atol=tol * 10)
    ev = npnn.linalg.eigvals(_t(a, device))
    assert ev.dtype == L.dtype
    np.testing.assert_allclose(_sorted(to_numpy(ev)), _sorted(tL.numpy()), atol=tol * 10)


def test_eig_real_spectrum_stays_complex(device):
    a = np.diag([3.0, -1.0, 2.0]) + np.triu(np.ones((3, 3)), 1)
    L, V = npnn.linalg.eig(_t(a, device))
    assert L.is_complex() and V.is_complex()
    np.testing.assert_allclose(np.sort(to_numpy(L).real), [-1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(to_numpy(L).imag, 0, atol=1e-12)


def test_eig_empty_and_out(device):
    L, V = npnn.linalg.eig(_t(np.zeros((2, 0, 0), np.float32), device))
    assert tuple(L.shape) == (2, 0) and tuple(V.shape) == (2, 0, 0) and str(L.dtype) == 'npnn.complex64'
    a = REAL[0, 0]
    oL = npnn.empty(5, dtype=npnn.complex128, device=device)
    oV = npnn.empty(5, 5, dtype=npnn.complex128, device=device)
    r = npnn.linalg.eig(_t(a, device), out=(oL, oV))
    assert r[0] is oL and r[1] is oV
    np.testing.assert_allclose(to_numpy(oL), to_numpy(npnn.linalg.eig(_t(a, device))[0]))


def _loss(lib, L, V):
    # invariant under a joint permutation of the eigenpairs and under V -> V e^{i phi}
    return (L.real ** 2).sum() + (3 * L.imag ** 2).sum() + (L.real.unsqueeze(-2) * V.abs()).sum() \
        + (L.imag.unsqueeze(-2) * V.abs() ** 2).sum()


@pytest.mark.parametrize('arr', [REAL[0], CPLX], ids=['real', 'complex'])
def test_eig_grad_matches_torch(device, arr):
    A = _t(arr, device, requires_grad=True)
    tA = torch.tensor(arr, requires_grad=True)
    _loss(npnn, *npnn.linalg.eig(A)).backward()
    _loss(torch, *torch.linalg.eig(tA)).backward()
    assert A.grad.dtype == A.dtype
    np.testing.assert_allclose(to_numpy(A.grad), tA.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize('arr', [REAL[0, 0], CPLX[0]], ids=['real', 'complex'])
def test_eigvals_grad_matches_torch(device, arr):
    A = _t(arr, device, requires_grad=True)
    tA = torch.tensor(arr, requires_grad=True)
    f = lambda lib, L: (L.real ** 3).sum() + (L.imag ** 2 * L.real).sum()  # noqa: E731
    f(npnn, npnn.linalg.eigvals(A)).backward()
    f(torch, torch.linalg.eigvals(tA)).backward()
    np.testing.assert_allclose(to_numpy(A.grad), tA.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize('arr', [REAL[1, 2, :4, :4], CPLX[1]], ids=['real', 'complex'])
def test_eig_gradcheck(device, arr):
    A = _t(arr, device, requires_grad=True)
    assert gradcheck(lambda x: _loss(npnn, *npnn.linalg.eig(x)), (A,))
    assert gradcheck(lambda x: npnn.linalg.eigvals(x).real.pow(2).sum() + npnn.linalg.eigvals(x).imag.exp().sum(),
                     (A,))


def test_eig_phase_dependent_loss_raises(device):
    A = _t(CPLX[0], device, requires_grad=True)
    tA = torch.tensor(CPLX[0], requires_grad=True)
    with pytest.raises(RuntimeError) as t_err:
        torch.linalg.eig(tA)[1].sum().abs().backward()
    with pytest.raises(RuntimeError) as err:
        npnn.linalg.eig(A)[1].sum().abs().backward()
    assert str(err.value) == str(t_err.value)


@pytest.mark.parametrize('fn', ['eig', 'eigvals'])
@pytest.mark.parametrize('arr', [np.ones(3), np.ones((2, 3)), np.ones((2, 2), np.int64)], ids=['1d', 'rect', 'int'])
def test_eig_errors(device, fn, arr):
    with pytest.raises(RuntimeError) as t_err:
        getattr(torch.linalg, fn)(torch.tensor(arr))
    with pytest.raises(RuntimeError) as err:
        getattr(npnn.linalg, fn)(_t(arr, device))
    if arr.dtype.kind == 'f':  # (for integers PyTorch's message is an internal one)
        assert str(err.value).split(': ', 1)[1] == str(t_err.value).split(': ', 1)[1]


def test_eig_nonfinite_raises(device):
    a = np.array([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(RuntimeError) as t_err:
        torch.linalg.eig(torch.tensor(a))
    with pytest.raises(RuntimeError) as err:
        npnn.linalg.eig(_t(a, device))
    assert str(err.value) == str(t_err.value)


@pytest.mark.parametrize('arr', [REAL[0, 1], CPLX[2]], ids=['real', 'complex'])
def test_eig_grad_through_vectors_only(device, arr):
    rows = np.arange(1, arr.shape[-1] + 1.0)[:, None]  # a phase-invariant loss of V alone
    A = _t(arr, device, requires_grad=True)
    tA = torch.tensor(arr, requires_grad=True)
    (npnn.linalg.eig(A)[1].abs() * _t(rows, device)).sum().backward()
    (torch.linalg.eig(tA)[1].abs() * torch.tensor(rows)).sum().backward()
    np.testing.assert_allclose(to_numpy(A.grad), tA.grad.numpy(), rtol=1e-7, atol=1e-9)
    assert gradcheck(lambda x: (npnn.linalg.eig(x)[1].abs() * _t(rows, device)).sum(), (A.detach().requires_grad_(),))


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_eig_half_not_implemented(device):
    a = np.eye(2, dtype=np.float16)
    with pytest.raises(NotImplementedError) as t_err:
        torch.linalg.eig(torch.tensor(a))
    with pytest.raises(NotImplementedError) as err:
        npnn.linalg.eig(_t(a, device))
    assert str(err.value) == str(t_err.value)
