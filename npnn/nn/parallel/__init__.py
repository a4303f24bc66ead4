"""``nn.parallel``: DataParallel and its building blocks (scatter, replicate, parallel_apply, gather)."""
from .comm import scatter, scatter_kwargs, gather
from .replicate import replicate
from .parallel_apply import parallel_apply
from .data_parallel import DataParallel, data_parallel

__all__ = ['DataParallel']
