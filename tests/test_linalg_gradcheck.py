"""Finite-difference gradient checks (float64) for every differentiable ``npnn.linalg`` function, and second
order checks for those whose backward is built from differentiable ops. Inputs of symmetric-matrix functions
are symmetrized inside the checked function; non-unique factors enter through sign-invariant expressions."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck

L = npnn.linalg
TOP = npnn.linalg._toplevel


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def sq(*batch, n=3, seed=0):
    return arr(*batch, n, n, seed=seed) + 3 * np.eye(n)


def sym_pd(x):
    return x @ x.mT + 3 * npnn.eye(x.shape[-1], dtype=npnn.float64)


def sym(x):
    return (x + x.mT) / 2 + npnn.diag(npnn.tensor([0.0, 2.0, 4.0], dtype=npnn.float64))


def svd_inv(x):
    U, S, Vh = L.svd(x, full_matrices=False)
    s = U[..., :1, :].sign()
    return (U * s).sum() + (Vh * s.mT).pow(2).sum() + S.sum() + ((U * S.unsqueeze(-2)) @ Vh).sum()


def qr_inv(x):
    Q, R = L.qr(x)
    s = R.diagonal(dim1=-2, dim2=-1).sign()
    return (Q * s.unsqueeze(-2)), (R * s.unsqueeze(-1))


def eigh_inv(x):
    w, V = L.eigh(sym(x))
    return w, V * V[..., :1, :].sign()


CASES = {
    'inv': (L.inv, [sq(2)]),
    'inv_ex': (lambda x: L.inv_ex(x).inverse, [sq()]),
    'det': (L.det, [sq(2)]),
    'det_singular': (L.det, [np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], np.diag([1.0, 2.0, 0.0]),
                                       np.eye(3)])]),
    'slogdet': (lambda x: L.slogdet(x).logabsdet, [sq(2)]),
    'logdet': (lambda x: L.logdet(sym_pd(x)), [arr(3, 3)]),
    'solve': (L.solve, [sq(2), arr(2, 3, 2, seed=1)]),
    'solve_vec': (L.solve, [sq(), arr(3, seed=2)]),
    'solve_right': (lambda a, b: L.solve(a, b, left=False), [sq(), arr(2, 3, seed=3)]),
    'solve_triangular': (lambda a, b: L.solve_triangular(a, b, upper=True), [sq(2), arr(2, 3, 2, seed=4)]),
    'solve_triangular_unit_right': (lambda a, b: L.solve_triangular(a, b, upper=False, left=False,
                                                                    unitriangular=True), [sq(), arr(2, 3, seed=5)]),
    'cholesky': (lambda x: L.cholesky(sym_pd(x)), [arr(2, 3, 3, seed=6)]),
    'cholesky_upper': (lambda x: L.cholesky(sym_pd(x), upper=True), [arr(3, 3, seed=7)]),
    'cholesky_ex': (lambda x: L.cholesky_ex(sym_pd(x)).L, [arr(3, 3, seed=8)]),
    'qr': (qr_inv, [arr(2, 4, 3, seed=9)]),
    'qr_square': (qr_inv, [arr(3, 3, seed=10)]),
    'qr_wide': (qr_inv, [arr(2, 3, 5, seed=52)]),
    'qr_complete_square': (lambda x: L.qr(x, mode='complete').R.abs(), [arr(3, 3, seed=53)]),
    'svd_tall': (svd_inv, [arr(4, 3, seed=11)]),
    'svd_wide': (svd_inv, [arr(2, 3, 4, seed=12)]),
    'svd_full': (lambda x: L.svd(x).S + L.svd(x).U[..., :, :3].abs().sum(-2), [arr(4, 3, seed=13)]),
    'svdvals': (L.svdvals, [arr(2, 4, 3, seed=14)]),
    'eigh': (eigh_inv, [arr(2, 3, 3, seed=15)]),
    'eigvalsh': (lambda x: L.eigvalsh(sym(x)), [arr(3, 3, seed=16)]),
    'pinv': (L.pinv, [arr(4, 3, seed=17)]),
    'pinv_wide': (L.pinv, [arr(2, 3, 4, seed=18)]),
    'pinv_hermitian': (lambda x: L.pinv(sym(x), hermitian=True), [arr(3, 3, seed=19)]),
    'lstsq': (lambda a, b: L.lstsq(a, b).solution, [arr(5, 3, seed=20), arr(5, 2, seed=21)]),
    'lu': (lambda x: L.lu(x)[1:], [arr(2, 3, 3, seed=22)]),
    'lu_tall': (lambda x: L.lu(x)[1:], [arr(4, 3, seed=23)]),
    'lu_wide': (lambda x: L.lu(x)[1:], [arr(3, 5, seed=24)]),
    'lu_factor': (lambda x: L.lu_factor(x).LU, [arr(3, 3, seed=25)]),
    'lu_solve': (lambda a, b: L.lu_solve(*L.lu_factor(a), b), [sq(), arr(3, 2, seed=26)]),
    'matrix_norm_fro': (lambda x: L.matrix_norm(x), [arr(2, 3, 3, seed=27)]),
    'matrix_norm_nuc': (lambda x: L.matrix_norm(x, 'nuc'), [arr(2, 3, 4, seed=28)]),
    'matrix_norm_2': (lambda x: L.matrix_norm(x, 2), [arr(3, 4, seed=29)]),
    'matrix_norm_-2': (lambda x: L.matrix_norm(x, -2), [arr(3, 4, seed=30)]),
    'matrix_norm_1': (lambda x: L.matrix_norm(x, 1), [arr(3, 4, seed=31)]),
    'matrix_norm_inf': (lambda x: L.matrix_norm(x, float('inf')), [arr(3, 4, seed=32)]),
    'vector_norm': (lambda x: L.vector_norm(x, 3, dim=-1), [arr(3, 4, seed=33)]),
    'norm': (lambda x: L.norm(x), [arr(3, 4, seed=34)]),
    'matrix_power': (lambda x: L.matrix_power(x, 3), [arr(2, 3, 3, seed=35)]),
    'matrix_power_neg': (lambda x: L.matrix_power(x, -2), [sq()]),
    'matrix_exp': (L.matrix_exp, [arr(3, 3, seed=36)]),
    'multi_dot': (lambda a, b, c: L.multi_dot([a, b, c]), [arr(2, 3, seed=37), arr(3, 4, seed=38), arr(4, seed=39)]),
    'cross': (L.cross, [arr(2, 3, seed=40), arr(2, 3, seed=41)]),
    'vecdot': (L.vecdot, [arr(2, 3, seed=42), arr(2, 3, seed=43)]),
    'cond': (L.cond, [sq()]),
    'householder_product': (L.householder_product, [arr(4, 3, seed=44), arr(3, seed=45)]),
    'tensorinv': (lambda x: L.tensorinv(x, ind=1), [sq(n=4).reshape(4, 2, 2)]),
    'pinverse': (TOP.pinverse, [arr(4, 3, seed=46)]),
    'svd_toplevel': (lambda x: TOP.svd(x).S, [arr(4, 3, seed=47)]),
    'cholesky_solve': (lambda a, b: TOP.cholesky_solve(b, L.cholesky(sym_pd(a))), [arr(3, 3, seed=48),
                                                                                    arr(3, 2, seed=49)]),
    'cholesky_inverse': (lambda a: TOP.cholesky_inverse(L.cholesky(sym_pd(a))), [arr(3, 3, seed=50)]),
    'triangular_solve': (lambda a, b: TOP.triangular_solve(b, a, transpose=True).solution, [sq(), arr(3, 2, seed=51)]),
}

SECOND_ORDER = ['inv', 'det', 'det_singular', 'slogdet', 'solve', 'solve_triangular', 'cholesky', 'qr_square', 'svdvals', 'eigvalsh',
                'pinv', 'lu', 'matrix_power_neg']


def _inputs(arrays, device):
    return tuple(npnn.tensor(a, dtype=npnn.float64, device=device, requires_grad=True) for a in arrays)


@pytest.mark.parametrize('name', sorted(CASES))
def test_gradcheck(name, device):
    fn, arrays = CASES[name]
    assert gradcheck(fn, _inputs(arrays, device))


@pytest.mark.parametrize('name', SECOND_ORDER)
def test_gradgradcheck(name, device):
    fn, arrays = CASES[name]
    assert gradgradcheck(fn, _inputs(arrays, device))
