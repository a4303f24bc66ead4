"""Parity with PyTorch for shape ops, joining and splitting."""
import numpy as np
import pytest

from tests.helpers import compare, randn

X = randn(2, 3, 4, seed=21)

CASES = [
    ('view', lambda lib, x: x.view(6, 4)),
    ('view_neg', lambda lib, x: x.view(-1, 2)),
    ('view_tuple', lambda lib, x: x.view((4, 6))),
    ('reshape', lambda lib, x: x.reshape(3, -1)),
    ('reshape_fn', lambda lib, x: lib.reshape(x, (24,))),
    ('reshape_nc', lambda lib, x: x.transpose(0, 2).reshape(-1)),
    ('view_as', lambda lib, x: x.view_as(x.new_zeros(4, 6) if hasattr(x, 'new_zeros') else None)),
    ('reshape_as', lambda lib, x: x.reshape_as(lib.zeros(6, 4))),
    ('permute', lambda lib, x: x.permute(2, 0, 1)),
    ('permute_neg', lambda lib, x: lib.permute(x, (-1, 0, 1))),
    ('transpose', lambda lib, x: x.transpose(0, -1)),
    ('swapaxes', lambda lib, x: lib.swapaxes(x, 0, 1)),
    ('t', lambda lib, x: x[0].t()),
    ('t1d', lambda lib, x: x[0, 0].t()),
    ('T', lambda lib, x: x[0].T),
    ('mT', lambda lib, x: x.mT),
    ('flatten', lambda lib, x: x.flatten()),
    ('flatten12', lambda lib, x: lib.flatten(x, 1)),
    ('flatten01', lambda lib, x: x.flatten(0, 1)),
    ('unflatten', lambda lib, x: x.unflatten(2, (2, 2))),
    ('unflatten_neg', lambda lib, x: x.unflatten(-1, (2, -1))),
    ('squeeze', lambda lib, x: x[:, :1].squeeze()),
    ('squeeze_dim', lambda lib, x: x[:, :1].squeeze(1)),
    ('squeeze_noop', lambda lib, x: x.squeeze(0)),
    ('squeeze_tuple', lambda lib, x: x[:1, :1].squeeze((0, 1))),
    ('unsqueeze', lambda lib, x: x.unsqueeze(1)),
    ('unsqueeze_neg', lambda lib, x: lib.unsqueeze(x, -1)),
    ('expand', lambda lib, x: x[:, :1].expand(2, 5, 4)),
    ('expand_neg', lambda lib, x: x[:, :1].expand(3, -1, 6, -1)),
    ('expand_as', lambda lib, x: x[:1].expand_as(x)),
    ('broadcast_to', lambda lib, x: lib.broadcast_to(x[0, 0], (3, 4))),
    ('repeat', lambda lib, x: x.repeat(2, 1, 3)),
    ('repeat_more', lambda lib, x: x.repeat(2, 1, 1, 2)),
    ('tile', lambda lib, x: x.tile((2,))),
    ('repeat_interleave', lambda lib, x: x.repeat_interleave(2, dim=1)),
    ('repeat_interleave_flat', lambda lib, x: lib.repeat_interleave(x, 2)),
    ('repeat_interleave_t', lambda lib, x: x.repeat_interleave(lib.tensor([1, 0, 3]), dim=1)),
    ('flip', lambda lib, x: x.flip(0, 2)),
    ('flip_list', lambda lib, x: lib.flip(x, [1])),
    ('fliplr', lambda lib, x: lib.fliplr(x)),
    ('flipud', lambda lib, x: x.flipud()),
    ('roll', lambda lib, x: x.roll(1, 2)),
    ('roll_multi', lambda lib, x: lib.roll(x, (1, -2), (0, 2))),
    ('roll_flat', lambda lib, x: x.roll(5)),
    ('rot90', lambda lib, x: lib.rot90(x, 1, (1, 2))),
    ('rot90_3', lambda lib, x: x.rot90(3, [0, 2])),
    ('rot90_neg', lambda lib, x: x.rot90(-1, [1, 2])),
    ('narrow', lambda lib, x: x.narrow(2, 1, 2)),
    ('narrow_neg', lambda lib, x: lib.narrow(x, -1, -3, 2)),
    ('unbind', lambda lib, x: x.unbind(1)),
    ('unbind_fn', lambda lib, x: lib.unbind(x)),
    ('movedim', lambda lib, x: x.movedim(0, -1)),
    ('movedim_multi', lambda lib, x: lib.movedim(x, (0, 1), (2, 0))),
    ('moveaxis', lambda lib, x: lib.moveaxis(x, 2, 0)),
    ('select', lambda lib, x: x.select(1, -1)),
    ('split_int', lambda lib, x: x.split(3, -1)),
    ('split_uneven', lambda lib, x: lib.split(x, 3, 2)),
    ('split_sizes', lambda lib, x: x.split([1, 3], dim=2)),
    ('chunk', lambda lib, x: x.chunk(2, 2)),
    ('chunk_uneven', lambda lib, x: lib.chunk(x, 3, 1)),
    ('chunk_more', lambda lib, x: x.chunk(5, 1)),
    ('chunk6', lambda lib, x: x.reshape(-1)[:6].chunk(4)),
    ('tensor_split', lambda lib, x: x.tensor_split(3, 2)),
    ('tensor_split_idx', lambda lib, x: lib.tensor_split(x, [1, 3], dim=2)),
    ('tensor_split_big', lambda lib, x: x.tensor_split((1, 7), dim=1)),
    ('contiguous', lambda lib, x: x.transpose(0, 1).contiguous()),
    ('clone', lambda lib, x: x.clone()),
    ('atleast', lambda lib, x: (lib.atleast_1d(x[0, 0, 0]), lib.atleast_2d(x[0, 0]), lib.atleast_3d(x[0]))),
    ('squeeze_scalar', lambda lib, x: x[0, 0, 0].squeeze()),
    ('unsqueeze_scalar', lambda lib, x: x[0, 0, 0].unsqueeze(0)),
    ('view_scalar', lambda lib, x: x[0, 0, :1].view(())),
    ('swapdims', lambda lib, x: x.swapdims(1, 2)),
]


@pytest.mark.parametrize('name,fn', CASES, ids=[c[0] for c in CASES])
def test_shape(name, fn, device):
    compare(fn, X, device=device)


A = randn(2, 3, seed=22)
B = randn(2, 3, seed=23)
C = randn(2, 1, seed=24)
V = randn(3, seed=25)

JOIN = [
    ('cat0', lambda lib, a, b, c, v: lib.cat([a, b], 0)),
    ('cat1', lambda lib, a, b, c, v: lib.cat((a, c, b), dim=1)),
    ('cat_neg', lambda lib, a, b, c, v: lib.cat([a, c], -1)),
    ('cat_empty', lambda lib, a, b, c, v: lib.cat([a, lib.zeros(0)], 0)),
    ('concat', lambda lib, a, b, c, v: lib.concat([a, b])),
    ('concatenate', lambda lib, a, b, c, v: lib.concatenate([a, b], 1)),
    ('stack0', lambda lib, a, b, c, v: lib.stack([a, b])),
    ('stack2', lambda lib, a, b, c, v: lib.stack([a, b], 2)),
    ('stack_neg', lambda lib, a, b, c, v: lib.stack((a, b), -1)),
    ('hstack', lambda lib, a, b, c, v: lib.hstack([a, c, b])),
    ('hstack1d', lambda lib, a, b, c, v: lib.hstack([v, v])),
    ('vstack', lambda lib, a, b, c, v: lib.vstack([a, v, b])),
    ('dstack', lambda lib, a, b, c, v: lib.dstack([a, b])),
    ('column_stack', lambda lib, a, b, c, v: lib.column_stack([v, v, b.t()])),
    ('row_stack', lambda lib, a, b, c, v: lib.row_stack([a, v])),
    ('broadcast_tensors', lambda lib, a, b, c, v: lib.broadcast_tensors(a, c, v)),
    ('meshgrid_ij', lambda lib, a, b, c, v: lib.meshgrid(v, a[0, :2], indexing='ij')),
    ('meshgrid_xy', lambda lib, a, b, c, v: lib.meshgrid(v, a[0, :2], indexing='xy')),
    ('meshgrid_list', lambda lib, a, b, c, v: lib.meshgrid([v, a[0, :2], b[1]], indexing='ij')),
    ('cartesian_prod', lambda lib, a, b, c, v: lib.cartesian_prod(v, a[0, :2])),
    ('cartesian_prod3', lambda lib, a, b, c, v: lib.cartesian_prod(v, a[0, :2], b[1, :2])),
    ('cartesian_prod1', lambda lib, a, b, c, v: lib.cartesian_prod(v)),
    ('combinations', lambda lib, a, b, c, v: lib.combinations(v)),
    ('combinations3', lambda lib, a, b, c, v: lib.combinations(a.reshape(-1)[:4], 3)),
    ('combinations_rep', lambda lib, a, b, c, v: lib.combinations(v, 2, with_replacement=True)),
    ('block_diag', lambda lib, a, b, c, v: lib.block_diag(a, c, v)),
]


@pytest.mark.parametrize('name,fn', JOIN, ids=[c[0] for c in JOIN])
def test_join(name, fn, device):
    compare(fn, A, B, C, V, device=device)


def test_cat_promotes(device):
    compare(lambda lib, a, i: lib.cat([a, i.reshape(1, 3)]), A, np.arange(3, dtype=np.int64), device=device)


def test_views_share_memory(device):
    import npnn
    x = npnn.zeros(2, 3, device=device)
    for v in (x.view(6), x.reshape(3, 2), x.t(), x.transpose(0, 1), x.permute(1, 0), x[0], x.narrow(1, 0, 2),
              x.unsqueeze(0), x.squeeze(), x.select(0, 1), x.expand(2, 2, 3), x.unbind(0)[1], x.split(1)[0]):
        before = x.sum().item()
        x.add_(1)
        assert v.sum().item() != 0 or v.numel() == 0
        assert x.sum().item() == before + 6
    c = x.clone()
    x.add_(1)
    assert not np.allclose(c.numpy() if device == 'cpu' else c.cpu().numpy(), x.cpu().numpy())


MORE = [
    ('ravel', lambda lib, x: x.transpose(0, 1).ravel()),
    ('split_with_sizes', lambda lib, x: x.split_with_sizes([3, 1], 2)),
    ('hsplit', lambda lib, x: lib.hsplit(x, 3)),
    ('hsplit_idx', lambda lib, x: x.hsplit([1, 2])),
    ('vsplit', lambda lib, x: lib.vsplit(x, 2)),
    ('dsplit', lambda lib, x: x.dsplit([1, 3])),
    ('unfold', lambda lib, x: x.unfold(2, 2, 1)),
    ('unfold_step', lambda lib, x: x.unfold(1, 2, 2)),
    ('unfold_dim0', lambda lib, x: x.unfold(0, 2, 1) * 1.5),
    ('unfold_1d', lambda lib, x: x.reshape(-1).unfold(0, 5, 3)),
    ('sum_to_size', lambda lib, x: x.sum_to_size(1, 3, 1)),
    ('slice_scatter', lambda lib, x: lib.slice_scatter(x, x[:, :, 1::2] * 2, 2, 1, None, 2)),
    ('select_scatter', lambda lib, x: lib.select_scatter(x, x[:, 0] * 3, 1, 2)),
    ('diagonal_scatter', lambda lib, x: lib.diagonal_scatter(x[0], x[1].diagonal(1) * 2, 1)),
    ('diagonal_scatter_dims', lambda lib, x: lib.diagonal_scatter(x, x[..., :2].diagonal(0, 0, 2), 0, 0, 2)),
]


@pytest.mark.parametrize('name,fn', MORE, ids=[c[0] for c in MORE])
def test_more_shape(name, fn, device):
    compare(fn, X, device=device)


def test_namespace_exports_ops_only():
    import npnn
    assert isinstance(npnn.Tensor, type)
    for helper in ('make', 'recording', 'binary_arrays', 'np', 'numbers', 'Node', 'SCALARS'):
        assert not hasattr(npnn, helper), helper
    for op in ('sort', 'einsum', 'tensordot', 'kron', 'diag_embed', 'block_diag', 'cartesian_prod', 'meshgrid',
               'combinations', 'quantile', 'logaddexp', 'where', 'polygamma'):
        assert callable(getattr(npnn, op)), op


def test_method_forms(device):
    compare(lambda lib, x, y: x.where(x > 0, y), A, B, device=device)
    compare(lambda lib, x: x.abs().polygamma(1), A, device=device)


def test_clone_detach_semantics(device):
    import npnn
    x = npnn.tensor([1.0, 2.0], requires_grad=True, device=device)
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None and c.dtype == x.dtype
    with npnn.no_grad():
        c[0] = 5.0
    assert float(x[0]) == 1.0  # a copy
    d = x.detach()
    with npnn.no_grad():
        d[1] = 7.0
    assert float(x[1]) == 7.0  # shares memory
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    compare(lambda lib, t: (t.clone(), lib.clone(t) * 2), A, device=device)
