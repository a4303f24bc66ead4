"""Normalisation: batch/layer/group/instance norm as single nodes with a hand-written backward (tensor ops, so
``create_graph=True`` works: the statistics are recomputed with recorded ops in that mode), plus
local_response_norm, rms_norm and normalize as compositions."""
import numbers

import numpy as np

from ...autograd import ops as _ops
from ...autograd.grad_mode import state
from ...autograd.ops._util import make, recording, sum_to
from ...backend.device import array_module
from .misc import node_class, const

__all__ = ['batch_norm', 'layer_norm', 'group_norm', 'instance_norm', 'local_response_norm', 'rms_norm',
           'normalize']


def _norm_rule(n, g, x, w, b):
    axes, bshape, xhat_a, invstd_a, eps = n.ctx
    nx, nw, nb = n.next
    if state.enabled:  # create_graph: statistics as recorded functions of x
        d = x - x.mean(axes, keepdim=True)
        invstd = ((d * d).mean(axes, keepdim=True) + eps).rsqrt()
        xhat = d * invstd
    else:
        xhat, invstd = const(xhat_a), const(invstd_a)
    gw = sum_to(g * xhat, bshape).reshape(w.shape) if nw is not None else None
    gb = sum_to(g, bshape).reshape(b.shape) if nb is not None else None
    gx = None
    if nx is not None:
        gh = g * w.reshape(bshape) if w is not None else g
        gx = invstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
    return gx, gw, gb


def _normalize(name, input, axes, weight, bias, bshape, eps):
    """One node: ``(x - mean) / sqrt(var + eps) * w + b`` with statistics over ``axes``.
    Returns the output and the (mean, biased var) arrays."""
    a = input._data
    if a.dtype.kind != 'f':
        raise RuntimeError(f"expected a floating point input, got {input.dtype}")
    xp = array_module(a)
    mean = a.mean(axis=axes, keepdims=True)
    d = a - mean
    var = (d * d).mean(axis=axes, keepdims=True)
    invstd = 1.0 / xp.sqrt(var + eps)
    xhat = d
    xhat *= invstd
    if weight is not None or bias is not None:
        r = xhat * weight._data.reshape(bshape) if weight is not None else xhat.copy()
        if bias is not None:
            r += bias._data.reshape(bshape)
    else:
        r = xhat
    if recording(input, weight, bias):
        n = node_class(name)((input, weight, bias))
        n.rule = _norm_rule
        n.ctx = (axes, bshape, xhat, invstd, eps)
        n.save(input, weight, bias)
        out = make(r if r is not xhat else xhat.copy(), n)
    else:
        out = make(r)
    return out, mean, var


def _update(running, stat, momentum):
    """``running = (1 - momentum) * running + momentum * stat`` in place, no history."""
    if running is None:
        return
    rd = running._data
    rd *= (1.0 - momentum)
    rd += (momentum * stat).astype(rd.dtype, copy=False)
    running._vc[0] += 1


def _bshape(ndim, c):
    s = [1] * ndim
    s[1] = c
    return tuple(s)


def _affine_eval(input, mean, var, weight, bias, eps, bshape):
    invstd = (var + eps).rsqrt()
    scale = invstd * weight if weight is not None else invstd
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(bshape) + shift.reshape(bshape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """Batch normalisation over all dims but 1; in training updates the running statistics in place."""
    if input.dim() < 2:
        raise RuntimeError(f"running_mean should contain 0 elements not "
                           f"{running_mean.numel() if running_mean is not None else 0}")
    c = input.shape[1]
    for name, t in (('running_mean', running_mean), ('running_var', running_var), ('weight', weight),
                    ('bias', bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    bshape = _bshape(input.dim(), c)
    if training:
        size = input.numel() // c
        if size <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{input.size()}")
        axes = (0,) + tuple(range(2, input.dim()))
        out, mean, var = _normalize('NativeBatchNormBackward0', input, axes, weight, bias, bshape, eps)
        if running_mean is not None or running_var is not None:
            _update(running_mean, mean.reshape(c), momentum)
            _update(running_var, var.reshape(c) * (size / (size - 1)), momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    return _affine_eval(input, running_mean, running_var, weight, bias, eps, bshape)


def _as_shape(normalized_shape):
    """``normalized_shape`` as a tuple of ints (an int is a one-dim shape)."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


def _shape_str(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing ``normalized_shape`` dims, then scale by weight and shift by bias."""
    ns = _as_shape(normalized_shape)
    k = len(ns)
    if k == 0 or input.dim() < k or tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={_shape_str(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size{_shape_str(input.shape)}")
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{_shape_str(t.shape)} and normalized_shape = {_shape_str(ns)}")
    axes = tuple(range(input.dim() - k, input.dim()))
    return _normalize('NativeLayerNormBackward0', input, axes, weight, bias, ns, eps)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of ``C // num_groups`` channels (and all spatial positions) per sample."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {_shape_str(input.shape)} and num_groups={num_groups}")
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {_shape_str(t.shape)} and input of shape "
                               f"{_shape_str(input.shape)}")
    y = _normalize('NativeGroupNormBackward0', input.reshape(n, num_groups, -1), (2,), None, None, None, eps)[0]
    y = y.reshape(input.shape)
    bshape = _bshape(input.dim(), c)
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalise each channel of each sample over its spatial dims."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    c = input.shape[1]
    bshape = _bshape(input.dim(), c)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return _affine_eval(input, running_mean, running_var, weight, bias, eps, bshape)
    axes = tuple(range(2, input.dim()))
    size = int(np.prod(input.shape[2:]))
    if size <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
    out, mean, var = _normalize('NativeBatchNormBackward0', input, axes, weight, bias, bshape, eps)
    if running_mean is not None:
        _update(running_mean, mean.reshape(input.shape[0], c).mean(axis=0), momentum)
    if running_var is not None:
        _update(running_var, (var * (size / (size - 1))).reshape(input.shape[0], c).mean(axis=0), momentum)
    return out


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """Normalise over ``size`` neighbouring channels: ``x / (k + alpha * mean(x^2))^beta``."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    zshape = list(input.shape)
    parts = []
    if before:
        zshape[1] = before
        parts.append(const(array_module(input._data).zeros(zshape, dtype=input._data.dtype)))
    parts.append(sq)
    if after:
        zshape[1] = after
        parts.append(const(array_module(input._data).zeros(zshape, dtype=input._data.dtype)))
    padded = _ops.cat(parts, 1) if len(parts) > 1 else sq
    acc = None
    for o in range(size):  # loop over the window offsets, not elements
        s = padded.narrow(1, o, c)
        acc = s if acc is None else acc + s
    div = (acc * (alpha / size) + k) ** beta
    return input / div


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims."""
    ns = _as_shape(normalized_shape)
    k = len(ns)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={_shape_str(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size{_shape_str(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    axes = tuple(range(input.dim() - k, input.dim()))
    y = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    nrm = _ops.vector_norm(input, p, dim, keepdim=True)
    r = input / nrm.clamp_min(eps)
    if out is not None:
        out._assign_out(r)
        return out
    return r
