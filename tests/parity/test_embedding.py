"""Embedding, EmbeddingBag and one_hot against PyTorch."""
import numpy as np
import pytest

import npnn
from tests.helpers import compare, to_numpy

torch = pytest.importorskip('torch')


def _idx(*shape, high=10, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.int64)


@pytest.mark.parametrize('padding_idx', [None, 3, -2])
@pytest.mark.parametrize('freq', [False, True])
def test_embedding_parity(device, padding_idx, freq):
    w = np.random.default_rng(1).standard_normal((10, 4)).astype(np.float32)
    idx = _idx(5, 6)
    idx[0, :3] = 3  # repeated indices, and the padding row

    def fn(lib, w, i):
        return lib.nn.functional.embedding(i, w, padding_idx=padding_idx, scale_grad_by_freq=freq)
    compare(fn, w, idx, device=device)


def test_embedding_padding_row_gets_zero_grad():
    m = npnn.nn.Embedding(6, 3, padding_idx=2)
    assert np.all(to_numpy(m.weight)[2] == 0)
    out = m(npnn.tensor([[2, 2, 1], [0, 2, 1]]))
    (out * 3).sum().backward()
    g = to_numpy(m.weight.grad)
    assert np.all(g[2] == 0)
    np.testing.assert_allclose(g[1], 6.0)
    np.testing.assert_allclose(g[0], 3.0)


def test_embedding_max_norm_renormalises_in_place():
    w = np.random.default_rng(2).standard_normal((8, 5)).astype(np.float32) * 3
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=False, max_norm=1.5)
    nm = npnn.nn.Embedding.from_pretrained(npnn.tensor(w), freeze=False, max_norm=1.5)
    idx = _idx(4, 3, high=6)
    a, b = nm(npnn.tensor(idx)), tm(torch.tensor(idx))
    np.testing.assert_allclose(to_numpy(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(nm.weight), tm.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.allclose(to_numpy(nm.weight)[6:], w[6:])  # rows not looked up are untouched


def test_from_pretrained_freeze_and_module_repr():
    w = npnn.randn(4, 2)
    e = npnn.nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    assert npnn.nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    assert repr(npnn.nn.Embedding(10, 3, padding_idx=1)) == repr(torch.nn.Embedding(10, 3, padding_idx=1))
    assert npnn.nn.Embedding(10, 3, sparse=True).sparse
    m = npnn.nn.Embedding(1000, 16)
    assert m.weight.dtype == npnn.float32 and abs(float(m.weight.std()) - 1) < 0.05


def test_embedding_large_repeated_gradient():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((50, 8)).astype(np.float32)
    idx = rng.integers(0, 50, (64, 40))

    def fn(lib, w, i):
        return lib.nn.functional.embedding(i, w)
    compare(fn, w, idx)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
@pytest.mark.parametrize('padding_idx', [None, 1])
def test_embedding_bag_2d(device, mode, padding_idx):
    w = np.random.default_rng(3).standard_normal((10, 4)).astype(np.float32)
    idx = _idx(4, 5, seed=3)
    idx[1, :] = 1  # a bag made only of padding

    def fn(lib, w, i):
        return lib.nn.functional.embedding_bag(i, w, mode=mode, padding_idx=padding_idx)
    compare(fn, w, idx, device=device)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
@pytest.mark.parametrize('include_last_offset', [False, True])
def test_embedding_bag_offsets(device, mode, include_last_offset):
    w = np.random.default_rng(4).standard_normal((10, 3)).astype(np.float32)
    idx = _idx(11, seed=4)
    offsets = np.array([0, 2, 2, 7] + ([11] if include_last_offset else []), dtype=np.int64)  # an empty bag

    def fn(lib, w, i, o):
        return lib.nn.functional.embedding_bag(i, w, o, mode=mode, include_last_offset=include_last_offset)
    compare(fn, w, idx, offsets, device=device)


def test_embedding_bag_per_sample_weights(device):
    w = np.random.default_rng(5).standard_normal((10, 3)).astype(np.float32)
    idx = _idx(9, seed=5)
    psw = np.random.default_rng(6).standard_normal(9).astype(np.float32)
    offsets = np.array([0, 4, 5], dtype=np.int64)

    def fn(lib, w, i, o, p):
        return lib.nn.functional.embedding_bag(i, w, o, mode='sum', per_sample_weights=p)
    compare(fn, w, idx, offsets, psw, device=device)
    with pytest.raises(NotImplementedError, match='per_sample_weights'):
        npnn.nn.functional.embedding_bag(npnn.tensor(idx), npnn.tensor(w), npnn.tensor(offsets), mode='mean',
                                         per_sample_weights=npnn.tensor(psw))


def test_embedding_bag_module():
    torch.manual_seed(0)
    t = torch.nn.EmbeddingBag(10, 3, mode='sum')
    n = npnn.nn.EmbeddingBag.from_pretrained(npnn.tensor(t.weight.detach().numpy()), mode='sum', freeze=False)
    idx, off = _idx(7, seed=8), np.array([0, 3], dtype=np.int64)
    a = n(npnn.tensor(idx), npnn.tensor(off))
    b = t(torch.tensor(idx), torch.tensor(off))
    np.testing.assert_allclose(to_numpy(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert n.weight.requires_grad
    assert repr(npnn.nn.EmbeddingBag(5, 2)) == repr(torch.nn.EmbeddingBag(5, 2))


def test_one_hot():
    x = np.array([[0, 2], [1, 4]])
    a = npnn.nn.functional.one_hot(npnn.tensor(x), 6)
    b = torch.nn.functional.one_hot(torch.tensor(x), 6)
    assert a.dtype == npnn.int64
    np.testing.assert_array_equal(to_numpy(a), b.numpy())
    np.testing.assert_array_equal(to_numpy(npnn.nn.functional.one_hot(npnn.tensor(x))),
                                  torch.nn.functional.one_hot(torch.tensor(x)).numpy())
    with pytest.raises(RuntimeError, match='smaller than num_classes'):
        npnn.nn.functional.one_hot(npnn.tensor(x), 3)
