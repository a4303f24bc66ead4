"""Beta distribution."""
from numbers import Number

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params, _finfo, broadcast_all, lbeta, standard_gamma

__all__ = ['Beta']


class Beta(Distribution):
    """Beta distribution with ``concentration1`` (alpha) and ``concentration0`` (beta)."""
    arg_constraints = {'concentration1': constraints.positive, 'concentration0': constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        if isinstance(concentration1, Number) and isinstance(concentration0, Number):
            batch_shape = npnn.Size()
        else:
            batch_shape = self.concentration1.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Beta, batch_shape, ('concentration1', 'concentration0'), _instance)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        from .dirichlet import Dirichlet
        return Dirichlet(self.concentration, validate_args=False).mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        x = standard_gamma(self.concentration1, shape)
        y = standard_gamma(self.concentration0, shape)
        fi = _finfo(self.concentration1)
        return (x / (x + y)).clamp(min=float(fi.tiny), max=1 - float(fi.eps))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return npnn.xlogy(a - 1, value) + npnn.xlogy(b - 1, 1 - value) - lbeta(a, b)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return lbeta(a, b) - (a - 1) * a.digamma() - (b - 1) * b.digamma() + (total - 2) * total.digamma()

    @property
    def concentration(self):
        return npnn.stack([self.concentration1, self.concentration0], -1)
