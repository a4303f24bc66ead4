"""Parity with PyTorch for indexing (get and set, with gradients), gather/scatter, index_*, masks, take/put."""
import numpy as np
import pytest

import npnn
from tests.helpers import compare, randn

X = randn(4, 5, 3, seed=31)
I = np.array([2, 0, 2, -1], dtype=np.int64)
M = X[..., 0] > 0

GET = [
    ('int', lambda lib, x: x[1]),
    ('neg_int', lambda lib, x: x[-1]),
    ('int_int', lambda lib, x: x[1, -2]),
    ('slice', lambda lib, x: x[1:3]),
    ('slice_step', lambda lib, x: x[::2, 1::2]),
    ('slice_neg', lambda lib, x: x[-3:-1, :-1]),
    ('slice_oob', lambda lib, x: x[2:10, -10:2]),
    ('none', lambda lib, x: x[None]),
    ('none_mid', lambda lib, x: x[:, None, 1]),
    ('ellipsis', lambda lib, x: x[..., 1]),
    ('ellipsis_none', lambda lib, x: x[1, ..., None]),
    ('list', lambda lib, x: x[[0, 2, 2]]),
    ('tensor', lambda lib, x: x[lib.tensor([3, 1, 1, -4])]),
    ('tensor2d', lambda lib, x: x[lib.tensor([[0, 1], [3, 3]])]),
    ('tensor_dim1', lambda lib, x: x[:, lib.tensor([4, 0, 4])]),
    ('two_tensors', lambda lib, x: x[lib.tensor([0, 1, 3]), lib.tensor([4, 4, 0])]),
    ('tensors_broadcast', lambda lib, x: x[lib.tensor([[0], [1]]), lib.tensor([1, 2, 3])]),
    ('tensors_split', lambda lib, x: x[lib.tensor([0, 1]), :, lib.tensor([2, 0])]),
    ('tensor_slice', lambda lib, x: x[1:, lib.tensor([0, 0])]),
    ('tensor_ellipsis', lambda lib, x: x[..., lib.tensor([2, 0])]),
    ('int_tensor', lambda lib, x: x[1, lib.tensor([0, 2])]),
    ('bool_mask', lambda lib, x: x[x[..., 0] > 0]),
    ('bool_mask_full', lambda lib, x: x[x > 0.5]),
    ('bool_mask_dim1', lambda lib, x: x[:, x[0, :, 0] > 0]),
    ('bool_list', lambda lib, x: x[[True, False, True, True]]),
    ('bool_scalar', lambda lib, x: x[True]),
    ('bool_scalar_false', lambda lib, x: x[False]),
    ('scalar_tensor_idx', lambda lib, x: x[lib.tensor(2)]),
    ('int32_idx', lambda lib, x: x[lib.tensor([1, 2], dtype=lib.int32)]),
    ('uint8_mask', lambda lib, x: x[(x[:, 0, 0] > 0).to(lib.uint8)] if lib is npnn else x[x[:, 0, 0] > 0]),
    ('repeated', lambda lib, x: x[lib.tensor([1, 1, 1])] * 2),
    ('empty_idx', lambda lib, x: x[lib.tensor([], dtype=lib.int64)]),
    ('nested', lambda lib, x: x[1:][0][::2]),
]


@pytest.mark.parametrize('name,fn', GET, ids=[g[0] for g in GET])
def test_getitem(name, fn, device):
    compare(fn, X, device=device)


def _set(key_fn, value_fn):
    def fn(lib, x, v):
        y = x * 1.0
        y[key_fn(lib)] = value_fn(lib, v)
        return y
    return fn


SET = [
    ('int_scalar', lambda lib: 1, lambda lib, v: 3.0),
    ('int_tensor', lambda lib: 1, lambda lib, v: v[0]),
    ('slice_tensor', lambda lib: (slice(1, 3), 0), lambda lib, v: v[:2, 0]),
    ('slice_broadcast', lambda lib: slice(None, None, 2), lambda lib, v: v[0, 0]),
    ('ellipsis', lambda lib: (Ellipsis, 1), lambda lib, v: v[..., 0] * 2),
    ('mask_scalar', lambda lib: None, lambda lib, v: -1.0),
    ('index_tensor', lambda lib: lib.tensor([0, 3]), lambda lib, v: v[:2]),
    ('two_index_tensors', lambda lib: (lib.tensor([0, 3]), lib.tensor([1, 1])), lambda lib, v: v[0, :2]),
    ('neg_index', lambda lib: -1, lambda lib, v: v[1]),
    ('none', lambda lib: (None, 0), lambda lib, v: v[2]),
    ('list_dim1', lambda lib: (slice(None), [0, 4]), lambda lib, v: v[:, :2]),
    ('scalar_tensor_value', lambda lib: 2, lambda lib, v: v[0, 0, 0]),
]


@pytest.mark.parametrize('name,kf,vf', SET, ids=[s[0] for s in SET])
def test_setitem(name, kf, vf, device):
    v = randn(4, 5, 3, seed=32)
    if name == 'mask_scalar':
        def fn(lib, x, v):
            y = x * 1.0
            y[x > 0] = -1.0
            return y + v
        compare(fn, X, v, device=device)
        return
    compare(_set(kf, vf), X, v, device=device)


def test_setitem_mask_tensor(device):
    def fn(lib, x, v):
        y = x.clone()
        m = x[..., 0] > 0
        y[m] = v[:int(m.sum())]
        return y
    compare(fn, X, randn(20, 3, seed=33), device=device)


def test_setitem_int_dtype_and_bool(device):
    def fn(lib, a):
        a = a.clone()
        a[0] = 7
        a[a > 5] = 1
        a[1:, 1] = lib.tensor([9, 8])
        return a
    compare(fn, np.arange(9, dtype=np.int64).reshape(3, 3), device=device)

    def fb(lib, a):
        b = a > 3
        b[0, 0] = True
        return b
    compare(fb, np.arange(9, dtype=np.int64).reshape(3, 3), device=device)


def test_setitem_leaf_error(device):
    x = npnn.zeros(3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match='leaf Variable'):
        x[0] = 1.0
    with npnn.no_grad():
        x[0] = 1.0
    assert x[0].item() == 1.0


# --- gather / scatter --------------------------------------------------------------------------------------

G = randn(3, 4, seed=34)
IDX = np.array([[0, 1, 2, 0], [2, 2, 1, 0]], dtype=np.int64)
IDX1 = np.array([[3, 0], [1, 1], [0, 2]], dtype=np.int64)


def test_gather(device):
    compare(lambda lib, x, i: lib.gather(x, 0, i), G, IDX, device=device)
    compare(lambda lib, x, i: x.gather(1, i), G, IDX1, device=device)
    compare(lambda lib, x, i: x.gather(-1, i[:2, :1]), G, IDX1, device=device)
    compare(lambda lib, x, i: lib.take_along_dim(x, i, 1), G, IDX1, device=device)
    compare(lambda lib, x, i: lib.take_along_dim(x, i), G, IDX1, device=device)
    compare(lambda lib, x, i: lib.take_along_dim(x, i[:, :1], dim=1), G, IDX1, device=device)


SRC = randn(3, 4, seed=35)


@pytest.mark.parametrize('inplace', [False, True])
def test_scatter(inplace, device):
    # index without duplicates along dim 0 for each column so the result is deterministic
    idx = np.array([[0, 1, 2, 0], [2, 2, 1, 1]], dtype=np.int64)

    def f(lib, x, i, s):
        y = x * 1.0
        if inplace:
            return y.scatter_(0, i, s[:2])
        return lib.scatter(y, 0, i, s[:2])
    compare(f, G, idx, SRC, device=device)

    def fv(lib, x, i):
        y = x * 1.0
        return y.scatter_(1, i, 2.5) if inplace else y.scatter(1, i, 2.5)
    compare(fv, G, np.array([[0, 3], [1, 1], [2, 0]], dtype=np.int64), device=device)


@pytest.mark.parametrize('inplace', [False, True])
def test_scatter_add(inplace, device):
    def f(lib, x, i, s):
        y = x * 1.0
        return y.scatter_add_(0, i, s[:2]) if inplace else lib.scatter_add(y, 0, i, s[:2])
    compare(f, G, IDX, SRC, device=device)
    compare(lambda lib, x, i, s: x.scatter_add(1, i, s[:, :2]), G, IDX1, SRC, device=device)


@pytest.mark.parametrize('reduce', ['sum', 'prod', 'mean', 'amax', 'amin'])
@pytest.mark.parametrize('include_self', [True, False])
def test_scatter_reduce(reduce, include_self, device):
    compare(lambda lib, x, i, s: x.scatter_reduce(0, i, s[:2], reduce, include_self=include_self), G, IDX, SRC,
            device=device, grad=reduce in ('sum', 'mean', 'amax', 'amin'))


def test_scatter_reduce_arg(device):
    compare(lambda lib, x, i, s: x.scatter(0, i, s[:2], reduce='add'), G, IDX, SRC, device=device, grad=False)
    compare(lambda lib, x, i, s: x.scatter(0, i, s[:2], reduce='multiply'), G, IDX, SRC, device=device, grad=False)


# --- index_* ------------------------------------------------------------------------------------------------

def test_index_select(device):
    i = np.array([2, 0, 2], dtype=np.int64)
    compare(lambda lib, x, i: lib.index_select(x, 0, i), G, i, device=device)
    compare(lambda lib, x, i: x.index_select(-1, i), G, i, device=device)
    compare(lambda lib, x, i: x.index_select(1, i.int()), G, i, device=device)


@pytest.mark.parametrize('inplace', [False, True])
def test_index_add(inplace, device):
    i = np.array([2, 0, 2], dtype=np.int64)
    s = randn(3, 4, seed=36)

    def f(lib, x, i, s):
        y = x * 1.0
        return y.index_add_(0, i, s, alpha=2.0) if inplace else lib.index_add(y, 0, i, s, alpha=2.0)
    compare(f, G, i, s, device=device)
    compare(lambda lib, x, i, s: x.index_add(1, i, s.t()[:, :3].t().t()), G, i, s.T[:3].T.copy(),
            device=device)


@pytest.mark.parametrize('inplace', [False, True])
def test_index_copy(inplace, device):
    i = np.array([2, 0], dtype=np.int64)
    s = randn(2, 4, seed=37)

    def f(lib, x, i, s):
        y = x * 1.0
        return y.index_copy_(0, i, s) if inplace else lib.index_copy(y, 0, i, s)
    compare(f, G, i, s, device=device)
    compare(lambda lib, x, i, s: x.index_copy(1, i, s), G, i, randn(3, 2, seed=41), device=device)


@pytest.mark.parametrize('inplace', [False, True])
def test_index_fill(inplace, device):
    i = np.array([2, 0], dtype=np.int64)

    def f(lib, x, i):
        y = x * 1.0
        return y.index_fill_(1, i, -1.5) if inplace else lib.index_fill(y, 1, i, -1.5)
    compare(f, G, i, device=device)


@pytest.mark.parametrize('accumulate', [False, True])
def test_index_put(accumulate, device):
    i0 = np.array([0, 2, 0], dtype=np.int64)
    i1 = np.array([1, 3, 1], dtype=np.int64) if accumulate else np.array([1, 3, 2], dtype=np.int64)
    v = randn(3, seed=38)

    def f(lib, x, a, b, v):
        return (x * 1.0).index_put_((a, b), v, accumulate=accumulate)
    compare(f, G, i0, i1, v, device=device)
    compare(lambda lib, x, a, b, v: lib.index_put(x, (a, b), v, accumulate), G, i0, i1, v, device=device)
    compare(lambda lib, x, a, b, v: x.index_put((a,), v[0], accumulate=accumulate), G, i0, i1, v, device=device)


# --- masks --------------------------------------------------------------------------------------------------

def test_masked_fill(device):
    m = G > 0
    compare(lambda lib, x, m: x.masked_fill(m, 0.5), G, m, device=device)
    compare(lambda lib, x, m: lib.masked_fill(x, m[0], -2.0), G, m, device=device)
    compare(lambda lib, x, m, v: x.masked_fill(m, v), G, m, np.array(1.5, dtype=np.float32), device=device)
    compare(lambda lib, x, m: (x * 1).masked_fill_(m, float('-inf')).exp(), G, m, device=device)


def test_masked_select_scatter(device):
    m = G > 0
    compare(lambda lib, x, m: x.masked_select(m), G, m, device=device)
    compare(lambda lib, x, m: lib.masked_select(x, m[0]), G, m, device=device)
    compare(lambda lib, x, m, s: x.masked_scatter(m, s), G, m, randn(12, seed=39), device=device)


def test_nonzero_argwhere(device):
    a = np.array([[0, 1, 0], [2, 0, 3]], dtype=np.int64)
    compare(lambda lib, t: (lib.nonzero(t), t.argwhere(), lib.argwhere(t)), a, device=device)
    compare(lambda lib, t: lib.nonzero(t, as_tuple=True), a, device=device)
    compare(lambda lib, t: t[0, 1].nonzero(), a, device=device)
    compare(lambda lib, t: (t > 0).nonzero(), G, device=device, grad=False)


def test_take_put(device):
    i = np.array([[0, -1], [5, 11]], dtype=np.int64)
    compare(lambda lib, x, i: lib.take(x, i), G, i, device=device)
    compare(lambda lib, x, i: x.take(i), G, i, device=device)
    s = randn(2, 2, seed=40)
    ui = np.array([[0, 7], [5, 11]], dtype=np.int64)
    compare(lambda lib, x, i, s: (x * 1.0).put_(i, s), G, ui, s, device=device)
    compare(lambda lib, x, i, s: x.put(i, s, accumulate=True), G, np.array([[0, 0], [5, -1]]), s, device=device)


def test_index_iadd(device):
    def f(lib, x, v):
        y = x * 1.0
        y[1:3] += v[:2]
        y[lib.tensor([0, 3])] *= 2.0
        return y
    compare(f, X, randn(4, 5, 3, seed=42), device=device)


def test_setitem_then_use(device):
    def f(lib, x, v):
        y = x * 2.0
        z = y.sum()
        y[0, 0] = v[0, 0]
        return y * z
    compare(f, X, randn(4, 5, 3, seed=43), device=device)
