"""The differentiable primitives of ``npnn.linalg``: each forward runs on arrays (numpy or cupy ``linalg``),
each backward is written with tensor ops (so ``create_graph=True`` gives higher derivatives).

The adjoints used (real case, ``g*`` the incoming gradients):

- inverse ``X = A^-1``:           ``gA = -X^T g X^T``
- log|det A|:                      ``gA = g A^-T``
- solve ``X = A^-1 B``:           ``gB = A^-T g``, ``gA = -gB X^T``
- triangular solve:               the same, masked to the triangle
- Cholesky ``A = L L^T``:         ``gA = L^-T sym(Phi(L^T gL)) L^-1`` (Phi: lower part, halved diagonal)
- QR ``A = QR`` (m >= n):         ``gA = (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T`` (m < n: on the left block,
  with ``R2 = Q^T A2``)
- SVD ``A = U S V^T``:            ``U (diag gS + skew parts / (s_j^2 - s_i^2)) V^T`` plus the projections
- eigh ``A = V diag(l) V^T``:     ``gA = V (diag gl + skew(V^T gV) / (l_j - l_i)) V^T``
- LU ``A = P L U``:               ``gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T`` (and the m != n parts)
"""
import collections

import numpy as np

from ..autograd.grad_mode import state
from ..autograd.node import Node
from ..autograd.ops._util import grad_for, make, recording, scalar_type_name
from ..backend.device import array_module


class LinAlgError(RuntimeError):
    """Raised for singular or non-positive-definite inputs (a RuntimeError, as in PyTorch)."""


# --- argument checks ------------------------------------------------------------------------------------------

def check_matrix(A, name, square=True, arg='A'):
    """PyTorch's errors for a non-floating, non-matrix or non-square input."""
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if a.dtype.kind not in 'fc':
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{scalar_type_name(a.dtype)}")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    return a


def raise_info(info, fmt, name):
    """Raise LinAlgError for the first batch element whose ``info`` is nonzero (``fmt`` takes the info)."""
    xp = array_module(info)
    flat = info.reshape(-1)
    bad = xp.nonzero(flat)[0]
    if bad.size == 0:
        return
    i = int(bad[0])
    where = f"(Batch element {i}): " if info.ndim > 0 else ""
    raise LinAlgError(f"{name}: {where}{fmt(int(flat[i]))}")


def _finite(r):
    xp = array_module(r)
    return bool(xp.isfinite(r).all())


def eye_like(a, n=None, m=None):
    xp = array_module(a)
    n = a.shape[-1] if n is None else n
    return xp.eye(n, n if m is None else m, dtype=a.dtype)


def out_tensor(node, i):
    """Output ``i`` of a multi-output node as a tensor (connected to the node under create_graph)."""
    arr = node.outs[i]
    return make(arr, node, i) if state.enabled else make(arr)


def _outputs(node, arrays):
    if node is None:
        return [make(a) for a in arrays]
    node.outs = arrays
    return [make(a, node, i) for i, a in enumerate(arrays)]


# --- LU with partial pivoting on arrays (batched; a loop over columns, not over batch elements) ---------------

def lu_arrays(a, pivot=True):
    """Packed LU of ``a`` (..., m, n): ``(LU, pivots (int32, 1-based as LAPACK), info (int32))``."""
    xp = array_module(a)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    nb = int(np.prod(batch, dtype=np.int64))
    w = a.reshape(nb, m, n).copy()
    piv = xp.empty((nb, k), dtype=np.int32)
    info = xp.zeros(nb, dtype=np.int32)
    bi = xp.arange(nb)
    for j in range(k):
        if pivot:
            p = xp.argmax(xp.abs(w[:, j:, j]), axis=1) + j
            rp = w[bi, p].copy()
            w[bi, p] = w[:, j]
            w[:, j] = rp
        else:
            p = xp.full(nb, j)
        piv[:, j] = p + 1
        d = w[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(np.int32)
        if j + 1 < m:
            col = w[:, j + 1:, j] / xp.where(zero, 1, d)[:, None]
            w[:, j + 1:, j] = col
            if j + 1 < n:
                w[:, j + 1:, j + 1:] -= col[:, :, None] * w[:, j, None, j + 1:]
    return w.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def perm_from_pivots(piv, m):
    """Row order ``perm`` with ``A[perm] = L U`` from LAPACK pivots (batched)."""
    xp = array_module(piv)
    batch, k = piv.shape[:-1], piv.shape[-1]
    nb = int(np.prod(batch, dtype=np.int64))
    p = piv.reshape(nb, k).astype(np.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (nb, m)).copy()
    bi = xp.arange(nb)
    for j in range(k):
        t = perm[bi, p[:, j]].copy()
        perm[bi, p[:, j]] = perm[:, j]
        perm[:, j] = t
    return perm.reshape(batch + (m,))


def singular_info(a):
    """LAPACK-style info of getrf: the 1-based index of the first zero pivot (0 where none)."""
    return lu_arrays(a)[2]


def cholesky_info(a):
    """The order of the first leading minor that is not positive-definite (0 where none); reads the lower part."""
    xp = array_module(a)
    low = xp.tril(a)
    sym = low + xp.swapaxes(xp.tril(a, -1), -1, -2)
    lu, _, _ = lu_arrays(sym, pivot=False)
    d = xp.diagonal(lu, axis1=-2, axis2=-1)
    bad = ~(d > 0)
    first = xp.argmax(bad, axis=-1) + 1
    return xp.where(bad.any(axis=-1), first, 0).astype(np.int32)


def _inv_msg(i):
    return f"The diagonal element {i} is zero, the inversion could not be completed because the input matrix is singular."


def _chol_msg(i):
    return ("The factorization could not be completed because the input is not positive-definite "
            f"(the leading minor of order {i} is not positive-definite).")


# --- inverse ----------------------------------------------------------------------------------------------------

def inv_array(a, name='linalg.inv', check=True):
    """``a``'s inverse; PyTorch's singular-matrix error (or the info array when ``check`` is False)."""
    xp = array_module(a)
    try:
        r = xp.linalg.inv(a)
        ok = xp is np or _finite(r)
    except np.linalg.LinAlgError:
        r, ok = None, False
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    if not ok:
        info = singular_info(a)
        if check:
            raise_info(info, _inv_msg, name)
        if r is None:
            with np.errstate(all='ignore'):
                r = _inv_by_lu(a)
    return r.astype(a.dtype, copy=False), info


def _inv_by_lu(a):
    """Inverse through the packed LU (gives inf/nan for singular matrices instead of raising)."""
    xp = array_module(a)
    lu, piv, _ = lu_arrays(a)
    n = a.shape[-1]
    perm = perm_from_pivots(piv, n)
    L = xp.tril(lu, -1) + xp.eye(n, dtype=a.dtype)
    U = xp.triu(lu)
    Pt = (perm[..., :, None] == xp.arange(n)).astype(a.dtype)  # rows of A in LU order: Pt @ A = L U
    y = _tri_solve_arr(L, Pt, lower=True)
    return _tri_solve_arr(U, y, lower=False)


def _tri_solve_arr(T, B, lower):
    """Substitution over the rows (vectorized over batch and right-hand sides)."""
    xp = array_module(T)
    n = T.shape[-1]
    B = xp.broadcast_to(B, T.shape[:-2] + B.shape[-2:]).copy()
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        acc = B[..., i, :]
        if lower and i > 0:
            acc = acc - (T[..., i, None, :i] @ B[..., :i, :])[..., 0, :]
        elif not lower and i < n - 1:
            acc = acc - (T[..., i, None, i + 1:] @ B[..., i + 1:, :])[..., 0, :]
        B[..., i, :] = acc / T[..., i, i, None]
    return B


class LinalgInvExBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        X = self.output()
        Xt = X.mT
        return (-(Xt @ g @ Xt),)


def inv_ex(A, *, check_errors=False, name='linalg.inv'):
    a = check_matrix(A, name)
    r, info = inv_array(a, name, check_errors)
    if recording(A):
        n = LinalgInvExBackward0((A,))
        out = make(r, n)
        n.save_output(out)
        return out, make(info)
    return make(r), make(info)


# --- determinants -----------------------------------------------------------------------------------------------

class LinalgSlogdetBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (A,) = self.saved_tensors()
        from . import inv
        return (g[..., None, None] * inv(A).mT,)


def slogdet_arrays(a):
    xp = array_module(a)
    s, l = xp.linalg.slogdet(a)
    return xp.asarray(s).astype(a.dtype, copy=False), xp.asarray(l).astype(a.dtype, copy=False)


def logabsdet(A, name='linalg.slogdet'):
    """``(sign, log|det A|)``; the second is differentiable."""
    a = check_matrix(A, name)
    s, l = slogdet_arrays(a)
    if recording(A):
        n = LinalgSlogdetBackward0((A,))
        n.save(A)
        return make(s), make(l, n)
    return make(s), make(l)


class LinalgDetBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (A,) = self.saved_tensors()
        d = self.output()
        xp = array_module(d._data)
        from . import inv
        sing = d._data == 0
        if not bool(sing.any()):
            return ((g * d)[..., None, None] * inv(A).mT,)
        # singular elements: the adjugate's transpose det(U) det(V) U diag(prod_{j != i} s_j) V^T from the SVD;
        # each branch sees a harmless stand-in matrix where the other one is used
        n = A.shape[-1]
        dt = d._data.dtype
        mask = make(sing[..., None, None])
        A_inv = A.masked_fill(mask, 0.0) + make(xp.where(sing[..., None, None], xp.eye(n, dtype=dt), 0))
        A_svd = A.masked_fill(~mask, 0.0) + make(xp.where(sing[..., None, None], 0, xp.diag(xp.arange(1, n + 1,
                                                                                                       dtype=dt))))
        U, S, Vh = svd(A_svd, full_matrices=False)
        eye = make(xp.eye(n, dtype=bool))
        others = S.unsqueeze(-2).expand(tuple(S.shape[:-1]) + (n, n)).masked_fill(eye, 1.0).prod(-1)
        sgn = make((xp.linalg.det(U._data) * xp.linalg.det(Vh._data)).astype(dt))
        adj_t = sgn[..., None, None] * ((U * others.unsqueeze(-2)) @ Vh)
        regular = d[..., None, None] * inv(A_inv).mT
        return (g[..., None, None] * (adj_t.masked_fill(~mask, 0.0) + regular.masked_fill(mask, 0.0)),)


def det(A, name='linalg.det'):
    a = check_matrix(A, name)
    xp = array_module(a)
    r = xp.asarray(xp.linalg.det(a)).astype(a.dtype, copy=False)
    if recording(A):
        n = LinalgDetBackward0((A,))
        n.save(A)
        out = make(r, n)
        n.save_output(out)
        return out
    return make(r)


# --- solves -----------------------------------------------------------------------------------------------------

class LinalgSolveExBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (A, B) = self.saved_tensors()
        X = self.output()
        nA, nB = self.next
        gB = solve_matrix(A.mT, g)
        gA = grad_for(-(gB @ X.mT), A) if nA is not None else None
        return gA, (grad_for(gB, B) if nB is not None else None)


def solve_matrix(A, B, name='torch.linalg.solve'):
    """``A^-1 B`` for matrix right-hand sides, batch dims broadcast."""
    a, b = A._data, B._data
    xp = array_module(a)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    ab = xp.broadcast_to(a, batch + a.shape[-2:])
    bb = xp.broadcast_to(b, batch + b.shape[-2:])
    try:
        r = xp.linalg.solve(ab, bb)
        ok = xp is np or _finite(r)
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        raise_info(singular_info(ab), lambda i: "The solver failed because the input matrix is singular.", name)
    r = r.astype(a.dtype, copy=False)
    if recording(A, B):
        n = LinalgSolveExBackward0((A, B))
        n.save(A, B)
        out = make(r, n)
        n.save_output(out)
        return out
    return make(r)


class LinalgSolveTriangularBackward0(Node):
    __slots__ = ('upper', 'left', 'unit')

    def backward(self, g):
        (A, B) = self.saved_tensors()
        X = self.output()
        nA, nB = self.next
        up, left, unit = self.upper, self.left, self.unit
        gB = solve_triangular(A.mT, g, upper=not up, left=left, unitriangular=unit)
        gA = None
        if nA is not None:
            gA = -(gB @ X.mT) if left else -(X.mT @ gB)
            k = 1 if unit else 0
            gA = gA.triu(k) if up else gA.tril(-k)
            gA = grad_for(gA, A)
        return gA, (grad_for(gB, B) if nB is not None else None)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Solve ``A X = B`` (``X A = B`` when not ``left``) for triangular ``A`` (batched, broadcast)."""
    a = check_matrix(A, 'linalg.solve_triangular')
    b = B._data
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{scalar_type_name(a.dtype)} and B of type {scalar_type_name(b.dtype)} instead")
    if (b.shape[-2] if left else b.shape[-1]) != a.shape[-1]:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    xp = array_module(a)
    t = xp.triu(a) if upper else xp.tril(a)
    if unitriangular:
        n = a.shape[-1]
        t = t * (1 - xp.eye(n, dtype=a.dtype)) + xp.eye(n, dtype=a.dtype)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if left:
        r = _tri_solve(xp, t, b, batch, not upper)
    else:
        r = xp.swapaxes(_tri_solve(xp, xp.swapaxes(t, -1, -2), xp.swapaxes(b, -1, -2), batch, upper), -1, -2)
    r = r.astype(a.dtype, copy=False)
    if recording(A, B):
        n = LinalgSolveTriangularBackward0((A, B))
        n.upper, n.left, n.unit = upper, left, unitriangular
        n.save(A, B)
        res = make(r, n)
        n.save_output(res)
    else:
        res = make(r)
    if out is not None:
        out._assign_out(res)
        return out
    return res


def _tri_solve(xp, t, b, batch, lower):
    t = xp.broadcast_to(t, batch + t.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    if xp is np:
        try:
            import scipy.linalg as sl
            if t.ndim == 2:
                return sl.solve_triangular(t, b, lower=lower, check_finite=False)
        except ImportError:
            pass
    with np.errstate(all='ignore'):
        return xp.linalg.solve(t, b) if _finite_diag(t) else _tri_solve_arr(t, b, lower)


def _finite_diag(t):
    xp = array_module(t)
    return bool((xp.diagonal(t, axis1=-2, axis2=-1) != 0).all())


# --- Cholesky ---------------------------------------------------------------------------------------------------

class LinalgCholeskyExBackward0(Node):
    __slots__ = ('upper',)

    def backward(self, g):
        L = self.output()
        if self.upper:
            L, g = L.mT, g.mT
        M = L.mT @ g
        P = (M.tril() + M.tril(-1).mT) * 0.5
        X = solve_triangular(L.mT, P, upper=True)
        return (solve_triangular(L, X, upper=False, left=False),)


def cholesky_ex(A, *, upper=False, check_errors=False, name='linalg.cholesky'):
    a = check_matrix(A, name)
    xp = array_module(a)
    try:
        r = xp.linalg.cholesky(a)
        ok = xp is np or _finite(r)
    except np.linalg.LinAlgError:
        ok = False
    info = xp.zeros(a.shape[:-2], dtype=np.int32)
    if not ok:
        info = cholesky_info(a)
        if check_errors:
            raise_info(info, _chol_msg, name)
        good = (info == 0)[..., None, None]
        r = xp.linalg.cholesky(xp.where(good, a, eye_like(a)))
        r = xp.where(good, r, xp.nan)
    r = r.astype(a.dtype, copy=False)
    if upper:
        r = xp.ascontiguousarray(xp.swapaxes(r, -1, -2))
    if recording(A):
        n = LinalgCholeskyExBackward0((A,))
        n.upper = upper
        out = make(r, n)
        n.save_output(out)
        return out, make(info)
    return make(r), make(info)


# --- QR ---------------------------------------------------------------------------------------------------------

class LinalgQrBackward0(Node):
    __slots__ = ('mode',)
    n_outputs = 2

    def backward(self, grads):
        gQ, gR = grads
        if self.mode == 'r':
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        Q, R = out_tensor(self, 0), out_tensor(self, 1)
        m, n = Q.shape[-2], R.shape[-1]
        if self.mode == 'complete' and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if gQ is None:
            gQ = Q * 0
        if gR is None:
            gR = R * 0
        if m >= n:
            return (_qr_grad(Q, R, gQ, gR),)
        # wide: A = Q [R1 R2], the left square block is a QR and R2 = Q^T A2
        R1, R2, gR1, gR2 = R[..., :m], R[..., m:], gR[..., :m], gR[..., m:]
        gA1 = _qr_grad(Q, R1, gQ + (Q @ R2) @ gR2.mT, gR1)
        return (_cat(gA1, Q @ gR2, -1),)


def _qr_grad(Q, R, gQ, gR):
    M = R @ gR.mT - gQ.mT @ Q
    C = M.tril(-1) + M.tril().mT
    return solve_triangular(R.mT, gQ + Q @ C, upper=False, left=False)


qr_result = collections.namedtuple('linalg_qr', ['Q', 'R'])


def qr(A, mode='reduced', *, name='linalg.qr'):
    if mode not in ('reduced', 'complete', 'r'):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    a = check_matrix(A, name, square=False)
    xp = array_module(a)
    q, r = xp.linalg.qr(a, mode='complete' if mode == 'complete' else 'reduced')
    q, r = q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)
    if mode == 'r':
        q = xp.zeros((0,), dtype=a.dtype)
    node = None
    if recording(A):
        node = LinalgQrBackward0((A,))
        node.mode = mode
    Q, R = _outputs(node, (q, r))
    return Q, R


# --- SVD --------------------------------------------------------------------------------------------------------

class LinalgSvdBackward0(Node):
    __slots__ = ('full',)
    n_outputs = 3

    def backward(self, grads):
        gU, gS, gVh = grads
        U, S, Vh = out_tensor(self, 0), out_tensor(self, 1), out_tensor(self, 2)
        m, n = U.shape[-2], Vh.shape[-1]
        k = S.shape[-1]
        if self.full:
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = gU[..., :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        V = Vh.mT
        if gU is None and gVh is None:
            return ((U * gS.unsqueeze(-2)) @ Vh,)
        inner = gS.diag_embed() if gS is not None else 0
        xp = array_module(S._data)
        eye = make(xp.eye(k, dtype=S._data.dtype))
        s2 = S * S
        E = s2.unsqueeze(-2) - s2.unsqueeze(-1)  # E_ij = s_j^2 - s_i^2
        F = (1 - eye) / (E + eye)
        Sd = S.unsqueeze(-2)  # scales columns
        extra = 0
        if gU is not None:
            J = U.mT @ gU
            inner = inner + (F * (J - J.mT)) * Sd
            if m > k:
                extra = extra + ((gU - U @ J) / Sd) @ Vh
        if gVh is not None:
            gV = gVh.mT
            K = V.mT @ gV
            inner = inner + S.unsqueeze(-1) * (F * (K - K.mT))
            if n > k:
                extra = extra + (U / Sd) @ (gV - V @ K).mT
        return (U @ inner @ Vh + extra,)


svd_result = collections.namedtuple('linalg_svd', ['U', 'S', 'Vh'])


def svd(A, full_matrices=True, *, driver=None, name='linalg.svd'):
    a = check_matrix(A, name, square=False)
    xp = array_module(a)
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    u, s, vh = (x.astype(a.dtype, copy=False) for x in (u, s, vh))
    node = None
    if recording(A):
        node = LinalgSvdBackward0((A,))
        node.full = full_matrices and a.shape[-1] != a.shape[-2]
    return svd_result(*_outputs(node, (u, s, vh)))


def svdvals_array(a):
    xp = array_module(a)
    return xp.linalg.svd(a, compute_uv=False).astype(a.dtype, copy=False)


# --- eigh -------------------------------------------------------------------------------------------------------

class LinalgEighBackward0(Node):
    __slots__ = ()
    n_outputs = 2

    def backward(self, grads):
        gL, gV = grads
        L, V = out_tensor(self, 0), out_tensor(self, 1)
        if gV is None:
            return ((V * gL.unsqueeze(-2)) @ V.mT,)
        xp = array_module(L._data)
        k = L.shape[-1]
        eye = make(xp.eye(k, dtype=L._data.dtype))
        E = L.unsqueeze(-2) - L.unsqueeze(-1)  # E_ij = l_j - l_i
        W = V.mT @ gV
        inner = (W - W.mT) * 0.5 * (1 - eye) / (E + eye)
        if gL is not None:
            inner = inner + gL.diag_embed()
        return (V @ inner @ V.mT,)


eigh_result = collections.namedtuple('linalg_eigh', ['eigenvalues', 'eigenvectors'])


def eigh(A, UPLO='L', *, name='linalg.eigh'):
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    a = check_matrix(A, name)
    xp = array_module(a)
    w, v = xp.linalg.eigh(a, UPLO=UPLO)
    w, v = w.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)
    node = LinalgEighBackward0((A,)) if recording(A) else None
    return eigh_result(*_outputs(node, (w, v)))


# --- LU ---------------------------------------------------------------------------------------------------------

class LinalgLuFactorExBackward0(Node):
    __slots__ = ('perm',)

    def backward(self, g):
        LU = self.output()
        m, n = LU.shape[-2], LU.shape[-1]
        k = min(m, n)
        xp = array_module(LU._data)
        dt = LU._data.dtype
        L = LU[..., :, :k].tril(-1) + make(xp.eye(m, k, dtype=dt))
        U = LU[..., :k, :].triu()
        gL = g[..., :, :k].tril(-1)
        gU = g[..., :k, :].triu()
        Pm = make((self.perm[..., None, :] == xp.arange(m)[:, None]).astype(dt))  # A = P (L U)
        if m == n:
            gA = _lu_square_grad(L, U, gL, gU)
        elif m < n:  # A = P L [U1 U2]
            U1, U2, gU1, gU2 = U[..., :, :m], U[..., :, m:], gU[..., :, :m], gU[..., :, m:]
            gA2 = solve_triangular(L.mT, gU2, upper=True, unitriangular=True)
            gA1 = _lu_square_grad(L, U1, gL - gA2 @ U2.mT, gU1)
            gA = _cat(gA1, gA2, -1)
        else:  # P^T A = [L1; L2] U
            L1, L2, gL1, gL2 = L[..., :n, :], L[..., n:, :], gL[..., :n, :], gL[..., n:, :]
            gA2 = solve_triangular(U.mT, gL2, upper=False, left=False)
            gA1 = _lu_square_grad(L1, U, gL1, gU - L2.mT @ gA2)
            gA = _cat(gA1, gA2, -2)
        return (Pm @ gA,)


def _cat(a, b, dim):
    from ..autograd.ops import cat
    return cat([a, b], dim)


def _lu_square_grad(L, U, gL, gU):
    N = (L.mT @ gL).tril(-1) + (gU @ U.mT).triu()
    Y = solve_triangular(L.mT, N, upper=True, unitriangular=True)
    return solve_triangular(U.mT, Y, upper=False, left=False)


def lu_factor_ex(A, *, pivot=True, check_errors=False, name='torch.linalg.lu_factor_ex'):
    a = check_matrix(A, name, square=False)
    lu, piv, info = lu_arrays(a, pivot)
    if check_errors:
        raise_info(info, lambda i: f"U[{i},{i}] is zero and using it on lu_solve would result in a division by "
                   "zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
                   "linalg.lu_factor_ex(A, pivot)", name)
    if recording(A):
        n = LinalgLuFactorExBackward0((A,))
        n.perm = perm_from_pivots(piv, a.shape[-2])
        out = make(lu, n)
        n.save_output(out)
        return out, make(piv), make(info)
    return make(lu), make(piv), make(info)


def _assign(res, out):
    """``res`` written into ``out`` (a tensor or a tuple of tensors) when given; else ``res``."""
    if out is None:
        return res
    if isinstance(out, (tuple, list)):
        for o, r in zip(out, res):
            o._assign_out(r)
        return out
    out._assign_out(res)
    return out
