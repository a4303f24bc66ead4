import warnings

import numpy as np
import pytest

import npnn
from npnn.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                       random_split)


class Range(Dataset):
    def __init__(self, n, offset=0):
        self.n, self.offset = n, offset

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.offset + i


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def test_dataset_base_raises_and_add_concats():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__."):
        Dataset()[0]
    both = Range(3) + Range(2, offset=10)
    assert isinstance(both, ConcatDataset)
    assert [both[i] for i in range(len(both))] == [0, 1, 2, 10, 11]


def test_iterable_dataset_add_chains():
    chained = Stream([1, 2]) + Stream([3])
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [1, 2, 3]
    assert len(chained) == 3
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


def test_tensor_dataset_rows_and_length():
    x = npnn.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    y = npnn.tensor(np.array([0, 1, 0, 1]))
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    a, b = ds[2]
    np.testing.assert_array_equal(a.numpy(), [6, 7, 8])
    assert b.item() == 0
    assert ds.tensors[0] is x


def test_tensor_dataset_numpy_arrays_and_mismatch():
    ds = TensorDataset(np.arange(5), np.arange(5) * 2)
    assert ds[3] == (3, 6)
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(npnn.tensor(np.zeros((3, 2))), npnn.tensor(np.zeros(4)))


def test_stack_dataset_tuple_and_dict():
    ds = StackDataset(Range(3), Range(3, offset=5))
    assert ds[1] == (1, 6) and len(ds) == 3
    ds = StackDataset(a=Range(2), b=Range(2, offset=7))
    assert ds[1] == {'a': 1, 'b': 8}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Range(2), Range(3))


def test_concat_dataset_indexing():
    ds = ConcatDataset([Range(2), Range(0), Range(3, offset=100)])
    assert len(ds) == 5
    assert ds.cumulative_sizes == [2, 2, 5]
    assert [ds[i] for i in range(5)] == [0, 1, 100, 101, 102]
    assert ds[-1] == 102 and ds[-5] == 0
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ds[-6]


def test_concat_dataset_errors():
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Range(2), Stream([1])])


def test_chain_dataset_rejects_map_style():
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([Stream([1]), Range(2)]))


def test_subset():
    base = Range(10, offset=50)
    sub = Subset(base, [7, 2, 4])
    assert len(sub) == 3
    assert [sub[i] for i in range(3)] == [57, 52, 54]
    assert sub.__getitems__([0, 2]) == [57, 54]


def test_subset_list_index_goes_to_dataset():
    class ListDS(Dataset):
        def __getitem__(self, idx):
            return ('many', idx) if isinstance(idx, list) else idx

    sub = Subset(ListDS(), [10, 20, 30])
    assert sub[[2, 0]] == ('many', [30, 10])


def test_subset_getitems_uses_dataset_getitems():
    class Batched(Range):
        def __getitems__(self, idx):
            return ['batched'] + list(idx)

    assert Subset(Batched(10), [5, 6, 7]).__getitems__([2, 0]) == ['batched', 7, 5]


def test_random_split_lengths_partition():
    parts = random_split(Range(10), [3, 7], generator=npnn.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    items = sorted(x for p in parts for x in (p[i] for i in range(len(p))))
    assert items == list(range(10))


def test_random_split_fractions_match_torch_sizes():
    cases = [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (5, [1.0])]
    expected = {(10, 0): [4, 3, 3], (11, 1): [6, 5], (7, 2): [1, 2, 4], (5, 3): [5]}
    for k, (n, fr) in enumerate(cases):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            parts = random_split(Range(n), fr)
        assert [len(p) for p in parts] == expected[(n, k)]
    torch = pytest.importorskip('torch')
    from torch.utils.data import random_split as trs
    for n, fr in cases:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ours = [len(p) for p in random_split(Range(n), fr)]
            theirs = [len(p) for p in trs(list(range(n)), fr)]
        assert ours == theirs


def test_random_split_reproducible_with_generator_and_manual_seed():
    a = random_split(Range(20), [0.5, 0.5], generator=npnn.Generator().manual_seed(3))
    b = random_split(Range(20), [0.5, 0.5], generator=npnn.Generator().manual_seed(3))
    c = random_split(Range(20), [0.5, 0.5], generator=npnn.Generator().manual_seed(4))
    assert a[0].indices == b[0].indices
    assert a[0].indices != c[0].indices
    npnn.manual_seed(7)
    d = random_split(Range(20), [10, 10])
    npnn.manual_seed(7)
    e = random_split(Range(20), [10, 10])
    assert d[1].indices == e[1].indices


def test_random_split_errors_and_warning():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(Range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(Range(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning) as rec:
        parts = random_split(Range(2), [0.9, 0.05, 0.05])
    assert [str(w.message) for w in rec] == [
        f"Length of split at index {i} is 0. This might result in an empty dataset." for i in (1, 2)]
    assert [len(p) for p in parts] == [2, 0, 0]
