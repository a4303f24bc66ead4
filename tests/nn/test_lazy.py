"""Lazy modules: placeholders until the first call, shape inference, initialisation as the regular layer,
class change, state dicts, conversions before the first call, optimizers, copies and errors."""
import copy
import math
import pickle

import numpy as np
import pytest

import npnn
from npnn import nn
from npnn.nn.parameter import UninitializedParameter, UninitializedBuffer, is_lazy
from npnn.nn.modules.lazy import LazyModuleMixin
from tests.helpers import to_numpy

# (lazy class, its constructor args, the regular class, the regular constructor args given in_channels, input shape)
CASES = [
    (nn.LazyLinear, (3,), nn.Linear, (5, 3), (2, 5)),
    (nn.LazyConv1d, (4, 3), nn.Conv1d, (5, 4, 3), (2, 5, 8)),
    (nn.LazyConv2d, (4, 3), nn.Conv2d, (5, 4, 3), (2, 5, 6, 6)),
    (nn.LazyConv3d, (4, 2), nn.Conv3d, (5, 4, 2), (1, 5, 3, 4, 4)),
    (nn.LazyConvTranspose1d, (4, 3), nn.ConvTranspose1d, (5, 4, 3), (2, 5, 6)),
    (nn.LazyConvTranspose2d, (4, 3), nn.ConvTranspose2d, (5, 4, 3), (2, 5, 4, 4)),
    (nn.LazyConvTranspose3d, (4, 2), nn.ConvTranspose3d, (5, 4, 2), (1, 5, 3, 3, 3)),
    (nn.LazyBatchNorm1d, (), nn.BatchNorm1d, (5,), (4, 5)),
    (nn.LazyBatchNorm2d, (), nn.BatchNorm2d, (5,), (4, 5, 3, 3)),
    (nn.LazyBatchNorm3d, (), nn.BatchNorm3d, (5,), (2, 5, 2, 3, 3)),
    (nn.LazyInstanceNorm1d, (), nn.InstanceNorm1d, (5,), (2, 5, 7)),
    (nn.LazyInstanceNorm2d, (), nn.InstanceNorm2d, (5,), (2, 5, 4, 4)),
    (nn.LazyInstanceNorm3d, (), nn.InstanceNorm3d, (5,), (2, 5, 2, 3, 3)),
]
IDS = [c[0].__name__ for c in CASES]


def _regular_kwargs(lazy_cls):
    # the lazy instance norms default to affine=True, track_running_stats=True (as in PyTorch)
    if 'InstanceNorm' in lazy_cls.__name__:
        return {'affine': True, 'track_running_stats': True}
    return {}


@pytest.mark.parametrize('lazy_cls, args, cls, reg_args, shape', CASES, ids=IDS)
def test_first_call_materializes_and_becomes_regular(lazy_cls, args, cls, reg_args, shape, device):
    m = lazy_cls(*args).to(device)
    assert isinstance(m, LazyModuleMixin) and m.has_uninitialized_params()
    params = dict(m.named_parameters())
    assert params and all(isinstance(p, UninitializedParameter) for p in params.values())
    x = npnn.randn(*shape, device=device)
    y = m(x)
    assert type(m) is cls and not isinstance(m, LazyModuleMixin)
    assert not any(is_lazy(t) for t in list(m.parameters()) + list(m.buffers()))
    ref = cls(*reg_args, **_regular_kwargs(lazy_cls))
    # same objects as before the call, now real parameters with the regular layer's names and shapes
    for name, p in m.named_parameters():
        assert p is params[name] and type(p) is nn.Parameter and p.device == x.device
        assert tuple(p.shape) == tuple(getattr(ref, name).shape)
    assert list(m.state_dict()) == list(ref.state_dict())
    assert repr(m) == repr(ref)
    # the lazy machinery is gone: no hooks left, later calls take the plain path
    assert not m._forward_pre_hooks and not m._load_state_dict_pre_hooks and 'forward' not in m.__dict__
    assert not hasattr(m, '_initialize_hook') and not hasattr(m, '_load_hook')
    ref.load_state_dict(m.state_dict())
    ref.to(device)
    np.testing.assert_allclose(to_numpy(m(x)), to_numpy(ref(x)), rtol=1e-6, atol=1e-6)
    assert tuple(y.shape) == tuple(ref(x).shape)


@pytest.mark.parametrize('lazy_cls, args, cls, reg_args, shape', CASES, ids=IDS)
def test_initialised_exactly_as_the_regular_layer(lazy_cls, args, cls, reg_args, shape):
    x = npnn.randn(*shape)
    npnn.manual_seed(123)
    ref = cls(*reg_args, **_regular_kwargs(lazy_cls))
    npnn.manual_seed(123)
    m = lazy_cls(*args)
    m(x) if 'Norm' not in lazy_cls.__name__ else m.eval()(x)  # eval: running stats stay as initialised
    for (name, a), (_, b) in zip(ref.state_dict().items(), m.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=name)


@pytest.mark.parametrize('lazy_cls, args', [(nn.LazyLinear, (64,)), (nn.LazyConv2d, (64, 3)),
                                            (nn.LazyConvTranspose2d, (64, 3))])
def test_init_distribution(lazy_cls, args):
    m = lazy_cls(*args)
    m(npnn.randn(1, 48) if lazy_cls is nn.LazyLinear else npnn.randn(1, 48, 5, 5))
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    fan_in = w.shape[1] * int(np.prod(w.shape[2:]))
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias both give 1/sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_batchnorm_initial_values():
    m = nn.LazyBatchNorm2d()
    m.eval()
    m(npnn.randn(2, 3, 4, 4))
    np.testing.assert_array_equal(to_numpy(m.weight), np.ones(3, np.float32))
    np.testing.assert_array_equal(to_numpy(m.bias), np.zeros(3, np.float32))
    np.testing.assert_array_equal(to_numpy(m.running_mean), np.zeros(3, np.float32))
    np.testing.assert_array_equal(to_numpy(m.running_var), np.ones(3, np.float32))
    assert int(m.num_batches_tracked) == 0


def test_norm_options():
    m = nn.LazyBatchNorm1d(affine=False, track_running_stats=False)
    assert not m.has_uninitialized_params() and m.weight is None and m.running_mean is None
    assert list(m.state_dict()) == []
    m(npnn.randn(4, 3))
    assert type(m) is nn.BatchNorm1d and m.num_features == 0  # nothing to infer, as in PyTorch
    m = nn.LazyBatchNorm1d(bias=False)
    m(npnn.randn(4, 3))
    assert m.bias is None and tuple(m.weight.shape) == (3,)
    m = nn.LazyInstanceNorm1d(affine=False, track_running_stats=False)
    x = npnn.randn(2, 3, 5)
    with pytest.warns(UserWarning, match='does not match num_features'):  # num_features stays 0, as in PyTorch
        y = m(x)
    np.testing.assert_allclose(to_numpy(y), to_numpy(nn.InstanceNorm1d(3)(x)), rtol=1e-6)


def test_conv_options_and_unbatched_input():
    m = nn.LazyConv2d(6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=3, bias=False, padding_mode='reflect')
    assert m.bias is None and m.has_uninitialized_params()
    y = m(npnn.randn(3, 9, 9))  # unbatched (C, H, W): in_channels from dim 0
    assert type(m) is nn.Conv2d and m.in_channels == 3 and tuple(m.weight.shape) == (6, 1, 3, 2)
    assert tuple(y.shape) == (6, 5, 5)
    t = nn.LazyConvTranspose1d(4, 3, groups=2)
    t(npnn.randn(1, 6, 5), output_size=[7])  # keyword arguments reach initialize_parameters too
    assert tuple(t.weight.shape) == (6, 2, 3)


def test_forward_keyword_arguments():
    m = nn.LazyConvTranspose2d(2, 3, stride=2)
    y = m(npnn.randn(1, 3, 4, 4), output_size=(10, 10))
    assert tuple(y.shape) == (1, 2, 10, 10) and m.in_channels == 3


def test_linear_infers_last_dim():
    m = nn.LazyLinear(2, bias=False)
    y = m(npnn.randn(3, 4, 7))
    assert m.in_features == 7 and m.bias is None and tuple(y.shape) == (3, 4, 2)


# --- errors --------------------------------------------------------------------------------------------------

def test_placeholder_use_errors():
    w = nn.LazyLinear(3).weight
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        w.shape
    for op in (lambda: w.numel(), lambda: w + 1, lambda: w.sum(), lambda: w.detach(), lambda: w.clone(),
               lambda: w.zero_(), lambda: len(w), lambda: w[0], lambda: w.tolist(), lambda: npnn.ones(2) @ w,
               lambda: npnn.exp(w), lambda: w.data * 2):
        with pytest.raises(ValueError, match='Attempted to use an uninitialized parameter'):
            op()
    b = UninitializedBuffer()
    with pytest.raises(ValueError, match='uninitialized buffer in .*UninitializedBuffer'):
        b.mean()
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
        nn.LazyLinear(3).share_memory()
    # what stays allowed: dtype/device queries, size, requires_grad, hashing, repr
    assert w.dtype == npnn.float32 and w.device == npnn.device('cpu') and tuple(w.size()) == (0,)
    assert w.requires_grad and w.is_leaf and w.grad is None and w in [w] and w.is_floating_point()
    assert repr(w) == str(w) == f'{w}' == '<UninitializedParameter>'
    assert repr(b) == '<UninitializedBuffer>'


def test_bad_inputs():
    with pytest.raises(RuntimeError, match=r'Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d, '
                                           r'but got input of size: npnn.Size\(\[3, 5\]\)'):
        nn.LazyConv2d(4, 3)(npnn.randn(3, 5))
    m = nn.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ValueError, match='in_channels must be divisible by groups'):
        m(npnn.randn(1, 3, 5, 5))
    assert type(m) is nn.LazyConv2d and m.has_uninitialized_params()
    m(npnn.randn(1, 4, 5, 5))  # still lazy: a good input initialises it
    assert type(m) is nn.Conv2d and tuple(m.weight.shape) == (4, 2, 3, 3)
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for LazyConvTranspose2d'):
        nn.LazyConvTranspose2d(3, 2, padding_mode='reflect')
    with pytest.raises(TypeError):
        nn.LazyLinear(3)()


def test_incomplete_initialization_and_base_mixin():
    class Half(LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.a = UninitializedParameter()
            self.b = UninitializedParameter()

        def initialize_parameters(self, x):
            self.a.materialize(x.shape)

        def forward(self, x):
            return x * self.a

    with pytest.raises(RuntimeError, match='module Half has not been fully initialized'):
        Half()(npnn.ones(2))

    class NoInit(LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

    with pytest.raises(NotImplementedError, match='initialize_parameters is not implemented for NoInit'):
        NoInit()(npnn.ones(2))


def test_custom_lazy_module_without_cls_to_become():
    class Scale(LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

        def initialize_parameters(self, x):
            with npnn.no_grad():
                self.w.materialize(x.shape[-1:])
                self.w.fill_(2.0)

        def forward(self, x):
            return x * self.w

    m = Scale()
    np.testing.assert_array_equal(to_numpy(m(npnn.ones(2, 3))), np.full((2, 3), 2, np.float32))
    assert type(m) is Scale and not m.has_uninitialized_params() and not m._forward_pre_hooks


def test_data_parallel_replicate_refused():
    with pytest.raises(RuntimeError, match="Modules with uninitialized parameters can't be used with `DataParallel`"):
        nn.LazyLinear(2)._replicate_for_data_parallel()


# --- hooks ---------------------------------------------------------------------------------------------------

def test_pre_hooks_registered_later_see_the_initialized_module():
    m = nn.LazyLinear(2)
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append((type(mod).__name__, tuple(mod.weight.shape))))
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_hook(lambda mod, args, out: seen.append('post'))
    x = npnn.randn(4, 3)
    y = m(x)
    assert seen == [('Linear', (2, 3)), 'post']
    np.testing.assert_allclose(to_numpy(y), to_numpy(npnn.nn.functional.linear(x * 2, m.weight, m.bias)),
                               rtol=1e-6)
    assert len(m._forward_pre_hooks) == 2 and 'forward' not in m.__dict__
    h1.remove()  # the user's handles still work
    m(x)
    assert seen == [('Linear', (2, 3)), 'post', 'post']


def test_failing_pre_hook_after_initialization_is_retried_cleanly():
    m = nn.LazyLinear(2)
    calls = []

    def flaky(mod, args):
        calls.append(1)
        if len(calls) == 1:
            raise KeyError('boom')

    m.register_forward_pre_hook(flaky)
    with pytest.raises(KeyError):
        m(npnn.randn(1, 3))
    assert type(m) is nn.Linear
    y = m(npnn.randn(1, 3))
    assert tuple(y.shape) == (1, 2) and len(m._forward_pre_hooks) == 1 and 'forward' not in m.__dict__


def test_instance_forward_is_kept():
    m = nn.LazyLinear(2)
    m.forward = lambda x: x.sum()
    y = m(npnn.ones(2, 3))
    assert float(y) == 6.0 and tuple(m.weight.shape) == (2, 3) and m.__dict__['forward'] is not None


# --- state dicts -----------------------------------------------------------------------------------------------

def test_state_dict_shows_placeholders():
    m = nn.LazyBatchNorm1d()
    sd = m.state_dict()
    assert list(sd) == ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    assert sd['weight'] is m.weight and sd['running_mean'] is m.running_mean
    assert type(sd['num_batches_tracked']) is npnn.Tensor and sd['num_batches_tracked'] is not m.num_batches_tracked
    seq = nn.Sequential(nn.LazyLinear(3), nn.ReLU(), nn.Linear(3, 1))
    assert [type(v).__name__ for v in seq.state_dict().values()] == ['UninitializedParameter'] * 2 + ['Tensor'] * 2


def test_load_state_dict_materializes():
    src = nn.Conv2d(3, 4, 3)
    m = nn.LazyConv2d(4, 3)
    optimizer = npnn.optim.SGD(m.parameters(), lr=0.1)
    assert repr(m.load_state_dict(src.state_dict())) == '<All keys matched successfully>'
    assert type(m) is nn.LazyConv2d and not m.has_uninitialized_params()
    np.testing.assert_array_equal(to_numpy(m.weight), to_numpy(src.weight))
    assert type(m.weight) is nn.Parameter and m.weight is optimizer.param_groups[0]['params'][0]
    x = npnn.randn(1, 3, 5, 5)
    y = m(x)  # the loaded values are kept (not re-initialised)
    assert type(m) is nn.Conv2d
    np.testing.assert_array_equal(to_numpy(y), to_numpy(src(x)))


def test_load_state_dict_into_lazy_linear_sets_in_features():
    src = nn.Linear(6, 2)
    m = nn.LazyLinear(2)
    m.load_state_dict(src.state_dict())
    assert m.in_features == 0
    x = npnn.randn(3, 6)
    np.testing.assert_array_equal(to_numpy(m(x)), to_numpy(src(x)))
    assert type(m) is nn.Linear and m.in_features == 6
    m2 = nn.LazyLinear(2)
    m2.load_state_dict(src.state_dict())
    with pytest.raises(AssertionError, match='The in_features inferred from input: 5 is not equal to in_features '
                                             'from self.weight: 6'):
        m2(npnn.randn(3, 5))


def test_load_state_dict_batchnorm_buffers():
    src = nn.BatchNorm1d(3)
    src(npnn.randn(8, 3))
    m = nn.LazyBatchNorm1d()
    m.load_state_dict(src.state_dict())
    assert type(m.running_mean) is npnn.Tensor and int(m.num_batches_tracked) == 1
    np.testing.assert_array_equal(to_numpy(m.running_var), to_numpy(src.running_var))


def test_failed_load_changes_nothing():
    m = nn.LazyLinear(2)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        m.load_state_dict({'weight': npnn.ones(2, 3)})
    assert m.has_uninitialized_params() and is_lazy(m.weight)
    # non-strict: what is there is loaded
    m.load_state_dict({'weight': npnn.ones(2, 3)}, strict=False)
    assert not is_lazy(m.weight) and is_lazy(m.bias)


def test_load_placeholders():
    m = nn.LazyLinear(2)
    assert repr(m.load_state_dict(nn.LazyLinear(2).state_dict())) == '<All keys matched successfully>'
    assert m.has_uninitialized_params()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        nn.Linear(3, 2).load_state_dict(nn.LazyLinear(2).state_dict())


def test_load_state_dict_assign():
    src = nn.Linear(3, 2)
    m = nn.LazyLinear(2)
    m.load_state_dict(src.state_dict(), assign=True)
    assert type(m.weight) is nn.Parameter
    np.testing.assert_array_equal(to_numpy(m.weight), to_numpy(src.weight))


# --- conversions before the first call ------------------------------------------------------------------------

def test_dtype_conversion_before_first_call():
    m = nn.LazyBatchNorm1d().double()
    assert m.weight.dtype == npnn.float64 and m.running_mean.dtype == npnn.float64
    assert is_lazy(m.weight) and type(m.running_mean) is UninitializedBuffer
    assert m.num_batches_tracked.dtype == npnn.int64
    m(npnn.randn(4, 3, dtype=npnn.float64))
    assert m.weight.dtype == m.running_var.dtype == npnn.float64
    lin = nn.LazyLinear(2).to(npnn.float64)
    lin(npnn.randn(1, 3, dtype=npnn.float64))
    assert lin.weight.dtype == lin.bias.dtype == npnn.float64
    assert nn.LazyLinear(2).half().weight.dtype == npnn.float16
    assert nn.LazyLinear(2, dtype=npnn.float64).float().weight.dtype == npnn.float32
    assert nn.LazyLinear(2).type(npnn.float64).weight.dtype == npnn.float64


def test_device_placement_before_first_call(device):
    m = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    m.to(device)
    assert all(p.device == npnn.device(device) for p in m.parameters())
    y = m(npnn.randn(2, 3, 6, 6, device=device))
    assert y.device == npnn.device(device) and tuple(y.shape) == (2, 2)
    assert all(p.device == npnn.device(device) for p in list(m.parameters()) + list(m.buffers()))
    assert [type(c).__name__ for c in m] == ['Conv2d', 'BatchNorm2d', 'ReLU', 'Flatten', 'Linear']
    assert m[4].in_features == 4 * 4 * 4


def test_constructor_device_and_dtype(device):
    m = nn.LazyConv1d(2, 3, device=device, dtype=npnn.float64)
    assert m.weight.device == npnn.device(device) and m.weight.dtype == npnn.float64
    m(npnn.randn(1, 3, 5, device=device, dtype=npnn.float64))
    assert m.weight.device == npnn.device(device) and m.bias.dtype == npnn.float64


def test_to_empty_before_first_call():
    m = nn.Sequential(nn.LazyBatchNorm1d(dtype=npnn.float64)).to_empty(device='cpu')
    bn = m[0]
    assert type(bn.running_mean) is UninitializedBuffer and is_lazy(bn.weight) and bn.weight.dtype == npnn.float64
    with pytest.raises(ValueError, match='Attempted to use an uninitialized parameter'):
        bn.weight * 2
    m(npnn.randn(4, 3, dtype=npnn.float64))
    assert type(bn) is nn.BatchNorm1d and tuple(bn.running_var.shape) == (3,)


def test_requires_grad_before_first_call():
    m = nn.LazyLinear(2).requires_grad_(False)
    m(npnn.randn(1, 3))
    assert not m.weight.requires_grad and not m.bias.requires_grad


# --- optimizers, copies ----------------------------------------------------------------------------------------

def test_optimizer_built_before_first_call():
    m = nn.LazyLinear(2)
    sgd = npnn.optim.SGD(m.parameters(), lr=0.5)
    x = npnn.randn(4, 3)
    m(x).sum().backward()
    w0, g = to_numpy(m.weight).copy(), to_numpy(m.weight.grad)
    sgd.step()
    np.testing.assert_allclose(to_numpy(m.weight), w0 - 0.5 * g, rtol=1e-6)
    m2 = nn.LazyConv1d(2, 3)
    adam = npnn.optim.Adam(m2.parameters(), lr=0.1)
    m2(npnn.randn(1, 4, 6)).sum().backward()
    adam.step()
    assert tuple(adam.state[m2.weight]['exp_avg'].shape) == (2, 4, 3)


def test_deepcopy_and_pickle_before_first_call():
    m = nn.LazyLinear(2, dtype=npnn.float64)
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert type(c) is nn.LazyLinear and is_lazy(c.weight) and c.weight.dtype == npnn.float64
        c(npnn.randn(1, 5, dtype=npnn.float64))
        assert type(c) is nn.Linear and tuple(c.weight.shape) == (2, 5) and not c._forward_pre_hooks
    assert type(m) is nn.LazyLinear and m.has_uninitialized_params() and len(m._forward_pre_hooks) == 1
    m(npnn.randn(1, 4, dtype=npnn.float64))
    assert m.in_features == 4


def test_gradcheck_after_initialization():
    m = nn.LazyConv1d(2, 3, dtype=npnn.float64)
    x = npnn.randn(1, 3, 6, dtype=npnn.float64, requires_grad=True)
    m(x)
    assert npnn.autograd.gradcheck(lambda inp, w, b: npnn.nn.functional.conv1d(inp, w, b), (x, m.weight, m.bias))
    bn = nn.LazyBatchNorm1d(dtype=npnn.float64)
    bn(npnn.randn(4, 3, dtype=npnn.float64))
    x2 = npnn.randn(4, 3, dtype=npnn.float64, requires_grad=True)
    assert npnn.autograd.gradcheck(lambda inp: bn(inp), (x2,))


# --- the placeholders ------------------------------------------------------------------------------------------

def test_uninitialized_parameter_and_buffer():
    p = UninitializedParameter(requires_grad=False, dtype=npnn.float64)
    assert isinstance(p, nn.Parameter) and is_lazy(p) and not p.requires_grad
    p.materialize(4)
    assert type(p) is nn.Parameter and tuple(p.shape) == (4,) and p.dtype == npnn.float64 and not p.requires_grad
    q = UninitializedParameter()
    q.materialize((2, 3), dtype=npnn.float64)
    assert q.requires_grad and q.dtype == npnn.float64 and tuple(q.shape) == (2, 3)
    b = UninitializedBuffer()
    assert isinstance(b, npnn.Tensor) and not isinstance(b, nn.Parameter) and not b.requires_grad
    b.materialize((2,))
    assert type(b) is npnn.Tensor and not is_lazy(b) and not is_lazy(npnn.ones(1))
    c = copy.deepcopy(UninitializedBuffer(dtype=npnn.float64))
    assert type(c) is UninitializedBuffer and c.dtype == npnn.float64
    assert nn.UninitializedParameter is UninitializedParameter and nn.UninitializedBuffer is UninitializedBuffer
    w = UninitializedParameter()
    assert w.to(npnn.float32) is w and w.cpu() is w
    d = w.to(npnn.float64)
    assert type(d) is UninitializedParameter and d.dtype == npnn.float64 and d.requires_grad
