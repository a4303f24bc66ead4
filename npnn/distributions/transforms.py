"""Bijective elementwise transforms for ``TransformedDistribution``: ``x -> y``, its inverse and
``log |dy/dx|``."""
import math

import npnn
from . import constraints

__all__ = ['Transform', 'ExpTransform', 'AffineTransform', 'SigmoidTransform', 'TanhTransform',
           'ComposeTransform', 'PowerTransform', 'SoftmaxTransform', 'StickBreakingTransform',
           'CumulativeDistributionTransform']


class Transform:
    """Base class: subclasses define ``_call`` (x -> y), ``_inverse`` (y -> x) and
    ``log_abs_det_jacobian(x, y)``; all here act elementwise (``event_dim`` 0)."""
    bijective = True
    sign = 1
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError('cache_size must be 0 or 1')
        self._cache_size = cache_size
        self._cached_x_y = (None, None)

    @property
    def event_dim(self):
        return 0

    @property
    def inv(self):
        return _InverseTransform(self)

    def __call__(self, x):
        if not self._cache_size:
            return self._call(x)
        # cache_size=1 remembers the last (x, y) pair, so inverting a sample returns the exact x
        # (e.g. no atanh(tanh(x)) = inf for a saturated tanh)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y):
        if not self._cache_size:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = (x, y)
        return x

    def forward_shape(self, shape):
        return shape

    def inverse_shape(self, shape):
        return shape

    def __repr__(self):
        return type(self).__name__ + '()'


class _InverseTransform(Transform):
    def __init__(self, transform):
        super().__init__(transform._cache_size)
        self._inv = transform

    @property
    def inv(self):
        return self._inv

    def __call__(self, x):
        return self._inv._inv_call(x)  # shares the forward transform's cache

    def _inv_call(self, y):
        return self._inv(y)

    @property
    def sign(self):
        return self._inv.sign

    def _call(self, x):
        return self._inv._inverse(x)

    def _inverse(self, y):
        return self._inv._call(y)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)


class ExpTransform(Transform):
    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """``y = loc + scale * x``."""

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        if event_dim != 0:
            raise NotImplementedError("AffineTransform supports event_dim=0 only")
        self.loc = loc
        self.scale = scale

    @property
    def sign(self):
        if isinstance(self.scale, (int, float)):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale
        if isinstance(scale, (int, float)):
            return npnn.full_like(x, math.log(abs(scale)))
        return scale.abs().log().expand(x.shape) if scale.shape != x.shape else scale.abs().log()


class SigmoidTransform(Transform):
    codomain = constraints.unit_interval

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        eps = npnn.finfo(y.dtype).eps
        y = y.clamp(min=eps, max=1 - eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -npnn.nn.functional.softplus(-x) - npnn.nn.functional.softplus(x)


class TanhTransform(Transform):
    """``y = tanh(x)``; the log-Jacobian uses the stable ``2 (log 2 - x - softplus(-2x))``."""
    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - npnn.nn.functional.softplus(-2.0 * x))


class ComposeTransform(Transform):
    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return npnn.zeros_like(x)
        total = 0
        for p in self.parts:
            y_p = p(x)
            total = total + p.log_abs_det_jacobian(x, y_p)
            x = y_p
        return total


class PowerTransform(Transform):
    """``y = x ** exponent`` on the positive reals."""
    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size)
        self.exponent = exponent

    @property
    def sign(self):
        e = self.exponent
        if isinstance(e, (int, float)):
            return 1 if e > 0 else -1 if e < 0 else 0
        return e.sign()

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()


class SoftmaxTransform(Transform):
    """``y = softmax(x)`` over the last dim: onto the simplex, not bijective (the inverse is ``log y``)."""
    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = False

    @property
    def event_dim(self):
        return 1

    def _call(self, x):
        return x.softmax(-1)

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError


class StickBreakingTransform(Transform):
    """Bijection from ``R^(K-1)`` onto the K-simplex by stick breaking; each coordinate is shifted by
    ``log`` of the sticks left, so that zero maps to the simplex centre."""
    domain = constraints.real_vector
    codomain = constraints.simplex

    @property
    def event_dim(self):
        return 1

    @staticmethod
    def _offset(k, ref):
        return npnn.arange(k, 0, -1, dtype=ref.dtype, device=ref.device).log()

    def _call(self, x):
        z = (x - self._offset(x.shape[-1], x)).sigmoid()
        remaining = (1 - z).cumprod(-1)
        ones = npnn.ones(tuple(x.shape[:-1]) + (1,), dtype=x.dtype, device=x.device)
        return npnn.cat([z, ones], -1) * npnn.cat([ones, remaining], -1)

    def _inverse(self, y):
        y_head = y[..., :-1]
        rest = (1 - y_head.cumsum(-1)).clamp(min=float(npnn.finfo(y.dtype).tiny))
        # logit of each break fraction (y_i over the stick left before it), shifted back
        return y_head.log() - rest.log() + self._offset(y_head.shape[-1], y)

    def log_abs_det_jacobian(self, x, y):
        xs = x - self._offset(x.shape[-1], x)
        # d y_i / d x_i = sigmoid'(xs_i) * stick_i with stick_i = y_K + sum_{j>i} y_j
        return (-xs + npnn.nn.functional.logsigmoid(xs) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class CumulativeDistributionTransform(Transform):
    """``y = distribution.cdf(x)``: maps the distribution's support onto the unit interval (a copula-style
    transform); the inverse is ``icdf`` and ``log |dy/dx|`` is ``log_prob``."""
    codomain = constraints.unit_interval

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
