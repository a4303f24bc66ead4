"""``linear`` (one node: one matrix product forward, two backward) and ``bilinear``."""
from ...autograd.ops._util import make, recording, check_same_device
from ...autograd.ops.matrix import fold_matmul
from ...backend.device import array_module
from .misc import node_class

__all__ = ['linear', 'bilinear']


def _linear_rule(n, g, x, w, b):
    nx, nw, nb = n.next
    if g._data.dtype.kind == 'c':  # PyTorch's convention: g @ conj(W) and g^T @ conj(x)
        x, w = x.conj(), w.conj()
    gx = g.matmul(w) if nx is not None else None
    gw = gb = None
    if nw is not None or nb is not None:
        g2 = g.reshape(-1, g.shape[-1]) if g.dim() != 2 else g
        if nw is not None:
            x2 = x.reshape(-1, x.shape[-1]) if x.dim() != 2 else x
            gw = g2.t().matmul(x2)
        if nb is not None:
            gb = g2.sum(0).reshape(b.shape)
    return gx, gw, gb


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``."""
    a, w = input._data, weight._data
    check_same_device(a, w)
    if w.ndim != 2 or a.ndim == 0 or a.shape[-1] != w.shape[1]:
        if w.ndim == 1 and a.ndim >= 1 and a.shape[-1] == w.shape[0]:
            r = input.matmul(weight)
            return r + bias if bias is not None else r
        s1 = f"{a.shape[0] if a.ndim > 1 else 1}x{a.shape[-1] if a.ndim else 1}" if a.ndim <= 2 else \
            f"{int(a.size // a.shape[-1])}x{a.shape[-1]}"
        s2 = f"{w.shape[1]}x{w.shape[0]}" if w.ndim == 2 else f"{w.shape[0]}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({s1} and {s2})")
    if a.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dn(a)} and {_dn(w)}")
    r = fold_matmul(array_module(a), a, w.T)
    if bias is not None:
        r += bias._data
    if not recording(input, weight, bias):
        return make(r)
    n = node_class('AddmmBackward0')((input, weight, bias))
    n.rule = _linear_rule
    n.ctx = None
    n.save(input, weight, bias)
    return make(r, n)


def _dn(a):
    from ...autograd.ops._util import scalar_type_name
    return scalar_type_name(a.dtype)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T W_k x2 + b_k``; ``weight`` is (out, in1, in2)."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.dim()} dimensions")
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {i1}")
    if input2.shape[-1] != i2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {i2}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, i1)
    x2 = input2.reshape(-1, i2)
    t = x1.matmul(weight.permute(1, 0, 2).reshape(i1, o * i2)).reshape(-1, o, i2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (o,))
