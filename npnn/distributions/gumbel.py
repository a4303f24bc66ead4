"""Gumbel (type-I extreme value) distribution."""
import math
from numbers import Number

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params, _finfo, broadcast_all, euler_constant

__all__ = ['Gumbel']


class Gumbel(Distribution):
    """Gumbel distribution with location ``loc`` and scale ``scale``."""
    arg_constraints = {'loc': constraints.real, 'scale': constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = npnn.Size() if isinstance(loc, Number) and isinstance(scale, Number) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Gumbel, batch_shape, ('loc', 'scale'), _instance)

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=npnn.Size()):
        shape = self._extended_shape(sample_shape)
        fi = _finfo(self.loc)
        u = npnn.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device).clamp(
            min=float(fi.tiny), max=1 - float(fi.eps))
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + euler_constant)
