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
