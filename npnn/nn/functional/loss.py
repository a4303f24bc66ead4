"""Losses. ``cross_entropy`` (class indices) and ``nll_loss`` are single fused nodes (log-sum-exp forward,
``softmax - onehot`` backward on arrays; tensor ops under ``create_graph``); the others are compositions of
recorded ops, or single nodes where PyTorch's gradient differs from the composition's at clamps."""
import math
import warnings

import numpy as np

from ...autograd import ops as _ops
from ...autograd.grad_mode import state
from ...autograd.ops._util import make, recording, scalar_type_name
from ...backend.device import array_module
from .activation import log_softmax, softplus, relu, softmax
from .distance import pairwise_distance
from .misc import const, custom, reduce as _reduce, legacy_reduction, check_reduction, node_class

__all__ = ['l1_loss', 'mse_loss', 'smooth_l1_loss', 'huber_loss', 'nll_loss', 'cross_entropy',
           'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'kl_div', 'poisson_nll_loss',
           'gaussian_nll_loss', 'margin_ranking_loss', 'hinge_embedding_loss', 'multilabel_margin_loss',
           'multilabel_soft_margin_loss', 'soft_margin_loss', 'multi_margin_loss', 'cosine_embedding_loss',
           'triplet_margin_loss', 'triplet_margin_with_distance_loss']


def _size_warn(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _red(size_average, reduce_, reduction):
    r = legacy_reduction(size_average, reduce_, reduction)
    check_reduction(r)
    return r


# --- regression ---------------------------------------------------------------------------------------------

def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean absolute error."""
    reduction = _red(size_average, reduce, reduction)
    _size_warn(input, target)
    d = (input - target).abs()
    return _reduce(d * weight if weight is not None else d, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """Mean squared error."""
    reduction = _red(size_average, reduce, reduction)
    _size_warn(input, target)
    d = input - target
    d = d * d
    return _reduce(d * weight if weight is not None else d, reduction)


def _huber(d, beta, scale_small):
    ad = d.abs()
    small = const(ad._data < beta)
    return _ops.where(small, d * d * scale_small, ad - 0.5 * beta)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``."""
    reduction = _red(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _size_warn(input, target)
    d = input - target
    if beta == 0:
        return _reduce(d.abs(), reduction)
    return _reduce(_huber(d, beta, 0.5 / beta), reduction)


def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 delta)``."""
    check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _size_warn(input, target)
    d = input - target
    ad = d.abs()
    small = const(ad._data < delta)
    loss = _ops.where(small, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _reduce(loss * weight if weight is not None else loss, reduction)


# --- classification with class indices: one fused node -----------------------------------------------------

def _class_rule(n, g, x):
    """Backward of cross_entropy / nll_loss for class-index targets."""
    (fused, logp, tt, valid, wt, w, eps, C, reduction, denom, layout, e, esum) = n.ctx
    xp = array_module(logp)
    M = logp.shape[0]
    if state.enabled:  # create_graph: recorded ops on x and g
        x2 = _to_rows(x, layout)
        gr = _rows_grad(g, reduction, denom, M)
        q = xp.zeros((M, C), dtype=logp.dtype)
        q[xp.arange(M), tt] = (1.0 - eps) * wt
        if eps:
            q += (eps / C) * (valid[:, None] * (w[None, :] if w is not None else 1.0))
        qt = const(q)
        if fused:
            p = softmax(x2, 1)
            d = (p * const(q.sum(axis=1, keepdims=True)) - qt) * gr.unsqueeze(1)
        else:
            d = -qt * gr.unsqueeze(1)
        return (_from_rows(d, layout),)
    gd = g._data
    if reduction == 'none':
        gr = gd.reshape(M)
    else:
        gr = xp.empty((M,), dtype=logp.dtype)
        gr[...] = gd * denom if reduction == 'mean' else gd
    gw = gr * wt * (1.0 - eps)
    if fused:
        qs = (1.0 - eps) * wt
        if eps:
            qs = qs + (eps / C) * valid * (w.sum() if w is not None else float(C))
        d = e * (gr * qs / esum)[:, None]   # softmax = e / esum, kept from forward (no second exp)
    else:
        d = xp.zeros((M, C), dtype=logp.dtype)
    d[xp.arange(M), tt] -= gw
    if eps:
        d -= (gr * valid * (eps / C))[:, None] * (w[None, :] if w is not None else 1.0)
    return (_from_rows(make(d), layout),)


def _to_rows(x, layout):
    """(N, C, d1, ...) -> (N*d1*..., C) (a view for 2-D input)."""
    kind = layout[0]
    if kind == 2:
        return x
    if kind == 1:
        return x.reshape(1, -1)
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def _from_rows(d, layout):
    kind, shape = layout
    if kind == 2:
        return d
    if kind == 1:
        return d.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return d.reshape(moved).movedim(-1, 1)


def _rows_grad(g, reduction, denom, M):
    if reduction == 'none':
        return g.reshape(M)
    gg = g * const(denom) if reduction == 'mean' else g
    return gg.reshape(1).expand(M)


def _check_class_shapes(input, target, name):
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd == 1:
        if target.dim() != 0 and not (target.dim() == 1 and target.shape[0] == 1):
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}"
                             if target.dim() == 1 else "0D or 1D target tensor expected, multi-target not supported")
        return
    if target.dim() == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.dim() else 1}).")
    if nd == 2:
        if target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    exp = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != exp:
        raise RuntimeError(f"Expected target size [{', '.join(str(s) for s in exp)}], got "
                           f"[{', '.join(str(s) for s in target.shape)}]")


def _class_loss(input, target, weight, ignore_index, reduction, eps, fused, name):
    check_reduction(reduction)
    a = input._data
    if target._data.dtype.kind not in 'iu':
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{scalar_type_name(target._data.dtype)}")
    _check_class_shapes(input, target, name)
    xp = array_module(a)
    nd = a.ndim
    C = a.shape[1] if nd >= 2 else a.shape[0]
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                           f"weight tensor of shape: [{', '.join(str(s) for s in weight.shape)}]")
    if nd == 2:
        layout = (2, None)
        x2 = a
    elif nd == 1:
        layout = (1, a.shape)
        x2 = a.reshape(1, C)
    else:
        layout = (3, a.shape)
        x2 = xp.moveaxis(a, 1, -1).reshape(-1, C)
    t1 = target._data.reshape(-1)
    M = x2.shape[0]
    validb = t1 != ignore_index
    tt = xp.where(validb, t1, 0)
    oob = (tt < 0) | (tt >= C)
    if tt.size and bool(oob.any()):
        bad = tt[oob][0]
        raise IndexError(f"Target {int(bad)} is out of bounds.")
    valid = validb.astype(a.dtype)
    w = weight._data.astype(a.dtype, copy=False) if weight is not None else None
    wt = w[tt] * valid if w is not None else valid
    e = esum = None
    if fused:
        logp = x2 - x2.max(axis=1, keepdims=True)
        e = xp.exp(logp)
        esum = e @ xp.ones(C, dtype=e.dtype) if e.dtype.kind == 'f' else e.sum(axis=1)  # a BLAS row sum
        logp -= xp.log(esum)[:, None]
    else:
        logp = x2
    rows = logp[xp.arange(M), tt] * (wt * (eps - 1.0))
    if eps:
        sm = (logp * w[None, :]).sum(axis=1) if w is not None else logp.sum(axis=1)
        rows -= sm * valid * (eps / C)
    denom = None
    if reduction == 'none':
        r = rows.reshape(target._data.shape)
    elif reduction == 'sum':
        r = rows.sum()
    else:
        denom = wt.sum()   # stays an array: no host round-trip on the GPU
        with np.errstate(invalid='ignore', divide='ignore'):
            r = rows.sum() / denom
            # backward scale: 1/denom, and 0 when every target is ignored (loss NaN, gradient 0, like PyTorch)
            denom = xp.where(denom != 0, 1.0 / denom, 0.0).astype(a.dtype)
    r = xp.asarray(r, dtype=a.dtype)
    if not recording(input):
        return make(r)
    n = node_class(name)((input,))
    n.rule = _class_rule
    n.ctx = (fused, logp, tt, valid, wt, w, eps, C, reduction, denom, layout, e, esum)
    n.save(input)
    return make(r, n)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
    """Negative log likelihood of class indices given log-probabilities (N, C, d1, ...)."""
    reduction = _red(size_average, reduce, reduction)
    return _class_loss(input, target, weight, ignore_index, reduction, 0.0, False, 'NllLossBackward0')


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction='mean', label_smoothing=0.0):
    """Cross entropy between logits (N, C, d1, ...) and class indices or class probabilities."""
    reduction = _red(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.dtype.kind == 'f' and tuple(target.shape) == tuple(input.shape):
        return _prob_cross_entropy(input, target, weight, reduction, label_smoothing)
    return _class_loss(input, target, weight, ignore_index, reduction, float(label_smoothing), True,
                       'NllLossBackward0')


def _prob_cross_entropy(input, target, weight, reduction, eps):
    if tuple(input.shape) != tuple(target.shape):
        if input.dim() >= 1 and target.dim() >= 1 and input.shape[0] != target.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0]}).")
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    cdim = 1 if input.dim() >= 2 else 0
    C = input.shape[cdim]
    logp = log_softmax(input, cdim)
    t = target * (1.0 - eps) + eps / C if eps else target
    prod = logp * t
    if weight is not None:
        shape = [1] * input.dim()
        shape[cdim] = C
        prod = prod * weight.reshape(shape)
    loss = -prod.sum(cdim)
    if reduction == 'mean':
        return loss.sum() / float(max(input.numel() // C, 1)) if input.numel() else loss.sum() / 0.0
    return _reduce(loss, reduction)


# --- binary ---------------------------------------------------------------------------------------------------

def _bce_rule(n, g, x, t, w):
    gx = gt = None
    if n.next[0] is not None:
        gx = g * (x - t) / ((1.0 - x) * x).clamp_min(1e-12)
        if w is not None:
            gx = gx * w
    if n.next[1] is not None:
        gt = g * ((1.0 - x).log().clamp_min(-100.0) - x.log().clamp_min(-100.0))
        if w is not None:
            gt = gt * w
    return gx, gt, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """``-w (t log x + (1 - t) log(1 - x))`` with the logs clamped at -100."""
    reduction = _red(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    a, t = input._data, target._data
    xp = array_module(a)
    if xp is np and a.size and (bool((a < 0).any()) or bool((a > 1).any())):  # (no host sync on GPU)
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide='ignore'):
        lx = xp.maximum(xp.log(a), -100.0)
        l1x = xp.maximum(xp.log(1.0 - a), -100.0)
    r = -(t * lx + (1.0 - t) * l1x)
    if weight is not None:
        weight = weight.expand_as(input) if tuple(weight.shape) != tuple(input.shape) else weight
        r = r * weight._data
    r = r.astype(a.dtype, copy=False)
    loss = custom('BinaryCrossEntropyBackward0', (input, target, weight), r, _bce_rule)
    return _reduce(loss, reduction)


def _bcel_rule(n, g, x, t, w, pw):
    # loss = (1 - t) x + lw * softplus(-x),  lw = 1 + (pw - 1) t
    nx, nt = n.next[0], n.next[1]
    gx = gt = None
    lw = (pw - 1.0) * t + 1.0 if pw is not None else None
    if nx is not None:
        sneg = (-x).sigmoid()
        d = (1.0 - t) - (lw * sneg if lw is not None else sneg)
        gx = g * d if w is None else g * d * w
    if nt is not None:
        d = -x + (softplus(-x) * (pw - 1.0) if pw is not None else 0.0)
        gt = g * d if w is None else g * d * w
    return gx, gt, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction='mean', pos_weight=None):
    """BCE on logits, computed stably: ``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``."""
    reduction = _red(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    a, t = input._data, target._data
    xp = array_module(a)
    sp = xp.maximum(-a, 0) + xp.log1p(xp.exp(-xp.abs(a)))   # softplus(-x)
    if pos_weight is not None:
        lw = (pos_weight._data - 1.0) * t + 1.0
        r = (1.0 - t) * a + lw * sp
    else:
        r = (1.0 - t) * a + sp
    if weight is not None:
        r = r * weight._data
    r = xp.broadcast_to(r, a.shape).astype(a.dtype, copy=False) if r.shape != a.shape else \
        r.astype(a.dtype, copy=False)
    loss = custom('BinaryCrossEntropyWithLogitsBackward0', (input, target, weight, pos_weight), r, _bcel_rule)
    return _reduce(loss, reduction)


# --- divergences and likelihoods ------------------------------------------------------------------------------

def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """KL divergence with ``input`` as log-probabilities: ``target * (log target - input)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ('none', 'mean', 'sum', 'batchmean'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == 'mean':
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _ops.xlogy(target, target) - target * input
    if reduction == 'batchmean':
        return loss.sum() / float(input.shape[0]) if input.dim() else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08, reduce=None,
                     reduction='mean'):
    """Poisson negative log likelihood (``exp(x) - t x`` for log inputs)."""
    reduction = _red(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        with np.errstate(divide='ignore', invalid='ignore'):
            st = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + st.masked_fill(const(target._data <= 1), 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction='mean'):
    """``0.5 (log max(var, eps) + (x - t)^2 / max(var, eps))`` (+ const when ``full``)."""
    check_reduction(reduction)
    if isinstance(var, (int, float)):
        var = const(array_module(input._data).full(input._data.shape, float(var), dtype=input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    v = var.clamp_min(eps) if not recording(var) else _clamp_keep_grad(var, eps)
    loss = 0.5 * (v.log() + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _clamp_keep_grad(var, eps):
    """``var.clamp(min=eps)`` done without recording the clamp (PyTorch clamps under no_grad)."""
    clamped = array_module(var._data).maximum(var._data, eps)
    return var + const((clamped - var._data).astype(var._data.dtype, copy=False))


# --- margin losses --------------------------------------------------------------------------------------------

def _bcast_check(*ts):
    shapes = [tuple(t.shape) for t in ts]
    _ops.broadcast_shapes(*shapes)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction='mean'):
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = _red(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce(relu(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction='mean'):
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1``."""
    reduction = _red(size_average, reduce, reduction)
    td = target._data
    zero = input * 0.0
    margin_clamp = relu(margin - input)
    out_margin = _ops.where(const(td != 1), margin_clamp, zero)
    out_self = _ops.where(const(td != -1), input, zero)
    return _reduce(out_margin + out_self, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """Multi-class multi-label hinge loss; ``target`` holds class indices padded with -1."""
    reduction = _red(size_average, reduce, reduction)
    nd = input.dim()
    if nd > 2 or tuple(target.shape) != tuple(input.shape) or (nd == 0 and target.dim() != 0):
        raise RuntimeError(f"inconsistent target size: [{', '.join(str(s) for s in target.shape)}] for input of "
                           f"size: [{', '.join(str(s) for s in input.shape)}]")
    x = input.reshape(1, -1) if nd < 2 else input
    t = target._data.reshape(x.shape)
    xp = array_module(t)
    N, C = x.shape
    # classes up to the first -1 are the targets
    stop = xp.cumsum(t < 0, axis=1) > 0
    if bool(((t >= C) & ~stop).any()) or bool(((t < -1) & ~stop).any()):
        raise RuntimeError("multilabel_margin_loss: target index is out of range")
    isT = xp.zeros((N, C), dtype=bool)
    rows = xp.broadcast_to(xp.arange(N)[:, None], t.shape)
    isT[rows[~stop], t[~stop]] = True
    tmask = (~stop).astype(x._data.dtype)                      # (N, C) which target slots are real
    tidx = xp.where(stop, 0, t)
    xt = x.gather(1, const(tidx))                               # x[y_j] per slot
    h = relu(1.0 - (xt.unsqueeze(2) - x.unsqueeze(1)))          # (N, slots, C)
    m = const((tmask[:, :, None] * (~isT)[:, None, :]).astype(x._data.dtype))
    loss = (h * m).sum((1, 2)) / float(C)
    loss = loss.reshape(()) if nd < 2 else loss
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """``-mean_c(y log sigmoid(x) + (1 - y) log sigmoid(-x))``."""
    from .activation import logsigmoid
    reduction = _red(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    C = input.shape[-1] if input.dim() else 1
    loss = loss.sum(-1) / float(C) if input.dim() else loss
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """``log(1 + exp(-y x))``."""
    reduction = _red(size_average, reduce, reduction)
    return _reduce(softplus(-target * input), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction='mean'):
    """Multi-class hinge loss ``sum_{i != y} max(0, margin - x[y] + x[i])^p / C``."""
    reduction = _red(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    nd = input.dim()
    x = input.reshape(1, -1) if nd < 2 else input
    if nd > 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    N, C = x.shape
    t = target._data.reshape(-1)
    if t.shape[0] != N:
        raise RuntimeError(f"inconsistent target size, expected {N} but got {list(target.shape)}")
    xp = array_module(t)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= C):
        raise RuntimeError("target out of range")
    xy = x.gather(1, const(t.reshape(N, 1)))
    h = relu(margin - xy + x)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * const(weight._data[t].reshape(N, 1)) if not recording(weight) else h * weight[const(t)].unsqueeze(1)
    notT = const((xp.arange(C)[None, :] != t[:, None]).astype(x._data.dtype))
    loss = (h * notT).sum(1) / float(C)
    loss = loss.reshape(()) if nd < 2 else loss
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction='mean'):
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``."""
    reduction = _red(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.shape != input2.shape:
        raise RuntimeError(f"The size of tensor a ({input1.shape[-1]}) must match the size of tensor b "
                           f"({input2.shape[-1]}) at non-singleton dimension {max(input1.dim() - 1, 0)}")
    if input1.dim() not in (1, 2):
        raise RuntimeError(f"{input1.dim()}D target tensor expects {input1.dim() - 1}D input tensors, but found "
                           "inputs with sizes ...")
    dim = input1.dim() - 1
    EPS = 1e-12
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + EPS
    m2 = (input2 * input2).sum(dim) + EPS
    cos = prod / (m1 * m2).sqrt()
    td = target._data
    if tuple(target.shape) != tuple(cos.shape):
        raise RuntimeError(f"The size of tensor a ({target.shape[0] if target.dim() else 1}) must match the size of "
                           f"tensor b ({cos.shape[0] if cos.dim() else 1}) at non-singleton dimension 0")
    zero = cos * 0.0
    pos = _ops.where(const(td == 1), 1.0 - cos, zero)
    neg = _ops.where(const(td == -1), relu(cos - margin), zero)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, size_average=None,
                        reduce=None, reduction='mean'):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the p-norm pairwise distance."""
    reduction = _red(size_average, reduce, reduction)
    da, dp, dn = anchor.dim(), positive.dim(), negative.dim()
    if not (da == dp == dn):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {da}D, positive {dp}D, and negative {dn}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_s = pairwise_distance(positive, negative, p, eps)
        d_neg = _ops.minimum(d_neg, d_s)
    return _reduce(relu(d_pos - d_neg + margin), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction='mean'):
    """Triplet margin loss with a custom ``distance_function`` (default: pairwise_distance)."""
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                         "instead")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _ops.minimum(d_neg, dist(positive, negative))
    return _reduce(relu(d_pos - d_neg + margin), reduction)
