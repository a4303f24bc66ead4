"""Kumaraswamy distribution on (0, 1): ``(1 - U ** (1/b)) ** (1/a)`` with U uniform."""
import npnn
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ['Kumaraswamy']


def _moment(a, b, n):
    """E[X^n] = b * B(1 + n/a, b)."""
    arg1 = 1 + n / a
    return b * (arg1.lgamma() + b.lgamma() - (arg1 + b).lgamma()).exp()


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy distribution with ``concentration1`` (a) and ``concentration0`` (b):
    density ``a b x^(a-1) (1 - x^a)^(b-1)``."""
    arg_constraints = {'concentration1': constraints.positive, 'concentration0': constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(npnn.zeros_like(self.concentration0), npnn.ones_like(self.concentration0),
                       validate_args=validate_args)
        transforms = [PowerTransform(self.concentration0.reciprocal()), AffineTransform(1.0, -1.0),
                      PowerTransform(self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        shape = tuple(npnn.Size(batch_shape))
        Kumaraswamy.__init__(new, self.concentration1.expand(shape), self.concentration0.expand(shape),
                             validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return _moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        # no interior mode unless both concentrations are at least 1
        log_mode = npnn.where((b < 1) | (a < 1), float('nan'), log_mode)
        return log_mode.exp()

    @property
    def variance(self):
        return _moment(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t1 = 1 - a.reciprocal()
        t0 = 1 - b.reciprocal()
        h0 = (b + 1).digamma() + euler_constant
        return t0 + t1 * h0 - a.log() - b.log()
