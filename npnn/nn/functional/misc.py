"""``one_hot`` and the small helpers the other functional files share (custom nodes, reductions)."""
import warnings

import numpy as np

from ...autograd.node import Node
from ...autograd.ops._util import make, recording, Tensor, sum_to
from ...backend.device import array_module

__all__ = ['one_hot']


# --- custom nodes -------------------------------------------------------------------------------------------

class _Fn(Node):
    """A node whose backward is ``rule(node, g, *saved)``; ``ctx`` holds the op's constants."""
    __slots__ = ('rule', 'ctx')

    def backward(self, g):
        return self.rule(self, g, *self.saved_tensors())


_classes = {}


def node_class(name):
    """A ``_Fn`` subclass named like PyTorch's grad_fn (``SoftmaxBackward0``), created once."""
    c = _classes.get(name)
    if c is None:
        c = _classes[name] = type(name, (_Fn,), {'__slots__': ()})
    return c


def custom(name, inputs, result, rule, save=None, ctx=None, save_out=False):
    """Wrap array ``result`` as the output of op ``name`` over ``inputs`` with backward ``rule``.

    ``save`` lists tensors to keep for backward (default: the inputs); the rule receives them after ``g``.
    """
    if not recording(*inputs):
        return make(result)
    n = node_class(name)(inputs)
    n.rule = rule
    n.ctx = ctx
    n.save(*(inputs if save is None else save))
    out = make(result, n)
    if save_out:
        n.save_output(out)
    return out


def const(arr):
    """A tensor wrapping an array (no history)."""
    return make(arr)


def fit(g, t):
    """Gradient ``g`` reduced to ``t``'s shape and dtype (None when ``t`` is None)."""
    if g is None or t is None:
        return None
    if g._data.shape != t._data.shape:
        g = sum_to(g, t._data.shape)
    if g._data.dtype != t._data.dtype:
        g = g._cast(t._data.dtype)
    return g


def fdtype(t):
    """The float dtype of a tensor's array (default dtype for ints)."""
    d = t._data.dtype
    if d.kind == 'f':
        return d
    from ...backend import dtypes
    return dtypes.get_default_dtype().np


def reduce(loss, reduction):
    """Apply a loss reduction ('none' | 'mean' | 'sum')."""
    if reduction == 'none':
        return loss
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_reduction(size_average, reduce_, reduction):
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` arguments."""
    if size_average is None and reduce_ is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_legacy(size_average, reduce_)}' instead.")
    return _legacy(size_average, reduce_)


def _legacy(size_average, reduce_):
    size_average = True if size_average is None else size_average
    reduce_ = True if reduce_ is None else reduce_
    if size_average and reduce_:
        return 'mean'
    if reduce_:
        return 'sum'
    return 'none'


def check_reduction(reduction):
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"{reduction} is not a valid value for reduction")


# --- one_hot ------------------------------------------------------------------------------------------------

def one_hot(tensor, num_classes=-1):
    """Integer class indices to a one-hot int64 tensor with a trailing ``num_classes`` dim."""
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = array_module(a)
    if a.size == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if int(a.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        mx = int(a.max())
        if num_classes == -1:
            num_classes = mx + 1
        elif mx >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes, dtype=np.int64)).astype(np.int64)
    return make(out)


def is_tensor(x):
    return isinstance(x, Tensor())
