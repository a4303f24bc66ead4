"""``TransformedDistribution``: a base distribution pushed through elementwise bijections."""
import npnn
from .distribution import Distribution
from .transforms import ComposeTransform, Transform

__all__ = ['TransformedDistribution']


class TransformedDistribution(Distribution):
    """``Y = t_n(...t_1(X))`` with ``X ~ base_distribution``;
    ``log p(y) = log p_X(x) - sum log |dt_i/dx|``."""
    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not isinstance(transforms, (list, tuple)) or not all(isinstance(t, Transform) for t in transforms):
            raise ValueError(f"transforms must be a Transform or a list of Transforms, but was {transforms}")
        self.transforms = list(transforms)
        self.base_dist = base_distribution
        super().__init__(base_distribution.batch_shape, base_distribution.event_shape,
                         validate_args=validate_args)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def support(self):
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    def sample(self, sample_shape=npnn.Size()):
        with npnn.no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=npnn.Size()):
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        y = value
        lp = 0.0
        event_dims = len(self.event_shape)
        for t in reversed(self.transforms):
            x = t.inv(y)
            ladj = t.log_abs_det_jacobian(x, y)
            if event_dims:
                ladj = ladj.sum(tuple(range(-event_dims, 0)))
            lp = lp - ladj
            y = x
        return lp + self.base_dist.log_prob(y)

    def cdf(self, value):
        for t in reversed(self.transforms):
            value = t.inv(value)
        value = self.base_dist.cdf(value)
        return value if ComposeTransform(self.transforms).sign == 1 else 1 - value

    def icdf(self, value):
        sign = ComposeTransform(self.transforms).sign
        x = self.base_dist.icdf(value if sign == 1 else 1 - value)
        for t in self.transforms:
            x = t(x)
        return x


