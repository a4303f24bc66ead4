"""Geometric distribution: number of failures before the first success."""
from numbers import Number

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _BinaryProbsLogits, _expand_params, _finfo, broadcast_all
from .bernoulli import _bce_with_logits

__all__ = ['Geometric']


class Geometric(_BinaryProbsLogits, Distribution):
    """Number of Bernoulli(``probs``) failures before the first success; ``probs`` or ``logits``."""
    arg_constraints = {'probs': constraints.unit_interval, 'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        probs_or_logits = probs if probs is not None else logits
        batch_shape = npnn.Size() if isinstance(probs_or_logits, Number) else probs_or_logits.size()
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            if not bool((value > 0).all()):
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape {tuple(value.shape)}) of "
                    f"distribution {repr(self)} to be positive but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Geometric, batch_shape, ('probs', 'logits'), _instance)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return npnn.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=npnn.Size()):
        shape = self._extended_shape(sample_shape)
        tiny = float(_finfo(self.probs).tiny)
        with npnn.no_grad():
            u = npnn.rand(tuple(shape), dtype=self.probs.dtype, device=self.probs.device).clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = npnn.broadcast_tensors(value.to(self.probs.dtype), self.probs)
        probs = npnn.where((probs == 1) & (value == 0), npnn.zeros_like(probs), probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs) / self.probs
