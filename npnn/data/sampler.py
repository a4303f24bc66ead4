"""Samplers: the order in which a map-style dataset's indices are visited."""
import itertools
import math

import numpy as np

from . import _core

__all__ = ['Sampler', 'SequentialSampler', 'RandomSampler', 'SubsetRandomSampler', 'WeightedRandomSampler',
           'BatchSampler', 'DistributedSampler']


def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(name, value, error=ValueError):
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


class Sampler:
    """Base class: subclasses implement ``__iter__`` over indices (and ``__len__`` when known)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random order: a permutation (``replacement=False``) or draws with replacement.

    ``num_samples`` (default ``len(data_source)``) may exceed the dataset's length without replacement:
    whole permutations are chained. A fresh seed is drawn from npnn's default generator per epoch
    when no ``generator`` is given.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool('replacement', self.replacement, TypeError)
        _check_positive_int('num_samples', self.num_samples)

    @property
    def num_samples(self):
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is None:
            generator = _core.fresh_generator(_core.draw_seed())
        else:
            generator = self.generator
        rng = _core.numpy_rng(generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples, dtype=np.int64).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        rest = self.num_samples % n
        if rest:
            yield from rng.permutation(n)[:rest].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _core.randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0..len(weights)-1`` drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int('num_samples', num_samples)
        _check_bool('replacement', replacement)
        w = _core.to_numpy_1d(weights, np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        w = self.weights
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        total = w.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not self.replacement:
            if self.num_samples > w.shape[0]:
                raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
            if self.num_samples > np.count_nonzero(w):
                raise RuntimeError("invalid multinomial distribution (with replacement=False, "
                                   "not enough non-negative category to sample)")
        rng = _core.numpy_rng(_core.cpu_generator(self.generator))
        out = rng.choice(w.shape[0], size=self.num_samples, replace=self.replacement, p=w / total)
        yield from out.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int('batch_size', batch_size)
        _check_bool('drop_last', drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        bs = self.batch_size
        while True:
            batch = list(itertools.islice(it, bs))
            if not batch or (self.drop_last and len(batch) < bs):
                return
            yield batch
            if len(batch) < bs:
                return

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


def _world():
    try:
        from .. import distributed as dist
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, 'is_available', lambda: False)():
        raise RuntimeError("Requires distributed package to be available")
    return dist


class DistributedSampler(Sampler):
    """The share of a dataset for one of ``num_replicas`` processes (``rank``).

    With ``shuffle`` the permutation is seeded by ``seed + epoch`` (call :meth:`set_epoch` each epoch)
    so all ranks agree on it. Without ``drop_last`` indices are repeated so every rank gets as many.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _world().get_world_size()
        if rank is None:
            rank = _world().get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = _core.randperm(n, _core.fresh_generator(self.seed + self.epoch))
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch that seeds the next shuffle."""
        self.epoch = epoch
