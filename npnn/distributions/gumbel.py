"""Gumbel (type-I extreme value) distribution."""
import math

import npnn
from ._loc_scale import _LocScale
from .utils import _expand_params, _finfo, euler_constant

__all__ = ['Gumbel']


class Gumbel(_LocScale):
    """Gumbel distribution with location ``loc`` and scale ``scale``."""

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Gumbel, batch_shape, ('loc', 'scale'), _instance)

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

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
