"""Activation functions. Each is one node: forward on arrays, a cheap backward written with tensor ops
(masks are constants), so ``create_graph=True`` works through them."""
import math

import numpy as np

from ...autograd import ops as _ops
from ...autograd.node import Node
from ...autograd.ops._util import make, recording, norm_dim
from ...autograd.ops.elementwise import _erf
from ...backend.device import array_module
from .misc import custom, const
from ...autograd.ops.softmax import softmax, softmin, log_softmax  # noqa: F401

__all__ = ['threshold', 'threshold_', 'relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'prelu', 'rrelu',
           'rrelu_', 'elu', 'elu_', 'selu', 'selu_', 'celu', 'celu_', 'gelu', 'silu', 'mish', 'softplus',
           'softsign', 'softshrink', 'hardshrink', 'tanhshrink', 'hardtanh', 'hardtanh_', 'hardsigmoid',
           'hardswish', 'sigmoid', 'logsigmoid', 'tanh', 'softmax', 'softmin', 'log_softmax', 'gumbel_softmax',
           'glu']

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)


class _PW(Node):
    """Pointwise activation node: ``rule(g, x, y, ctx)`` with input and/or output saved."""
    __slots__ = ('rule', 'ctx', 'si', 'so')

    def backward(self, g):
        x = self.saved_tensors()[0] if self.si else None
        y = self.output() if self.so else None
        return self.rule(g, x, y, self.ctx)


_cls = {}


def _pw(name, x, r, rule, si=True, so=False, ctx=None):
    if not recording(x):
        return make(r)
    c = _cls.get(name)
    if c is None:
        c = _cls[name] = type(name, (_PW,), {'__slots__': ()})
    n = c((x,))
    n.rule, n.ctx, n.si, n.so = rule, ctx, si, so
    if si:
        n.save(x)
    else:
        n.saved = ()
        n.versions = ()
    res = make(r, n)
    if so:
        n.save_output(res)
    return res


def _mask(cond, like):
    """A constant float tensor (1 where ``cond``) of ``like``'s dtype."""
    return const(cond.astype(like._data.dtype))


def _inplace(input, fn, *args):
    return input._inplace(lambda t: fn(t, *args))


def _float(x):
    a = x._data
    if a.dtype.kind != 'f':
        raise RuntimeError(f"\"{'activation'}\" not implemented for '{x.dtype}'")
    return a


# --- relu family --------------------------------------------------------------------------------------------

def _relu_rule(g, x, y, c):
    return g * _mask(y._data > 0, g)


def relu(input, inplace=False):
    """``max(0, x)``."""
    if inplace:
        return _inplace(input, relu)
    a = input._data
    xp = array_module(a)
    return _pw('ReluBackward0', input, xp.maximum(a, 0).astype(a.dtype, copy=False), _relu_rule, False, True)


def relu_(input):
    return relu(input, inplace=True)


def _thr_rule(g, x, y, c):
    return g * _mask(x._data > c, g)


def threshold(input, threshold, value, inplace=False):
    """``x if x > threshold else value``."""
    if inplace:
        return _inplace(input, globals()['threshold'], threshold, value)
    a = input._data
    xp = array_module(a)
    r = xp.where(a > threshold, a, xp.asarray(value, dtype=a.dtype))
    return _pw('ThresholdBackward0', input, r, _thr_rule, ctx=threshold)


def threshold_(input, threshold, value):
    return globals()['threshold'](input, threshold, value, inplace=True)


def _ht_rule(g, x, y, c):
    a = x._data
    return g * _mask((a > c[0]) & (a < c[1]), g)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp into ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, hardtanh, min_val, max_val)
    a = input._data
    xp = array_module(a)
    r = xp.clip(a, min_val, max_val).astype(a.dtype, copy=False)
    return _pw('HardtanhBackward0', input, r, _ht_rule, ctx=(min_val, max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _lrelu_rule(g, x, y, c):
    a = x._data
    return g * const(array_module(a).where(a > 0, 1.0, c).astype(a.dtype))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x if x > 0 else negative_slope * x``."""
    if inplace:
        return _inplace(input, leaky_relu, negative_slope)
    a = input._data
    xp = array_module(a)
    r = xp.where(a > 0, a, a * negative_slope).astype(a.dtype, copy=False)
    return _pw('LeakyReluBackward0', input, r, _lrelu_rule, ctx=float(negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """``x if x > 0 else weight * x``, ``weight`` per channel (dim 1) or a single value."""
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    nw = weight.numel()
    if input.dim() == 0 and nw != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    if nw != 1:
        ch = input.shape[1] if input.dim() >= 2 else input.shape[0]
        if nw != ch:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers "
                               f"= {nw} and channel size = {ch}.")
        shape = [1] * input.dim()
        shape[1 if input.dim() >= 2 else 0] = nw
        w = weight.reshape(shape)
    else:
        w = weight.reshape(()) if weight.dim() else weight
    pos = const(input._data > 0)
    return _ops.where(pos, input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: negative slope ~ U(lower, upper) in training, (lower+upper)/2 otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if inplace:
        return _inplace(input, rrelu, lower, upper, training)
    from ...creation import rand
    a = input._data
    u = rand(*a.shape, dtype=input.dtype, device=input.device)._data
    slope = (u * (upper - lower) + lower).astype(a.dtype, copy=False)
    xp = array_module(a)
    coef = xp.where(a >= 0, xp.asarray(1, dtype=a.dtype), slope)
    return custom('RreluWithNoiseBackward0', (input,), a * coef, lambda n, g, x: (g * const(n.ctx),), ctx=coef)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# --- exponential family -------------------------------------------------------------------------------------

def _elu_rule(g, x, y, c):
    alpha, scale, in_scale = c
    a = x._data
    pos = _mask(a > 0, g)
    neg = (x * in_scale).exp() * (alpha * scale * in_scale)
    return g * (pos * scale + (1.0 - pos) * neg)


def _elu(input, alpha, scale, in_scale, name):
    a = input._data
    xp = array_module(a)
    r = xp.where(a > 0, a * scale, xp.expm1(xp.minimum(a, 0) * in_scale) * (alpha * scale)).astype(a.dtype,
                                                                                                    copy=False)
    return _pw(name, input, r, _elu_rule, ctx=(alpha, scale, in_scale))


def elu(input, alpha=1.0, inplace=False):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    if inplace:
        return _inplace(input, elu, alpha)
    return _elu(input, float(alpha), 1.0, 1.0, 'EluBackward0')


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    if inplace:
        return _inplace(input, selu)
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, 'EluBackward0')


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return _inplace(input, celu, alpha)
    return _elu(input, float(alpha), 1.0, 1.0 / alpha, 'EluBackward0')


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


# --- smooth gates -------------------------------------------------------------------------------------------

def _gelu_rule(g, x, y, c):
    if c == 'tanh':
        x2 = x * x
        t = ((x + x2 * x * 0.044715) * _K_TANH).tanh()
        return g * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * (x2 * (3 * 0.044715) + 1.0) * (0.5 * _K_TANH))
    cdf = ((x * (1.0 / _SQRT_2)).erf() + 1.0) * 0.5
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def gelu(input, approximate='none'):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError("approximate argument must be either none or tanh.")
    a = input._data
    xp = array_module(a)
    if approximate == 'tanh':
        r = 0.5 * a * (1.0 + xp.tanh(_K_TANH * (a + 0.044715 * a * a * a)))
    else:
        r = 0.5 * a * (1.0 + _erf(xp, a * (1.0 / _SQRT_2)))
    return _pw('GeluBackward0', input, r.astype(a.dtype, copy=False), _gelu_rule, ctx=approximate)


def _sig(xp, a):
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def _silu_rule(g, x, y, c):
    s = x.sigmoid()
    return g * s * (x * (1.0 - s) + 1.0)


def silu(input, inplace=False):
    """``x * sigmoid(x)``."""
    if inplace:
        return _inplace(input, silu)
    a = input._data
    return _pw('SiluBackward0', input, a * _sig(array_module(a), a), _silu_rule)


def _softplus_arr(xp, a):
    return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))


def _mish_rule(g, x, y, c):
    s = x.sigmoid()
    tsp = softplus(x).tanh()
    return g * (tsp + x * s * (1.0 - tsp * tsp))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    if inplace:
        return _inplace(input, mish)
    a = input._data
    xp = array_module(a)
    return _pw('MishBackward0', input, (a * xp.tanh(_softplus_arr(xp, a))).astype(a.dtype, copy=False), _mish_rule)


def _softplus_rule(g, x, y, c):
    beta, thr = c
    bx = x * beta
    lin = _mask(bx._data > thr, g)
    return g * (lin + (1.0 - lin) * bx.sigmoid())


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    a = input._data
    xp = array_module(a)
    bx = a * beta
    r = xp.where(bx > threshold, a, _softplus_arr(xp, bx) / beta).astype(a.dtype, copy=False)
    return _pw('SoftplusBackward0', input, r, _softplus_rule, ctx=(beta, threshold))


def _softsign_rule(g, x, y, c):
    d = x.abs() + 1.0
    return g / (d * d)


def softsign(input):
    """``x / (1 + |x|)``."""
    a = input._data
    return _pw('SoftsignBackward0', input, a / (1 + array_module(a).abs(a)), _softsign_rule)


def _shrink_rule(g, x, y, c):
    return g * _mask(array_module(x._data).abs(x._data) > c, g)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    a = input._data
    xp = array_module(a)
    r = xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, 0)).astype(a.dtype, copy=False)
    return _pw('SoftshrinkBackward0', input, r, _shrink_rule, ctx=lambd)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    a = input._data
    xp = array_module(a)
    r = xp.where(xp.abs(a) > lambd, a, 0).astype(a.dtype, copy=False)
    return _pw('HardshrinkBackward0', input, r, _shrink_rule, ctx=lambd)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


def _hsig_rule(g, x, y, c):
    a = x._data
    return g * _mask((a > -3) & (a < 3), g) * (1.0 / 6)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    if inplace:
        return _inplace(input, hardsigmoid)
    a = input._data
    xp = array_module(a)
    r = (xp.clip(a + 3, 0, 6) / 6).astype(a.dtype, copy=False)
    return _pw('HardsigmoidBackward0', input, r, _hsig_rule)


def _hswish_rule(g, x, y, c):
    a = x._data
    mid = _mask((a >= -3) & (a <= 3), g)
    hi = _mask(a > 3, g)
    return g * (mid * (x * (1.0 / 3) + 0.5) + hi)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    if inplace:
        return _inplace(input, hardswish)
    a = input._data
    xp = array_module(a)
    r = (a * xp.clip(a + 3, 0, 6) / 6).astype(a.dtype, copy=False)
    return _pw('HardswishBackward0', input, r, _hswish_rule)


def sigmoid(input):
    """``1 / (1 + exp(-x))``."""
    return _ops.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent."""
    return _ops.tanh(input)


def _logsig_rule(g, x, y, c):
    return g * (-x).sigmoid()


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    a = input._data
    xp = array_module(a)
    r = (xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))).astype(a.dtype, copy=False)
    return _pw('LogSigmoidBackward0', input, r, _logsig_rule)


# --- softmax family (the ops live with the core ops; re-exported here) -----------------------------------

def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution; ``hard`` returns one-hot with soft gradients."""
    from ...creation import rand
    u = rand(*logits.shape, dtype=logits.dtype, device=logits.device)._data
    xp = array_module(u)
    gumbels = -xp.log(-xp.log(xp.clip(u, np.finfo(u.dtype).tiny, 1.0)))  # -log(Exp(1)) samples
    y = softmax((logits + const(gumbels.astype(logits._data.dtype, copy=False))) / tau, dim)
    if not hard:
        return y
    ax = norm_dim(dim, y.dim())
    idx = xp.expand_dims(y._data.argmax(axis=ax), ax)
    shape = [1] * y.dim()
    shape[ax] = y.shape[ax]
    hot = (xp.arange(y.shape[ax]).reshape(shape) == idx).astype(y._data.dtype)
    return const(hot) - y.detach() + y


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves of ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    ax = norm_dim(dim, input.dim())
    n = input.shape[ax]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {ax} is size {n}")
    a, b = input.split(n // 2, ax)
    return a * b.sigmoid()
