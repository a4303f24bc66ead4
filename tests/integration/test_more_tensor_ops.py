"""Tensor-manipulation-heavy code: einsum, gather/scatter_/scatter_add, index_add_, torch.where, topk,
argsort, sort, unique, cumsum, masked_select, nonzero(as_tuple=True), expand/repeat/repeat_interleave,
chunk/split/unbind, stack, meshgrid(indexing='ij'), bincount, clamp, flip, roll, tril/triu_indices, isin,
unravel_index, fill_diagonal_. The
values and the gradients through the differentiable ones match PyTorch."""
import numpy as np
import pytest

from .helpers import get


def _inputs():
    rng = np.random.RandomState(0)
    return dict(a=rng.randn(3, 4, 5).astype(np.float32), b=rng.randn(5, 6).astype(np.float32),
                idx=rng.randint(0, 5, (3, 4, 2)).astype(np.int64), labels=np.array([2, 0, 2, 1, 0, 2, 3]),
                w=rng.randn(7, 3).astype(np.float32))


def differentiable(torch, d):
    a = torch.tensor(d['a'], requires_grad=True)
    b = torch.tensor(d['b'], requires_grad=True)
    w = torch.tensor(d['w'], requires_grad=True)
    idx = torch.from_numpy(d['idx'])
    labels = torch.from_numpy(d['labels'])
    out = {}
    e = torch.einsum('ijk,kl->ijl', a, b)                       # (3, 4, 6)
    out['einsum_outer'] = torch.einsum('i,j->ij', a[0, 0], b[0])
    out['einsum_bmm'] = torch.einsum('bij,bkj->bik', a, a)
    g = torch.gather(a, 2, idx)                                 # (3, 4, 2)
    out['gather'] = g
    seg = torch.zeros(4, 3).index_add(0, labels, w)            # per-label sums
    out['index_add'] = seg
    sc = torch.zeros(3, 4, 5).scatter_add(2, idx, g * 2)
    out['scatter_add'] = sc
    out['scatter_src'] = torch.zeros(3, 4, 5).scatter(2, idx[..., :1], g[..., :1])
    out['where'] = torch.where(e > 0, e, 0.1 * e)
    vals, inds = e.topk(3, dim=-1, largest=True, sorted=True)
    out['topk'] = vals
    out['cumsum'] = a.cumsum(dim=1)
    out['cumprod'] = (a * 0.5 + 1).cumprod(-1)
    out['masked_select'] = torch.masked_select(a, a > 0.5)
    out['expand'] = (w[:, :1].expand(-1, 4) * 2)
    out['repeat'] = w.repeat(2, 1)
    out['repeat_interleave'] = w.repeat_interleave(2, dim=0)
    c1, c2 = e.chunk(2, dim=-1)
    s1, s2, s3 = torch.split(e, [1, 2, 3], dim=-1)
    parts = a.unbind(0)
    out['chunk_split'] = torch.cat([c1 * c2.sum(), s1, s3 - s2.mean()], dim=-1)
    out['stack_unbind'] = torch.stack([p.sum(0) for p in parts], dim=1)
    out['flip_roll'] = torch.roll(torch.flip(w, dims=[0]), shifts=2, dims=0)
    out['clamp'] = torch.clamp(w, min=-0.5, max=0.5)
    out['norm_sorted'] = torch.sort(w.sum(1), descending=True).values
    loss = sum((v.float() * (k + 1) * 0.01).sum() for k, v in enumerate(out.values()))
    loss.backward()
    grads = dict(a=a.grad, b=b.grad, w=w.grad)
    return ({k: v.detach().numpy() for k, v in out.items()}, {k: v.numpy() for k, v in grads.items()},
            inds.numpy())


def integer_ops(torch, d):
    labels = torch.from_numpy(d['labels'])
    w = torch.from_numpy(d['w'])
    out = {}
    u, inv, cnt = torch.unique(labels, sorted=True, return_inverse=True, return_counts=True)
    out['unique'] = (u.tolist(), inv.tolist(), cnt.tolist())
    out['unique_consecutive'] = torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 2, 1, 3])).tolist()
    out['bincount'] = torch.bincount(labels, minlength=5).tolist()
    out['argsort'] = torch.argsort(w[:, 0], descending=True).tolist()
    sv, si = torch.sort(labels, stable=True)
    out['sort_stable'] = (sv.tolist(), si.tolist())
    rows, cols = torch.nonzero(w > 0, as_tuple=True)
    out['nonzero_tuple'] = (rows.tolist(), cols.tolist())
    out['nonzero'] = torch.nonzero(labels == 2).squeeze(1).tolist()
    out['argwhere'] = torch.argwhere(w > 1).tolist()
    gi, gj = torch.meshgrid(torch.arange(3), torch.arange(4), indexing='ij')
    out['meshgrid'] = (gi.tolist(), gj.tolist())
    gx, gy = torch.meshgrid(torch.arange(3), torch.arange(2), indexing='xy')
    out['meshgrid_xy'] = gx.shape, gy.tolist()
    t = torch.zeros(3, 5, dtype=torch.long)
    t.scatter_(1, torch.tensor([[0, 1], [2, 3], [4, 0]]), 7)
    out['scatter_scalar'] = t.tolist()
    acc = torch.zeros(4)
    acc.index_add_(0, labels, torch.ones(7))
    out['index_add_'] = acc.tolist()
    out['scatter_reduce'] = torch.zeros(4).scatter_reduce(0, labels, w[:, 0], reduce='amax',
                                                          include_self=False).tolist()
    onehot = torch.zeros(7, 4).scatter_(1, labels.unsqueeze(1), 1.0)
    out['onehot_scatter'] = onehot.sum(0).tolist()
    r, c = torch.tril_indices(3, 3, offset=-1)
    out['tril_indices'] = (r.tolist(), c.tolist())
    out['repeat_interleave_tensor'] = torch.repeat_interleave(torch.tensor([1, 2, 3]), torch.tensor([2, 0, 1])).tolist()
    out['repeat_interleave_counts'] = torch.repeat_interleave(torch.tensor([3, 1])).tolist()
    out['searchsorted'] = torch.searchsorted(torch.tensor([1, 3, 5, 7]), torch.tensor([0, 3, 6, 9])).tolist()
    out['any_all'] = (bool((w > 2).any()), bool((w > -5).all()), (w > 0).sum(dim=1).tolist())
    out['cummax'] = torch.cummax(w[:, 0], dim=0).indices.tolist()
    out['kthvalue'] = torch.kthvalue(w[:, 1], 3).indices.item()
    out['mode'] = torch.mode(labels).values.item()
    out['split_int'] = [s.shape[0] for s in torch.arange(10).split(3)]
    out['tensor_split'] = [s.tolist() for s in torch.tensor_split(torch.arange(7), 3)]
    out['diff'] = torch.diff(torch.tensor([1, 4, 9, 16])).tolist()
    out['count_nonzero'] = torch.count_nonzero(w > 0, dim=0).tolist()
    out['isin'] = torch.isin(labels, torch.tensor([0, 3])).tolist()
    flat = torch.argmax(w.abs())
    out['unravel'] = [t.item() for t in torch.unravel_index(flat, w.shape)]
    sim = w @ w.T
    out['fill_diagonal'] = sim.fill_diagonal_(0.0).diagonal().tolist()
    out['triu_indices'] = torch.triu_indices(4, 4, 1).tolist()
    return out


def test_differentiable_tensor_ops_match_torch():
    import npnn
    d = _inputs()
    ref_out, ref_grads, ref_inds = differentiable(get('torch'), d)
    out, grads, inds = differentiable(npnn, d)
    assert list(out) == list(ref_out)
    for k in ref_out:
        np.testing.assert_allclose(out[k], ref_out[k], rtol=1e-5, atol=1e-5, err_msg=k)
    np.testing.assert_array_equal(inds, ref_inds)
    for k in ref_grads:
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_integer_tensor_ops_match_torch():
    import npnn
    d = _inputs()
    ref = integer_ops(get('torch'), d)
    got = integer_ops(npnn, d)
    for k in ref:
        if k == 'meshgrid_xy':
            assert tuple(got[k][0]) == tuple(ref[k][0]) and got[k][1] == ref[k][1], k
        else:
            assert got[k] == ref[k], k
