"""Set and counting ops against PyTorch: values, dtypes and shapes exactly; error cases."""
import numpy as np
import pytest

import npnn
from tests.helpers import torch_or_skip

torch = torch_or_skip()
RNG = np.random.default_rng(0)
XI = RNG.integers(0, 5, (4, 6))
XF = RNG.standard_normal(50).astype(np.float32)


def _np(t):
    return np.asarray(t.detach().cpu().numpy())


def both(fn, *arrays, device='cpu'):
    a = fn(npnn, *[npnn.tensor(x, device=device) for x in arrays])
    b = fn(torch, *[torch.tensor(x) for x in arrays])
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert str(x.dtype).split('.')[-1] == str(y.dtype).split('.')[-1]
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(_np(x), y.numpy(), rtol=1e-6)


FLAGS = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize('ri,rc', FLAGS)
def test_unique(ri, rc, device):
    both(lambda L, x: L.unique(x, return_inverse=ri, return_counts=rc), XI, device=device)
    both(lambda L, x: L.unique(x, sorted=False, return_inverse=ri, return_counts=rc), XF[:10].round(), device=device)
    both(lambda L, x: L.unique(x, return_inverse=ri, return_counts=rc, dim=1), XI[:, [0, 1, 0, 2, 1, 0]],
         device=device)
    both(lambda L, x: L.unique(x, return_inverse=ri, return_counts=rc, dim=0), XI[[0, 1, 0, 2]], device=device)
    both(lambda L, x: L.unique(x, return_inverse=ri, return_counts=rc, dim=-1), XI[:2, :3] > 2, device=device)


@pytest.mark.parametrize('ri,rc', FLAGS)
def test_unique_consecutive(ri, rc, device):
    both(lambda L, x: L.unique_consecutive(x, return_inverse=ri, return_counts=rc), XI, device=device)
    both(lambda L, x: L.unique_consecutive(x, return_inverse=ri, return_counts=rc, dim=0),
         XI[[0, 0, 1, 1, 1, 2, 0]], device=device)
    both(lambda L, x: x.unique_consecutive(return_inverse=ri, return_counts=rc, dim=1),
         XI[:, [0, 0, 3, 3, 0]], device=device)


def test_unique_edge_cases(device):
    both(lambda L, x: x.unique(), np.array([1., np.nan, np.nan, 0.]), device=device)
    both(lambda L, x: L.unique(x, return_inverse=True), np.array(3), device=device)
    both(lambda L, x: L.unique(x, return_inverse=True, return_counts=True), np.zeros(0, np.int64), device=device)
    both(lambda L, x: L.unique(x, return_inverse=True, return_counts=True), np.array([True, False, True]),
         device=device)
    both(lambda L, x: L.unique_consecutive(x, return_counts=True), np.zeros(0, np.int64), device=device)


def test_bincount(device):
    flat = XI.reshape(-1)
    both(lambda L, x: L.bincount(x), flat, device=device)
    both(lambda L, x: x.bincount(minlength=10), flat, device=device)
    both(lambda L, x, w: L.bincount(x, w), flat, RNG.standard_normal(24).astype(np.float32), device=device)
    both(lambda L, x, w: L.bincount(x, w), flat, RNG.standard_normal(24), device=device)
    both(lambda L, x: L.bincount(x), np.zeros(0, np.int64), device=device)
    both(lambda L, x: L.bincount(x, minlength=3), np.zeros(0, np.int64), device=device)


def test_histc(device):
    both(lambda L, x: L.histc(x, 7), XF, device=device)
    both(lambda L, x: x.histc(7, -1, 1.5), XF, device=device)
    both(lambda L, x: L.histc(x, 4, 2, 2), np.array([2., 2, 2], np.float32), device=device)
    both(lambda L, x: L.histc(x, 13), np.linspace(0, 1, 1001).astype(np.float32), device=device)
    both(lambda L, x: L.histc(x, 5), np.linspace(-3, 2, 77), device=device)


def test_histogram(device):
    both(lambda L, x: tuple(L.histogram(x, 7)), XF, device=device)
    both(lambda L, x: tuple(x.histogram(13)), np.linspace(0, 1, 1001).astype(np.float32), device=device)
    both(lambda L, x: tuple(L.histogram(x, 5, range=(-1., 1.), density=True)), XF, device=device)
    both(lambda L, x, w: tuple(L.histogram(x, 5, weight=w)), XF, np.abs(XF), device=device)
    both(lambda L, x, b: tuple(L.histogram(x, b)), XF, np.array([-2, -1, 0, 0.5, 2], np.float32), device=device)
    h = npnn.histogram(npnn.tensor(XF, device=device), 4)
    assert h.hist.shape == (4,) and h.bin_edges.shape == (5,)


@pytest.mark.parametrize('right', [False, True])
def test_searchsorted_bucketize(right, device):
    s = np.sort(RNG.integers(0, 10, (3, 8)), -1)
    v = RNG.integers(-1, 11, (3, 5))
    both(lambda L, s, v: L.searchsorted(s, v, right=right), s, v, device=device)
    both(lambda L, s, v: L.searchsorted(s[0], v, right=right, out_int32=True), s, v, device=device)
    both(lambda L, s, v: L.searchsorted(s[1], v, side='right' if right else 'left'), s, v, device=device)
    both(lambda L, s, v: L.bucketize(v, s[0], right=right), s, v, device=device)
    both(lambda L, s, v: L.bucketize(v.double(), s[0].double(), right=right, out_int32=True), s, v, device=device)


def test_searchsorted_float_scalar_sorter(device):
    sf = np.sort(RNG.standard_normal((2, 3, 8)), -1)
    vf = RNG.standard_normal((2, 3, 4))
    both(lambda L, s, v: L.searchsorted(s, v, side='right'), sf, vf, device=device)
    both(lambda L, s: L.searchsorted(s[0, 0], 0.1), sf, device=device)
    perm = RNG.permutation(8)
    both(lambda L, s, p, v: L.searchsorted(s, v, sorter=p), sf[0, 0][perm], np.argsort(sf[0, 0][perm]), vf,
         device=device)
    both(lambda L, s, v: L.searchsorted(s, v), sf[0].astype(np.float32), vf[0], device=device)
    both(lambda L, s, v: L.searchsorted(s, v), np.zeros((2, 0)), vf[0, :2], device=device)


def test_not_differentiable():
    x = npnn.tensor(XF, requires_grad=True)
    assert not npnn.unique(x).requires_grad
    assert not npnn.histc(x).requires_grad


def test_errors():
    with pytest.raises(NotImplementedError, match='not implemented'):
        npnn.bincount(npnn.tensor([1.]))
    for bad in (npnn.tensor([-1]), npnn.tensor([[1]])):
        with pytest.raises(RuntimeError, match='1-d non-negative integral'):
            npnn.bincount(bad)
    with pytest.raises(RuntimeError, match='same length'):
        npnn.bincount(npnn.tensor([1, 2]), weights=npnn.ones(3))
    with pytest.raises(NotImplementedError, match='not implemented'):
        npnn.histc(npnn.tensor([1, 2]))
    with pytest.raises(RuntimeError, match='max must be larger than min'):
        npnn.histc(npnn.tensor([1.]), min=3, max=2)
    with pytest.raises(RuntimeError, match='bins must be > 0'):
        npnn.histc(npnn.tensor([1.]), bins=0)
    with pytest.raises(RuntimeError, match='must match'):
        npnn.searchsorted(npnn.tensor([[1, 2], [3, 4]]), npnn.tensor([[1], [2], [3]]))
    with pytest.raises(RuntimeError, match="can't be set to opposites"):
        npnn.searchsorted(npnn.tensor([1, 2]), npnn.tensor([1]), side='left', right=True)
    with pytest.raises(RuntimeError, match="side can only be"):
        npnn.searchsorted(npnn.tensor([1, 2]), npnn.tensor([1]), side='foo')
    with pytest.raises(RuntimeError, match='boundaries tensor must be 1 dimension'):
        npnn.bucketize(npnn.tensor([1]), npnn.tensor([[1, 2]]))
    with pytest.raises(IndexError, match='Dimension out of range'):
        npnn.unique(npnn.ones(2, 2), dim=2)
