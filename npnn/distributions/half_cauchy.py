"""Half-Cauchy distribution: |X| with X ~ Cauchy(0, scale)."""
import math

import npnn
from . import constraints
from .cauchy import Cauchy
from .distribution import Distribution
from .utils import _expand_params

__all__ = ['HalfCauchy']


class HalfCauchy(Distribution):
    """|X| with X ~ Cauchy(0, ``scale``)."""
    arg_constraints = {'scale': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        self.base_dist = Cauchy(0, scale, validate_args=False)
        self.scale = self.base_dist.scale
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, HalfCauchy, batch_shape, ('scale',), _instance)
        new.base_dist = self.base_dist.expand(batch_shape)
        return new

    def _full(self, fill):
        return npnn.full(tuple(self._extended_shape()), fill, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def mean(self):
        return self._full(math.inf)

    @property
    def mode(self):
        return npnn.zeros_like(self.scale)

    @property
    def variance(self):
        return self._full(math.inf)

    def rsample(self, sample_shape=npnn.Size()):
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = npnn.as_tensor(value, dtype=self.scale.dtype, device=self.scale.device)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return npnn.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
