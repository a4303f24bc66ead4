"""The shared body of the half distributions: |X| for X from a location-0, scale-``scale`` symmetric law."""
import math

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params


class _Half(Distribution):
    """|X| with X ~ ``_base(0, scale)``; subclasses set ``_base`` and add ``mean``/``variance``."""
    arg_constraints = {'scale': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base = None

    def __init__(self, scale, validate_args=None):
        self.base_dist = self._base(0, scale, validate_args=False)
        self.scale = self.base_dist.scale
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, type(self), batch_shape, ('scale',), _instance)
        new.base_dist = self.base_dist.expand(batch_shape)
        return new

    @property
    def mode(self):
        return npnn.zeros_like(self.scale)

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
