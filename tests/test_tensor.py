"""Tensor attributes, conversion, printing and creation functions."""
import copy
import pickle

import numpy as np
import pytest

import npnn


def test_tensor_inference_and_copy():
    assert npnn.tensor([1., 2.]).dtype is npnn.float32
    assert npnn.tensor([1, 2]).dtype is npnn.int64
    assert npnn.tensor([True]).dtype is npnn.bool
    a64 = np.array([1.0, 2.0])
    t = npnn.tensor(a64)
    assert t.dtype is npnn.float64
    a64[0] = 9
    assert t[0].item() == 1.0  # tensor() copies


def test_from_numpy_and_numpy_share_memory():
    a = np.zeros(3, dtype=np.float32)
    t = npnn.from_numpy(a)
    t.add_(1)
    np.testing.assert_array_equal(a, [1, 1, 1])
    t.numpy()[0] = 5
    assert t[0].item() == 5
    with pytest.raises(TypeError, match='expected np.ndarray'):
        npnn.from_numpy([1, 2])


def test_attributes(device):
    x = npnn.zeros(2, 3, device=device, requires_grad=True)
    assert x.shape == (2, 3) and isinstance(x.shape, npnn.Size) and repr(x.shape) == 'npnn.Size([2, 3])'
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and x.element_size() == 4
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.device.type == device
    assert x.is_floating_point() and x.is_contiguous()
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None
    with pytest.raises(IndexError):
        x.size(2)


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match='floating point'):
        npnn.tensor([1, 2]).requires_grad_()
    x = npnn.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match='leaf variables'):
        y.requires_grad = False


def test_item_tolist_conversions(device):
    x = npnn.tensor([[1.5, 2.0]], device=device)
    assert x.tolist() == [[1.5, 2.0]]
    assert npnn.tensor(3.5).item() == 3.5
    with pytest.raises(RuntimeError, match='cannot be converted to Scalar'):
        x.item()
    assert float(npnn.tensor([2.5])) == 2.5 and int(npnn.tensor(7)) == 7
    assert x.long().dtype is npnn.int64 and x.double().dtype is npnn.float64 and x.half().dtype is npnn.float16
    assert x.int().dtype is npnn.int32 and x.bool().dtype is npnn.bool and x.float().dtype is npnn.float32
    assert x.to(npnn.float64).dtype is npnn.float64
    assert x.to('cpu', npnn.float64).device.type == 'cpu'
    assert x.type() in ('npnn.FloatTensor', 'npnn.cuda.FloatTensor')
    assert x.type(npnn.float64).dtype is npnn.float64
    with pytest.raises(RuntimeError, match='ambiguous'):
        bool(x)


def test_numpy_of_grad_tensor_raises():
    with pytest.raises(RuntimeError, match='requires grad'):
        npnn.ones(2, requires_grad=True).numpy()


def test_to_is_differentiable_across_dtypes():
    x = npnn.ones(2, requires_grad=True)
    y = x.to(npnn.float64) * 3
    y.sum().backward()
    assert x.grad.dtype is npnn.float32
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


@pytest.mark.parametrize('data,expected', [
    ([1., 2., 3.], 'tensor([1., 2., 3.])'),
    ([0.1, 2.25], 'tensor([0.1000, 2.2500])'),
    ([1, 2], 'tensor([1, 2])'),
    ([[1., 2.], [3., 4.]], 'tensor([[1., 2.],\n        [3., 4.]])'),
    ([True, False], 'tensor([ True, False])'),
    (3.0, 'tensor(3.)'),
])
def test_repr_like_torch(data, expected):
    assert repr(npnn.tensor(data)) == expected


def test_repr_matches_torch_for_common_cases():
    torch = pytest.importorskip('torch')
    for data in ([1.5, -2.25, 3.0], [[0.001, 1000.0]], [[1, 20], [300, 4]], [1e-5, 1.0], [0.0, 0.0]):
        got = repr(npnn.tensor(data))
        exp = repr(torch.tensor(data))
        assert got == exp, (got, exp)
    assert repr(npnn.tensor([1., 2.], dtype=npnn.float64)) == 'tensor([1., 2.], dtype=npnn.float64)'
    assert repr(npnn.zeros(0)) == 'tensor([])'


@pytest.mark.parametrize('expr', [
    'tensor([1., 2000.])',            # whole numbers spanning > 1000x: scientific form
    'tensor([0., 1., 1999.])',
    'tensor([1., 1000.])',
    'tensor([3., 5e8])',
    'arange(3000).view(3, 1000)',     # summarised rows: ' ...' between the edge items
    'arange(2000.).view(2, 1000)',
    'arange(1001.) / 7',
])
def test_repr_matches_torch_for_wide_ranges_and_summaries(expr):
    torch = pytest.importorskip('torch')
    assert repr(eval('npnn.' + expr)) == repr(eval('torch.' + expr))


def test_pickle_and_deepcopy():
    x = npnn.tensor([1., 2.], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.requires_grad and y.tolist() == [1., 2.]
    z = copy.deepcopy(x)
    assert z is not x and z.tolist() == [1., 2.] and z.requires_grad
    with pytest.raises(RuntimeError, match='graph leaves'):
        copy.deepcopy(x * 2)


def test_creation_functions(device):
    assert npnn.zeros(2, 3, device=device).shape == (2, 3)
    assert npnn.zeros((2, 3)).shape == (2, 3)
    assert npnn.ones(2, dtype=npnn.int64).dtype is npnn.int64
    assert npnn.full((2,), 7).dtype is npnn.int64
    assert npnn.full((2,), 7.).dtype is npnn.float32
    assert npnn.full((2,), True).dtype is npnn.bool
    np.testing.assert_array_equal(npnn.eye(2, 3).numpy(), np.eye(2, 3))
    assert npnn.arange(5).dtype is npnn.int64 and npnn.arange(0, 1, 0.25).tolist() == [0, 0.25, 0.5, 0.75]
    assert npnn.arange(1., 4.).dtype is npnn.float32
    np.testing.assert_allclose(npnn.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(npnn.logspace(0, 2, 3).numpy(), [1, 10, 100])
    x = npnn.randn(3, 4, device=device)
    assert npnn.zeros_like(x).shape == (3, 4) and npnn.ones_like(x).dtype is npnn.float32
    assert npnn.full_like(x, 2.).tolist()[0][0] == 2.
    assert npnn.empty(2, 2).shape == (2, 2)
    r = npnn.randint(0, 10, (100,))
    assert r.dtype is npnn.int64 and 0 <= r.min().item() and r.max().item() < 10
    assert npnn.randint(5, (3,)).shape == (3,)
    p = npnn.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    with pytest.raises(RuntimeError, match='negative dimension'):
        npnn.zeros(-1)


def test_random_distributions():
    npnn.manual_seed(0)
    u = npnn.rand(20000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.01
    n = npnn.randn(20000)
    assert abs(n.mean().item()) < 0.03 and abs(n.std().item() - 1) < 0.03
    m = npnn.normal(2.0, 3.0, size=(20000,))
    assert abs(m.mean().item() - 2) < 0.1 and abs(m.std().item() - 3) < 0.1
    b = npnn.bernoulli(npnn.full((20000,), 0.3))
    assert abs(b.mean().item() - 0.3) < 0.02
    w = npnn.tensor([0., 1., 3.])
    s = npnn.multinomial(w, 4000, replacement=True)
    counts = np.bincount(s.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 4000 - 0.75) < 0.03
    s2 = npnn.multinomial(npnn.ones(5), 5)
    assert sorted(s2.tolist()) == [0, 1, 2, 3, 4]
    x = npnn.empty(1000).uniform_(-2, 2)
    assert -2 <= x.min().item() and x.max().item() < 2
    y = npnn.empty(5000).normal_(1.0, 0.5)
    assert abs(y.mean().item() - 1) < 0.05


def test_inplace_fill_zero_copy():
    x = npnn.empty(3)
    x.fill_(2.5)
    assert x.tolist() == [2.5, 2.5, 2.5]
    x.zero_()
    assert x.tolist() == [0, 0, 0]
    x.copy_(npnn.tensor([1, 2, 3]))
    assert x.tolist() == [1., 2., 3.] and x.dtype is npnn.float32
    with pytest.raises(RuntimeError):
        npnn.zeros(3, dtype=npnn.int64).add_(1.5)


def test_out_of_place_result_type_inplace_broadcast_error():
    x = npnn.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(npnn.ones(2, 3))


def test_grad_assignment_checks():
    x = npnn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='different size'):
        x.grad = npnn.zeros(2)
    x.grad = npnn.ones(3)
    del x.grad
    assert x.grad is None


def test_bool_ops_and_comparisons(device):
    a = npnn.tensor([1, 2, 3], device=device)
    m = a > 1
    assert m.dtype is npnn.bool and m.tolist() == [False, True, True]
    assert (~m).tolist() == [True, False, False]
    assert (m & (a < 3)).tolist() == [False, True, False]
    assert (a == 2).any().item() and not (a == 5).any().item()
    assert npnn.equal(a, npnn.tensor([1, 2, 3], device=device))


def test_inplace_shape_methods():
    x = npnn.ones(2, 1, 3)
    x.squeeze_(1)
    assert x.shape == (2, 3)
    x.unsqueeze_(0)
    assert x.shape == (1, 2, 3)
    x.transpose_(1, 2)
    assert x.shape == (1, 3, 2)
    m = npnn.arange(6.).reshape(2, 3)
    m.t_()
    assert m.tolist() == [[0., 3.], [1., 4.], [2., 5.]]
    w = npnn.ones(3, requires_grad=True)
    y = w * 2
    y.unsqueeze_(0)
    assert y.shape == (1, 3) and y.grad_fn is not None
    y.sum().backward()
    assert w.grad.tolist() == [2., 2., 2.]
    r = npnn.arange(4.)
    r.resize_(2, 3)
    assert r.shape == (2, 3) and r.reshape(-1)[:4].tolist() == [0., 1., 2., 3.]


def test_softmax_is_a_tensor_method_and_top_level():
    torch = pytest.importorskip('torch')
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(npnn.tensor(a).softmax(1).numpy(), torch.tensor(a).softmax(1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(npnn.log_softmax(npnn.tensor(a), dim=0).numpy(),
                               torch.log_softmax(torch.tensor(a), dim=0).numpy(), rtol=1e-5, atol=1e-6)


def test_top_level_layer_functions_match_functional():
    x = npnn.randn(1, 2, 6, 6)
    w = npnn.randn(3, 2, 3, 3)
    np.testing.assert_allclose(npnn.conv2d(x, w, padding=1).numpy(),
                               npnn.nn.functional.conv2d(x, w, padding=1).numpy())
    assert npnn.max_pool2d(x, 2).shape == (1, 2, 3, 3)
    assert npnn.batch_norm is npnn.nn.functional.batch_norm


def test_reductions_accept_numpy_keyword_names():
    x = npnn.arange(6.).view(2, 3)
    assert x.sum(axis=1).tolist() == [3.0, 12.0]
    assert npnn.sum(x, axis=0, keepdims=True).shape == (1, 3)
    assert x.mean(axis=-1, keepdims=True).shape == (2, 1)
    assert x.max(axis=1).indices.tolist() == [2, 2]
    assert x.argmax(axis=0).tolist() == [1, 1, 1]
    assert npnn.cat([x, x], axis=1).shape == (2, 6) and npnn.stack([x, x], axis=0).shape == (2, 2, 3)
    assert x.std(axis=1).shape == (2,) and x.softmax(axis=1).shape == (2, 3)
    with pytest.raises(TypeError):
        x.sum(dim=0, axis=1)
    y = npnn.ones(2, 3, requires_grad=True)
    y.sum(axis=1).sum().backward()
    assert y.grad.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize('expr', [
    '[np.ones(2), np.zeros(2)]', '[np.float64(1.0)]', '[[np.float64(1.0), 2.0]]', '[np.int32(1), 2]',
    '[np.float16(1), 2.0]', '[np.ones(2, dtype=np.int32), [1., 2.]]', '[np.uint8(1), np.int8(1)]',
    '[np.float32(1), 2]', '[1, 2.5]', '[[1, 2]]', '[True, False]',
])
def test_tensor_from_sequences_with_numpy_leaves_infers_like_torch(expr):
    torch = pytest.importorskip('torch')
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = str(torch.tensor(eval(expr)).dtype).split('.')[-1]
    assert str(npnn.tensor(eval(expr)).dtype).split('.')[-1] == expected


def test_tensor_from_sequences_of_tensors_keeps_their_dtype():
    assert npnn.tensor([npnn.tensor(1., dtype=npnn.float64), 2.0]).dtype is npnn.float64
    assert npnn.tensor([npnn.tensor(1, dtype=npnn.int32), True]).dtype is npnn.int32
    assert npnn.tensor([npnn.tensor(1.), npnn.tensor(2.)]).tolist() == [1.0, 2.0]
    assert npnn.tensor([np.ones(2), np.zeros(2)]).dtype is npnn.float64


def test_promote_types_follows_torch_categories():
    assert npnn.promote_types(npnn.int64, npnn.float32) is npnn.float32
    assert npnn.promote_types(npnn.float16, npnn.int64) is npnn.float16
    assert npnn.promote_types(npnn.uint8, npnn.int8) is npnn.int16
    assert npnn.promote_types(npnn.bool, npnn.int32) is npnn.int32
    assert npnn.promote_types(npnn.float32, npnn.float64) is npnn.float64
