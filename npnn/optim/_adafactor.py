"""Adafactor's update rule on arrays (NumPy or CuPy), one parameter at a time, in place."""
import math

import numpy as np

from ..backend.device import array_module

__all__ = ['adafactor']


def _lerp_(a, b, w):
    """``a.lerp_(b, w)`` with PyTorch's two-sided formula; the weight rounds to float32 for float32 state."""
    xp = array_module(a)
    if a.dtype == np.float32:
        w = float(np.float32(w))
        one_minus = float(np.float32(1.0) - np.float32(w))
    else:
        one_minus = 1.0 - w
    t = xp.subtract(b, a)
    if w < 0.5:
        t *= w
        a += t
    else:
        t *= one_minus
        xp.subtract(b, t, out=a)


def _rms(xp, a):
    """``||a||_2 / sqrt(numel)`` as a Python float."""
    n = a.size
    return float(xp.sqrt(xp.sum(xp.square(a, dtype=np.float64)))) / math.sqrt(n) if n else 0.0


def adafactor(param, grad, row_var, col_var, variance, *, step, lr, beta2_decay, eps1, eps2, d, weight_decay,
              maximize):
    """One Adafactor step; ``step`` is the already-incremented count.

    ``row_var``/``col_var`` (the mean of the squared gradient over the last and the second-to-last dim,
    kept with those dims as 1) hold the factored second moment of a parameter of 2 or more dims;
    ``variance`` holds the full one of a 0-d or 1-d parameter.
    """
    xp = array_module(param)
    g = xp.negative(grad) if maximize else grad
    w = step ** beta2_decay  # 1 - beta2_t
    rho = min(lr, 1.0 / math.sqrt(step))
    alpha = max(eps2, _rms(xp, param)) * rho  # from the parameter before weight decay, as PyTorch
    if weight_decay != 0:
        param *= 1 - lr * weight_decay
    if g.ndim > 1:
        g2 = xp.square(g)
        _lerp_(row_var, g2.mean(axis=-1, keepdims=True), w)
        _lerp_(col_var, g2.mean(axis=-2, keepdims=True), w)
        est = row_var * col_var  # the outer product row_var @ col_var of an (m, 1) by a (1, n)
        est /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
    else:
        _lerp_(variance, xp.asarray(g * g), w)
        est = variance.copy()
    # eps1 squared: the square root below brings it back to eps1's scale
    upd = xp.asarray(xp.maximum(est, eps1 * eps1))
    xp.sqrt(upd, out=upd)
    upd = xp.asarray(xp.divide(g, upd))
    denom = max(1.0, _rms(xp, upd) / d)
    upd *= -alpha / denom
    param += upd
