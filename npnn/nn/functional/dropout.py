"""Dropout family: a random mask drawn on the input's device, applied with one multiply (its own backward)."""
import math
import warnings

from ...autograd.ops._util import make
from ...backend.device import array_module
from .misc import const

__all__ = ['dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout', 'feature_alpha_dropout']


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _uniform(input, shape):
    from ...creation import rand
    dt = input.dtype if input.is_floating_point() else None
    return rand(*shape, dtype=dt, device=input.device)._data


def _apply(input, mul, add, inplace):
    """``input * mul (+ add)`` with constant arrays, in place if asked."""
    m = const(mul)
    if inplace:
        input.mul_(m)
        if add is not None:
            input.add_(const(add))
        return input
    r = input * m
    return r + const(add) if add is not None else r


def _dropout(input, p, training, inplace, batched_dims=None):
    """Multiply by a scaled keep-mask: per element, or per channel given ``batched_dims`` (feature dropout)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    a = input._data
    xp = array_module(a)
    shape = a.shape if batched_dims is None else _feature_shape(input, batched_dims, '')
    if p == 1.0:
        mask = xp.zeros(shape, dtype=a.dtype)
    else:
        mask = (_uniform(input, shape) >= p).astype(a.dtype)
        mask *= 1.0 / (1.0 - p)
    return _apply(input, mask, None, inplace)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only)."""
    return _dropout(input, p, training, inplace)


def _feature_shape(input, batched_dims, name):
    nd = input.dim()
    if nd == batched_dims:   # batched: (N, C, *)
        return tuple(input.shape[:2]) + (1,) * (nd - 2)
    return (input.shape[0],) + (1,) * (nd - 1)   # unbatched: (C, *)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _dropout(input, p, training, inplace, 3)


def _warn_deprecated_rank(name, nd, spatial):
    warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an "
                  "error in a future release. To retain the behavior and silence this warning, please use "
                  f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
                  f"{spatial} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                  f"{spatial + 1}D or {spatial + 2}D inputs).")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    nd = input.dim()
    if nd not in (3, 4):
        _warn_deprecated_rank('dropout2d', nd, 2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.")
        return _dropout(input, p, training, inplace, 3)
    return _dropout(input, p, training, inplace, nd if nd != 4 else 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    nd = input.dim()
    if nd not in (4, 5):
        _warn_deprecated_rank('dropout3d', nd, 3)
    return _dropout(input, p, training, inplace, 5 if nd in (4, 5) else nd)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_ALPHA_P = -_SELU_ALPHA * _SELU_SCALE


def _alpha(input, p, training, inplace, shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    a = input._data
    xp = array_module(a)
    if p == 1.0:
        return _apply(input, xp.zeros(a.shape, dtype=a.dtype), None, inplace)
    keep = (_uniform(input, shape) >= p).astype(a.dtype)
    coef_a = 1.0 / math.sqrt((_ALPHA_P * _ALPHA_P * p + 1) * (1 - p))
    coef_b = -coef_a * _ALPHA_P * p
    # y = a * (x * keep + alpha' * (1 - keep)) + b
    mul = keep * coef_a
    add = (1.0 - keep) * (coef_a * _ALPHA_P) + coef_b
    return _apply(input, mul.astype(a.dtype, copy=False), add.astype(a.dtype, copy=False), inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _alpha(input, p, training, inplace, tuple(input.shape))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return _alpha(input, p, training, inplace, shape)
