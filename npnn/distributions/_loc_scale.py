"""A private base for the location-scale families (Cauchy, Gumbel, Laplace, Normal)."""
from numbers import Number

import npnn
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class _LocScale(Distribution):
    """``loc`` (real) and ``scale`` (positive), broadcast together; the mode is ``loc``.

    A scalar batch shape when both arguments are Python numbers, else the broadcast shape.
    Each family keeps its own ``expand`` so that the expanded instance is of that family.
    """
    arg_constraints = {'loc': constraints.real, 'scale': constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        batch_shape = npnn.Size() if isinstance(loc, Number) and isinstance(scale, Number) else self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mode(self):
        return self.loc
