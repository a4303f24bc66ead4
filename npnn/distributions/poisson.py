"""Poisson distribution."""
from numbers import Number

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params, broadcast_all

__all__ = ['Poisson']


class Poisson(Distribution):
    """Poisson distribution with ``rate``."""
    arg_constraints = {'rate': constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = npnn.Size() if isinstance(rate, Number) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Poisson, batch_shape, ('rate',), _instance)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=npnn.Size()):
        shape = self._extended_shape(sample_shape)
        with npnn.no_grad():
            return npnn.poisson(self.rate.detach().expand(tuple(shape)).contiguous())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = npnn.broadcast_tensors(self.rate, value.to(self.rate.dtype))
        return npnn.xlogy(value, rate) - rate - (value + 1).lgamma()
