"""``npnn.linalg``: linear algebra with gradients, batched over leading dims like ``torch.linalg``.

Decompositions run on the array module's ``linalg`` (numpy or cupy); results keep the input's dtype.
Decompositions that are not unique (QR, SVD, eigh signs) follow LAPACK's conventions.
"""
import collections
import math
import numbers

import numpy as np

from ..autograd.ops import matmul, vector_norm  # noqa: F401
from ..autograd.ops._util import make, recording, norm_dim, check_broadcast
from ..backend.device import array_module
from . import _prim
from ._prim import LinAlgError, check_matrix, solve_triangular, _assign  # noqa: F401
from .eig import eig, eigvals, eig_result  # noqa: F401

__all__ = ['inv', 'inv_ex', 'det', 'slogdet', 'logdet', 'solve', 'solve_ex', 'cholesky', 'cholesky_ex', 'qr',
           'svd', 'svdvals', 'eigh', 'eigvalsh', 'eig', 'eigvals', 'pinv', 'lstsq', 'lu_factor', 'lu_factor_ex', 'lu', 'lu_unpack',
           'lu_solve', 'matrix_norm', 'vector_norm', 'norm', 'cond', 'matrix_rank', 'matrix_power', 'matrix_exp',
           'multi_dot', 'cross', 'vecdot', 'matmul', 'diagonal', 'solve_triangular', 'vander', 'tensorinv',
           'tensorsolve', 'householder_product', 'LinAlgError']

# the old top-level names (``torch.inverse`` ...), defined in ._toplevel
__all_toplevel__ = ['inverse', 'det', 'logdet', 'slogdet', 'pinverse', 'qr', 'svd', 'lu', 'lu_unpack', 'lu_solve',
                    'cholesky', 'cholesky_solve', 'cholesky_inverse', 'matrix_power', 'matrix_exp',
                    'triangular_solve']

inv_ex_result = collections.namedtuple('linalg_inv_ex', ['inverse', 'info'])
cholesky_ex_result = collections.namedtuple('linalg_cholesky_ex', ['L', 'info'])
slogdet_result = collections.namedtuple('linalg_slogdet', ['sign', 'logabsdet'])
solve_ex_result = collections.namedtuple('linalg_solve_ex', ['result', 'info'])
lstsq_result = collections.namedtuple('linalg_lstsq', ['solution', 'residuals', 'rank', 'singular_values'])
lu_factor_result = collections.namedtuple('linalg_lu_factor', ['LU', 'pivots'])
lu_factor_ex_result = collections.namedtuple('linalg_lu_factor_ex', ['LU', 'pivots', 'info'])
lu_result = collections.namedtuple('linalg_lu', ['P', 'L', 'U'])
lu_unpack_result = collections.namedtuple('lu_unpack', ['P', 'L', 'U'])
qr_result = _prim.qr_result
svd_result = _prim.svd_result
eigh_result = _prim.eigh_result


def _eye(a, n, m=None):
    return make(array_module(a).eye(n, n if m is None else m, dtype=a.dtype))


# --- inverses and determinants ----------------------------------------------------------------------------------

def inv(A, *, out=None):
    """The inverse of square matrices ``A``; LinAlgError for singular inputs."""
    return _assign(_prim.inv_ex(A, check_errors=True)[0], out)


def inv_ex(A, *, check_errors=False, out=None):
    """The inverse and LAPACK's ``info`` (nonzero where ``A`` is singular)."""
    return _assign(inv_ex_result(*_prim.inv_ex(A, check_errors=check_errors)), out)


def det(A, *, out=None):
    """The determinant of square matrices ``A``."""
    return _assign(_prim.det(A), out)


def slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of the determinant; ``logabsdet`` is differentiable."""
    return _assign(slogdet_result(*_prim.logabsdet(A)), out)


def logdet(A):
    """``log(det A)``: NaN where the determinant is negative, -inf where it is zero."""
    s, la = _prim.logabsdet(A, 'linalg.logdet')
    xp = array_module(s._data)
    with np.errstate(all='ignore'):
        shift = xp.log(s._data)
    return la + make(shift)


# --- solves -----------------------------------------------------------------------------------------------------

def _is_vector_rhs(a, b):
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def solve(A, B, *, left=True, out=None):
    """The solution ``X`` of ``A X = B`` (``X A = B`` when not ``left``); ``B`` may be a (batch of) vector(s)."""
    a = check_matrix(A, 'linalg.solve')
    b = B._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_prim.scalar_type_name(a.dtype)} and B of type {_prim.scalar_type_name(b.dtype)} "
                           "instead")
    vec = _is_vector_rhs(a, b)
    if vec:
        if b.shape[-1] != a.shape[-1]:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                               f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-1]}x1)")
        r = _prim.solve_matrix(A if left else A.mT, B.unsqueeze(-1)).squeeze(-1)
        return _assign(r, out)
    if b.ndim < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if (b.shape[-2] if left else b.shape[-1]) != a.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    check_broadcast(a.shape[:-2], b.shape[:-2])
    r = _prim.solve_matrix(A, B) if left else _prim.solve_matrix(A.mT, B.mT).mT
    return _assign(r, out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """``(result, info)``: like ``solve`` but reports singular inputs through ``info``."""
    a = check_matrix(A, 'linalg.solve_ex')
    info = _prim.singular_info(a)
    if check_errors or not bool((info != 0).any()):
        return _assign(solve_ex_result(solve(A, B, left=left), make(info)), out)
    xp = array_module(a)
    ok = (info == 0)[..., None, None]
    safe = make(xp.where(ok, a, xp.eye(a.shape[-1], dtype=a.dtype)))
    r = solve(A + (safe - A).detach(), B, left=left)
    return _assign(solve_ex_result(r, make(info)), out)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """Solve ``A X = B`` from ``A``'s packed LU factorization (``lu_factor``)."""
    P, L, U = lu_unpack(LU, pivots)
    if left and not adjoint:
        X = solve_triangular(U, solve_triangular(L, P.mT @ B, upper=False, unitriangular=True), upper=True)
    elif left:  # A^T X = B: U^T L^T P^T X = B
        X = P @ solve_triangular(L.mT, solve_triangular(U.mT, B, upper=False), upper=True, unitriangular=True)
    elif not adjoint:  # X P L U = B
        X = solve_triangular(L, solve_triangular(U, B, upper=True, left=False), upper=False, left=False,
                             unitriangular=True) @ P.mT
    else:  # X U^T L^T P^T = B
        X = solve_triangular(U.mT, solve_triangular(L.mT, B @ P, upper=True, left=False, unitriangular=True),
                             upper=False, left=False)
    return _assign(X, out)


# --- factorizations ---------------------------------------------------------------------------------------------

def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor ``L`` (``A = L L^T``; ``U`` with ``A = U^T U`` when ``upper``); reads the lower part."""
    return _assign(_prim.cholesky_ex(A, upper=upper, check_errors=True)[0], out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """``(L, info)``; ``info`` is the order of the first leading minor that is not positive-definite."""
    return _assign(cholesky_ex_result(*_prim.cholesky_ex(A, upper=upper, check_errors=check_errors)), out)


def qr(A, mode='reduced', *, out=None):
    """``(Q, R)`` with ``mode`` 'reduced', 'complete' or 'r' (Q empty)."""
    return _assign(qr_result(*_prim.qr(A, mode)), out)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending."""
    return _assign(_prim.svd(A, full_matrices), out)


def svdvals(A, *, driver=None, out=None):
    """The singular values of ``A``, descending."""
    a = check_matrix(A, 'linalg.svd', square=False)
    if recording(A):
        return _assign(_prim.svd(A, False, name='linalg.svdvals').S, out)
    return _assign(make(_prim.svdvals_array(a)), out)


def eigh(A, UPLO='L', *, out=None):
    """``(eigenvalues, eigenvectors)`` of symmetric ``A`` (eigenvalues ascending), reading the ``UPLO`` part."""
    return _assign(_prim.eigh(A, UPLO), out)


def eigvalsh(A, UPLO='L', *, out=None):
    """The eigenvalues of symmetric ``A``, ascending."""
    if recording(A):
        return _assign(_prim.eigh(A, UPLO, name='linalg.eigvalsh').eigenvalues, out)
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    a = check_matrix(A, 'linalg.eigvalsh')
    xp = array_module(a)
    return _assign(make(xp.linalg.eigvalsh(a, UPLO=UPLO).astype(a.dtype, copy=False)), out)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """``(LU, pivots, info)``: the packed LU factorization with partial pivoting (pivots 1-based, int32)."""
    return _assign(lu_factor_ex_result(*_prim.lu_factor_ex(A, pivot=pivot, check_errors=check_errors)), out)


def lu_factor(A, *, pivot=True, out=None):
    """``(LU, pivots)``; an error where ``U`` has a zero on its diagonal."""
    if A.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    LU, piv, _ = _prim.lu_factor_ex(A, pivot=pivot, check_errors=True, name='torch.linalg.lu_factor')
    return _assign(lu_factor_result(LU, piv), out)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """``(P, L, U)`` from a packed LU factorization, with ``A = P L U``."""
    lu_ = LU_data._data
    xp = array_module(lu_)
    m, n = lu_.shape[-2:]
    k = min(m, n)
    empty = make(xp.zeros((0,), dtype=lu_.dtype))
    L = U = P = empty
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + _eye(lu_, m, k)
        U = LU_data[..., :k, :].triu()
    if unpack_pivots:
        perm = _prim.perm_from_pivots(LU_pivots._data, m)
        P = make((perm[..., None, :] == xp.arange(m)[:, None]).astype(lu_.dtype))
    return _assign(lu_unpack_result(P, L, U), out)


def lu(A, *, pivot=True, out=None):
    """``(P, L, U)`` with ``A = P L U`` (partial pivoting)."""
    LU, piv, _ = _prim.lu_factor_ex(A, pivot=pivot, name='linalg.lu')
    return _assign(lu_result(*lu_unpack(LU, piv)), out)


# --- built from the primitives ----------------------------------------------------------------------------------

def _tolerances(S_max, a, atol, rtol):
    """The cutoff ``max(atol, rtol * S_max)`` with PyTorch's defaults."""
    eps = float(np.finfo(a.dtype).eps)
    if rtol is None:
        rtol = eps * max(a.shape[-2:]) if (atol is None or _zero(atol)) else 0.0
    atol = 0.0 if atol is None else atol
    atol = atol._data if hasattr(atol, '_data') else atol
    rtol = rtol._data if hasattr(rtol, '_data') else rtol
    xp = array_module(S_max)
    return xp.maximum(xp.asarray(atol, dtype=a.dtype)[..., None] if np.ndim(atol) else atol,
                      (xp.asarray(rtol, dtype=a.dtype)[..., None] if np.ndim(rtol) else rtol) * S_max)


def _zero(v):
    return isinstance(v, numbers.Number) and v == 0


class LinalgPinvBackward0(_prim.Node):
    """``gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)`` for ``P = pinv(A)``."""
    __slots__ = ()

    def backward(self, g):
        (A,) = self.saved_tensors()
        P = self.output()
        Pt = P.mT
        gt = g.mT
        r = -(Pt @ g @ Pt)
        r = r + (gt - A @ (P @ gt)) @ (P @ Pt)
        r = r + (Pt @ P) @ (gt - (gt @ P) @ A)
        return (r,)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None, rcond=None):
    """The Moore-Penrose pseudo-inverse; singular values at or below ``max(atol, rtol * s_max)`` are dropped."""
    if rcond is not None:
        rtol = rcond
    if A.ndim < 2:
        raise RuntimeError(f"linalg.pinv({_prim.scalar_type_name(A._data.dtype)}{{{list(A.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble types")
    a = check_matrix(A, 'linalg.pinv', square=False)
    xp = array_module(a)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        aw = xp.abs(w)
        tol = _tolerances(aw.max(axis=-1, keepdims=True), a, atol, rtol)
        keep = aw > tol
        winv = xp.where(keep, 1 / xp.where(keep, w, 1), 0)
        r = (v * winv[..., None, :]) @ xp.swapaxes(v, -1, -2)
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), a.dtype)
        keep = s > _tolerances(smax, a, atol, rtol)
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
        r = (xp.swapaxes(vh, -1, -2) * sinv[..., None, :]) @ xp.swapaxes(u, -1, -2)
    r = r.astype(a.dtype, copy=False)
    if recording(A):
        n = LinalgPinvBackward0((A,))
        n.save(A)
        res = make(r, n)
        n.save_output(res)
        return _assign(res, out)
    return _assign(make(r), out)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None, tol=None):
    """The number of singular values above ``max(atol, rtol * s_max)`` (int64)."""
    if tol is not None:
        atol, rtol = tol, 0.0
    a = check_matrix(A, 'torch.linalg.matrix_rank', square=False, arg='input')
    xp = array_module(a)
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(a)).astype(a.dtype, copy=False)
        s = -xp.sort(-s, axis=-1)
    else:
        s = _prim.svdvals_array(a)
    smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), a.dtype)
    tol_ = _tolerances(smax, a, atol, rtol)
    return _assign(make((s > tol_).sum(axis=-1).astype(np.int64)), out)


_DRIVERS = ('gels', 'gelsy', 'gelsd', 'gelss')


def lstsq(A, B, rcond=None, *, driver=None):
    """``(solution, residuals, rank, singular_values)`` of ``min ||A X - B||``, with PyTorch's per-driver outputs
    (CPU default ``gelsy``). The solution is ``pinv(A) @ B`` (differentiable)."""
    if driver is None:
        driver = 'gelsy'
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    a = check_matrix(A, 'torch.linalg.lstsq', square=False)
    b = B._data
    vec = b.ndim == a.ndim - 1
    Bm = B.unsqueeze(-1) if vec else B
    if Bm._data.shape[-2] != a.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    xp = array_module(a)
    m, n = a.shape[-2:]
    s = _prim.svdvals_array(a)
    eps = float(np.finfo(a.dtype).eps)
    rc = eps * max(m, n) if rcond is None else rcond
    smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), a.dtype)
    rank_arr = (s > rc * smax).sum(axis=-1).astype(np.int64)
    X = pinv(A, rtol=rc) @ Bm
    empty = make(xp.zeros((0,), dtype=a.dtype))
    residuals = empty
    full = bool((rank_arr == n).all())
    if driver != 'gelsy' and m > n and full:
        R = A @ X - Bm
        residuals = (R * R).sum(-2)
    if vec:
        X = X.squeeze(-1)
        if residuals is not empty:
            residuals = residuals.squeeze(-1)
    rank = make(rank_arr) if driver != 'gels' else make(xp.zeros((0,), dtype=np.int64))
    sv = make(s) if driver in ('gelsd', 'gelss') else empty
    return lstsq_result(X, residuals, rank, sv)


def matrix_power(A, n, *, out=None):
    """``A`` to the integer power ``n`` (negative: powers of the inverse)."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    if not isinstance(n, numbers.Integral):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        return _assign(make(array_module(a).broadcast_to(array_module(a).eye(a.shape[-1], dtype=a.dtype),
                                                         a.shape).copy()), out)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _assign(result if result is not A else A.clone(), out)


def matrix_exp(A):
    """The matrix exponential (scaling and squaring with a degree-12 Taylor polynomial)."""
    a = check_matrix(A, 'linalg.matrix_exp')
    xp = array_module(a)
    nrm = float(xp.abs(a).sum(axis=-2).max()) if a.size else 0.0
    s = max(0, int(math.ceil(math.log2(nrm))) + 1) if nrm > 0.5 else 0
    X = A / (2 ** s) if s else A
    n = a.shape[-1]
    I = _eye(a, n)
    term, total = I, I
    for k in range(1, 19):
        term = (term @ X) / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices (first/last may be vectors), multiplied in the cheapest order."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t.ndim != 2:
            pos = 'first' if i == 0 else ('last' if i == len(ts) - 1 else None)
            if pos:
                raise RuntimeError(f"multi_dot(): the {pos} tensor must be 1D or 2D but got {t.ndim}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    for i in range(1, len(ts)):
        if ts[i].shape[0] != ts[i - 1].shape[1]:
            raise RuntimeError(f"multi_dot(): tensors {i - 1} and {i} with shapes "
                               f"{list(ts[i - 1].shape)} and {list(ts[i].shape)} cannot be multiplied")
    k = len(ts)
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for ln in range(1, k):
        for i in range(k - ln):
            j = i + ln
            cost[i][j] = float('inf')
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def prod(i, j):
        if i == j:
            return ts[i]
        s = split[i][j]
        return prod(i, s) @ prod(s + 1, j)

    r = prod(0, k - 1)
    if first_vec:
        r = r.squeeze(0)
    if last_vec:
        r = r.squeeze(-1)
    return _assign(r, out)


def cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (broadcasting)."""
    from ..autograd.ops import cross as _cross
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    return _assign(_cross(input, other, dim=dim), out)


def vecdot(x, y, *, dim=-1, out=None):
    """The dot product of vectors along ``dim`` (broadcasting)."""
    if x.is_complex():
        x = x.conj()
    return _assign((x * y).sum(dim), out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of (batches of) matrices."""
    return A.diagonal(offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrix with increasing powers ``x**0 .. x**(N-1)`` in the last dim."""
    n = x.shape[-1] if N is None else N
    if n <= 0:
        raise RuntimeError("N must be greater than 1.")
    xp = array_module(x._data)
    pw = make(xp.arange(n, dtype=x._data.dtype if x._data.dtype.kind in 'fc' else np.int64))
    return x.unsqueeze(-1) ** pw


def tensorinv(A, ind=2, *, out=None):
    """The inverse of ``A`` viewed as a matrix of its first ``ind`` dims by the rest."""
    shp = A.shape
    rows = int(np.prod(shp[:ind], dtype=np.int64))
    cols = int(np.prod(shp[ind:], dtype=np.int64))
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           "prod(self.shape[:ind]), but got " f"{cols} != {rows}")
    return _assign(inv(A.reshape(rows, cols)).reshape(tuple(shp[ind:]) + tuple(shp[:ind])), out)


def tensorsolve(A, B, dims=None, *, out=None):
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``."""
    if dims is not None:
        nd = A.ndim
        dims = [norm_dim(d, nd) for d in dims]
        A = A.permute([i for i in range(nd) if i not in dims] + dims)
    rest = tuple(A.shape[B.ndim:])
    n = int(np.prod(rest, dtype=np.int64))
    X = solve(A.reshape(-1, n), B.reshape(-1))
    return _assign(X.reshape(rest), out)


def householder_product(A, tau, *, out=None):
    """The first ``n`` columns of the product of Householder reflectors ``I - tau_i v_i v_i^T``."""
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1]
    Q = _eye(A._data, m, n)
    Q = Q.expand(tuple(A.shape[:-2]) + (m, n)) if A.ndim > 2 else Q
    xp = array_module(A._data)
    for i in range(k - 1, -1, -1):
        mask = make((xp.arange(m) > i).astype(A._data.dtype))
        unit = make((xp.arange(m) == i).astype(A._data.dtype))
        v = A[..., :, i] * mask + unit
        Q = Q - tau[..., i, None, None] * v.unsqueeze(-1) @ (v.unsqueeze(-2) @ Q)
    return _assign(Q, out)


def cond(A, p=None, *, out=None):
    """The condition number of ``A`` in the ``p`` norm (2-norm by default)."""
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return _assign(r, out)
    return _assign(matrix_norm(A, p) * matrix_norm(inv(A), p), out)


# --- norms ------------------------------------------------------------------------------------------------------

def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The matrix norm over ``dim``: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2."""
    if dtype is not None:
        A = A.to(dtype)
    a = A._data
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_prim.scalar_type_name(a.dtype)}")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    d0, d1 = norm_dim(dim[0], a.ndim), norm_dim(dim[1], a.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == 'fro':
        r = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord in ('nuc', 2, -2):
        X = A.movedim((d0, d1), (-2, -1))
        s = svdvals(X)
        r = s.sum(-1) if ord == 'nuc' else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
    elif ord in (1, -1, float('inf'), float('-inf')):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        r = A.abs().sum(inner, keepdim=True)
        r = r.amax(outer, keepdim=True) if ord > 0 else r.amin(outer, keepdim=True)
        if not keepdim:
            r = r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return _assign(r, out)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """A vector or matrix norm, chosen by ``dim`` (int: vector, 2-tuple: matrix) or the input's ndim."""
    if isinstance(dim, numbers.Integral):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return _assign(vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype), out)
        if len(dim) == 2:
            return _assign(matrix_norm(A, 'fro' if ord is None else ord, dim, keepdim, dtype=dtype), out)
        raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return _assign(vector_norm(A, 2, None, keepdim, dtype=dtype), out)
    if A.ndim == 2:
        return _assign(matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype), out)
    if A.ndim == 1:
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.ndim}D.")
        return _assign(vector_norm(A, ord, None, keepdim, dtype=dtype), out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")


from . import _toplevel  # noqa: E402,F401  (the old top-level names; npnn re-exports them)
