"""The older top-level linear algebra names (``torch.inverse``, ``torch.svd`` ...), built on ``npnn.linalg``."""
import collections

from ..autograd.ops._util import make
from ..backend.device import array_module
from . import (inv, det as _det, slogdet as _slogdet, logdet, pinv, qr as _qr, svd as _svd, lu_factor_ex,
               lu_unpack, lu_solve as _lu_solve, cholesky as _cholesky, matrix_power as _matrix_power, matrix_exp,
               solve_triangular, _assign)

__all__ = ['inverse', 'det', 'logdet', 'slogdet', 'pinverse', 'qr', 'svd', 'lu', 'lu_unpack', 'lu_solve',
           'cholesky', 'cholesky_solve', 'cholesky_inverse', 'matrix_power', 'matrix_exp', 'triangular_solve']

slogdet_result = collections.namedtuple('slogdet', ['sign', 'logabsdet'])
qr_result = collections.namedtuple('qr', ['Q', 'R'])
svd_result = collections.namedtuple('svd', ['U', 'S', 'V'])
triangular_solve_result = collections.namedtuple('triangular_solve', ['solution', 'cloned_coefficient'])


def inverse(input, *, out=None):
    """The inverse of (batches of) square matrices."""
    return inv(input, out=out)


def det(input):
    """The determinant of (batches of) square matrices."""
    return _det(input)


def slogdet(input):
    """``(sign, logabsdet)`` of the determinant."""
    return slogdet_result(*_slogdet(input))


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, dropping singular values below ``rcond * s_max``."""
    return pinv(input, rtol=rcond)


def qr(input, some=True, *, out=None):
    """``(Q, R)``: reduced when ``some``, complete otherwise."""
    return _assign(qr_result(*_qr(input, 'reduced' if some else 'complete')), out)


def svd(input, some=True, compute_uv=True, *, out=None):
    """``(U, S, V)`` with ``input = U diag(S) V^T`` (note: V, not Vh). Without ``compute_uv`` U and V are zeros."""
    if not compute_uv:
        from . import svdvals
        a = input._data
        xp = array_module(a)
        m, n = a.shape[-2:]
        U = make(xp.zeros(a.shape[:-2] + (m, m), dtype=a.dtype))
        V = make(xp.zeros(a.shape[:-2] + (n, n), dtype=a.dtype))
        return _assign(svd_result(U, svdvals(input), V), out)
    U, S, Vh = _svd(input, full_matrices=not some)
    return _assign(svd_result(U, S, Vh.mT), out)


def lu(A, pivot=True, get_infos=False, out=None):
    """``(LU, pivots)`` (and ``infos`` when ``get_infos``): the packed LU factorization."""
    LU, piv, info = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    res = (LU, piv, info) if get_infos else (LU, piv)
    return _assign(res, out)


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """Solve ``A x = b`` from ``A``'s packed LU factorization."""
    return _lu_solve(LU_data, LU_pivots, b, out=out)


def cholesky(input, upper=False, *, out=None):
    """The Cholesky factor (lower; upper when ``upper``)."""
    return _cholesky(input, upper=upper, out=out)


def cholesky_solve(B, L, upper=False, *, out=None):
    """Solve ``A X = B`` given the Cholesky factor of ``A`` (``A = L L^T``, or ``U^T U`` when ``upper``)."""
    if upper:
        L = L.mT
    Y = solve_triangular(L, B, upper=False)
    return _assign(solve_triangular(L.mT, Y, upper=True), out)


def cholesky_inverse(L, upper=False, *, out=None):
    """The inverse of ``A`` from its Cholesky factor."""
    a = L._data
    eye = make(array_module(a).eye(a.shape[-1], dtype=a.dtype))
    return cholesky_solve(eye, L, upper, out=out)


def matrix_power(input, n):
    """``input`` to the integer power ``n``."""
    return _matrix_power(input, n)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """``(solution, cloned_coefficient)`` of ``A X = b`` (``A^T X = b`` when ``transpose``) for triangular ``A``."""
    At = A.mT if transpose else A
    X = solve_triangular(At, b, upper=upper != transpose, unitriangular=unitriangular)
    return _assign(triangular_solve_result(X, A.clone()), out)
