"""``MixtureSameFamily``: a mixture whose components all come from one batched distribution."""
import npnn
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ['MixtureSameFamily']


class MixtureSameFamily(Distribution):
    """Mixture of ``k`` components: ``mixture_distribution`` is a ``Categorical`` over the last batch dim of
    ``component_distribution`` (whose ``batch_shape[-1]`` is ``k``), e.g. a 1-D Gaussian mixture::

        MixtureSameFamily(Categorical(logits=w), Normal(mu, sigma))   # w, mu, sigma: (..., k)
    """
    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("The Mixture distribution needs to be an instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of "
                             "torch.distributions.Distribution")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mix_batch = tuple(mixture_distribution.batch_shape)
        comp_batch = tuple(component_distribution.batch_shape[:-1])
        for a, b in zip(reversed(mix_batch), reversed(comp_batch)):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"`mixture_distribution.batch_shape` ({npnn.Size(mix_batch)}) is not compatible "
                                 f"with `component_distribution.batch_shape`({npnn.Size(comp_batch)})")
        k_mix = mixture_distribution.logits.shape[-1]
        k_comp = component_distribution.batch_shape[-1]
        if k_mix is not None and k_comp is not None and k_mix != k_comp:
            raise ValueError(f"`mixture_distribution component` ({k_mix}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({k_comp})")
        self._num_component = k_mix
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(batch_shape=comp_batch, event_shape=component_distribution.event_shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        batch_shape = npnn.Size(batch_shape)
        new._component_distribution = self._component_distribution.expand(
            tuple(batch_shape) + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component = self._num_component
        new._event_ndims = self._event_ndims
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return self._component_distribution.support

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    def _comp_axis(self):
        # the component axis of a [sample, batch, k, event] tensor
        return -1 - self._event_ndims

    def _pad(self, x):
        """Insert a component axis into a value shaped [sample, batch, event]."""
        return x.unsqueeze(self._comp_axis())

    def _pad_mixture_dimensions(self, x):
        """Reshape mixture weights [batch', k] to broadcast against component values [batch, k, event]."""
        cat_ndims = len(self._mixture_distribution.batch_shape)
        extra = 0 if cat_ndims == 1 else len(self.batch_shape) - cat_ndims
        shape = tuple(x.shape)
        return x.reshape(shape[:-1] + (1,) * extra + shape[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self):
        w = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        return (w * self._component_distribution.mean).sum(dim=self._comp_axis())

    @property
    def variance(self):
        # law of total variance: E[Var(X|Z)] + Var(E[X|Z])
        w = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        comp = self._component_distribution
        within = (w * comp.variance).sum(dim=self._comp_axis())
        between = (w * (comp.mean - self._pad(self.mean)).pow(2.0)).sum(dim=self._comp_axis())
        return within + between

    def cdf(self, x):
        x = self._pad(x)
        return (self._component_distribution.cdf(x) * self._mixture_distribution.probs).sum(dim=-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        lp = self._component_distribution.log_prob(self._pad(x))
        log_w = npnn.log_softmax(self._mixture_distribution.logits, dim=-1)
        return npnn.logsumexp(lp + log_w, dim=-1)

    def sample(self, sample_shape=npnn.Size()):
        with npnn.no_grad():
            sample_shape = tuple(sample_shape)
            axis = len(sample_shape) + len(self.batch_shape)
            which = self._mixture_distribution.sample(sample_shape)
            draws = self._component_distribution.sample(sample_shape)
            event = tuple(self.event_shape)
            index = which.reshape(tuple(which.shape) + (1,) * (len(event) + 1))
            index = index.expand(tuple(which.shape) + (1,) + event)
            return npnn.gather(draws, axis, index).squeeze(axis)

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n  {self._mixture_distribution},\n"
                f"  {self._component_distribution})")
