"""Von Mises distribution: the circular analogue of the normal distribution."""
import math

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params, broadcast_all, lazy_property

__all__ = ['VonMises']


def _log_i0(x):
    """log I_0(x) for x > 0, from the exponentially scaled Bessel function (no overflow)."""
    return npnn.special.i0e(x).log() + x


def _log_i1(x):
    return npnn.special.i1e(x).log() + x


class VonMises(Distribution):
    """Von Mises distribution on the circle with mean angle ``loc`` (radians) and ``concentration`` kappa.

    ``loc`` and values may be any real numbers; they are read as angles modulo 2 pi. Samples lie in
    [-pi, pi). ``mean``, ``mode`` and ``variance`` are the circular ones.
    """
    arg_constraints = {'loc': constraints.real, 'concentration': constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, npnn.Size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, VonMises, batch_shape, ('loc', 'concentration'), _instance)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration * (value - self.loc).cos() - math.log(2 * math.pi)
                - _log_i0(self.concentration))

    @lazy_property
    def _proposal_r(self):
        kappa = self.concentration.detach().to(npnn.float64)
        tau = 1 + (1 + 4 * kappa ** 2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        # the closed form cancels catastrophically for tiny kappa; its expansion there is 1/kappa + kappa
        return npnn.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))

    def sample(self, sample_shape=npnn.Size()):
        """Best and Fisher's (1979) rejection sampler, run in float64 (single precision can stall for small
        concentrations)."""
        shape = tuple(self._extended_shape(sample_shape))
        with npnn.no_grad():
            dev = self.loc.device
            loc = self.loc.detach().to(npnn.float64)
            kappa = self.concentration.detach().to(npnn.float64)
            r = self._proposal_r
            x = npnn.zeros(shape, dtype=npnn.float64, device=dev)
            done = npnn.zeros(shape, dtype=npnn.bool, device=dev)
            while not bool(done.all()):
                u1, u2, u3 = npnn.rand((3,) + shape, dtype=npnn.float64, device=dev).unbind(0)
                z = (math.pi * u1).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                accept = accept & ~done
                x = npnn.where(accept, (u3 - 0.5).sign() * f.clamp(-1.0, 1.0).acos(), x)
                done = done | accept
            return ((x + math.pi + loc) % (2 * math.pi) - math.pi).to(self.loc.dtype)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """1 - I_1(kappa) / I_0(kappa): one minus the mean resultant length."""
        return 1 - (_log_i1(self.concentration) - _log_i0(self.concentration)).exp()
