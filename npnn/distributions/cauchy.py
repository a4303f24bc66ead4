"""Cauchy (Lorentz) distribution."""
import math

import npnn
from ._loc_scale import _LocScale
from .utils import _expand_params

__all__ = ['Cauchy']


class Cauchy(_LocScale):
    """Cauchy distribution with median ``loc`` and half width at half maximum ``scale``."""

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Cauchy, batch_shape, ('loc', 'scale'), _instance)

    @property
    def mean(self):
        return npnn.full(tuple(self._extended_shape()), float('nan'), dtype=self.loc.dtype, device=self.loc.device)

    @property
    def variance(self):
        return npnn.full(tuple(self._extended_shape()), float('inf'), dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape=npnn.Size()):
        shape = self._extended_shape(sample_shape)
        u = npnn.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (math.pi * (u - 0.5)).tan() * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
