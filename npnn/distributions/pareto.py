"""Pareto Type I distribution: ``scale * exp(E)`` with ``E ~ Exponential(alpha)``."""
import npnn
from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .utils import broadcast_all

__all__ = ['Pareto']


def _clamp_min(x, low):
    # a clamp whose gradient is exactly zero below ``low`` even when the upstream gradient is infinite
    return npnn.where(x < low, low, x)


class Pareto(TransformedDistribution):
    """Pareto Type I distribution with minimum ``scale`` and tail index ``alpha``."""
    arg_constraints = {'alpha': constraints.positive, 'scale': constraints.positive}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(0, self.scale)], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        shape = tuple(npnn.Size(batch_shape))
        Pareto.__init__(new, self.scale.expand(shape), self.alpha.expand(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        a = _clamp_min(self.alpha, 1.0)  # infinite for alpha <= 1
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = _clamp_min(self.alpha, 2.0)  # infinite for alpha <= 2
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())
