import collections

import numpy as np
import pytest

import npnn
from npnn.data import default_collate, default_convert

Point = collections.namedtuple('Point', 'x y')


def is_t(x):
    return npnn.is_tensor(x)


def test_collate_numpy_arrays_stack():
    out = default_collate([np.full((2, 3), i, np.float32) for i in range(4)])
    assert is_t(out) and tuple(out.shape) == (4, 2, 3)
    assert out.numpy().dtype == np.float32
    np.testing.assert_array_equal(out.numpy()[:, 0, 0], [0, 1, 2, 3])


def test_collate_tensors_stack():
    out = default_collate([npnn.tensor(np.array([i, i + 1], dtype=np.int64)) for i in range(3)])
    assert is_t(out)
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [1, 2], [2, 3]])


def test_collate_python_numbers_dtypes():
    f = default_collate([1.0, 2.5])
    i = default_collate([1, 2])
    b = default_collate([True, False])
    assert f.numpy().dtype == np.float64 and f.numpy().tolist() == [1.0, 2.5]
    assert i.numpy().dtype == np.int64 and i.numpy().tolist() == [1, 2]
    assert b.numpy().dtype == np.bool_ and b.numpy().tolist() == [True, False]


def test_collate_numpy_scalars_keep_dtype():
    out = default_collate([np.float32(1), np.float32(2)])
    assert out.numpy().dtype == np.float32 and out.numpy().tolist() == [1.0, 2.0]
    out = default_collate([np.array(1.5), np.array(2.5)])
    assert out.numpy().dtype == np.float64 and tuple(out.shape) == (2,)


def test_collate_mixed_dtypes_promote():
    out = default_collate([np.zeros(2, np.float32), np.ones(2, np.float64)])
    assert out.numpy().dtype == np.float64


def test_collate_strings_kept():
    assert default_collate(['a', 'b']) == ['a', 'b']
    assert default_collate([b'a', b'b']) == [b'a', b'b']


def test_collate_tuples_become_lists_of_batches():
    out = default_collate([(1, 'a', np.zeros(2)), (2, 'b', np.ones(2))])
    assert isinstance(out, list) and len(out) == 3
    assert out[0].numpy().tolist() == [1, 2]
    assert out[1] == ('a', 'b')
    np.testing.assert_array_equal(out[2].numpy(), [[0, 0], [1, 1]])


def test_collate_lists_transposed():
    out = default_collate([[1, 2], [3, 4]])
    assert [o.numpy().tolist() for o in out] == [[1, 3], [2, 4]]


def test_collate_dict_and_nested():
    batch = [{'img': np.full(3, i, np.float32), 'meta': {'id': i, 'name': f'n{i}'}} for i in range(2)]
    out = default_collate(batch)
    assert set(out) == {'img', 'meta'}
    np.testing.assert_array_equal(out['img'].numpy(), [[0, 0, 0], [1, 1, 1]])
    assert out['meta']['id'].numpy().tolist() == [0, 1]
    assert out['meta']['name'] == ['n0', 'n1']


def test_collate_ordered_dict_type_kept():
    out = default_collate([collections.OrderedDict(b=1, a=2)] * 2)
    assert isinstance(out, collections.OrderedDict) and list(out) == ['b', 'a']


def test_collate_namedtuple():
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(out, Point)
    assert out.x.numpy().tolist() == [1, 3] and out.y.numpy().dtype == np.float64


def test_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, "
                                        "dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(['a']), np.array(['b'])])
    with pytest.raises(TypeError, match="found object"):
        default_collate([np.array([object()])])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_convert():
    t = default_convert(np.arange(3))
    assert is_t(t) and t.numpy().tolist() == [0, 1, 2]
    s = default_convert(np.float32(3))
    assert is_t(s) and s.item() == 3.0
    out = default_convert({'a': np.zeros(2), 'b': 'x', 'c': [np.ones(1), 5]})
    assert is_t(out['a']) and out['b'] == 'x' and is_t(out['c'][0]) and out['c'][1] == 5
    tup = default_convert((np.zeros(2), 1))
    assert isinstance(tup, list) and is_t(tup[0])
    p = default_convert(Point(np.zeros(1), 'q'))
    assert isinstance(p, Point) and is_t(p.x) and p.y == 'q'
    strings = np.array(['a'])
    assert default_convert(strings) is strings
    existing = npnn.tensor(np.zeros(2))
    assert default_convert(existing) is existing


def _to_np(x):
    if is_t(x):
        return ('T', x.numpy().dtype.name, x.numpy().tolist())
    if hasattr(x, 'numpy') and not isinstance(x, (np.ndarray, np.generic)):
        return ('T', str(x.dtype).replace('torch.', ''), x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _to_np(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, '_fields'):
        return (type(x).__name__,) + tuple(_to_np(v) for v in x)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_np(v) for v in x)
    return x


@pytest.mark.parametrize('batch', [
    [(np.arange(3, dtype=np.float32), 1, 'a'), (np.arange(3, dtype=np.float32) + 1, 2, 'b')],
    [{'x': 1.5, 'y': [np.int32(1), np.int32(2)]}, {'x': 2.5, 'y': [np.int32(3), np.int32(4)]}],
    [Point(np.zeros((2, 2), np.float64), True), Point(np.ones((2, 2), np.float64), False)],
    [[np.uint8(3)], [np.uint8(4)]],
])
def test_collate_matches_torch(batch):
    torch = pytest.importorskip('torch')
    from torch.utils.data import default_collate as tc
    assert _to_np(default_collate(batch)) == _to_np(tc(batch))
