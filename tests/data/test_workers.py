import gc
import mmap
import multiprocessing as mp
import os
import random
import signal
import time

import numpy as np
import pytest

import npnn
from npnn.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="worker tests use fork"),
              pytest.mark.filterwarnings("ignore:This DataLoader will create")]


class Images(Dataset):
    def __init__(self, n=40):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((3, 16, 16), i, np.float32), i


class RandomDraws(Dataset):
    """Each sample records the worker's RNG draws, so seeding is visible in the batch."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        wid = -1 if info is None else info.id
        g = npnn.backend.default_generator()
        return (wid, random.random(), float(np.random.random_sample()), float(g.xp_rng.random()),
                -1 if info is None else info.seed)


class Failing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i


class Killer(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        if get_worker_info().id == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(1)
        return i


class Sharded(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def labels(loader):
    return [y.numpy().tolist() for _, y in loader]


def no_children():
    for _ in range(50):
        if not mp.active_children():
            return True
        time.sleep(0.05)
    return False


def shm_segments():
    if not os.path.isdir('/dev/shm'):
        return []
    return [f for f in os.listdir('/dev/shm') if f.startswith(f'npnn_{os.getpid()}_')]


def test_workers_give_same_batches_in_order():
    ref = labels(DataLoader(Images(), batch_size=4))
    for nw in (1, 3):
        dl = DataLoader(Images(), batch_size=4, num_workers=nw)
        out = list(dl)
        assert [y.numpy().tolist() for _, y in out] == ref
        x = out[3][0].numpy()
        assert x.shape == (4, 3, 16, 16) and x.dtype == np.float32
        np.testing.assert_array_equal(x[:, 0, 0, 0], [12, 13, 14, 15])
    assert no_children()
    assert shm_segments() == []


def test_shuffle_same_with_and_without_workers():
    runs = []
    for nw in (0, 2, 0, 2):
        npnn.manual_seed(123)
        runs.append(labels(DataLoader(Images(30), batch_size=4, shuffle=True, num_workers=nw)))
    assert runs[0] == runs[1] == runs[2] == runs[3]
    assert sorted(sum(runs[0], [])) == list(range(30)) and sum(runs[0], []) != list(range(30))
    g1, g2 = npnn.Generator().manual_seed(9), npnn.Generator().manual_seed(9)
    a = labels(DataLoader(Images(30), batch_size=4, shuffle=True, num_workers=2, generator=g1))
    b = labels(DataLoader(Images(30), batch_size=4, shuffle=True, num_workers=0, generator=g2))
    assert a == b


def test_batches_travel_through_shared_memory():
    dl = DataLoader(Images(8), batch_size=4, num_workers=1)
    x, _ = next(iter(dl))
    arr = x.numpy()
    base = arr
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    assert isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)
    arr[0, 0, 0, 0] = 42.0  # writable
    assert arr[0, 0, 0, 0] == 42.0
    del dl
    assert shm_segments() == []


def test_worker_seeds_and_worker_info():
    g = npnn.Generator().manual_seed(5)
    dl = DataLoader(RandomDraws(), batch_size=2, num_workers=2, collate_fn=lambda b: b, generator=g)
    first = [s for batch in dl for s in batch]
    again = [s for batch in DataLoader(RandomDraws(), batch_size=2, num_workers=2, collate_fn=lambda b: b,
                                       generator=npnn.Generator().manual_seed(5)) for s in batch]
    assert first == again
    assert [s[0] for s in first] == [0, 0, 1, 1, 0, 0, 1, 1]
    seeds = {s[0]: s[4] for s in first}
    assert seeds[1] == seeds[0] + 1
    base = seeds[0]
    random.seed(base)
    assert first[0][1] == random.random()
    np.random.seed([base & 0xFFFFFFFF, base >> 32])
    assert first[0][2] == float(np.random.random_sample())
    assert first[0][3] == npnn.Generator().manual_seed(base).xp_rng.random()
    assert first[0][1:4] != first[2][1:4]  # the two workers draw different numbers
    other = [s for batch in DataLoader(RandomDraws(), batch_size=2, num_workers=2, collate_fn=lambda b: b,
                                       generator=npnn.Generator().manual_seed(6)) for s in batch]
    assert other[0][4] != base


def test_worker_init_fn_runs_in_each_worker():
    class WhoAmI(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return (get_worker_info().id, os.environ.get('NPNN_TEST_INIT'))

    def init(wid):
        os.environ['NPNN_TEST_INIT'] = f'init{wid}'

    out = list(DataLoader(WhoAmI(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert out == [[0, 'init0'], [1, 'init1']] * 3  # default_convert turns tuples into lists
    assert 'NPNN_TEST_INIT' not in os.environ


def test_worker_info_fields():
    class Info(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            info = get_worker_info()
            with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
                info.id = 5
            return (info.id, info.num_workers, info.dataset is not None, type(info.dataset).__name__)

    out = list(DataLoader(Info(), batch_size=None, num_workers=2))
    assert out == [[0, 2, True, 'Info'], [1, 2, True, 'Info']]


def test_iterable_dataset_sharded_by_worker_info():
    dl = DataLoader(Sharded(10), batch_size=2, num_workers=2)
    got = sorted(v for b in dl for v in b.numpy().tolist())
    assert got == list(range(10))
    # without sharding each worker would yield the whole stream
    dl = DataLoader(Sharded(10), batch_size=None, num_workers=3)
    assert sorted(dl) == list(range(10))
    assert no_children()


def test_prefetch_factor_and_in_order_false():
    dl = DataLoader(Images(24), batch_size=2, num_workers=2, prefetch_factor=1)
    assert labels(dl) == [[i, i + 1] for i in range(0, 24, 2)]
    dl = DataLoader(Images(24), batch_size=2, num_workers=2, prefetch_factor=4, in_order=False)
    assert sorted(sum(labels(dl), [])) == list(range(24))


def test_persistent_workers_keep_processes():
    class Pid(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return os.getpid()

    dl = DataLoader(Pid(), batch_size=2, num_workers=2, persistent_workers=True)
    e1 = [b.numpy().tolist() for b in dl]
    e2 = [b.numpy().tolist() for b in dl]
    assert e1 == e2 and len(set(sum(e1, []))) == 2
    assert len(mp.active_children()) == 2
    it = iter(dl)
    next(it)  # stop mid-epoch, then start a new one
    e3 = [b.numpy().tolist() for b in dl]
    assert e3 == e1
    del dl, it
    gc.collect()
    assert no_children()


def test_persistent_workers_iterable_dataset_restarts():
    dl = DataLoader(Sharded(6), batch_size=None, num_workers=2, persistent_workers=True)
    assert sorted(dl) == list(range(6))
    assert sorted(dl) == list(range(6))
    del dl
    assert no_children()


def test_worker_error_names_worker_and_traceback():
    dl = DataLoader(Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as ei:
        list(dl)
    msg = str(ei.value)
    assert "Caught ValueError in DataLoader worker process 0." in msg
    assert "Original Traceback (most recent call last):" in msg
    assert "bad sample 5" in msg and "__getitem__" in msg
    assert no_children()


def test_worker_key_error_and_custom_exception():
    class Missing(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {}['nope']

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(Missing(), num_workers=1))

    class Local(Exception):
        pass

    class Raises(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            raise Local("local failure")

    with pytest.raises(RuntimeError, match="local failure"):  # a class the main process cannot unpickle
        list(DataLoader(Raises(), num_workers=1))
    assert no_children()


def test_worker_init_fn_error_propagates():
    def init(wid):
        raise OSError(f"init failed in {wid}")

    with pytest.raises(OSError, match="init failed in 0"):
        list(DataLoader(Images(4), num_workers=1, worker_init_fn=init))
    assert no_children()


def test_killed_worker_raises():
    dl = DataLoader(Killer(), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal"):
        for _ in dl:
            pass
    assert no_children()
    assert shm_segments() == []


def test_timeout_raises():
    dl = DataLoader(Slow(), batch_size=None, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.2 seconds"):
        next(iter(dl))
    assert no_children()


def test_break_early_leaves_no_children():
    dl = DataLoader(Images(200), batch_size=2, num_workers=2, prefetch_factor=4)
    for i, _ in enumerate(dl):
        if i == 2:
            break
    assert no_children()
    assert shm_segments() == []


def test_deleting_iterator_and_loader_shuts_down():
    dl = DataLoader(Images(200), batch_size=2, num_workers=2)
    it = iter(dl)
    next(it)
    assert len(mp.active_children()) == 2
    del it
    assert no_children()
    dl2 = DataLoader(Images(200), batch_size=2, num_workers=2, persistent_workers=True)
    next(iter(dl2))
    assert len(mp.active_children()) == 2
    del dl2
    gc.collect()
    assert no_children()
    assert shm_segments() == []


def test_non_array_batches_and_large_custom_collate():
    def collate(b):  # a big array that collate did not place in shared memory
        return {'big': np.concatenate([x.ravel() for x, _ in b]), 'ids': [i for _, i in b], 'name': 'x'}

    out = list(DataLoader(Images(6), batch_size=3, num_workers=2, collate_fn=collate))
    assert [o['ids'] for o in out] == [[0, 1, 2], [3, 4, 5]]
    assert out[1]['big'].shape == (3 * 768,) and out[1]['big'][-1] == 5 and out[0]['name'] == 'x'


def test_tensor_dataset_with_workers_and_spawn_context():
    x = npnn.tensor(np.arange(24, dtype=np.float32).reshape(12, 2))
    y = npnn.tensor(np.arange(12))
    ref = [(a.numpy().tolist(), b.numpy().tolist()) for a, b in DataLoader(TensorDataset(x, y), batch_size=5)]
    out = [(a.numpy().tolist(), b.numpy().tolist())
           for a, b in DataLoader(TensorDataset(x, y), batch_size=5, num_workers=2)]
    assert out == ref
    ds = TensorDataset(np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6))
    out = [b[1].numpy().tolist() for b in DataLoader(ds, batch_size=4, num_workers=1,
                                                     multiprocessing_context='spawn')]
    assert out == [[0, 1, 2, 3], [4, 5]]
    dl = DataLoader(ds, batch_size=4, num_workers=1, persistent_workers=True,
                    multiprocessing_context=mp.get_context('forkserver'))
    assert [b[1].numpy().tolist() for b in dl] == [[0, 1, 2, 3], [4, 5]]
    assert [b[1].numpy().tolist() for b in dl] == [[0, 1, 2, 3], [4, 5]]
    del dl
    assert no_children()


def test_persistent_loader_recovers_after_worker_error():
    class FailOnce(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if os.environ.get('NPNN_TEST_FAIL') == '1' and i == 2:
                raise IndexError("boom")
            return i

    os.environ['NPNN_TEST_FAIL'] = '1'
    try:
        dl = DataLoader(FailOnce(), batch_size=2, num_workers=2, persistent_workers=True)
        with pytest.raises(IndexError, match="Caught IndexError in DataLoader worker process 1"):
            list(dl)
        assert no_children()
    finally:
        del os.environ['NPNN_TEST_FAIL']
    assert [b.numpy().tolist() for b in dl] == [[0, 1], [2, 3]]  # fresh workers, forked without the flag
    del dl
    assert no_children()
