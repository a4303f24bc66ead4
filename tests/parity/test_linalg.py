"""Parity with PyTorch for ``npnn.linalg``: values and gradients on well-conditioned inputs, batched and not,
float32 and float64. Non-unique factorizations are compared through sign-invariant quantities."""
import numpy as np
import pytest

import npnn
from tests.helpers import compare, randn as _randn, torch_or_skip

pytestmark = pytest.mark.filterwarnings('ignore:.*is deprecated:UserWarning')

DTYPES = [np.float32, np.float64]
SHAPES = [(), (2,), (2, 3)]  # batch shapes


def randn(*shape, dtype=np.float64, seed=None):
    return _randn(*shape, dtype=dtype, seed=seed)


def top(lib):
    """The top-level namespace (``torch.inverse`` ...); npnn's old names live in ``npnn.linalg._toplevel``
    until the top level re-exports them."""
    if lib is npnn and not hasattr(npnn, 'inverse'):
        return npnn.linalg._toplevel
    return lib


def tol(dtype):
    return dict(rtol=2e-3, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-9)


def square(batch, n=4, dtype=np.float64, seed=0):
    """A well-conditioned (diagonally boosted) square matrix."""
    return (randn(*batch, n, n, dtype=np.float64, seed=seed) + 3 * np.eye(n)).astype(dtype)


def spd(batch, n=4, dtype=np.float64, seed=0):
    x = randn(*batch, n, n, dtype=np.float64, seed=seed)
    return (x @ np.swapaxes(x, -1, -2) + n * np.eye(n)).astype(dtype)


def ids(params):
    return [str(p) for p in params]


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('batch', SHAPES, ids=ids(SHAPES))
def test_inv_det_slogdet(batch, dtype, device):
    a = square(batch, dtype=dtype, seed=1)
    t = tol(dtype)
    compare(lambda lib, x: lib.linalg.inv(x), a, device=device, **t)
    compare(lambda lib, x: lib.linalg.det(x), a, device=device, **t)
    compare(lambda lib, x: tuple(lib.linalg.slogdet(x)), a, device=device, **t)
    compare(lambda lib, x: lib.linalg.logdet(x) if lib is npnn else lib.logdet(x),
            spd(batch, dtype=dtype, seed=2), device=device, **t)
    compare(lambda lib, x: tuple(lib.linalg.inv_ex(x)), a, device=device, **t)


def test_det_negative_and_logdet_nan(device):
    a = np.diag([1.0, -2.0, 3.0])
    compare(lambda lib, x: (lib.linalg.det(x), *lib.linalg.slogdet(x)), a, device=device)
    compare(lambda lib, x: top(lib).logdet(x), a, device=device, grad=False)
    compare(lambda lib, x: lib.linalg.det(x), np.stack([SING, np.diag([1.0, 0.0, 0.0]), np.eye(3)]),
            device=device, grad=False)  # PyTorch's gradient at exactly singular inputs is 0; ours is the adjugate
    compare(lambda lib, x: top(lib).logdet(x), np.diag([1.0, 0.0, 3.0]), device=device, grad=False)


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
def test_solve(dtype, device):
    t = tol(dtype)
    a = square((2,), dtype=dtype, seed=3)
    compare(lambda lib, x, y: lib.linalg.solve(x, y), a, randn(2, 4, 3, dtype=dtype, seed=4), device=device, **t)
    compare(lambda lib, x, y: lib.linalg.solve(x, y), a[0], randn(4, dtype=dtype, seed=5), device=device, **t)
    compare(lambda lib, x, y: lib.linalg.solve(x, y), a, randn(2, 4, dtype=dtype, seed=6), device=device, **t)
    compare(lambda lib, x, y: lib.linalg.solve(x, y), a, randn(4, 2, dtype=dtype, seed=7), device=device, **t)
    compare(lambda lib, x, y: lib.linalg.solve(x, y), a[0], randn(3, 4, 2, dtype=dtype, seed=8), device=device,
            **t)
    compare(lambda lib, x, y: lib.linalg.solve(x, y, left=False), a, randn(2, 5, 4, dtype=dtype, seed=9),
            device=device, **t)


@pytest.mark.parametrize('upper', [True, False])
@pytest.mark.parametrize('left', [True, False])
@pytest.mark.parametrize('unit', [True, False])
def test_solve_triangular(upper, left, unit, device):
    a = square((2,), seed=10)
    b = randn(2, 4, 3, seed=11) if left else randn(2, 3, 4, seed=11)
    compare(lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit),
            a, b, device=device, rtol=1e-7, atol=1e-9)


def test_triangular_solve_toplevel(device):
    a, b = square((), seed=12), randn(4, 2, seed=13)
    for up, tr in [(True, False), (False, True), (True, True)]:
        compare(lambda lib, x, y: tuple(top(lib).triangular_solve(y, x, upper=up, transpose=tr)), a, b, device=device)


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('batch', SHAPES, ids=ids(SHAPES))
def test_cholesky(batch, dtype, device):
    a = spd(batch, dtype=dtype, seed=14)
    t = tol(dtype)
    compare(lambda lib, x: lib.linalg.cholesky(x), a, device=device, **t)
    compare(lambda lib, x: lib.linalg.cholesky(x, upper=True), a, device=device, **t)
    compare(lambda lib, x: tuple(lib.linalg.cholesky_ex(x)), a, device=device, **t)
    compare(lambda lib, x: top(lib).cholesky(x), a, device=device, **t)


def test_cholesky_helpers(device):
    a, b = spd((2,), seed=15), randn(2, 4, 3, seed=16)
    for up in (False, True):
        compare(lambda lib, x, y: top(lib).cholesky_solve(y, lib.linalg.cholesky(x, upper=up), upper=up), a, b,
                device=device)
        compare(lambda lib, x: top(lib).cholesky_inverse(lib.linalg.cholesky(x, upper=up), upper=up), a, device=device)


def _qr_invariants(lib, x, mode='reduced'):
    Q, R = lib.linalg.qr(x, mode=mode)
    s = R.diagonal(dim1=-2, dim2=-1).sign()
    return Q @ R, Q[..., :, :s.shape[-1]] * s.unsqueeze(-2), R * s.unsqueeze(-1)


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('shape', [(4, 4), (5, 3), (2, 5, 3), (2, 3, 4, 4), (2, 3, 5)],
                         ids=ids([44, 53, 253, 2344, 235]))
def test_qr(shape, dtype, device):
    a = randn(*shape, dtype=dtype, seed=17)
    compare(_qr_invariants, a, device=device, **tol(dtype))


def test_qr_modes(device):
    a = randn(2, 5, 3, seed=18)
    compare(lambda lib, x: lib.linalg.qr(x, mode='complete')[0] @ lib.linalg.qr(x, mode='complete')[1], a,
            device=device, grad=False)
    compare(lambda lib, x: lib.linalg.qr(x, mode='complete')[0].abs(), a, device=device, grad=False)
    compare(lambda lib, x: lib.linalg.qr(x, mode='r').R.abs(), a, device=device, grad=False)
    compare(lambda lib, x: lib.linalg.qr(x, mode='r').Q, a, device=device, grad=False)
    w = randn(3, 5, seed=19)
    compare(lambda lib, x: _qr_invariants(lib, x, 'reduced')[0], w, device=device, grad=False)
    compare(lambda lib, x: top(lib).qr(x)[0] @ top(lib).qr(x)[1], a, device=device)


def _svd_invariants(lib, x, full=False):
    U, S, Vh = lib.linalg.svd(x, full_matrices=full)
    k = S.shape[-1]
    Uk, Vk = U[..., :, :k], Vh[..., :k, :]
    sign = Uk[..., :1, :].sign()  # fix each singular pair's sign by its first U row
    return (Uk * S.unsqueeze(-2)) @ Vk, S, Uk * sign, Vk * sign.mT


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('shape', [(4, 4), (5, 3), (3, 5), (2, 5, 3), (2, 2, 3, 4)],
                         ids=ids([44, 53, 35, 253, 2234]))
def test_svd(shape, dtype, device):
    a = randn(*shape, dtype=dtype, seed=20)
    t = tol(dtype)
    compare(_svd_invariants, a, device=device, **t)
    compare(lambda lib, x: lib.linalg.svdvals(x), a, device=device, **t)


def test_svd_full_and_toplevel(device):
    for shape in [(5, 3), (3, 5)]:
        a = randn(*shape, seed=21)
        compare(lambda lib, x: _svd_invariants(lib, x, True), a, device=device)
        compare(lambda lib, x: top(lib).svd(x)[1], a, device=device)
        compare(lambda lib, x: (top(lib).svd(x)[0] * top(lib).svd(x)[1].unsqueeze(-2)) @ top(lib).svd(x)[2].mT, a, device=device)
        compare(lambda lib, x: top(lib).svd(x, some=False)[0].shape[-1] + top(lib).svd(x, compute_uv=False)[1],
                a, device=device)


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('batch', SHAPES, ids=ids(SHAPES))
def test_eigh(batch, dtype, device):
    a = spd(batch, dtype=dtype, seed=22) + np.diag(np.arange(4.0)).astype(dtype)
    t = tol(dtype)

    def inv_(lib, x):
        w, V = lib.linalg.eigh(x)
        return w, V * V[..., :1, :].sign()

    compare(inv_, a, device=device, **t)
    compare(lambda lib, x: lib.linalg.eigvalsh(x), a, device=device, **t)


def test_eigh_uplo(device):
    a = randn(4, 4, seed=23)  # not symmetric: only the named triangle is read
    for uplo in ('L', 'U'):
        compare(lambda lib, x: lib.linalg.eigvalsh(x, UPLO=uplo), a, device=device)
        compare(lambda lib, x: lib.linalg.eigh(x, UPLO=uplo).eigenvalues, a, device=device)


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
def test_pinv(dtype, device):
    t = tol(dtype)
    for shape in [(5, 3), (3, 5), (2, 4, 4)]:
        compare(lambda lib, x: lib.linalg.pinv(x), randn(*shape, dtype=dtype, seed=24), device=device, **t)
    compare(lambda lib, x: lib.linalg.pinv(x, hermitian=True), spd((2,), dtype=dtype, seed=25), device=device, **t)
    compare(lambda lib, x: top(lib).pinverse(x), randn(3, 5, dtype=dtype, seed=26), device=device, **t)


def test_pinv_tolerances(device):
    u = randn(5, 3, seed=27)
    a = u @ np.diag([3.0, 1.0, 1e-9]) @ randn(3, 3, seed=28)
    compare(lambda lib, x: lib.linalg.pinv(x, rtol=1e-6), a, device=device, grad=False)
    compare(lambda lib, x: lib.linalg.pinv(x, atol=0.5), a, device=device, grad=False)
    compare(lambda lib, x: lib.linalg.matrix_rank(x), a, device=device)
    compare(lambda lib, x: lib.linalg.matrix_rank(x, atol=0.5, rtol=0.0), a, device=device)
    compare(lambda lib, x: lib.linalg.matrix_rank(x @ x.mT, hermitian=True), a, device=device, grad=False)
    compare(lambda lib, x: lib.linalg.matrix_rank(x), randn(2, 3, 4, seed=29), device=device)


@pytest.mark.parametrize('driver', [None, 'gelsy', 'gelsd', 'gelss', 'gels'])
def test_lstsq(driver, device):
    a, b = randn(2, 6, 3, seed=30), randn(2, 6, 2, seed=31)
    compare(lambda lib, x, y: tuple(lib.linalg.lstsq(x, y, driver=driver)), a, b, device=device, rtol=1e-6,
            atol=1e-8)


def test_lstsq_shapes(device):
    a = randn(6, 3, seed=32)
    compare(lambda lib, x, y: tuple(lib.linalg.lstsq(x, y, driver='gelsd')), a, randn(6, 2, seed=33), device=device)
    compare(lambda lib, x, y: lib.linalg.lstsq(x, y).solution, randn(3, 6, seed=34), randn(3, 2, seed=35),
            device=device)


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('shape', [(4, 4), (2, 4, 4), (5, 3), (2, 3, 5)], ids=ids([44, 244, 53, 235]))
def test_lu(shape, dtype, device):
    a = randn(*shape, dtype=dtype, seed=36)
    t = tol(dtype)
    compare(lambda lib, x: tuple(lib.linalg.lu(x)), a, device=device, **t)
    compare(lambda lib, x: tuple(lib.linalg.lu_factor(x)), a, device=device, **t)
    compare(lambda lib, x: tuple(lib.linalg.lu_factor_ex(x)), a, device=device, **t)
    compare(lambda lib, x: tuple(top(lib).lu_unpack(*lib.linalg.lu_factor(x))), a, device=device, **t)
    compare(lambda lib, x: tuple(top(lib).lu(x)), a, device=device, **t)


def test_lu_solve(device):
    a, b = square((2,), seed=37), randn(2, 4, 3, seed=38)
    compare(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y), a, b, device=device)
    compare(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y, adjoint=True), a, b, device=device)
    compare(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y.mT, left=False), a, b, device=device)
    compare(lambda lib, x, y: top(lib).lu_solve(y, *lib.linalg.lu_factor(x)), a, b, device=device)


ORDS = ['fro', 'nuc', np.inf, -np.inf, 1, -1, 2, -2]


@pytest.mark.parametrize('dtype', DTYPES, ids=['f32', 'f64'])
@pytest.mark.parametrize('ord', ORDS, ids=ids(ORDS))
def test_matrix_norm(ord, dtype, device):
    a = randn(2, 3, 4, dtype=dtype, seed=39)
    t = tol(dtype)
    compare(lambda lib, x: lib.linalg.matrix_norm(x, ord), a, device=device, **t)
    compare(lambda lib, x: lib.linalg.matrix_norm(x, ord, dim=(0, 2), keepdim=True), a, device=device, **t)
    compare(lambda lib, x: lib.linalg.matrix_norm(x, ord, dim=(-1, 0)), a, device=device, **t)
    compare(lambda lib, x: lib.linalg.norm(x[0], ord), a, device=device, **t)


def test_vector_norm_and_norm(device):
    a = randn(2, 3, 4, seed=40)
    for o in [2, 1, 3, np.inf, -np.inf, 0.5]:
        compare(lambda lib, x: lib.linalg.vector_norm(x, o, dim=-1), a, device=device)
        compare(lambda lib, x: lib.linalg.norm(x, o, dim=1, keepdim=True), a, device=device)
    compare(lambda lib, x: lib.linalg.vector_norm(x), a, device=device)
    compare(lambda lib, x: lib.linalg.norm(x), a, device=device)
    compare(lambda lib, x: lib.linalg.norm(x[0, 0], 3), a, device=device)
    compare(lambda lib, x: lib.linalg.norm(x, dim=(0, 1)), a, device=device)
    compare(lambda lib, x: lib.linalg.cond(x[..., :3]), a, device=device)


@pytest.mark.parametrize('n', [0, 1, 2, 5, -1, -3])
def test_matrix_power(n, device):
    a = square((2,), n=3, seed=41) / 3
    compare(lambda lib, x: lib.linalg.matrix_power(x, n), a, device=device)
    compare(lambda lib, x: top(lib).matrix_power(x[0], n), a, device=device)


def test_products(device):
    compare(lambda lib, a, b, c, d: lib.linalg.multi_dot([a, b, c, d]), randn(3, seed=42), randn(3, 8, seed=43),
            randn(8, 2, seed=44), randn(2, seed=45), device=device)
    compare(lambda lib, a, b, c: lib.linalg.multi_dot((a, b, c)), randn(6, 3, seed=46), randn(3, 8, seed=47),
            randn(8, 2, seed=48), device=device)
    compare(lambda lib, a, b: lib.linalg.cross(a, b), randn(2, 4, 3, seed=49), randn(1, 4, 3, seed=50), device=device)
    compare(lambda lib, a, b: lib.linalg.cross(a, b, dim=0), randn(3, 4, seed=51), randn(3, 4, seed=52),
            device=device)
    compare(lambda lib, a, b: lib.linalg.vecdot(a, b), randn(2, 4, seed=53), randn(4, seed=54), device=device)
    compare(lambda lib, a, b: lib.linalg.vecdot(a, b, dim=0), randn(2, 4, seed=55), randn(2, 1, seed=56),
            device=device)


def test_extras(device):
    a = square((2,), n=3, seed=57) / 4
    compare(lambda lib, x: lib.linalg.matrix_exp(x), a, device=device, rtol=1e-6, atol=1e-8)
    compare(lambda lib, x: top(lib).matrix_exp(x * 8), a, device=device, rtol=1e-6, atol=1e-7)
    compare(lambda lib, x: lib.linalg.vander(x, N=4), randn(2, 3, seed=58), device=device)
    compare(lambda lib, x: lib.linalg.tensorinv(x, ind=2), square((), n=6, seed=59).reshape(2, 3, 6),
            device=device)
    compare(lambda lib, x, y: lib.linalg.tensorsolve(x, y), square((), n=6, seed=60).reshape(6, 2, 3),
            randn(6, seed=61), device=device)
    compare(lambda lib, x, y: tuple(lib.linalg.solve_ex(x, y)), square((), seed=62), randn(4, 2, seed=63),
            device=device)
    compare(lambda lib, x: lib.linalg.diagonal(x, offset=1), randn(2, 3, 4, seed=64), device=device)


def test_householder_product(device):
    torch = torch_or_skip()
    a = randn(5, 3, seed=65)
    geqrf = torch.geqrf(torch.tensor(a))
    compare(lambda lib, x, t: lib.linalg.householder_product(x, t), geqrf.a.numpy(), geqrf.tau.numpy(),
            device=device)


def test_toplevel_inverse_family(device):
    a = square((2,), seed=66)
    compare(lambda lib, x: (top(lib).inverse(x), top(lib).inverse(x), top(lib).det(x), top(lib).logdet(x @ x.mT), *top(lib).slogdet(x)), a,
            device=device)


def test_dtype_preserved():
    for dt in (npnn.float32, npnn.float64):
        x = npnn.tensor(square((2,)), dtype=dt)
        outs = [npnn.linalg.inv(x), npnn.linalg.det(x), *npnn.linalg.slogdet(x), *npnn.linalg.qr(x),
                *npnn.linalg.svd(x), *npnn.linalg.eigh(x), npnn.linalg.pinv(x), npnn.linalg.cholesky(x @ x.mT),
                npnn.linalg.matrix_norm(x, 'nuc'), npnn.linalg.lu_factor(x)[0], npnn.linalg.matrix_exp(x)]
        assert all(o.dtype == dt for o in outs)
    assert npnn.linalg.lu_factor(x)[1].dtype == npnn.int32
    assert npnn.linalg.matrix_rank(x).dtype == npnn.int64


def test_result_names():
    x = npnn.tensor(square(()))
    assert npnn.linalg.slogdet(x)._fields == ('sign', 'logabsdet')
    assert npnn.linalg.svd(x)._fields == ('U', 'S', 'Vh')
    assert top(npnn).svd(x)._fields == ('U', 'S', 'V')
    assert npnn.linalg.eigh(x @ x.mT)._fields == ('eigenvalues', 'eigenvectors')
    assert npnn.linalg.lstsq(x, x)._fields == ('solution', 'residuals', 'rank', 'singular_values')
    assert npnn.linalg.qr(x)._fields == ('Q', 'R')
    assert npnn.linalg.lu(x)._fields == ('P', 'L', 'U')


# --- errors -----------------------------------------------------------------------------------------------------

SING = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
NOTPD = np.array([[1.0, 2.0], [2.0, 1.0]])


def _same_error(fn, *arrays):
    torch = torch_or_skip()
    with pytest.raises(Exception) as te:
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(RuntimeError) as ne:
        fn(npnn, *[npnn.tensor(a) for a in arrays])
    assert str(ne.value) == str(te.value)
    return ne.value


def test_singular_errors():
    e = _same_error(lambda lib, x: lib.linalg.inv(x), SING)
    assert isinstance(e, npnn.linalg.LinAlgError)
    _same_error(lambda lib, x: lib.linalg.inv(x), np.stack([np.eye(3), SING]))
    _same_error(lambda lib, x: lib.linalg.solve(x, x[0]), SING)
    _same_error(lambda lib, x: lib.linalg.solve(x, x), np.stack([np.eye(3), SING]))
    _same_error(lambda lib, x: lib.linalg.lu_factor(x), SING)
    info = npnn.linalg.inv_ex(npnn.tensor(np.stack([np.eye(3), SING]))).info
    assert info.tolist() == [0, 3]


def test_cholesky_errors():
    _same_error(lambda lib, x: lib.linalg.cholesky(x), NOTPD)
    _same_error(lambda lib, x: lib.linalg.cholesky(x), np.stack([np.eye(2), NOTPD]))
    big = np.diag([1.0, 2.0, -3.0, 4.0])
    _same_error(lambda lib, x: lib.linalg.cholesky(x), big)
    assert npnn.linalg.cholesky_ex(npnn.tensor(np.stack([np.eye(2), NOTPD]))).info.tolist() == [0, 2]


def test_shape_and_dtype_errors():
    _same_error(lambda lib, x: lib.linalg.inv(x), np.ones((2, 3)))
    _same_error(lambda lib, x: lib.linalg.inv(x), np.ones(3))
    _same_error(lambda lib, x: lib.linalg.det(x), np.ones((2, 3)))
    _same_error(lambda lib, x: lib.linalg.cholesky(x), np.ones((2, 3)))
    _same_error(lambda lib, x: lib.linalg.eigh(x), np.ones((2, 3)))
    _same_error(lambda lib, x: lib.linalg.svd(x), np.ones(3))
    _same_error(lambda lib, x: lib.linalg.qr(x), np.ones(3))
    _same_error(lambda lib, x: lib.linalg.qr(x, mode='x'), np.ones((3, 3)))
    _same_error(lambda lib, x: lib.linalg.inv(x), np.ones((3, 3), dtype=np.int64))
    _same_error(lambda lib, x: lib.linalg.lstsq(x, x, driver='foo'), np.ones((3, 3)))
    _same_error(lambda lib, x: lib.linalg.cross(x, x[0]), np.ones((2, 3)))


def test_backward_errors():
    x = npnn.tensor(randn(4, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        npnn.linalg.qr(x, mode='r').R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        npnn.linalg.qr(x, mode='complete').R.sum().backward()


def test_toplevel_and_tensor_methods_wired():
    if not hasattr(npnn, 'inverse') or not hasattr(npnn.Tensor, 'inverse'):
        pytest.skip('the old top-level names and Tensor methods are not attached yet')
    x = npnn.tensor(square((2,), n=3, seed=70))
    s = x @ x.mT
    np.testing.assert_allclose(x.inverse().numpy(), npnn.linalg.inv(x).numpy())
    np.testing.assert_allclose(x.det().numpy(), npnn.linalg.det(x).numpy())
    np.testing.assert_allclose(s.logdet().numpy(), npnn.linalg.slogdet(s).logabsdet.numpy())
    np.testing.assert_allclose(x.slogdet()[1].numpy(), npnn.linalg.slogdet(x)[1].numpy())
    np.testing.assert_allclose(x.pinverse().numpy(), npnn.linalg.pinv(x, rtol=1e-15).numpy())
    np.testing.assert_allclose(s.cholesky().numpy(), npnn.linalg.cholesky(s).numpy())
    np.testing.assert_allclose(x.matrix_power(3).numpy(), (x @ x @ x).numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.svd().S.numpy(), npnn.linalg.svdvals(x).numpy())
    np.testing.assert_allclose(x.qr().R.numpy(), npnn.linalg.qr(x).R.numpy())
    np.testing.assert_allclose(x.lu()[0].numpy(), npnn.linalg.lu_factor(x).LU.numpy())
