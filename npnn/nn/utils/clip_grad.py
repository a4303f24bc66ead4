"""Gradient clipping: ``clip_grad_norm_`` (rescale all gradients by one total norm) and ``clip_grad_value_``."""
import math
import warnings

import numpy as np

from ...tensor import Tensor
from ...backend.device import array_module, array_to

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'get_total_norm', 'clip_grads_with_norm_']


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _array_norm(a, p):
    """The vector p-norm of an array as a 0-d array on its device (no host round-trip)."""
    xp = array_module(a)
    if p == math.inf:
        return xp.abs(a).max() if a.size else xp.zeros((), a.dtype)
    if p == -math.inf:
        return xp.abs(a).min() if a.size else xp.zeros((), a.dtype)
    if p == 0:
        return (a != 0).sum().astype(a.dtype)
    if p == 1:
        return xp.abs(a).sum()
    if p == 2:
        return xp.sqrt(xp.vdot(a.ravel(), a.ravel()).real.astype(a.dtype)) if a.size else xp.zeros((), a.dtype)
    return (xp.abs(a) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of all the given tensors together (as if concatenated), as a 0-d tensor on the first
    tensor's device."""
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        from ...creation import tensor
        return tensor(0.0)
    first = tensors[0]._data
    dev = tensors[0].device
    xp = array_module(first)
    norms = [array_to(_array_norm(t._data, norm_type), dev) for t in tensors]
    dt = first.dtype
    stacked = xp.stack([n.astype(dt) for n in norms])
    total = _array_norm(stacked, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(xp.asarray(total, dtype=dt))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else total_norm
    coef = float(max_norm) / (tn + 1e-6)
    for g in grads:
        a = g._data
        c = array_to(coef, g.device) if not isinstance(coef, float) else coef
        xp = array_module(a)
        c = xp.minimum(c, 1.0).astype(a.dtype) if not isinstance(c, float) else min(c, 1.0)
        with np.errstate(invalid='ignore', over='ignore'):  # a non-finite norm gives nan, as in PyTorch
            a *= c
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` in place so that their total ``norm_type``-norm is at most
    ``max_norm``; returns the total norm before clipping (a 0-d tensor)."""
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is None:
            continue
        a = g._data
        array_module(a).clip(a, -clip_value, clip_value, out=a)
        g._vc[0] += 1
