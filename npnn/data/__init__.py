"""Datasets, samplers and the DataLoader (``torch.utils.data``); also importable as ``npnn.utils.data``."""
from .dataset import (Dataset, IterableDataset, TensorDataset, StackDataset, ConcatDataset, ChainDataset, Subset,
                      random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler,
                      BatchSampler, DistributedSampler)
from .collate import default_collate, default_convert
from .worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader
from . import datasets

__all__ = ['Dataset', 'IterableDataset', 'TensorDataset', 'StackDataset', 'ConcatDataset', 'ChainDataset', 'Subset',
           'random_split', 'Sampler', 'SequentialSampler', 'RandomSampler', 'SubsetRandomSampler',
           'WeightedRandomSampler', 'BatchSampler', 'DistributedSampler', 'default_collate', 'default_convert',
           'WorkerInfo', 'get_worker_info', 'DataLoader', 'datasets']
