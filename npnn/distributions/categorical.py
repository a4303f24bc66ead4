"""Categorical distribution over ``{0, ..., K-1}``."""
import numpy as np

import npnn
from . import constraints
from .distribution import Distribution
from .utils import _expand_params, lazy_property, logits_to_probs, probs_to_logits

__all__ = ['Categorical']


class Categorical(Distribution):
    """Categorical distribution parameterised by ``probs`` or ``logits`` (exactly one), last dim = categories.

    ``probs`` is normalised to sum to 1 along the last dim; ``logits`` are normalised log-probabilities.
    """
    arg_constraints = {'probs': constraints.simplex, 'logits': constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else npnn.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, Categorical, batch_shape, ('probs', 'logits'), _instance,
                             event_shape=(self._num_events,))
        new._num_events = self._num_events
        new._param = new.probs if 'probs' in self.__dict__ else new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return npnn.full(tuple(self._extended_shape()), float('nan'), dtype=self.probs.dtype,
                         device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return npnn.full(tuple(self._extended_shape()), float('nan'), dtype=self.probs.dtype,
                         device=self.probs.device)

    def sample(self, sample_shape=npnn.Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with npnn.no_grad():
            probs = self.probs.detach()
            # inverse CDF: the index is the number of cumulative probabilities below a uniform draw
            cdf = probs.cumsum(-1)
            cdf = cdf / cdf[..., -1:]
            u = npnn.rand(shape + (1,), dtype=probs.dtype, device=probs.device)
            idx = (u >= cdf).sum(-1)
            return idx.clamp(max=self._num_events - 1).long()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = npnn.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = float(np.finfo(np.dtype(self.logits._data.dtype)).min)
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = npnn.arange(self._num_events, dtype=npnn.long, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
