"""Normal (Gaussian) distribution."""
import math

import npnn
from ._loc_scale import _LocScale
from .utils import _expand_params, _standard_normal

__all__ = ['Normal']


class Normal(_LocScale):
    """Normal distribution with mean ``loc`` and standard deviation ``scale``."""
    _mean_carrier_measure = 0

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Normal, batch_shape, ('loc', 'scale'), _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=npnn.Size()):
        with npnn.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=npnn.Size()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc.dtype, self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value):
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
