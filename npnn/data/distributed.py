"""``torch.utils.data.distributed``'s path for ``DistributedSampler``."""
from .sampler import DistributedSampler  # noqa: F401

__all__ = ['DistributedSampler']
