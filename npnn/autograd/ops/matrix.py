"""Matrix products: matmul and its family."""
import numpy as np

from ...backend.device import array_module
from ..node import Node
from ._util import check_same_device, grad_for, make, recording, sum_to
from ...backend import dtypes


def _shape_err(name, a, b):
    return RuntimeError(f"{name}: mat1 and mat2 shapes cannot be multiplied "
                        f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


class MmBackward0(Node):
    """Backward of a matrix product of 2-D (or batched) operands."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        ga = g.matmul(b.mT) if na is not None else None
        gb = a.mT.matmul(g) if nb is not None else None
        return ga, gb


class MatmulBackward0(Node):
    """Backward of general matmul (1-D operands promoted, batch dims broadcast)."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (g * b if na is not None else None), (g * a if nb is not None else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if na is not None:
            ga = g2.matmul(b2.mT)
            if a.ndim == 1:
                ga = ga.squeeze(-2)
            ga = grad_for(ga, a)
        if nb is not None:
            gb = a2.mT.matmul(g2)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
            gb = grad_for(gb, b)
        return ga, gb


def _prep(a, b):
    ad, bd = a._data, b._data
    check_same_device(ad, bd)
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{dtypes.from_numpy_dtype(ad.dtype).name} != {dtypes.from_numpy_dtype(bd.dtype).name}")
    return ad, bd


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting rules (1-D operands promoted)."""
    ad, bd = _prep(input, other)
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {ad.ndim}D and {bd.ndim}D")
    ka = ad.shape[-1]
    kb = bd.shape[-2] if bd.ndim > 1 else bd.shape[0]
    if ka != kb:
        if ad.ndim == 2 and bd.ndim == 2:
            raise _shape_err('matmul', ad, bd)
        if ad.ndim == 1 and bd.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ad.shape[0]}] and src [{bd.shape[0]}] "
                               "to have the same number of elements, but got "
                               f"{ad.shape[0]} and {bd.shape[0]} elements respectively")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{list(ad.shape)}, {list(bd.shape)}] but got mismatched inner dims "
                           f"{ka} and {kb} (shapes {list(ad.shape)} and {list(bd.shape)} cannot be multiplied)")
    xp = array_module(ad)
    r = xp.matmul(ad, bd)
    if not isinstance(r, xp.ndarray):
        r = xp.asarray(r)
    if recording(input, other):
        n = (MmBackward0 if ad.ndim >= 2 and bd.ndim >= 2 and ad.shape[:-2] == bd.shape[:-2]
             else MatmulBackward0)((input, other))
        n.save(input, other)
        res = make(r, n)
    else:
        res = make(r)
    if out is not None:
        out._assign_out(res)
        return out
    return res


def mm(input, mat2, *, out=None):
    """Product of two 2-D matrices."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input._data.shape[1] != mat2._data.shape[0]:
        raise _shape_err('mm', input._data, mat2._data)
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    """Batched product of 3-D tensors ``(b, n, m) @ (b, m, p)``."""
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return matmul(input, mat2, out=out)


def mv(input, vec):
    """Matrix-vector product."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec._data.ndim}, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat ({input._data.shape[0]}x"
                           f"{input._data.shape[1]}), vec ({vec._data.shape[0]})")
    return matmul(input, vec)


def dot(input, other):
    """Dot product of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    return matmul(input, other)


inner_1d = dot


def vdot(input, other):
    return dot(input.conj() if input.is_complex() else input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    p = mm(mat1, mat2)
    return _axpby(input, p, beta, alpha)


def _axpby(input, p, beta, alpha):
    if alpha != 1:
        p = p * alpha
    if beta == 0:  # input is ignored (NaNs in it do not propagate), as in PyTorch
        return p
    return (input * beta if beta != 1 else input) + p


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _axpby(input, mv(mat, vec), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _axpby(input, bmm(batch1, batch2).sum(0), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _axpby(input, bmm(batch1, batch2), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    return _axpby(input, outer(vec1, vec2), beta, alpha)
