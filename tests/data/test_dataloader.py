import multiprocessing as mp
import warnings

import numpy as np
import pytest

import npnn
from npnn.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler,
                       TensorDataset)


class Squares(Dataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


class Stream(IterableDataset):
    def __init__(self, n=7, length=None):
        self.n, self.length = n, length

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n if self.length is None else self.length


def labels(loader):
    return [y.numpy().tolist() for _, y in loader]


def test_defaults_sequential_batches():
    dl = DataLoader(Squares(10), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    x, y = batches[0]
    assert npnn.is_tensor(x) and tuple(x.shape) == (4, 2) and x.numpy().dtype == np.float32
    np.testing.assert_array_equal(x.numpy()[:, 1], [0, 1, 4, 9])
    assert labels(dl) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(dl.sampler, SequentialSampler) and isinstance(dl.batch_sampler, BatchSampler)


def test_default_batch_size_one():
    dl = DataLoader(Squares(3))
    assert labels(dl) == [[0], [1], [2]] and len(dl) == 3


def test_drop_last():
    dl = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(dl) == 2 and labels(dl) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_reproducible_with_generator_and_manual_seed():
    a = labels(DataLoader(Squares(20), batch_size=5, shuffle=True, generator=npnn.Generator().manual_seed(0)))
    b = labels(DataLoader(Squares(20), batch_size=5, shuffle=True, generator=npnn.Generator().manual_seed(0)))
    assert a == b and sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))
    npnn.manual_seed(3)
    dl = DataLoader(Squares(20), batch_size=5, shuffle=True)
    e1, e2 = labels(dl), labels(dl)
    assert e1 != e2
    npnn.manual_seed(3)
    assert labels(dl) == e1 and labels(dl) == e2


def test_custom_sampler_and_batch_sampler():
    dl = DataLoader(Squares(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert labels(dl) == [[5, 4], [3, 2], [1, 0]]
    dl = DataLoader(Squares(6), batch_sampler=[[0, 5], [1], [2, 3, 4]])
    assert labels(dl) == [[0, 5], [1], [2, 3, 4]] and len(dl) == 3
    assert dl.batch_size is None and dl.drop_last is False


def test_batch_size_none_disables_auto_collation():
    dl = DataLoader(Squares(3), batch_size=None)
    items = list(dl)
    assert len(dl) == 3 and len(items) == 3
    x, y = items[1]  # default_convert: array -> tensor, int stays int
    assert npnn.is_tensor(x) and x.numpy().tolist() == [1.0, 1.0] and y == 1


def test_collate_fn_used():
    dl = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [i for _, i in b])
    assert list(dl) == [[0, 1], [2, 3], [4]]


def test_getitems_used_for_batches():
    class Batched(Squares):
        def __getitems__(self, idx):
            return [(np.zeros(1, np.float32), -i) for i in idx]

    assert labels(DataLoader(Batched(4), batch_size=2)) == [[0, -1], [-2, -3]]


def test_tensor_dataset_loader():
    x = npnn.tensor(np.arange(10, dtype=np.float32).reshape(5, 2))
    y = npnn.tensor(np.arange(5))
    out = list(DataLoader(TensorDataset(x, y), batch_size=2))
    np.testing.assert_array_equal(out[0][0].numpy(), [[0, 1], [2, 3]])
    assert [b[1].numpy().tolist() for b in out] == [[0, 1], [2, 3], [4]]


def test_iterable_dataset():
    dl = DataLoader(Stream(7), batch_size=3)
    assert [b.numpy().tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(dl) == 3
    dl = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [b.numpy().tolist() for b in dl] == [[0, 1, 2], [3, 4, 5]] and len(dl) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]


def test_iterable_dataset_length_warning():
    dl = DataLoader(Stream(5, length=2), batch_size=None)
    assert len(dl) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        assert list(dl) == [0, 1, 2, 3, 4]


def test_pin_memory_on_cpu_is_noop():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = list(DataLoader(Squares(4), batch_size=2, pin_memory=True))
    assert [b[1].numpy().tolist() for b in out] == [[0, 1], [2, 3]]
    assert str(out[0][0].device) == 'cpu'


def test_setattr_after_init():
    dl = DataLoader(Squares(4), batch_size=2)
    for attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset', 'persistent_workers'):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
            setattr(dl, attr, None)
    dl.num_workers = 0  # allowed


ARG_ERRORS = [
    (dict(num_workers=-1), ValueError,
     "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError,
     "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
     "multiprocessing, otherwise set prefetch_factor to None."),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], shuffle=True), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    (dict(batch_size=None, drop_last=True), ValueError,
     "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(multiprocessing_context='fork'), ValueError,
     "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got "
     "num_workers=0"),
    (dict(num_workers=1, multiprocessing_context='nope'), ValueError,
     "multiprocessing_context option should specify a valid start method in " + repr(mp.get_all_start_methods())
     + ", but got multiprocessing_context='nope'"),
    (dict(num_workers=1, multiprocessing_context=3), TypeError,
     "multiprocessing_context option should be a valid context object or a string specifying the start method, "
     "but got multiprocessing_context=3"),
]


@pytest.mark.parametrize('kwargs,exc,msg', ARG_ERRORS)
def test_argument_errors(kwargs, exc, msg):
    with pytest.raises(exc) as ei:
        DataLoader(Squares(4), **kwargs)
    assert str(ei.value) == msg


@pytest.mark.parametrize('kwargs,exc,msg', ARG_ERRORS)
def test_argument_errors_match_torch(kwargs, exc, msg):
    torch = pytest.importorskip('torch')
    with pytest.raises(exc) as ei:
        torch.utils.data.DataLoader(Squares(4), **kwargs)
    assert str(ei.value) == msg


@pytest.mark.parametrize('kwargs,msg', [
    (dict(shuffle=True), "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"),
    (dict(sampler=[0]), "DataLoader with IterableDataset: expected unspecified sampler option, but got sampler=[0]"),
    (dict(batch_sampler=[[0]]),
     "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler=[[0]]"),
])
def test_iterable_argument_errors(kwargs, msg):
    with pytest.raises(ValueError) as ei:
        DataLoader(Stream(), **kwargs)
    assert str(ei.value) == msg


def test_len_of_loader_with_random_sampler_replacement():
    dl = DataLoader(Squares(5), batch_size=2, sampler=RandomSampler(range(5), replacement=True, num_samples=7))
    assert len(dl) == 4 and sum(len(y) for y in labels(dl)) == 7


def test_utils_data_import_path():
    import npnn.utils.data as ud
    from npnn.utils.data import DataLoader as DL2, get_worker_info
    assert DL2 is DataLoader and ud.TensorDataset is TensorDataset
    assert get_worker_info() is None


@pytest.mark.cuda
@pytest.mark.parametrize('num_workers', [0, 2])
def test_gpu_default_device_moves_batches_from_pinned_memory(num_workers):
    import cupy
    prev = npnn.get_default_device()
    npnn.set_default_device('cuda')
    try:
        out = list(DataLoader(Squares(6), batch_size=4, num_workers=num_workers, pin_memory=True))
    finally:
        npnn.set_default_device(prev)
    x, y = out[1]
    assert x.device.type == 'cuda' and y.device.type == 'cuda'
    np.testing.assert_array_equal(cupy.asnumpy(x._data)[:, 1], [16, 25])
    assert cupy.asnumpy(y._data).tolist() == [4, 5]
    # CPU target with CuPy in use: batches stay on the CPU, in page-locked memory
    x, _ = next(iter(DataLoader(Squares(6), batch_size=4, num_workers=num_workers, pin_memory=True)))
    assert x.device.type == 'cpu'
    assert cupy.cuda.runtime.pointerGetAttributes(x.numpy().ctypes.data).type == 1  # host, page-locked
    np.testing.assert_array_equal(x.numpy()[:, 0], [0, 1, 2, 3])
