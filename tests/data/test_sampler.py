import collections

import numpy as np
import pytest

import npnn
from npnn.data import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                       SubsetRandomSampler, WeightedRandomSampler)


def gen(seed):
    return npnn.Generator().manual_seed(seed)


def test_sampler_base():
    with pytest.raises(NotImplementedError):
        iter(Sampler(None))


def test_sequential_sampler():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4]
    assert len(s) == 5


def test_random_sampler_is_permutation_and_reproducible():
    s = RandomSampler(range(20), generator=gen(0))
    first = list(s)
    assert sorted(first) == list(range(20)) and len(s) == 20
    second = list(s)  # the generator advanced: a new order
    assert sorted(second) == list(range(20)) and second != first
    assert list(RandomSampler(range(20), generator=gen(0))) == first


def test_random_sampler_manual_seed():
    npnn.manual_seed(11)
    a = list(RandomSampler(range(30)))
    npnn.manual_seed(11)
    b = list(RandomSampler(range(30)))
    npnn.manual_seed(12)
    c = list(RandomSampler(range(30)))
    assert a == b and a != c


def test_random_sampler_num_samples_without_replacement_chains_permutations():
    s = RandomSampler(range(4), num_samples=10, generator=gen(1))
    out = list(s)
    assert len(out) == 10 == len(s)
    assert sorted(out[:4]) == [0, 1, 2, 3] and sorted(out[4:8]) == [0, 1, 2, 3]
    assert len(set(out[8:])) == 2


def test_random_sampler_replacement():
    s = RandomSampler(range(3), replacement=True, num_samples=300, generator=gen(2))
    out = list(s)
    assert len(out) == 300 and set(out) == {0, 1, 2}
    counts = collections.Counter(out)
    assert all(60 < c < 140 for c in counts.values())


@pytest.mark.parametrize('kwargs,exc,msg', [
    (dict(replacement=1), TypeError, "replacement should be a boolean value, but got replacement=1"),
    (dict(num_samples=0), ValueError, "num_samples should be a positive integer value, but got num_samples=0"),
    (dict(num_samples=2.5), ValueError, "num_samples should be a positive integer value, but got num_samples=2.5"),
])
def test_random_sampler_errors(kwargs, exc, msg):
    with pytest.raises(exc) as ei:
        RandomSampler(range(3), **kwargs)
    assert str(ei.value) == msg
    torch = pytest.importorskip('torch')
    with pytest.raises(exc) as ti:
        torch.utils.data.RandomSampler(range(3), **kwargs)
    assert str(ti.value) == msg


def test_subset_random_sampler():
    idx = [10, 4, 7, 99]
    out = list(SubsetRandomSampler(idx, generator=gen(5)))
    assert sorted(out) == sorted(idx)
    assert out == list(SubsetRandomSampler(idx, generator=gen(5)))
    assert len(SubsetRandomSampler(idx)) == 4


def test_weighted_random_sampler_replacement():
    w = [0.0, 1.0, 3.0, 0.0]
    out = list(WeightedRandomSampler(w, 400, generator=gen(3)))
    assert len(out) == 400 and set(out) <= {1, 2}
    c = collections.Counter(out)
    assert 60 < c[1] < 140 and c[1] + c[2] == 400
    assert out == list(WeightedRandomSampler(npnn.tensor(np.array(w)), 400, generator=gen(3)))


def test_weighted_random_sampler_without_replacement():
    out = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False, generator=gen(4)))
    assert sorted(out) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        list(WeightedRandomSampler([1, 2], 3, replacement=False))


@pytest.mark.parametrize('args,kwargs,msg', [
    (([1, 2], 0), {}, "num_samples should be a positive integer value, but got num_samples=0"),
    (([1, 2], 2), dict(replacement=0), "replacement should be a boolean value, but got replacement=0"),
    (([[1, 2]], 2), {}, "weights should be a 1d sequence but given weights have shape (1, 2)"),
])
def test_weighted_random_sampler_errors(args, kwargs, msg):
    with pytest.raises(ValueError) as ei:
        WeightedRandomSampler(*args, **kwargs)
    assert str(ei.value) == msg


def test_weighted_random_sampler_bad_weights():
    with pytest.raises(RuntimeError, match="element < 0"):
        list(WeightedRandomSampler([1.0, -1.0], 2))
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        list(WeightedRandomSampler([0.0, 0.0], 2))


@pytest.mark.parametrize('n,bs,drop', [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False),
                                       (2, 5, True), (0, 2, False)])
def test_batch_sampler(n, bs, drop):
    s = BatchSampler(SequentialSampler(range(n)), bs, drop)
    out = list(s)
    full = [list(range(i, min(i + bs, n))) for i in range(0, n, bs)]
    if drop:
        full = [b for b in full if len(b) == bs]
    assert out == full
    assert len(s) == len(full)
    torch = pytest.importorskip('torch')
    ts = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), bs, drop)
    assert list(ts) == out and len(ts) == len(s)


@pytest.mark.parametrize('bs,drop,msg', [
    (0, False, "batch_size should be a positive integer value, but got batch_size=0"),
    (True, False, "batch_size should be a positive integer value, but got batch_size=True"),
    (2, 1, "drop_last should be a boolean value, but got drop_last=1"),
])
def test_batch_sampler_errors(bs, drop, msg):
    with pytest.raises(ValueError) as ei:
        BatchSampler(range(4), bs, drop)
    assert str(ei.value) == msg


@pytest.mark.parametrize('n,reps,drop', [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False),
                                         (11, 4, True), (1, 3, False)])
def test_distributed_sampler_unshuffled_matches_torch(n, reps, drop):
    ours = [list(DistributedSampler(range(n), num_replicas=reps, rank=r, shuffle=False, drop_last=drop))
            for r in range(reps)]
    lens = [len(DistributedSampler(range(n), num_replicas=reps, rank=r, shuffle=False, drop_last=drop))
            for r in range(reps)]
    assert [len(o) for o in ours] == lens
    assert len(set(lens)) == 1
    if drop:
        flat = sorted(i for o in ours for i in o)
        assert len(flat) == len(set(flat))
    else:
        assert set(i for o in ours for i in o) == set(range(n))
    torch = pytest.importorskip('torch')
    theirs = [list(torch.utils.data.DistributedSampler(range(n), num_replicas=reps, rank=r, shuffle=False,
                                                       drop_last=drop)) for r in range(reps)]
    assert ours == theirs


def test_distributed_sampler_shuffle_epochs():
    def shards(epoch, seed=0):
        out = []
        for r in range(3):
            s = DistributedSampler(range(12), num_replicas=3, rank=r, seed=seed)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    e0 = shards(0)
    assert sorted(i for o in e0 for i in o) == list(range(12))
    assert shards(0) == e0
    assert shards(1) != e0
    assert shards(0, seed=5) != e0
    assert e0 != [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match=r"Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=3, rank=-1)
    try:
        import npnn.distributed as dist
        available = dist.is_available() and dist.is_initialized()
    except (ImportError, AttributeError):
        available = False
    if not available:
        with pytest.raises(RuntimeError):
            DistributedSampler(range(4))
