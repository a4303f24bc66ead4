"""Half-Cauchy distribution: |X| with X ~ Cauchy(0, scale)."""
import math

import npnn
from ._half import _Half
from .cauchy import Cauchy

__all__ = ['HalfCauchy']


class HalfCauchy(_Half):
    """|X| with X ~ Cauchy(0, ``scale``): infinite mean and variance."""
    _base = Cauchy

    def _full(self, fill):
        return npnn.full(tuple(self._extended_shape()), fill, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def mean(self):
        return self._full(math.inf)

    @property
    def variance(self):
        return self._full(math.inf)
