"""``torch.utils.data``'s import path: everything in :mod:`npnn.data`."""
from ...data import *  # noqa: F401,F403
from ...data import __all__  # noqa: F401
from ...data import dataset, sampler, collate, dataloader, worker, datasets, distributed  # noqa: F401
