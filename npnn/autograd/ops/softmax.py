"""Softmax family: softmax, softmin and log_softmax as single nodes (stable, through the row maximum)."""
import warnings

from ...backend.device import array_module
from ..grad_mode import state
from ..node import Node
from ._util import make, norm_dim, recording, scalar_type_name

__all__ = ['softmax', 'softmin', 'log_softmax']


def _softmax_dim(name, ndim, stacklevel=3):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _prep(input, dim, dtype, name):
    if dim is None:
        dim = _softmax_dim(name, input.dim(), 4)
    if dtype is not None:
        input = input.to(dtype)
    a = input._data
    if a.dtype.kind != 'f':
        raise RuntimeError(f"\"softmax_lastdim_kernel_impl\" not implemented for '{scalar_type_name(a.dtype)}'")
    return input, a, norm_dim(dim, a.ndim)


class SoftmaxBackward0(Node):
    __slots__ = ('ax',)

    def backward(self, g):
        y = self.output()
        ax = self.ax
        if state.enabled:  # create_graph: tensor ops
            return y * (g - (g * y).sum(ax, keepdim=True))
        gd, yd = g._data, y._data
        gy = gd * yd
        gy -= yd * gy.sum(axis=ax, keepdims=True)
        return make(gy)


class LogSoftmaxBackward0(Node):
    __slots__ = ('ax',)

    def backward(self, g):
        y = self.output()
        ax = self.ax
        if state.enabled:
            return g - y.exp() * g.sum(ax, keepdim=True)
        gd = g._data
        xp = array_module(gd)
        return make(gd - xp.exp(y._data) * gd.sum(axis=ax, keepdims=True))


def _softmax_arr(a, ax):
    xp = array_module(a)
    if a.ndim == 0:
        return xp.ones_like(a)
    e = a - a.max(axis=ax, keepdims=True)
    xp.exp(e, out=e)
    e /= e.sum(axis=ax, keepdims=True)
    return e


def _log_softmax_arr(a, ax):
    xp = array_module(a)
    if a.ndim == 0:
        return xp.zeros_like(a)
    s = a - a.max(axis=ax, keepdims=True)
    s -= xp.log(xp.exp(s).sum(axis=ax, keepdims=True))
    return s


def _output(input, r, node_cls, ax):
    """The result array ``r`` as a tensor; when ``input`` records, with a ``node_cls`` node that keeps the output."""
    if not recording(input):
        return make(r)
    n = node_cls((input,))
    n.ax = ax
    n.saved, n.versions = (), ()
    out = make(r, n)
    n.save_output(out)
    return out


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    input, a, ax = _prep(input, dim, dtype, 'softmax')
    return _output(input, _softmax_arr(a, ax), SoftmaxBackward0, ax)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim('softmin', input.dim(), 3)
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, through log-sum-exp."""
    input, a, ax = _prep(input, dim, dtype, 'log_softmax')
    return _output(input, _log_softmax_arr(a, ax), LogSoftmaxBackward0, ax)
