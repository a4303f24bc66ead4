"""``linalg.eig`` / ``linalg.eigvals``: eigen-decomposition of general (non-symmetric) square matrices.

Results are always complex (complex64 for float32/complex64 inputs, complex128 otherwise) with unit-norm
eigenvectors, as LAPACK's ``geev`` returns them. NumPy computes them with ``numpy.linalg.eig``; CuPy has no
general eigensolver, so CuPy inputs are decomposed on the host and the results moved back to the device.
"""
import collections

import numpy as np

from ..autograd.node import Node
from ..autograd.ops._util import make, recording
from ..backend.device import array_module
from ._prim import check_matrix, _assign

eig_result = collections.namedtuple('linalg_eig', ['eigenvalues', 'eigenvectors'])

_GAUGE_MSG = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication by "
              "e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined.")


def _complex_dtype(dt):
    return np.dtype(np.complex64) if dt in (np.float32, np.complex64) else np.dtype(np.complex128)


def _eig_arrays(a, vectors):
    """``(w, v)`` (``v`` None unless ``vectors``) as complex arrays on ``a``'s device."""
    xp = array_module(a)
    host = a if xp is np else xp.asnumpy(a)
    cdt = _complex_dtype(a.dtype)
    if host.shape[-1] == 0:
        w = np.zeros(host.shape[:-1], dtype=cdt)
        v = np.zeros(host.shape, dtype=cdt)
    elif vectors:
        w, v = np.linalg.eig(host)
    elif not np.isfinite(host).all():  # LAPACK's result is meaningless here; PyTorch returns it unchecked
        w, v = np.full(host.shape[:-1], np.nan, dtype=cdt), None
    else:
        w, v = np.linalg.eigvals(host), None
    w = w.astype(cdt, copy=False)
    v = None if v is None else v.astype(cdt, copy=False)
    if xp is not np:
        w = xp.asarray(w)
        v = None if v is None else xp.asarray(v)
    return w, v


def _mH(x):
    return array_module(x).swapaxes(x, -1, -2).conj()


class LinalgEigBackward0(Node):
    """PyTorch's rule: ``gA = V^{-H} (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H`` with
    ``E_ij = L_j - L_i``; the real part for real ``A``. Raises when the loss depends on the eigenvectors' phases."""
    __slots__ = ('real_input',)
    n_outputs = 2

    def backward(self, grads):
        gL, gV = grads
        L, V = self.outs
        xp = array_module(L)
        Vh = _mH(V)
        if gV is None:
            if gL is None:
                return (None,)
            inner = gL._data[..., :, None] * Vh
        else:
            VhgV = Vh @ gV._data
            d = xp.diagonal(VhgV, 0, -2, -1)
            if not bool(xp.all(xp.abs(d.imag) <= 1e-2)):
                raise RuntimeError(_GAUGE_MSG)
            inner = VhgV - Vh @ (V * d.real[..., None, :])
            Lc = L.conj()
            E = Lc[..., None, :] - Lc[..., :, None]
            n = L.shape[-1]
            idx = xp.arange(n)
            E[..., idx, idx] = 1
            inner = inner / E
            if gL is not None:
                inner[..., idx, idx] = gL._data
            inner = inner @ Vh
        gA = xp.linalg.solve(Vh, inner)
        if self.real_input:
            gA = gA.real
        return (make(xp.ascontiguousarray(gA)),)


def eig(A, *, out=None):
    """``(eigenvalues, eigenvectors)`` of general square ``A`` (batched): complex, eigenvectors of unit norm.
    Order and phases are LAPACK's. Differentiable (the loss must not depend on the eigenvectors' phases)."""
    a = _check(A, 'linalg.eig')
    if not bool(array_module(a).isfinite(a).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    w, v = _eig_arrays(a, True)
    if recording(A):
        node = LinalgEigBackward0((A,))
        node.real_input = a.dtype.kind == 'f'
        node.outs = (w, v)
        res = eig_result(make(w, node, 0), make(v, node, 1))
    else:
        res = eig_result(make(w), make(v))
    return _assign(res, out)


def eigvals(A, *, out=None):
    """The eigenvalues of general square ``A`` (complex, LAPACK's order); differentiable."""
    if recording(A):
        return _assign(eig(A).eigenvalues, out)
    a = _check(A, 'linalg.eigvals')
    return _assign(make(_eig_arrays(a, False)[0]), out)


def _check(A, name):
    a = check_matrix(A, name)
    if a.dtype == np.float16:
        raise NotImplementedError('"linalg_eig_out_cpu" not implemented for \'Half\'')
    return a

