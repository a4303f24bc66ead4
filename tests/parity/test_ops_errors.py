"""Error cases: npnn raises PyTorch's exception type with PyTorch's message (compared with torch when it is
installed; the essential messages are also checked without it)."""
import pytest

import npnn
from tests.conftest import HAS_CUDA

CASES = {
 'mm2d': lambda L: L.ones(2,3) @ L.ones(4,5),
 'mm': lambda L: L.mm(L.ones(2,3), L.ones(4,5)),
 'bmm': lambda L: L.bmm(L.ones(2,3,4), L.ones(2,5,6)),
 'batched': lambda L: L.ones(2,3,4) @ L.ones(2,5,6),
 'bcast_mat': lambda L: L.ones(2,3,4) @ L.ones(5,6),
 'mat_bcast': lambda L: L.ones(3,4) @ L.ones(2,5,6),
 'vec_mat': lambda L: L.ones(3) @ L.ones(4,5),
 'mat_vec': lambda L: L.ones(2,3) @ L.ones(4),
 'dot': lambda L: L.dot(L.ones(3), L.ones(4)),
 'mv': lambda L: L.mv(L.ones(2,3), L.ones(4)),
 'scalar_mm': lambda L: L.matmul(L.ones(()), L.ones(3)),
 'float_idx': lambda L: L.ones(3)[L.tensor([0., 1.])],
 'float_idx_set': lambda L: L.ones(3).__setitem__(L.tensor([0., 1.]), 1.0),
 'idx_sel_float': lambda L: L.ones(3).index_select(0, L.tensor([0., 1.])),
 'gather_float': lambda L: L.ones(3).gather(0, L.tensor([0., 1.])),
 'scatter_float': lambda L: L.ones(3).scatter(0, L.tensor([0., 1.]), L.ones(2)),
 'dim_sum': lambda L: L.ones(2,3).sum(2),
 'dim_transpose': lambda L: L.ones(2,3).transpose(0,3),
 'dim_unsq': lambda L: L.ones(2,3).unsqueeze(4),
 'dim_cat': lambda L: L.cat([L.ones(2,3)], 5),
 'dim_max': lambda L: L.ones(2,3).max(-3),
 'dim_cumsum': lambda L: L.ones(2,3).cumsum(2),
 'dim_flip': lambda L: L.ones(2,3).flip(3),
 'dim_squeeze': lambda L: L.ones(2,3).squeeze(3),
 'dim_select': lambda L: L.ones(2,3).select(2, 0),
 'dim_sort': lambda L: L.ones(2,3).sort(2),
 'dim_topk': lambda L: L.ones(2,3).topk(1, 3),
 'dim_softmax_argmax': lambda L: L.ones(2,3).argmax(2),
 'dim_gather': lambda L: L.ones(2,3).gather(2, L.zeros(2,3, dtype=L.int64)),
 'dim_index_select': lambda L: L.ones(2,3).index_select(2, L.tensor([0])),
 'dim_norm': lambda L: L.ones(2,3).norm(dim=2),
 'dim_var': lambda L: L.ones(2,3).var(2),
 'dim_scalar': lambda L: L.ones(()).sum(1),
 'dim_permute': lambda L: L.ones(2,3).permute(0, 2),
 'dim_diag': lambda L: L.ones(2,3).diagonal(0, 0, 2),
 'cat_shape': lambda L: L.cat([L.ones(2,3), L.ones(2,4)]),
 'cat_ndim': lambda L: L.cat([L.ones(2,3), L.ones(3)]),
 'cat_empty': lambda L: L.cat([]),
 'cat_0d': lambda L: L.cat([L.ones(()), L.ones(())]),
 'stack_shape': lambda L: L.stack([L.ones(2,3), L.ones(2,4)]),
 'expand': lambda L: L.ones(2,3).expand(2,5),
 'expand_few': lambda L: L.ones(2,3).expand(3),
 'view': lambda L: L.ones(2,3).view(4,2),
 'view_2neg': lambda L: L.ones(2,3).view(-1,-1),
 'view_nc': lambda L: L.ones(2,3).t().view(6),
 'oob': lambda L: L.ones(2,3)[5],
 'oob2': lambda L: L.ones(2,3)[0, -4],
 'too_many': lambda L: L.ones(2,3)[0, 0, 0],
 'bcast_add': lambda L: L.ones(2,3) + L.ones(4),
 'bcast_mul': lambda L: L.ones(2,3) * L.ones(2,2),
 'bcast_where': lambda L: L.where(L.ones(2,3) > 0, L.ones(2,3), L.ones(4)),
 'bcast_maximum': lambda L: L.maximum(L.ones(2,3), L.ones(4)),
 'bcast_cmp': lambda L: L.ones(2,3) < L.ones(4),
 'inplace_bcast': lambda L: L.ones(2,3).add_(L.ones(4,2,3)),
 'inplace_dtype': lambda L: L.ones(3, dtype=L.int64).add_(1.5),
 'mean_int': lambda L: L.ones(3, dtype=L.int64).mean(),
 'sub_bool': lambda L: L.ones(3, dtype=L.bool) - L.ones(3, dtype=L.bool),
 'masked_fill_float_mask': lambda L: L.ones(3).masked_fill(L.ones(3), 0.0),
 'index_oob': lambda L: L.ones(3).index_select(0, L.tensor([5])),
 'gather_oob': lambda L: L.ones(3).gather(0, L.tensor([5])),
 'take_oob': lambda L: L.ones(3).take(L.tensor([5])),
 'split_sizes': lambda L: L.ones(5).split([2, 2]),
 'permute_len': lambda L: L.ones(2,3).permute(0),
 'reshape_bad': lambda L: L.ones(2,3).reshape(5),
 'repeat_few': lambda L: L.ones(2,3).repeat(2),
 'kth_range': lambda L: L.ones(3).kthvalue(4),
 'topk_range': lambda L: L.ones(3).topk(4),
 't_3d': lambda L: L.ones(2,3,4).t(),
 'tensordot_mismatch': lambda L: L.tensordot(L.ones(2,3), L.ones(4,5), 1),
 'einsum_operands': lambda L: L.einsum('ij,jk->ik', L.ones(2,3)),
 'einsum_dims': lambda L: L.einsum('ij,jk->ik', L.ones(2,3), L.ones(3)),
 'mm_dtype': lambda L: L.ones(2,3) @ L.ones(3,2, dtype=L.float64),
 'clamp_none': lambda L: L.clamp(L.ones(3)),
 'diag_3d': lambda L: L.diag(L.ones(2,2,2)),
 'cross_size': lambda L: L.cross(L.ones(2,4), L.ones(2,4), dim=1),
 'narrow_oob': lambda L: L.ones(3).narrow(0, 2, 2),
 'chunk0': lambda L: L.ones(3).chunk(0),
 'unflatten_bad': lambda L: L.ones(2,6).unflatten(1, (4, 2)),
 'flatten_bad': lambda L: L.ones(2,6,3).flatten(2, 1),
 'trace_3d': lambda L: L.ones(2,2,2).trace(),
 'tril_1d': lambda L: L.ones(3).tril(),
 'index_put_float': lambda L: L.ones(3).index_put_((L.tensor([0.]),), L.tensor(1.)),
 'meshgrid_2d': lambda L: L.meshgrid(L.ones(2,2), indexing='ij'),
 'bool_idx_shape': lambda L: L.ones(2,3)[L.tensor([True, False, True])],
 'where_cond': lambda L: L.where(L.ones(3), L.ones(3), L.ones(3)),
}

# messages that differ from PyTorch's only in how an argument is printed
LOOSE = {'tensordot_mismatch', 'meshgrid_2d'}


def _raise(fn, lib):
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001 - the test compares exception types
        return e
    return None


@pytest.mark.parametrize('name', sorted(CASES))
def test_error_matches_torch(name):
    torch = pytest.importorskip('torch')
    fn = CASES[name]
    te, ne = _raise(fn, torch), _raise(fn, npnn)
    assert te is not None, f'{name}: torch does not raise'
    assert ne is not None, f'{name}: npnn does not raise (torch raises {type(te).__name__}: {te})'
    assert type(ne) is type(te), f'{name}: {type(ne).__name__}({ne}) vs torch {type(te).__name__}({te})'
    if name not in LOOSE:
        assert str(ne).split('\n')[0].strip() == str(te).split('\n')[0].strip()


ESSENTIAL = [
    ('mm2d', RuntimeError, r'mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)'),
    ('batched', RuntimeError, r'batch2 tensor to be: \[2, 4\] but got: \[2, 5\]'),
    ('float_idx', IndexError, 'tensors used as indices must be long, int, byte or bool tensors'),
    ('float_idx_set', IndexError, 'tensors used as indices must be long, int, byte or bool tensors'),
    ('dim_sum', IndexError, r'Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)'),
    ('dim_cat', IndexError, 'Dimension out of range'),
    ('cat_shape', RuntimeError, 'Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4'),
    ('expand', RuntimeError, r'The expanded size of the tensor \(5\) must match the existing size \(3\)'),
    ('bcast_add', RuntimeError, r'The size of tensor a \(3\) must match the size of tensor b \(4\)'),
    ('oob', IndexError, 'index 5 is out of bounds for dimension 0 with size 2'),
]


@pytest.mark.parametrize('name,exc,msg', ESSENTIAL, ids=[e[0] for e in ESSENTIAL])
def test_essential_errors(name, exc, msg):
    with pytest.raises(exc, match=msg):
        CASES[name](npnn)


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason='needs a CUDA GPU with CuPy')
@pytest.mark.parametrize('op', ['add', 'mul', 'matmul', 'cat', 'where', 'gather', 'maximum', 'index_cpu_tensor'])
def test_mixed_devices(op):
    a = npnn.ones(2, 2, device='cuda')
    b = npnn.ones(2, 2)
    i = npnn.zeros(2, 2, dtype=npnn.int64)
    fn = {'add': lambda: a + b, 'mul': lambda: b * a, 'matmul': lambda: a @ b, 'cat': lambda: npnn.cat([a, b]),
          'where': lambda: npnn.where(a > 0, a, b), 'index_cpu_tensor': lambda: b[npnn.tensor([0, 1], device='cuda')],
          'gather': lambda: a.gather(1, i), 'maximum': lambda: npnn.maximum(a, b)}[op]
    with pytest.raises(RuntimeError, match='Expected all tensors to be on the same device|indices should be'):
        fn()


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason='needs a CUDA GPU with CuPy')
def test_cpu_scalar_tensor_meets_gpu():
    a = npnn.ones(3, device='cuda')
    r = a * npnn.tensor(2.0)
    assert r.device.type == 'cuda' and float(r.sum()) == 6.0
    # CPU index tensors may index a GPU tensor, as in PyTorch
    assert a[npnn.tensor([0, 2])].device.type == 'cuda'


def test_dtype_errors_use_torch_scalar_type_names():
    torch = pytest.importorskip('torch')
    cases = [
        lambda t: t.nn.functional.linear(t.ones(1, 2, dtype=t.float64), t.ones(2, 2), t.ones(2)),
        lambda t: t.nn.functional.cross_entropy(t.ones(2, 3), t.tensor([0.0, 1.0])),
        lambda t: t.softmax(t.tensor([1, 2]), 0),
    ]
    for case in cases:
        with pytest.raises(RuntimeError) as ours:
            case(npnn)
        with pytest.raises(RuntimeError) as theirs:
            case(torch)
        assert str(ours.value) == str(theirs.value)
