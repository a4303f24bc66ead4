"""Parity with PyTorch for reductions: dims as int or tuple, keepdim, indices, corrections, cumulative ops."""
import numpy as np
import pytest

from tests.helpers import compare, randn

X = randn(3, 4, 5, seed=11)
DIMS = [None, 0, -1, (0, 2), (1, -1)]


@pytest.mark.parametrize('name', ['sum', 'mean', 'amax', 'amin', 'logsumexp', 'nansum', 'nanmean'])
@pytest.mark.parametrize('dim', DIMS)
@pytest.mark.parametrize('keepdim', [False, True])
def test_reduce_dims(name, dim, keepdim, device):
    if dim is None:
        if name == 'logsumexp':
            dim = (0, 1, 2)
        elif keepdim:
            return
    if dim is None:
        compare(lambda lib, x: getattr(lib, name)(x), X, device=device)
    else:
        compare(lambda lib, x: getattr(lib, name)(x, dim, keepdim=keepdim), X, device=device)
        compare(lambda lib, x: getattr(x, name)(dim=dim, keepdim=keepdim), X, device=device)


@pytest.mark.parametrize('dim', [None, 0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_prod(dim, keepdim, device):
    x = randn(3, 4, seed=12, low=0.5, high=1.5)
    x0 = x.copy()
    x0[1, 2] = 0.0
    x00 = x0.copy()
    x00[1, 0] = 0.0
    for a in (x, x0, x00):
        if dim is None:
            compare(lambda lib, t: t.prod(), a, device=device)
        else:
            compare(lambda lib, t: lib.prod(t, dim, keepdim=keepdim), a, device=device)


@pytest.mark.parametrize('name', ['max', 'min'])
@pytest.mark.parametrize('dim', [0, 1, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_max_min_dim(name, dim, keepdim, device):
    r = compare(lambda lib, x: getattr(lib, name)(x, dim, keepdim), X, device=device)
    compare(lambda lib, x: getattr(x, name)(dim=dim, keepdim=keepdim), X, device=device)
    compare(lambda lib, x: getattr(lib, name)(x, dim, keepdim).values, X, device=device)
    compare(lambda lib, x: getattr(lib, name)(x, dim, keepdim).indices, X, device=device, grad=False)
    assert r[1].dtype.name == 'int64'


@pytest.mark.parametrize('name', ['max', 'min', 'amax', 'amin'])
def test_extreme_ties(name, device):
    x = np.array([[1., 3., 3.], [2., 2., 0.]], dtype=np.float32)
    compare(lambda lib, t: getattr(lib, name)(t), x, device=device)
    if name in ('amax', 'amin'):
        compare(lambda lib, t: getattr(lib, name)(t, 1), x, device=device)


def test_max_binary(device):
    compare(lambda lib, a, b: (lib.max(a, b), lib.min(a, b)), X, X[::-1].copy(), device=device)


@pytest.mark.parametrize('name', ['argmax', 'argmin'])
@pytest.mark.parametrize('dim', [None, 0, -1])
@pytest.mark.parametrize('keepdim', [False, True])
def test_arg(name, dim, keepdim, device):
    compare(lambda lib, x: getattr(lib, name)(x, dim, keepdim), X, device=device, grad=False)


def test_arg_nan_and_ties(device):
    x = np.array([[1., np.nan, 3.], [2., 2., 0.]], dtype=np.float32)
    for n in ['argmax', 'argmin']:
        compare(lambda lib, t: getattr(lib, n)(t, 1), x, device=device, grad=False)
        compare(lambda lib, t: getattr(lib, n)(t), x, device=device, grad=False)
    compare(lambda lib, t: lib.max(t, 1), x, device=device, grad=False)


@pytest.mark.parametrize('name', ['var', 'std'])
@pytest.mark.parametrize('dim', [None, 0, (0, 2), -1])
@pytest.mark.parametrize('kw', [{}, {'unbiased': False}, {'correction': 0}, {'correction': 2}, {'keepdim': True}])
def test_var_std(name, dim, kw, device):
    if dim is None and 'keepdim' in kw:
        return
    compare(lambda lib, x: getattr(lib, name)(x, dim, **kw), X, device=device)


def test_var_std_positional(device):
    compare(lambda lib, x: (x.var(0), x.std(1, True), x.var(1, False, True)), X, device=device)
    compare(lambda lib, x: lib.var_mean(x, 1) + lib.std_mean(x, (0, 1), correction=0), X, device=device)


@pytest.mark.parametrize('p', [2, 1, 3, float('inf'), float('-inf'), 0, 'fro'])
@pytest.mark.parametrize('dim', [None, 1, (0, 1)])
def test_norm(p, dim, device):
    x = randn(3, 4, seed=13)
    grad = p != 0
    if p == 'fro' and dim == 1:
        return
    compare(lambda lib, t: lib.norm(t, p, dim), x, device=device, grad=grad)
    compare(lambda lib, t: t.norm(p=p, dim=dim, keepdim=True), x, device=device, grad=grad)


def test_norm_zero_grad(device):
    z = np.zeros((3,), dtype=np.float32)
    compare(lambda lib, t: t.norm(), z, device=device)


@pytest.mark.parametrize('name', ['cumsum', 'cumprod', 'logcumsumexp'])
@pytest.mark.parametrize('dim', [0, 1, -1])
def test_cumulative(name, dim, device):
    x = randn(3, 4, seed=14, low=0.5, high=1.5)
    compare(lambda lib, t: getattr(lib, name)(t, dim), x, device=device)
    compare(lambda lib, t: getattr(t, name)(dim=dim), x, device=device)


def test_cumprod_zeros(device):
    x = np.array([[2., 0., 3., 4.], [0., 1., 0., 5.]], dtype=np.float32)
    compare(lambda lib, t: t.cumprod(1), x, device=device)
    compare(lambda lib, t: t.cumprod(0), x, device=device)


@pytest.mark.parametrize('name', ['cummax', 'cummin'])
def test_cummax(name, device):
    x = np.array([[1., 3., 2., 3., 0.], [5., 1., 6., 6., 2.]], dtype=np.float32)
    compare(lambda lib, t: getattr(lib, name)(t, 1), x, device=device)
    compare(lambda lib, t: getattr(t, name)(0), x, device=device)


def test_int_cumsum_dtype(device):
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    compare(lambda lib, t: (t.cumsum(0), t.cumprod(1), t.sum(), t.prod(), t.sum(1)), a, device=device)
    compare(lambda lib, t: (t.sum(dtype=lib.float32), t.cumsum(0, dtype=lib.float64)), a, device=device)


@pytest.mark.parametrize('name', ['all', 'any'])
def test_all_any(name, device):
    b = np.array([[True, False, True], [True, True, True]])
    compare(lambda lib, t: (getattr(lib, name)(t), getattr(t, name)(1), getattr(t, name)(0, keepdim=True)), b,
            device=device)
    f = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
    compare(lambda lib, t: (getattr(lib, name)(t), getattr(lib, name)(t, 1)), f, device=device, grad=False)


def test_count_nonzero(device):
    f = np.array([[0.0, 1.0, 0.0], [2.0, 3.0, 0.0]], dtype=np.float32)
    compare(lambda lib, t: (lib.count_nonzero(t), lib.count_nonzero(t, 1), t.count_nonzero(dim=(0, 1))), f,
            device=device, grad=False)


def test_aminmax(device):
    torch = pytest.importorskip('torch')
    # older PyTorch releases have no derivative for aminmax: compare values only there
    grad = tuple(int(p) for p in torch.__version__.split('+')[0].split('.')[:2]) >= (2, 13)
    compare(lambda lib, t: tuple(lib.aminmax(t)), X, device=device, grad=grad)
    compare(lambda lib, t: tuple(lib.aminmax(t, dim=1, keepdim=True)), X, device=device, grad=grad)


def test_mean_dtype(device):
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    compare(lambda lib, t: t.mean(dtype=lib.float32), a, device=device)
    compare(lambda lib, t: t.float().mean(1), a, device=device)


def test_empty_dim_tuple(device):
    compare(lambda lib, t: (t.sum(()), t.mean(dim=[])), X, device=device)


def test_scalar_reductions(device):
    s = np.array(2.5, dtype=np.float32)
    compare(lambda lib, t: (t.sum(), t.sum(0), t.mean(0), t.max(), t.prod(0), t.cumsum(0), t.logsumexp(0),
                            t.amax(0), t.max(0)[0], t.argmax(0), t.std(0, correction=0), t.norm()), s,
            device=device)


def test_max_nan_grad(device):
    x = np.array([[1., np.nan, 3.], [2., 2., 0.]], dtype=np.float32)
    compare(lambda lib, t: (t.max(), t.amax(1), t.min(1).values), x, device=device)


@pytest.mark.parametrize('n,dim', [(1, -1), (2, 1), (1, 0)])
def test_diff(n, dim, device):
    compare(lambda lib, x: lib.diff(x, n, dim), X, device=device)
    compare(lambda lib, x, p: x.diff(n, dim, prepend=p, append=p), X[:, :1, :1].copy(), X[:, :1, :1].copy(),
            device=device)


def test_diff_bool_int(device):
    compare(lambda lib, x: (lib.diff(x), lib.diff(x > 2)), np.array([1, 4, 2, 7], dtype=np.int64), device=device)


def test_dist(device):
    for p in (2, 1, 3, float('inf')):
        compare(lambda lib, a, b: lib.dist(a, b, p), X, X[::-1].copy(), device=device)


def test_cov_corrcoef(device):
    x = randn(3, 6, seed=15)
    compare(lambda lib, t: (lib.cov(t), lib.cov(t, correction=0), lib.corrcoef(t)), x, device=device)
    compare(lambda lib, t: lib.cov(t[0]), x, device=device)
    fw = np.array([1, 2, 1, 3, 1, 1], dtype=np.int64)
    aw = randn(6, seed=16, low=0.5, high=1.5)
    compare(lambda lib, t, f, a: lib.cov(t, fweights=f, aweights=a), x, fw, aw, device=device, grad_inputs=[0])
    compare(lambda lib, t, f: lib.cov(t, correction=2, fweights=f), x, fw, device=device)


@pytest.mark.parametrize('interp', ['linear', 'lower', 'higher', 'midpoint', 'nearest'])
@pytest.mark.parametrize('dim', [None, 0, -1])
def test_quantile(interp, dim, device):
    q = np.array([0.0, 0.3, 0.5, 1.0], dtype=np.float32)
    compare(lambda lib, x: lib.quantile(x, 0.3, dim, interpolation=interp), X, device=device)
    compare(lambda lib, x, q: x.quantile(q, dim, True, interpolation=interp), X, q, device=device,
            grad_inputs=[0])
    nan = X.copy()
    nan[0, 1, 2] = np.nan
    nan[1, :, 0] = np.nan  # at most one NaN per reduced row (the gradient goes to that NaN)
    compare(lambda lib, x: (lib.quantile(x, 0.4, dim, interpolation=interp),
                            lib.nanquantile(x, 0.4, dim, interpolation=interp)), nan, device=device,
            grad=dim is not None)
    allnan = X[:2, :2].copy()
    allnan[1] = np.nan
    compare(lambda lib, x: (lib.quantile(x, 0.4, dim, interpolation=interp),
                            lib.nanquantile(x, 0.4, dim, interpolation=interp)), allnan, device=device,
            grad=False)
