"""``torch.nn.modules.batchnorm``'s path for the batch-norm classes (``isinstance(m, nn.modules.batchnorm._BatchNorm)``)."""
from .normalization import (_NormBase, _BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d,  # noqa: F401
                            SyncBatchNorm)

__all__ = ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'SyncBatchNorm']
