"""Parity with PyTorch for sort, argsort, msort, topk, kthvalue, median, nanmedian and mode."""
import numpy as np
import pytest

from tests.helpers import compare, randn

X = randn(3, 5, seed=91)  # no ties
NAN = np.array([[3., np.nan, 1., np.nan, 0.5], [1., 2., 3., 4., 0.], [np.nan] * 5], dtype=np.float32)
TIES = np.array([[3., 1., 3., 2., 1., 5.], [2., 2., 7., 7., 0., 0.]], dtype=np.float32)


@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('descending', [False, True])
def test_sort(dim, descending, device):
    compare(lambda lib, x: lib.sort(x, dim, descending), X, device=device)
    compare(lambda lib, x: tuple(x.sort(dim=dim, descending=descending, stable=True)), TIES, device=device)
    compare(lambda lib, x: x.sort(dim, descending), NAN, device=device)
    compare(lambda lib, x: (lib.argsort(x, dim, descending), x.argsort(dim, descending=descending)), X,
            device=device)
    compare(lambda lib, x: lib.argsort(x, dim=dim, descending=descending, stable=True), TIES, device=device)


def test_sort_int_bool(device):
    a = np.array([[3, -1, 7, 0], [9, 9, -5, 2]], dtype=np.int64)
    for desc in (False, True):
        compare(lambda lib, x: lib.sort(x, dim=1, descending=desc, stable=True), a, device=device)
        compare(lambda lib, x: lib.sort(x > 2, dim=1, descending=desc, stable=True), a, device=device)
        compare(lambda lib, x: lib.sort(x.to(lib.uint8), dim=0, descending=desc, stable=True),
                np.abs(a), device=device)


def test_msort_scalar(device):
    compare(lambda lib, x: lib.msort(x), X, device=device)
    compare(lambda lib, x: tuple(lib.sort(x[0, 0])) + tuple(lib.topk(x[0, 0], 1)) + tuple(lib.median(x[0, 0], 0)), X,
            device=device)


@pytest.mark.parametrize('k', [1, 3, 5])
@pytest.mark.parametrize('largest', [True, False])
def test_topk(k, largest, device):
    compare(lambda lib, x: lib.topk(x, k, largest=largest), X, device=device)
    compare(lambda lib, x: tuple(x.topk(min(k, 3), 0, largest)), X, device=device)
    compare(lambda lib, x: x.topk(2, largest=largest), NAN[:2], device=device)


@pytest.mark.parametrize('k', [1, 2, 5])
@pytest.mark.parametrize('keepdim', [False, True])
def test_kthvalue(k, keepdim, device):
    compare(lambda lib, x: lib.kthvalue(x, k, 1, keepdim), X, device=device)
    compare(lambda lib, x: x.kthvalue(min(k, 3), dim=0, keepdim=keepdim), X, device=device)


@pytest.mark.parametrize('keepdim', [False, True])
def test_median_dim(keepdim, device):
    compare(lambda lib, x: lib.median(x, 1, keepdim), X, device=device)
    compare(lambda lib, x: x.median(0, keepdim=keepdim), X, device=device)
    compare(lambda lib, x: x.median(-1, keepdim), X[:, :4], device=device)
    compare(lambda lib, x: lib.median(x, 1, keepdim), NAN, device=device)
    compare(lambda lib, x: lib.nanmedian(x, 1, keepdim), NAN, device=device)
    compare(lambda lib, x: lib.nanmedian(x, 0, keepdim), X, device=device)


def test_median_all(device):
    compare(lambda lib, x: (lib.median(x), x.nanmedian()), X, device=device)
    compare(lambda lib, x: x.median(), np.array([1., 2., 2., 3.], dtype=np.float32), device=device)
    compare(lambda lib, x: (x.median(), x.nanmedian()), NAN, device=device)
    compare(lambda lib, x: (x.median(), x.median(0)), np.array([5, 1, 3, 8], dtype=np.int64), device=device)


@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_mode(dim, keepdim, device):
    compare(lambda lib, x: lib.mode(x, dim, keepdim), TIES, device=device)
    compare(lambda lib, x: x.mode(dim, keepdim=keepdim), TIES.astype(np.int64), device=device)
    compare(lambda lib, x: x.mode(dim, keepdim), X, device=device)


def test_sort_grad_through_values(device):
    compare(lambda lib, x: lib.sort(x, 1).values.cumsum(1), X, device=device)
    compare(lambda lib, x: x.topk(2, 0).values * 2.0, X, device=device)


# --- selection by partition (topk, kthvalue, median) and stable sorting with many ties ---------------------

BIG = randn(4, 3, 37, seed=92, dtype=np.float64)  # distinct values: indices are fully determined
BIG_NAN1 = BIG.copy()  # at most one NaN per row (which of several NaNs torch picks is unspecified)
BIG_NAN1[0, 0, 3] = BIG_NAN1[1, 2, 5] = BIG_NAN1[2, 1, 36] = np.nan
BIG_NAN1[3, 0, [1, 2]] = [np.inf, -np.inf]
BIG_NAN = BIG_NAN1.copy()
BIG_NAN[0, 0, [10, 20]] = np.nan
BIG_NAN[2, 1, :] = np.nan


@pytest.mark.parametrize('k', [0, 1, 2, 7, 18, 19, 30, 37])
@pytest.mark.parametrize('largest', [True, False])
def test_topk_partition_path(k, largest, device):
    compare(lambda lib, x: lib.topk(x, k, dim=-1, largest=largest), BIG, device=device)
    compare(lambda lib, x: lib.topk(x, min(k, 3), dim=1, largest=largest, sorted=True), BIG, device=device)
    compare(lambda lib, x: x.transpose(0, 2).topk(k, 0, largest), BIG, device=device)
    compare(lambda lib, x: lib.topk(x, k, largest=largest), BIG_NAN1, device=device)
    _check_selection_ties(lambda lib, x: lib.topk(x, k, largest=largest), BIG_NAN, device)


def _check_selection_ties(fn, a, device):
    """Values (and gradients) equal torch's; indices, not unique under ties, must point at those values."""
    torch = pytest.importorskip('torch')
    import npnn
    from tests.helpers import to_numpy
    (nv, ni), (tv, _) = fn(npnn, npnn.tensor(a, device=device)), fn(torch, torch.tensor(a))
    np.testing.assert_array_equal(to_numpy(nv), to_numpy(tv))
    assert to_numpy(ni).dtype == np.int64
    return to_numpy(nv), to_numpy(ni)


@pytest.mark.parametrize('largest', [True, False])
def test_topk_ties_and_ints(largest, device):
    rng = np.random.default_rng(5)
    ties = rng.integers(0, 6, size=(5, 40)).astype(np.float32)
    ties[1, ::7] = np.nan
    ints = np.nan_to_num(ties, nan=9.0)
    ties[2] = np.nan
    for a in (ties, ints.astype(np.int64), ints.astype(np.int8)):
        for k in (1, 5, 20, 40):
            v, i = _check_selection_ties(lambda lib, x: lib.topk(x, k, largest=largest), a, device)
            np.testing.assert_array_equal(np.take_along_axis(a, i, 1), v)  # NaN == NaN here
            assert all(len(set(row)) == k for row in i.tolist())
    compare(lambda lib, x: x.topk(3, largest=largest), np.array([5, -2, 9, 0, 7, -8, 3], dtype=np.int32),
            device=device)


def test_topk_selects_before_sorting(monkeypatch, device):
    """With k well below the dimension only the k selected values are sorted on NumPy (a full sort of each
    row is what the partition avoids)."""
    import npnn
    from npnn.autograd.ops import sorting
    sorted_lengths = []
    real = sorting._argsort_arr

    def spy(a, axis, descending):
        sorted_lengths.append(a.shape[axis])
        return real(a, axis, descending)
    monkeypatch.setattr(sorting, '_argsort_arr', spy)
    x = npnn.tensor(BIG, device=device)
    v = x.topk(5).values
    np.testing.assert_array_equal(v.cpu().numpy(), -np.sort(-BIG, axis=-1)[..., :5])
    x.kthvalue(12, -1)
    x.kthvalue(2, 1)
    x.median(-1)
    if device == 'cpu':
        assert sorted_lengths == [5]
    else:  # CuPy's argpartition is itself a full sort
        assert max(sorted_lengths) == 37


@pytest.mark.parametrize('keepdim', [False, True])
def test_kthvalue_median_partition_path(keepdim, device):
    for k in (1, 2, 18, 19, 37):
        compare(lambda lib, x: lib.kthvalue(x, k, -1, keepdim), BIG, device=device)
        compare(lambda lib, x: lib.kthvalue(x, min(k, 4), 0, keepdim), BIG, device=device)
    compare(lambda lib, x: lib.median(x, -1, keepdim), BIG, device=device)
    compare(lambda lib, x: lib.median(x, -1, keepdim), BIG[..., :36], device=device)  # even: lower median
    compare(lambda lib, x: lib.median(x, 1, keepdim), BIG, device=device)
    compare(lambda lib, x: lib.median(x, -1, keepdim), BIG_NAN, device=device)  # NaN rows: first NaN
    compare(lambda lib, x: lib.nanmedian(x, -1, keepdim), BIG, device=device)
    compare(lambda lib, x: lib.nanmedian(x, -1, keepdim), BIG_NAN1, device=device)
    for fn in (lambda lib, x: lib.nanmedian(x, -1, keepdim), lambda lib, x: lib.kthvalue(x, 30, -1, keepdim)):
        _check_selection_ties(fn, BIG_NAN, device)  # several NaNs in a row
    compare(lambda lib, x: (lib.median(x), lib.nanmedian(x)), BIG, device=device)
    compare(lambda lib, x: (lib.median(x), lib.nanmedian(x)), BIG_NAN, device=device)
    compare(lambda lib, x: (lib.median(x), lib.nanmedian(x)), BIG_NAN[3], device=device)


def test_kthvalue_median_ties(device):
    rng = np.random.default_rng(6)
    a = rng.integers(-3, 3, size=(6, 25)).astype(np.float32)
    ints = a.astype(np.int64)
    a[2, 4] = np.nan
    for arr in (a, ints):
        for fn in (lambda lib, x: lib.kthvalue(x, 9, 1), lambda lib, x: lib.kthvalue(x, 25, 1),
                   lambda lib, x: lib.median(x, 1)):
            v, i = _check_selection_ties(fn, arr, device)
            np.testing.assert_array_equal(np.take_along_axis(arr, i[:, None], 1)[:, 0], v)


@pytest.mark.parametrize('dim', [0, 1])
@pytest.mark.parametrize('descending', [False, True])
def test_stable_sort_many_ties(dim, descending, device):
    """Equal elements keep their input order, descending included (reversing an ascending sort would
    reverse them); NaN counts as the largest and -0.0 equals 0.0."""
    rng = np.random.default_rng(7)
    a = rng.integers(-2, 3, size=(30, 40)).astype(np.float32)
    a[rng.random(a.shape) < 0.1] = np.nan
    a[rng.random(a.shape) < 0.1] = -0.0
    a[rng.random(a.shape) < 0.05] = np.inf
    with np.errstate(invalid='ignore'):  # the helper's loss sums inf * grad terms of either sign
        compare(lambda lib, x: tuple(lib.sort(x, dim=dim, descending=descending, stable=True)), a,
                device=device)
    compare(lambda lib, x: x.argsort(dim=dim, descending=descending, stable=True), a, device=device)
    ints = a[:, :20]
    ints = np.where(np.isfinite(ints), ints, 7).astype(np.int64)
    compare(lambda lib, x: tuple(x.sort(dim=dim, descending=descending, stable=True)), ints, device=device)
    compare(lambda lib, x: tuple(x.sort(dim=dim, descending=descending, stable=True)), ints > 0, device=device)
    compare(lambda lib, x: tuple(x.sort(dim=dim, descending=descending, stable=True)), ints.astype(np.uint8),
            device=device)
    # the default (stable unspecified) still sorts the values the same way
    compare(lambda lib, x: lib.sort(x, dim, descending).values, a, device=device, grad=False)
    compare(lambda lib, x: lib.sort(x, dim=dim, descending=descending, stable=False).values, a, device=device,
            grad=False)
