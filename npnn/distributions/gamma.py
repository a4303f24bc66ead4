"""Gamma distribution."""
from numbers import Number

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params, _finfo, broadcast_all, gammainc, standard_gamma

__all__ = ['Gamma']


class Gamma(Distribution):
    """Gamma distribution with shape ``concentration`` and ``rate`` (inverse scale).

    ``rsample`` is reparameterised: the gradient w.r.t. ``concentration`` is the implicit reparameterisation
    gradient, with the derivative of the CDF in ``concentration`` taken by a central difference.
    """
    arg_constraints = {'concentration': constraints.positive, 'rate': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = npnn.Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Gamma, batch_shape, ('concentration', 'rate'), _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=npnn.Size()):
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration, shape) / self.rate.expand(shape)
        return value.clamp(min=float(_finfo(value).tiny))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = npnn.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        return (npnn.xlogy(self.concentration, self.rate) + npnn.xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def entropy(self):
        return (self.concentration - self.rate.log() + self.concentration.lgamma()
                + (1.0 - self.concentration) * self.concentration.digamma())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)
