"""``TransformedDistribution``: a base distribution pushed through elementwise bijections."""
import npnn
from .distribution import Distribution
from .transforms import Transform

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
        if self._validate_args:
            self._validate_sample(value)
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

    def _monotonize_cdf(self, value):
        """Flip ``value`` about 1/2 where the composed transform decreases (the sign may be a tensor)."""
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        for t in reversed(self.transforms):
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        x = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            x = t(x)
        return x
