"""Negative binomial distribution: failures before ``total_count`` successes."""
import npnn
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import _BinaryProbsLogits, _expand_params, broadcast_all, lazy_property

__all__ = ['NegativeBinomial']


class NegativeBinomial(_BinaryProbsLogits, Distribution):
    """Number of successes (each with probability ``probs``) before ``total_count`` failures.

    ``total_count`` may be any non-negative real; exactly one of ``probs`` or ``logits`` is given.
    """
    arg_constraints = {'total_count': constraints.greater_than_eq(0),
                       'probs': constraints.half_open_interval(0.0, 1.0), 'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            param = self.probs
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            param = self.logits
        self.total_count = self.total_count.to(param.dtype)
        super().__init__(param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, NegativeBinomial, batch_shape, ('total_count', 'probs', 'logits'), _instance)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def _gamma(self):
        # the Gamma-Poisson mixture this distribution is
        return Gamma(self.total_count, (-self.logits).exp(), validate_args=False)

    def sample(self, sample_shape=npnn.Size()):
        with npnn.no_grad():
            rate = self._gamma.sample(sample_shape)
            return npnn.poisson(rate.contiguous())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logsigmoid = npnn.nn.functional.logsigmoid
        log_unnormalized = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        log_norm = -(self.total_count + value).lgamma() + (1.0 + value).lgamma() + self.total_count.lgamma()
        # the count of zero failures before zero successes is certain: log 1 = 0
        log_norm = log_norm.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized - log_norm
