"""``npnn.special``: PyTorch's ``torch.special`` names, as the top-level ops they alias or as short
compositions of differentiable ops."""
import math

from .autograd.ops import (digamma, erf, erfc, erfinv, exp2, expm1, i0, log1p, log_softmax, logit, logsumexp,
                           polygamma, round, sinc, softmax, xlogy, sigmoid, lgamma, where, log)
from .autograd.ops.special_fns import (i0e, i1, i1e, log_ndtr, ndtri, erfcx, zeta, bessel_j0, bessel_j1, bessel_y0,
                                       bessel_y1, modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
                                       modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1,
                                       spherical_bessel_j0, airy_ai, gammainc, gammaincc)
from .creation import arange
from .autograd.function import Function
from .autograd.ops._util import to_tensor_like
from .tensor import Tensor

__all__ = ['digamma', 'psi', 'erf', 'erfc', 'erfinv', 'exp2', 'expit', 'expm1', 'gammaln', 'i0', 'log1p',
           'log_softmax', 'logit', 'logsumexp', 'polygamma', 'round', 'sinc', 'softmax', 'xlogy', 'xlog1py',
           'entr', 'ndtr', 'multigammaln', 'i0e', 'i1', 'i1e', 'log_ndtr', 'ndtri', 'erfcx', 'zeta', 'bessel_j0',
           'bessel_j1', 'bessel_y0', 'bessel_y1', 'modified_bessel_i0', 'modified_bessel_i1', 'modified_bessel_k0',
           'modified_bessel_k1', 'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1', 'spherical_bessel_j0',
           'airy_ai', 'gammainc', 'gammaincc']

psi = digamma
expit = sigmoid
gammaln = lgamma


class _Entr(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        body = 0.0 - x * log(where(x > 0, x, 1.0))  # +0.0 at x == 0, not -0.0
        return where(x < 0, float('-inf'), body)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        # -(log x + 1): inf at 0 and nan below it, as PyTorch's
        return g * -(log(x) + 1)


def entr(input):
    """Elementwise entropy term: ``-x * log(x)`` for x > 0, 0 at 0, -inf for x < 0."""
    return _Entr.apply(input)


class _Xlog1py(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        # 0 * log1p(y) with a harmless y where x == 0 (not 0 * -inf, which warns): 0, or nan for a nan y
        return x * log1p(where((x == 0) & (y == y), 0.0, y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        # PyTorch's: d/dx is log1p(y) even where x == 0 (but 0 at x == 0, y == -1); d/dy is x / (1 + y)
        gx = g * where((x == 0) & (y == -1), 0.0, log1p(y))
        gy = g * x / (y + 1)
        return _sum_to(gx, x.shape), _sum_to(gy, y.shape)


def _sum_to(g, shape):
    """Reduce a broadcast gradient back to ``shape``."""
    lead = g.dim() - len(shape)
    if lead > 0:
        g = g.sum(tuple(range(lead)))
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(dims, keepdim=True) if dims else g


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is nan)."""
    if not isinstance(input, Tensor):
        input = to_tensor_like(input, other)
    if not isinstance(other, Tensor):
        other = to_tensor_like(other, input)
    return _Xlog1py.apply(input, other)


def ndtr(input):
    """The standard normal CDF: ``0.5 * erfc(-x / sqrt(2))``."""
    return erfc(input * (-1.0 / math.sqrt(2.0))) * 0.5


def multigammaln(input, p):
    """The multivariate log-gamma of dimension ``p``."""
    j = arange(p, dtype=input.dtype, device=input.device) * 0.5
    return lgamma(input.unsqueeze(-1) - j).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
