"""Laplace distribution."""

import npnn
from ._loc_scale import _LocScale
from .utils import _expand_params, _finfo

__all__ = ['Laplace']


class Laplace(_LocScale):
    """Laplace distribution with location ``loc`` and scale ``scale``."""

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Laplace, batch_shape, ('loc', 'scale'), _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=npnn.Size()):
        shape = self._extended_shape(sample_shape)
        eps = float(_finfo(self.loc).eps)
        u = npnn.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
