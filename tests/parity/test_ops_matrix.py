"""Parity with PyTorch for the matrix family, contractions (tensordot, einsum), diagonals and triangles."""
import numpy as np
import pytest

from tests.helpers import compare, randn

M23 = randn(2, 3, seed=51)
M34 = randn(3, 4, seed=52)
V3 = randn(3, seed=53)
V4 = randn(4, seed=54)
B234 = randn(2, 3, 4, seed=55)
B245 = randn(2, 4, 5, seed=56)

MATMUL = [
    ('mm', (2, 3), (3, 4)), ('mv', (2, 3), (3,)), ('vm', (3,), (3, 4)), ('dot', (3,), (3,)),
    ('bmm', (2, 3, 4), (2, 4, 5)), ('bcast_b', (2, 3, 4), (4, 5)), ('bcast_a', (3, 4), (2, 4, 5)),
    ('bcast_both', (2, 1, 3, 4), (5, 4, 2)), ('batch_vec', (2, 3, 4), (4,)), ('vec_batch', (4,), (2, 4, 5)),
    ('bcast_ones', (1, 3, 4), (2, 4, 5)), ('bcast_b_4d', (2, 3, 2, 4), (4, 5)),
]


@pytest.mark.parametrize('name,sa,sb', MATMUL, ids=[m[0] for m in MATMUL])
def test_matmul(name, sa, sb, device):
    a, b = randn(*sa, seed=57), randn(*sb, seed=58)
    compare(lambda lib, x, y: lib.matmul(x, y), a, b, device=device)
    compare(lambda lib, x, y: x @ y, a, b, device=device)


def test_batch_times_matrix_folded_and_not(device):
    """A contiguous batch @ matrix runs as one folded product; a transposed (non-contiguous) batch does not.
    Both give PyTorch's values, gradients and second derivatives."""
    a, b = randn(3, 2, 4, seed=60), randn(4, 5, seed=61)
    compare(lambda lib, x, y: x @ y, a, b, device=device)
    compare(lambda lib, x, y: x.transpose(0, 1) @ y, a, b, device=device)

    def double(lib, x, y):
        z = (x @ y).pow(2).sum()
        gx, gy = lib.autograd.grad(z, (x, y), create_graph=True)
        return gx.sum() * gy.pow(2).sum()
    compare(double, a, b, device=device)


def test_matmul_family(device):
    compare(lambda lib, a, b: lib.mm(a, b), M23, M34, device=device)
    compare(lambda lib, a, v: lib.mv(a, v), M23, V3, device=device)
    compare(lambda lib, a, b: lib.bmm(a, b), B234, B245, device=device)
    compare(lambda lib, a, b: (lib.dot(a, b), lib.vdot(a, b), lib.inner(a, b)), V3, V3[::-1].copy(),
            device=device)
    compare(lambda lib, a, b: (lib.outer(a, b), lib.ger(a, b), a.outer(b)), V3, V4, device=device)
    compare(lambda lib, a, b: lib.inner(a, b), M34, B245[0].T.copy(), device=device)


@pytest.mark.parametrize('beta,alpha', [(1, 1), (0.5, 2.0), (0, 1)])
def test_add_family(beta, alpha, device):
    c24 = randn(2, 4, seed=59)
    compare(lambda lib, c, a, b: lib.addmm(c, a, b, beta=beta, alpha=alpha), c24, M23, M34, device=device)
    compare(lambda lib, c, a, b: lib.addmm(c[0], a, b, beta=beta, alpha=alpha), c24, M23, M34, device=device)
    compare(lambda lib, c, a, v: lib.addmv(c, a, v, beta=beta, alpha=alpha), V3[:2].copy(), M23, V3,
            device=device)
    c35 = randn(3, 5, seed=60)
    b = randn(2, 3, 4, seed=61)
    compare(lambda lib, c, x, y: lib.addbmm(c, x, y, beta=beta, alpha=alpha), c35, b, B245, device=device)
    compare(lambda lib, c, x, y: lib.baddbmm(c, x, y, beta=beta, alpha=alpha), c35, b, B245, device=device)
    compare(lambda lib, c, x, y: lib.addr(c, x, y, beta=beta, alpha=alpha), M34, V3, V4, device=device)
    compare(lambda lib, c, a, b: c.clone().addmm_(a, b, beta=beta, alpha=alpha), c24, M23, M34, device=device)


def test_int_matmul(device):
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    compare(lambda lib, x: (x @ x.t(), lib.mm(x, x.t()), lib.matmul(x[0], x[1])), a, device=device)


TD = [
    ('int2', (2, 3, 4), (3, 4, 5), 2), ('int1', (2, 3, 4), (4, 5), 1), ('int0', (2, 3), (4,), 0),
    ('lists', (2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])), ('neg', (2, 3, 4), (5, 2), ([0], [-1])),
    ('tuple_lists', (2, 3, 4), (4, 2), ([2], [0])),
]


@pytest.mark.parametrize('name,sa,sb,dims', TD, ids=[t[0] for t in TD])
def test_tensordot(name, sa, sb, dims, device):
    compare(lambda lib, a, b: lib.tensordot(a, b, dims), randn(*sa, seed=62), randn(*sb, seed=63), device=device)


EINSUM = [
    ('ij,jk->ik', [(2, 3), (3, 4)]),
    ('ij,jk', [(2, 3), (3, 4)]),
    ('bij,bjk->bik', [(2, 3, 4), (2, 4, 5)]),
    ('ij,ij->ij', [(2, 3), (2, 3)]),
    ('ij,ij->', [(2, 3), (2, 3)]),
    ('i,j->ij', [(3,), (4,)]),
    ('ij->ji', [(2, 3)]),
    ('ij->j', [(2, 3)]),
    ('ii->i', [(3, 3)]),
    ('ii', [(3, 3)]),
    ('iij->j', [(3, 3, 2)]),
    ('bii->bi', [(2, 3, 3)]),
    ('...ij,...jk->...ik', [(2, 3, 4), (2, 4, 5)]),
    ('...ij,jk', [(2, 2, 3, 4), (4, 5)]),
    ('b...,b->...', [(2, 3, 4), (2,)]),
    ('ij,jk,kl->il', [(2, 3), (3, 4), (4, 5)]),
    ('ab,bc,cd,de->ae', [(2, 3), (3, 4), (4, 2), (2, 3)]),
    ('i,i,i->', [(3,), (3,), (3,)]),
    ('bhqd,bhkd->bhqk', [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ('ijk,ikl->jl', [(2, 3, 4), (2, 4, 5)]),
    ('ij,kj->ikj', [(2, 3), (4, 3)]),
    ('i,i', [(3,), (3,)]),
    ('ab,cd->abcd', [(2, 3), (2, 2)]),
    ('ij,j->i', [(2, 3), (1,)]),
    ('ijk->kij', [(2, 3, 4)]),
    ('abc,cd,ab->d', [(2, 3, 4), (4, 2), (2, 3)]),
]


@pytest.mark.parametrize('eq,shapes', EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(eq, shapes, device):
    arrays = [randn(*s, seed=70 + i) for i, s in enumerate(shapes)]
    compare(lambda lib, *ts: lib.einsum(eq, *ts), *arrays, device=device)
    compare(lambda lib, *ts: lib.einsum(eq, list(ts)), *arrays, device=device)


def test_chain_matmul_kron(device):
    c = randn(4, 2, seed=80)
    compare(lambda lib, a, b, c: lib.chain_matmul(a, b, c), M23, M34, c, device=device)
    compare(lambda lib, a, b: lib.kron(a, b), M23, M34, device=device)
    compare(lambda lib, a, b: lib.kron(a, b), V3, M23, device=device)
    compare(lambda lib, a, b: lib.kron(a, b), B234, M23, device=device)


@pytest.mark.parametrize('offset', [0, 1, -1, 2, -3, 5])
def test_diagonal(offset, device):
    compare(lambda lib, x: lib.diagonal(x, offset), M34, device=device)
    compare(lambda lib, x: x.diagonal(offset, 0, 2), B234, device=device)
    compare(lambda lib, x: x.diagonal(offset=offset, dim1=-1, dim2=0), B234, device=device)
    compare(lambda lib, x: lib.diag(x, offset), M34, device=device)
    compare(lambda lib, v: lib.diag(v, offset), V3, device=device)
    compare(lambda lib, v: lib.diag_embed(v, offset), M23, device=device)
    compare(lambda lib, v: lib.diag_embed(v, offset, 0, 2), M23, device=device)
    compare(lambda lib, v: lib.diagflat(v, offset), M23, device=device)


def test_diagonal_is_view(device):
    import npnn
    x = npnn.zeros(3, 3, device=device)
    x.diagonal().fill_(1.0)
    assert float(x.sum()) == 3.0
    assert float(npnn.trace(x)) == 3.0


def test_trace(device):
    compare(lambda lib, x: (lib.trace(x), x.trace()), M34, device=device)


@pytest.mark.parametrize('k', [0, 1, -1, 3, -4])
def test_tril_triu(k, device):
    for name in ('tril', 'triu'):
        compare(lambda lib, x: getattr(lib, name)(x, k), M34, device=device)
        compare(lambda lib, x: getattr(x, name)(diagonal=k), B234, device=device)
        compare(lambda lib, x: getattr(x * 1, name + '_')(k), B234, device=device)


def test_cross(device):
    a, b = randn(4, 3, seed=81), randn(4, 3, seed=82)
    compare(lambda lib, x, y: lib.cross(x, y, dim=1), a, b, device=device)
    compare(lambda lib, x, y: x.cross(y, -1), a, b, device=device)
    compare(lambda lib, x, y: lib.cross(x.t(), y.t(), 0), a, b, device=device)
    compare(lambda lib, x, y: lib.cross(x, y[:1], dim=1), a, b, device=device)


def test_einsum_broadcast_ellipsis(device):
    a, b = randn(2, 1, 3, 4, seed=83), randn(5, 4, 2, seed=84)
    compare(lambda lib, x, y: lib.einsum('...ij,...jk->...ik', x, y), a, b, device=device)
    c = randn(3, 1, seed=85)
    compare(lambda lib, x, y: lib.einsum('ij,ij->ij', x, y), randn(3, 4, seed=86), c, device=device)
