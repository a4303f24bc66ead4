"""``nn.utils.parametrizations``: weight normalisation as a parametrization (PyTorch's current API)."""
from ..modules.module import Module
from . import parametrize
from .weight_norm import norm_except_dim

__all__ = ['weight_norm']


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name='weight', dim=0):
    """``module.<name>`` becomes ``g * v / ||v||`` computed from ``parametrizations.<name>.original0`` (g)
    and ``original1`` (v); the norm is over every dim but ``dim`` (``None``: the whole tensor)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
