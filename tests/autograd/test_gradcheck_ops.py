"""Finite-difference gradient checks in float64 for every differentiable op (first order; second order for a
representative set whose backward rules are themselves differentiable)."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck


def _arr(*shape, seed=0, low=None, high=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, high, size=shape)
    return rng.standard_normal(shape)


A = _arr(2, 3, seed=1)
B = _arr(2, 3, seed=2)
POS = _arr(2, 3, seed=3, low=0.3, high=2.0)
UNIT = _arr(2, 3, seed=4, low=-0.8, high=0.8)
GT1 = _arr(2, 3, seed=5, low=1.2, high=3.0)
P01 = _arr(2, 3, seed=6, low=0.1, high=0.9)
X3 = _arr(2, 3, 4, seed=7)
I02 = np.array([[0, 2, 1], [1, 0, 0]])

UNARY = {
    'abs': A, 'neg': A, 'exp': A, 'exp2': A, 'expm1': A, 'log': POS, 'log1p': POS, 'log2': POS, 'log10': POS,
    'sqrt': POS, 'rsqrt': POS, 'sin': A, 'cos': A, 'tan': UNIT, 'asin': UNIT, 'acos': UNIT, 'atan': A, 'sinh': A,
    'cosh': A, 'tanh': A, 'asinh': A, 'acosh': GT1, 'atanh': UNIT, 'sigmoid': A, 'relu': A, 'erf': A, 'erfc': A,
    'erfinv': UNIT, 'reciprocal': POS, 'square': A, 'frac': A * 3, 'logit': P01, 'sinc': A, 'deg2rad': A,
    'rad2deg': A, 'lgamma': POS, 'digamma': POS, 'i0': A, 'nan_to_num': A,
}


@pytest.mark.parametrize('name', sorted(UNARY))
def test_unary(name, device):
    x = npnn.tensor(UNARY[name], requires_grad=True, device=device)
    assert gradcheck(lambda t: getattr(npnn, name)(t), (x,))


BINARY = {
    'add': lambda a, b: a + b * 2, 'sub': lambda a, b: npnn.sub(a, b, alpha=0.5), 'mul': lambda a, b: a * b,
    'div': lambda a, b: a / (b.abs() + 0.5), 'pow': lambda a, b: a.abs().add(0.5) ** b,
    'maximum': npnn.maximum, 'minimum': npnn.minimum, 'fmax': npnn.fmax, 'fmin': npnn.fmin,
    'atan2': npnn.atan2, 'hypot': npnn.hypot, 'fmod': lambda a, b: npnn.fmod(a, b.abs() + 0.5),
    'remainder': lambda a, b: npnn.remainder(a, b.abs() + 0.5), 'xlogy': lambda a, b: npnn.xlogy(a, b.abs() + 0.1),
    'logaddexp': npnn.logaddexp, 'logaddexp2': npnn.logaddexp2, 'copysign': npnn.copysign,
    'lerp': lambda a, b: npnn.lerp(a, b, 0.3), 'lerp_t': lambda a, b: npnn.lerp(a, b, b.sigmoid()),
    'where': lambda a, b: npnn.where(a > 0, a, b), 'float_power': lambda a, b: npnn.float_power(a.abs() + 0.5, b),
    'clamp_t': lambda a, b: npnn.clamp(a, min=b), 'rpow': lambda a, b: 2.0 ** a + b,
    'rsub': lambda a, b: 1.5 - a - b, 'rdiv': lambda a, b: 1.5 / (a.abs() + 0.5) + b,
    'broadcast_mul': lambda a, b: a * b[:1], 'broadcast_add': lambda a, b: a + b[1, :1],
    'polygamma': lambda a, b: npnn.polygamma(1, a.abs() + 0.5) * b,
}


@pytest.mark.parametrize('name', sorted(BINARY))
def test_binary(name, device):
    a = npnn.tensor(A, requires_grad=True, device=device)
    b = npnn.tensor(B + 0.01, requires_grad=True, device=device)
    assert gradcheck(BINARY[name], (a, b))


def _ix(t, data, **kw):
    """An index (or other auxiliary) tensor on ``t``'s device."""
    return npnn.tensor(data, device=t.device, **kw)


OPS = {
    # reductions
    'sum': lambda t: t.sum(), 'sum_dims': lambda t: t.sum((0, 2), keepdim=True), 'mean': lambda t: t.mean(1),
    'prod': lambda t: t.prod(), 'prod_dim': lambda t: t.prod(1), 'max': lambda t: t.max(),
    'max_dim': lambda t: t.max(1)[0], 'min_dim': lambda t: t.min(-1, keepdim=True).values,
    'amax': lambda t: t.amax((0, 1)), 'amin': lambda t: t.amin(2), 'var': lambda t: t.var(1),
    'std': lambda t: t.std((0, 2), correction=0), 'norm': lambda t: t.norm(), 'norm1': lambda t: t.norm(1, 2),
    'norm3': lambda t: t.norm(3, (0, 1)), 'norm_inf': lambda t: t.norm(float('inf'), 1),
    'logsumexp': lambda t: t.logsumexp(1), 'cumsum': lambda t: t.cumsum(1), 'cumprod': lambda t: t.cumprod(2),
    'logcumsumexp': lambda t: t.logcumsumexp(0), 'cummax': lambda t: t.cummax(2)[0],
    'cummin': lambda t: t.cummin(1)[0], 'nansum': lambda t: t.nansum(1), 'nanmean': lambda t: t.nanmean(0),
    # shape
    'view': lambda t: t.view(4, 6), 'reshape_nc': lambda t: t.transpose(0, 2).reshape(-1),
    'permute': lambda t: t.permute(2, 0, 1), 'transpose': lambda t: t.transpose(0, 1), 'mT': lambda t: t.mT,
    'flatten': lambda t: t.flatten(1), 'unflatten': lambda t: t.unflatten(2, (2, 2)),
    'squeeze': lambda t: t[:1].squeeze(0), 'unsqueeze': lambda t: t.unsqueeze(1),
    'expand': lambda t: t[:, :1].expand(2, 5, 4), 'repeat': lambda t: t.repeat(2, 1, 2),
    'repeat_interleave': lambda t: t.repeat_interleave(2, 1), 'flip': lambda t: t.flip(0, 2),
    'roll': lambda t: t.roll((1, -1), (1, 2)), 'rot90': lambda t: t.rot90(1, (1, 2)),
    'narrow': lambda t: t.narrow(2, 1, 2), 'select': lambda t: t.select(1, 2), 'unbind': lambda t: t.unbind(1),
    'movedim': lambda t: t.movedim(0, 2), 'split': lambda t: t.split([1, 3], 2), 'chunk': lambda t: t.chunk(2, 1),
    'tensor_split': lambda t: t.tensor_split(3, 2), 'cat': lambda t: npnn.cat([t, t * 2], 1),
    'stack': lambda t: npnn.stack([t, t.exp()], 3), 'hstack': lambda t: npnn.hstack([t, t]),
    'vstack': lambda t: npnn.vstack([t[0], t[1]]), 'clone': lambda t: t.clone(),
    'broadcast_tensors': lambda t: npnn.broadcast_tensors(t, t[:1, :1]),
    'meshgrid': lambda t: npnn.meshgrid(t[0, 0], t[1, :2, 0], indexing='xy'),
    'cartesian_prod': lambda t: npnn.cartesian_prod(t[0, 0], t[1, 0]), 'combinations': lambda t: npnn.combinations(t[0, 0]),
    'block_diag': lambda t: npnn.block_diag(t[0], t[1, 0], t[1, 1, 0]),
    # indexing
    'getitem_basic': lambda t: t[1, ::2, None, -1], 'getitem_ellipsis': lambda t: t[..., 1:3],
    'getitem_tensor': lambda t: t[_ix(t, [1, 1, 0])], 'getitem_mask': lambda t: t[t > 0],
    'getitem_two': lambda t: t[_ix(t, [0, 1, 1]), :, _ix(t, [3, 3, 0])],
    'setitem': lambda t: _setitem(t), 'gather': lambda t: t.gather(2, _ix(t, I02).unsqueeze(0).expand(2, 2, 3)),
    'take_along_dim': lambda t: npnn.take_along_dim(t, _ix(t, [[[0], [3], [1]]]), 2),
    'scatter': lambda t: t.scatter(1, _ix(t, [[[2, 0, 1, 0]]]), t[:, :1] * 3),
    'scatter_add': lambda t: t.scatter_add(1, _ix(t, [[[2, 0, 2, 0]]]), t[:1, :1] * 3),
    'scatter_reduce_mean': lambda t: t.scatter_reduce(1, _ix(t, [[[2, 0, 2, 0]]]), t[:1, :1] * 3, 'mean'),
    'scatter_reduce_amax': lambda t: t.scatter_reduce(1, _ix(t, [[[2, 0, 2, 0]]]), t[:1, :1] * 3, 'amax',
                                                      include_self=False),
    'scatter_reduce_prod': lambda t: t.scatter_reduce(1, _ix(t, [[[2, 0, 2, 0]]]), t[:1, :1] * 3, 'prod'),
    'index_select': lambda t: t.index_select(1, _ix(t, [2, 0, 2])),
    'index_add': lambda t: t.index_add(1, _ix(t, [2, 0, 2]), t * 2, alpha=0.5),
    'index_copy': lambda t: t.index_copy(2, _ix(t, [3, 0]), t[..., :2] * 2),
    'index_fill': lambda t: t.index_fill(1, _ix(t, [1]), 0.5),
    'index_put': lambda t: t.index_put((_ix(t, [0, 1, 0]),), t[0, 0] * 2, accumulate=True),
    'masked_fill': lambda t: t.masked_fill(t > 0.5, 2.0), 'masked_select': lambda t: t.masked_select(t < 0),
    'masked_scatter': lambda t: t.masked_scatter(t > 0, t.exp()), 'take': lambda t: t.take(_ix(t, [[0, 23]])),
    'put': lambda t: t.put(_ix(t, [1, 5]), t[0, 0, :2] * 3),
    'put_acc': lambda t: t.put(_ix(t, [1, 1]), t[0, 0, :2] * 3, accumulate=True),
    # matrix
    'matmul': lambda t: t @ t.mT, 'matmul_bcast': lambda t: t @ t[0, 0], 'bmm': lambda t: npnn.bmm(t, t.mT),
    'mm': lambda t: t[0].mm(t[1].t()), 'mv': lambda t: t[0].mv(t[1, 0]), 'dot': lambda t: t[0, 0].dot(t[1, 1]),
    'outer': lambda t: npnn.outer(t[0, 0], t[1, 1]), 'addmm': lambda t: npnn.addmm(t[0, :, :3], t[0], t[1].t() @ t[1, :, :3], beta=0.5, alpha=2),
    'addmv': lambda t: npnn.addmv(t[0, 0, :3], t[0], t[1, 0], beta=0.3),
    'addbmm': lambda t: npnn.addbmm(t[0, 0, :3], t, t.mT[..., :3]),
    'baddbmm': lambda t: npnn.baddbmm(t[:, :, :3], t, t.mT, alpha=0.7),
    'addr': lambda t: npnn.addr(t[0], t[1, :, 0], t[1, 0], beta=2),
    'tensordot': lambda t: npnn.tensordot(t, t[0], ([1, 2], [0, 1])),
    'einsum': lambda t: npnn.einsum('bij,bkj->bik', t, t.exp()),
    'einsum3': lambda t: npnn.einsum('ij,jk,kl->il', t[0], t[1].t(), t[0]),
    'einsum_diag': lambda t: npnn.einsum('ii->i', t[0, :, :3]), 'chain_matmul': lambda t: npnn.chain_matmul(t[0], t[1].t(), t[0]),
    'kron': lambda t: npnn.kron(t[0, :2, :2], t[1, :, :2]), 'trace': lambda t: t[0].trace(),
    'diag': lambda t: npnn.diag(t[0, 0], 1), 'diag2d': lambda t: npnn.diag(t[0], -1),
    'diagonal': lambda t: t.diagonal(1, 1, 2), 'diag_embed': lambda t: npnn.diag_embed(t, -1, 0, 2),
    'tril': lambda t: t.tril(1), 'triu': lambda t: t.triu(-1), 'cross': lambda t: npnn.cross(t[0], t[1], dim=0),
    # sorting
    'sort': lambda t: t.sort(1, descending=True)[0], 'msort': lambda t: npnn.msort(t),
    'topk': lambda t: t.topk(2, 2)[0], 'kthvalue': lambda t: t.kthvalue(2, 1)[0], 'median': lambda t: t.median(),
    'median_dim': lambda t: t.median(2)[0], 'nanmedian': lambda t: t.nanmedian(0)[0],
    'mode': lambda t: t.mode(1)[0],
    # composites and extras
    'unfold': lambda t: t.unfold(2, 2, 1), 'unfold_step': lambda t: t.unfold(1, 2, 2),
    'quantile': lambda t: t.quantile(_ix(t, [0.2, 0.7], dtype=npnn.float64), 1),
    'nanquantile': lambda t: t.nanquantile(0.4, 2, interpolation='midpoint'), 'diff': lambda t: t.diff(2, 2),
    'cov': lambda t: npnn.cov(t[0]), 'corrcoef': lambda t: npnn.corrcoef(t[1]), 'dist': lambda t: npnn.dist(t[0], t[1], 3),
    'addcmul': lambda t: npnn.addcmul(t, t.exp(), t, value=0.5), 'addcdiv': lambda t: npnn.addcdiv(t, t, t.exp()),
    'ldexp': lambda t: npnn.ldexp(t, npnn.tensor([1, 2, 0, -1], device=t.device)),
    'slice_scatter': lambda t: npnn.slice_scatter(t, t[:, :, ::2] * 2, 2, 0, None, 2),
    'select_scatter': lambda t: npnn.select_scatter(t, t[:, 1] * 2, 1, 0),
    'diagonal_scatter': lambda t: npnn.diagonal_scatter(t[0], t[1].diagonal() * 2),
    'sum_to_size': lambda t: t.sum_to_size(1, 3, 1), 'ravel': lambda t: t.mT.ravel(),
    'std_mean': lambda t: npnn.std_mean(t, 1), 'var_mean': lambda t: npnn.var_mean(t, (0, 2)),
    'aminmax': lambda t: tuple(npnn.aminmax(t, dim=1)), 'logdet_free_kron': lambda t: npnn.kron(t[0], t[1, :1]),
}


def _setitem(t):
    y = t * 1.0
    y[0, 1:] = t[1, :2] * 2
    y[_ix(t, [1]), :, _ix(t, [3])] = 0.0
    return y


@pytest.mark.parametrize('name', sorted(OPS))
def test_op(name, device):
    x = npnn.tensor(X3, requires_grad=True, device=device)
    assert gradcheck(OPS[name], (x,))


SECOND = ['exp', 'log', 'sin', 'tanh', 'sigmoid', 'sqrt', 'pow', 'div', 'matmul', 'sum_dims', 'prod_dim',
          'logsumexp', 'cumsum', 'getitem_tensor', 'gather', 'index_select', 'einsum', 'max_dim', 'norm', 'var',
          'expand', 'cat', 'masked_fill', 'sort', 'diagonal', 'tril', 'atan2', 'unfold', 'scatter_add', 'cumprod',
          'prod', 'std', 'quantile', 'setitem', 'tensordot', 'cross', 'kron']


@pytest.mark.parametrize('name', SECOND)
def test_second_order(name, device):
    if name in UNARY:
        x = npnn.tensor(UNARY[name], requires_grad=True, device=device)
        assert gradgradcheck(lambda t: getattr(npnn, name)(t), (x,))
    elif name in BINARY:
        a = npnn.tensor(A, requires_grad=True, device=device)
        b = npnn.tensor(B + 0.01, requires_grad=True, device=device)
        assert gradgradcheck(BINARY[name], (a, b))
    else:
        x = npnn.tensor(X3, requires_grad=True, device=device)
        assert gradgradcheck(OPS[name], (x,))
