"""Module API: registration rules, iterators, modes, conversions, state dicts, hooks, repr, pickling."""
import copy
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import npnn
from npnn import nn


class Lin(nn.Module):
    """A tiny linear layer (independent of the library's layers)."""

    def __init__(self, i, o, bias=True):
        super().__init__()
        self.in_features, self.out_features = i, o
        self.weight = nn.Parameter(npnn.randn(o, i) * 0.5)
        self.bias = nn.Parameter(npnn.zeros(o)) if bias else None
        if not bias:
            self.register_parameter('bias', None)

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return f'in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}'


class Act(nn.Module):
    def forward(self, x):
        return x.tanh()


class Norm(nn.Module):
    """Has persistent and non-persistent buffers, and a version-adapting _load_from_state_dict."""

    _version = 2

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(npnn.ones(n))
        self.register_buffer('running_mean', npnn.zeros(n))
        self.register_buffer('num_batches_tracked', npnn.tensor(0))
        self.register_buffer('scratch', npnn.zeros(n), persistent=False)

    def forward(self, x):
        return (x - self.running_mean) * self.weight

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        key = prefix + 'num_batches_tracked'
        if key not in state_dict:
            state_dict[key] = npnn.tensor(0)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Lin(4, 5)
        self.act = Act()
        self.norm = Norm(5)
        self.head = nn.Sequential(Lin(5, 3), Act())
        self.scale = nn.Parameter(npnn.ones(1))

    def forward(self, x):
        return self.head(self.norm(self.act(self.fc1(x)))) * self.scale


# --- registration ----------------------------------------------------------------------------------------------

def test_assigning_parameters_modules_and_buffers_registers_them():
    m = nn.Module()
    m.w = nn.Parameter(npnn.zeros(2))
    m.sub = Act()
    m.buf = nn.Buffer(npnn.ones(3))
    m.tmp = nn.Buffer(npnn.ones(1), persistent=False)
    m.plain = npnn.ones(2)
    assert list(m._parameters) == ['w'] and list(m._modules) == ['sub'] and list(m._buffers) == ['buf', 'tmp']
    assert 'plain' in m.__dict__ and 'w' not in m.__dict__
    assert list(m.state_dict()) == ['w', 'buf']
    assert m.w is m._parameters['w'] and m.sub is m._modules['sub']


def test_assigning_none_and_plain_tensor_to_a_parameter_name():
    m = Lin(2, 3)
    with pytest.raises(TypeError) as e:
        m.weight = npnn.zeros(3, 2)
    assert str(e.value) == ("cannot assign 'npnn.FloatTensor' as parameter 'weight' (torch.nn.Parameter or None "
                            "expected)")
    m.bias = None
    assert 'bias' in m._parameters and m.bias is None
    assert [n for n, _ in m.named_parameters()] == ['weight']
    with pytest.raises(TypeError, match="as child module 'sub'"):
        m.sub = Act()
        m.sub = 3
    m.sub = None
    assert m._modules['sub'] is None
    # a plain tensor assigned to a buffer name replaces the buffer
    n = Norm(2)
    n.running_mean = npnn.ones(2)
    assert np.array_equal(n.state_dict()['running_mean'].numpy(), [1, 1])
    with pytest.raises(TypeError, match="as buffer 'running_mean'"):
        n.running_mean = 5


def test_reassigning_kind_moves_the_name_between_dicts():
    m = nn.Module()
    m.x = nn.Parameter(npnn.zeros(1))
    m.x = None  # stays a parameter slot
    m.__dict__.pop('x', None)
    del m.x
    m.x = Act()
    assert 'x' in m._modules and 'x' not in m._parameters
    del m.x
    assert not hasattr(m, 'x')


def test_register_errors():
    m = Lin(2, 2)
    with pytest.raises(KeyError, match='contain'):
        m.register_parameter('a.b', nn.Parameter(npnn.zeros(1)))
    with pytest.raises(KeyError, match='empty string'):
        m.register_buffer('', npnn.zeros(1))
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_parameter('forward', None)
    with pytest.raises(TypeError, match=r"cannot assign 'npnn.FloatTensor' object to parameter 'p'"):
        m.register_parameter('p', npnn.zeros(1))
    with pytest.raises(TypeError, match='cannot assign .* object to buffer'):
        m.register_buffer('b', [1, 2])
    with pytest.raises(TypeError, match='buffer name should be a string'):
        m.register_buffer(1, npnn.zeros(1))
    with pytest.raises(TypeError, match='is not a Module subclass'):
        m.add_module('x', 3)
    with pytest.raises(KeyError, match='module name can'):
        m.add_module('a.b', Act())
    x = npnn.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match='Cannot assign non-leaf Tensor'):
        m.register_parameter('q', nn.Parameter(npnn.ones(1)) if False else _non_leaf_param(x))

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(npnn.zeros(1))
    with pytest.raises(AttributeError, match='before Module.__init__'):
        Early()


def _non_leaf_param(x):
    p = nn.Parameter(npnn.zeros(2))
    p._node = (x * 2)._node  # a parameter that has history (only constructible by hand)
    return p


def test_add_module_register_module_and_getattr_errors():
    m = nn.Module()
    m.add_module('a', Act())
    m.register_module('b', Lin(1, 1))
    assert [n for n, _ in m.named_children()] == ['a', 'b']
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'zz'"):
        m.zz
    assert {'a', 'b', 'forward', 'training'} <= set(dir(m))


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule('head.0') is net.head[0]
    assert net.get_submodule('') is net
    assert net.get_parameter('head.0.weight') is net.head[0].weight
    assert net.get_parameter('scale') is net.scale
    assert net.get_buffer('norm.running_mean') is net.norm.running_mean
    with pytest.raises(AttributeError, match='Sequential has no attribute `7`'):
        net.get_submodule('head.7')
    with pytest.raises(AttributeError, match='`scale` is not an nn.Module'):
        net.get_submodule('scale.x')
    with pytest.raises(AttributeError, match='`running_mean` is not an nn.Parameter'):
        net.get_parameter('norm.running_mean')
    with pytest.raises(AttributeError, match='`weight` is not a buffer'):
        net.get_buffer('norm.weight')
    new = Act()
    net.set_submodule('head.1', new)
    assert net.head[1] is new


# --- iteration ---------------------------------------------------------------------------------------------------

def test_named_parameters_buffers_modules_order_and_prefix():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ['scale', 'fc1.weight', 'fc1.bias', 'norm.weight',
                                                      'head.0.weight', 'head.0.bias']
    assert [n for n, _ in net.named_parameters(prefix='model')][0] == 'model.scale'
    assert [n for n, _ in net.named_parameters(recurse=False)] == ['scale']
    assert [n for n, _ in net.named_buffers()] == ['norm.running_mean', 'norm.num_batches_tracked',
                                                   'norm.scratch']
    assert [n for n, _ in net.named_modules()] == ['', 'fc1', 'act', 'norm', 'head', 'head.0', 'head.1']
    assert [n for n, _ in net.named_children()] == ['fc1', 'act', 'norm', 'head']
    assert len(list(net.modules())) == 7 and len(list(net.children())) == 4
    assert len(list(net.parameters())) == 6 and len(list(net.buffers())) == 3


def test_shared_parameters_and_modules_are_deduplicated():
    m = nn.Module()
    shared = Lin(2, 2)
    m.a = shared
    m.b = shared
    m.c = Lin(2, 2)
    m.c.weight = shared.weight
    assert [n for n, _ in m.named_parameters()] == ['a.weight', 'a.bias', 'c.bias']
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == \
        ['a.weight', 'a.bias', 'b.weight', 'b.bias', 'c.weight', 'c.bias']
    assert [n for n, _ in m.named_modules()] == ['', 'a', 'c']
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ['', 'a', 'b', 'c']
    # state_dict keeps every name
    assert list(m.state_dict()) == ['a.weight', 'a.bias', 'b.weight', 'b.bias', 'c.weight', 'c.bias']


# --- modes and gradients -----------------------------------------------------------------------------------------

def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.head.train(False)
    assert net.training and not net.head[0].training
    with pytest.raises(ValueError, match='training mode is expected to be boolean'):
        net.train('yes')


def test_freezing_a_layer_keeps_its_grad_none_and_the_optimizer_skips_it():
    net = Net()
    net.fc1.requires_grad_(False)
    assert not net.fc1.weight.requires_grad and net.head[0].weight.requires_grad
    before = net.fc1.weight.detach().clone()
    opt = npnn.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(2):
        opt.zero_grad()
        net(npnn.randn(6, 4)).sum().backward()
        opt.step()
    assert net.fc1.weight.grad is None and net.fc1.bias.grad is None
    assert net.head[0].weight.grad is not None
    assert np.array_equal(net.fc1.weight.detach().numpy(), before.numpy())


def test_zero_grad_to_none_or_zeros():
    net = Net()
    net(npnn.randn(3, 4)).sum().backward()
    g = net.fc1.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad is g and float(g.abs().sum()) == 0
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_reinitialises_layers_children_first():
    net = Net()
    seen = []

    def init(m):
        seen.append(type(m).__name__)
        if isinstance(m, Lin):
            nn.init.constant_(m.weight, 0.25)
            nn.init.zeros_(m.bias)
    assert net.apply(init) is net
    assert seen == ['Lin', 'Act', 'Norm', 'Lin', 'Act', 'Sequential', 'Net']
    assert np.all(net.head[0].weight.detach().numpy() == 0.25)


# --- conversions -------------------------------------------------------------------------------------------------

def test_to_double_keeps_parameter_identity_and_moves_grad():
    net = Net()
    w = net.fc1.weight
    net(npnn.randn(2, 4)).sum().backward()
    opt = npnn.optim.SGD(net.parameters(), lr=0.1)
    assert net.double() is net
    assert net.fc1.weight is w and w.dtype == npnn.float64 and w.grad.dtype == npnn.float64
    assert net.norm.num_batches_tracked.dtype == npnn.int64  # integer buffers are not cast
    assert net.norm.running_mean.dtype == npnn.float64
    opt.zero_grad()
    net(npnn.randn(2, 4, dtype=npnn.float64)).sum().backward()
    before = w.detach().clone()
    opt.step()  # the optimizer built before .double() still updates the same parameters
    assert not np.allclose(before.numpy(), w.detach().numpy())
    net.float()
    assert w.dtype == npnn.float32 and net.to(npnn.float64).fc1.weight is w and w.dtype == npnn.float64
    net.half()
    assert w.dtype == npnn.float16
    net.type(npnn.float32)
    assert w.dtype == npnn.float32
    with pytest.raises(TypeError, match='only accepts floating point or complex dtypes'):
        net.to(npnn.int64)


def test_to_device(device):
    net = Net()
    w = net.fc1.weight
    net(npnn.randn(2, 4)).sum().backward()
    net.to(device)
    assert net.fc1.weight is w and w.device.type == device and w.grad.device.type == device
    assert net.norm.running_mean.device.type == device
    out = net(npnn.randn(2, 4, device=device))
    out.sum().backward()
    assert out.device.type == device
    net.cpu()
    assert w.device.type == 'cpu' and w.grad.device.type == 'cpu'
    net.to(npnn.zeros(1, dtype=npnn.float64))
    assert w.dtype == npnn.float64


def test_to_empty_and_share_memory():
    net = Net()
    w = net.fc1.weight
    assert net.share_memory() is net and net.fc1.weight is w
    net.to_empty(device='cpu')
    assert net.fc1.weight.shape == (5, 4)


# --- state dict --------------------------------------------------------------------------------------------------

def test_state_dict_order_keep_vars_prefix_and_metadata():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ['scale', 'fc1.weight', 'fc1.bias', 'norm.weight', 'norm.running_mean',
                        'norm.num_batches_tracked', 'head.0.weight', 'head.0.bias']
    assert not sd['fc1.weight'].requires_grad and type(sd['fc1.weight']) is npnn.Tensor
    assert np.shares_memory(sd['fc1.weight'].numpy(), net.fc1.weight.detach().numpy())
    kv = net.state_dict(keep_vars=True)
    assert kv['fc1.weight'] is net.fc1.weight
    assert list(net.state_dict(prefix='m.'))[0] == 'm.scale'
    assert sd._metadata['norm'] == {'version': 2} and sd._metadata[''] == {'version': 1}
    dest = OrderedDict()
    assert net.fc1.state_dict(destination=dest, prefix='x.') is dest and list(dest) == ['x.weight', 'x.bias']


def test_load_state_dict_roundtrip_and_return_value():
    a, b = Net(), Net()
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == '<All keys matched successfully>'
    x = npnn.randn(3, 4)
    assert np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    # the parameters were copied in place, not replaced
    w = b.fc1.weight
    b.load_state_dict(Net().state_dict())
    assert b.fc1.weight is w


def test_load_state_dict_errors_and_nothing_half_loaded():
    m = Lin(3, 2)
    sd = m.state_dict()
    del sd['bias']
    with pytest.raises(RuntimeError) as e:
        Lin(3, 2).load_state_dict(sd)
    assert str(e.value) == 'Error(s) in loading state_dict for Lin:\n\tMissing key(s) in state_dict: "bias". '
    sd = Lin(3, 2).state_dict()
    sd['extra'] = npnn.zeros(1)
    sd['sub.w'] = npnn.zeros(1)
    with pytest.raises(RuntimeError) as e:
        Lin(3, 2).load_state_dict(sd)
    assert str(e.value) == ('Error(s) in loading state_dict for Lin:\n\tUnexpected key(s) in state_dict: '
                            '"extra", "sub.w". ')
    # size mismatch: the other (valid) key must not be loaded either
    target = Lin(3, 2)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    bad = OrderedDict(weight=npnn.ones(2, 4), bias=npnn.full((2,), 7.0))
    with pytest.raises(RuntimeError) as e:
        target.load_state_dict(bad)
    assert str(e.value) == ('Error(s) in loading state_dict for Lin:\n\tsize mismatch for weight: copying a param '
                            'with shape npnn.Size([2, 4]) from checkpoint, the shape in current model is '
                            'npnn.Size([2, 3]).')
    for k, v in target.state_dict().items():
        assert np.array_equal(v.numpy(), before[k].numpy())
    # strict=False: missing and unexpected keys are returned, the rest loads
    res = target.load_state_dict({'bias': npnn.full((2,), 3.0), 'junk': npnn.zeros(1)}, strict=False)
    assert res.missing_keys == ['weight'] and res.unexpected_keys == ['junk']
    assert np.all(target.bias.detach().numpy() == 3.0)
    # size mismatches fail even when not strict, and a non-tensor value is reported
    with pytest.raises(RuntimeError, match='size mismatch for bias'):
        target.load_state_dict({'bias': npnn.zeros(5)}, strict=False)
    with pytest.raises(RuntimeError, match='expected torch.Tensor or Tensor-like object from checkpoint'):
        target.load_state_dict({'bias': [1.0, 2.0]}, strict=False)
    with pytest.raises(TypeError, match='Expected state_dict to be dict-like'):
        target.load_state_dict([1, 2])


def test_load_state_dict_with_subclass_hook_assign_and_extra_state():
    net = Net()
    sd = net.state_dict()
    del sd['norm.num_batches_tracked']  # an old checkpoint: Norm._load_from_state_dict fills it in
    Net().load_state_dict(sd)
    # assign=True puts the checkpoint's tensors in place (as Parameters keeping requires_grad)
    m = Lin(2, 2)
    src = OrderedDict(weight=npnn.ones(2, 2, dtype=npnn.float64), bias=npnn.zeros(2, dtype=npnn.float64))
    m.load_state_dict(src, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.dtype == npnn.float64 and m.weight.requires_grad
    # copying casts to the model's dtype
    m2 = Lin(2, 2)
    m2.load_state_dict(src)
    assert m2.weight.dtype == npnn.float32

    class WithExtra(Lin):
        def get_extra_state(self):
            return {'step': self.step}

        def set_extra_state(self, state):
            self.step = state['step']

    e = WithExtra(2, 2)
    e.step = 5
    sd = e.state_dict()
    assert list(sd) == ['weight', 'bias', '_extra_state'] and sd['_extra_state'] == {'step': 5}
    f = WithExtra(2, 2)
    f.load_state_dict(sd)
    assert f.step == 5


def test_state_dict_hooks_and_load_post_hook():
    m = Lin(2, 2)
    calls = []
    h1 = m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(('pre', prefix)))
    h2 = m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: calls.append(('post', list(sd))))
    m.state_dict()
    assert calls == [('pre', ''), ('post', ['weight', 'bias'])]
    h1.remove()
    h2.remove()
    seen = []

    def post(mod, keys):
        seen.append((list(keys.missing_keys), list(keys.unexpected_keys)))
        keys.unexpected_keys.clear()  # allowed: edit in place
    m.register_load_state_dict_post_hook(post)
    res = m.load_state_dict({'weight': npnn.ones(2, 2), 'bias': npnn.ones(2), 'x': npnn.ones(1)})
    assert seen[-1] == ([], ['x']) and res.unexpected_keys == []  # (also run by the validating pass)
    pre = []
    m.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest: pre.append(prefix))
    m.load_state_dict(m.state_dict())
    assert pre and set(pre) == {''}


# --- hooks -------------------------------------------------------------------------------------------------------

def test_forward_pre_hooks_and_forward_hooks():
    m = Lin(2, 2)
    log = []

    def pre(mod, args):
        log.append(('pre', mod is m, len(args)))
        return (args[0] * 0,)

    def fwd(mod, args, out):
        log.append(('fwd', float(args[0].abs().sum())))
        return out + 1

    h1 = m.register_forward_pre_hook(pre)
    h2 = m.register_forward_hook(fwd)
    out = m(npnn.ones(1, 2))
    assert log == [('pre', True, 1), ('fwd', 0.0)]
    assert np.allclose(out.detach().numpy(), 1.0)  # zero input, zero bias, +1
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is fine
    assert not m._forward_hooks and not m._forward_pre_hooks
    out = m(npnn.ones(1, 2))
    assert not np.allclose(out.detach().numpy(), 1.0)


def test_hooks_with_kwargs_prepend_and_context_manager():
    class K(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale
    m = K()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append('second'))
    m.register_forward_hook(lambda mod, a, o: order.append('first'), prepend=True)

    def pre(mod, args, kwargs):
        return args, {'scale': 3.0}
    with m.register_forward_pre_hook(pre, with_kwargs=True):
        got = []
        with m.register_forward_hook(lambda mod, a, kw, o: got.append(kw), with_kwargs=True):
            out = m(npnn.ones(2), scale=2.0)
        assert got == [{'scale': 3.0}]
    assert float(out.sum()) == 6.0 and order == ['first', 'second']
    assert float(m(npnn.ones(2), scale=2.0).sum()) == 4.0


def test_always_call_forward_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError('boom')
    m = Boom()
    called = []
    m.register_forward_hook(lambda mod, a, o: called.append('always'), always_call=True)
    m.register_forward_hook(lambda mod, a, o: called.append('normal'))
    with pytest.raises(ValueError, match='boom'):
        m(npnn.ones(1))
    assert called == ['always']


def test_full_backward_hook_gets_grad_input_and_grad_output():
    m = Lin(3, 2)
    x = npnn.randn(4, 3, requires_grad=True)
    seen = []

    def hook(mod, gin, gout):
        seen.append((mod, gin, gout))
    h = m.register_full_backward_hook(hook)
    out = m(x)
    g = npnn.randn(4, 2)
    out.backward(g)
    assert len(seen) == 1
    mod, gin, gout = seen[0]
    assert mod is m and len(gin) == 1 and len(gout) == 1
    assert np.allclose(gout[0].numpy(), g.numpy())
    assert np.allclose(gin[0].numpy(), g.numpy() @ m.weight.detach().numpy(), atol=1e-6)
    assert np.allclose(x.grad.numpy(), gin[0].numpy())
    # the parameters still get their gradients
    assert np.allclose(m.weight.grad.numpy(), g.numpy().T @ x.detach().numpy(), atol=1e-5)
    h.remove()
    x.grad = None
    m(x).backward(g)
    assert len(seen) == 1


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    m = Act()
    x = npnn.randn(3, requires_grad=True)
    m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 2,))
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 0 + 7,))
    y = m(x)
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), 7.0)
    # grad_output seen by the hook is the pre-hook's replacement
    m2 = Act()
    x2 = npnn.randn(3, requires_grad=True)
    got = []
    m2.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 2,))
    m2.register_full_backward_hook(lambda mod, gin, gout: got.append(gout[0].numpy().copy()))
    m2(x2).sum().backward()
    assert np.allclose(got[0], 2.0)
    t = np.tanh(x2.detach().numpy())
    assert np.allclose(x2.grad.numpy(), 2 * (1 - t ** 2), atol=1e-6)


def test_full_backward_hook_multiple_inputs_and_outputs():
    class Two(nn.Module):
        def forward(self, a, b, k):
            return a * b, a + k
    m = Two()
    a = npnn.randn(3, requires_grad=True)
    b = npnn.randn(3)  # needs no gradient: its grad_input entry is None
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    p, s = m(a, b, 2.0)
    (p.sum() * 3 + s.sum()).backward()
    gin, gout = seen[0]
    # one entry per positional argument: zeros for a tensor needing no gradient, None for a non-tensor
    assert len(gin) == 3 and gin[2] is None and np.array_equal(gin[1].numpy(), np.zeros(3))
    assert len(gout) == 2 and np.allclose(gout[0].numpy(), 3) and np.allclose(gout[1].numpy(), 1)
    assert np.allclose(gin[0].numpy(), 3 * b.numpy() + 1, atol=1e-6)


def test_full_backward_hook_when_no_input_requires_grad():
    m = Lin(2, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
    with pytest.warns(UserWarning, match='no inputs require gradients'):
        m(npnn.ones(1, 2)).sum().backward()
    assert len(seen) == 1 and seen[0][0] == (None,) and np.allclose(seen[0][1][0].numpy(), 1)
    assert m.weight.grad is not None


def test_global_forward_hook():
    from npnn.nn.modules.module import register_module_forward_hook
    names = []
    h = register_module_forward_hook(lambda mod, a, o: names.append(type(mod).__name__))
    try:
        nn.Sequential(Act(), Act())(npnn.ones(1))
    finally:
        h.remove()
    assert names == ['Act', 'Act', 'Sequential']
    nn.Sequential(Act())(npnn.ones(1))
    assert len(names) == 3


# --- repr, pickling, copying -------------------------------------------------------------------------------------

def test_repr_tree():
    net = Net()
    assert repr(net) == (
        'Net(\n'
        '  (fc1): Lin(in_features=4, out_features=5, bias=True)\n'
        '  (act): Act()\n'
        '  (norm): Norm()\n'
        '  (head): Sequential(\n'
        '    (0): Lin(in_features=5, out_features=3, bias=True)\n'
        '    (1): Act()\n'
        '  )\n'
        ')')

    class Multi(nn.Module):
        def extra_repr(self):
            return 'a=1\nb=2'
    m = Multi()
    assert repr(m) == 'Multi(\n  a=1\n  b=2\n)'
    m.x = Act()
    assert repr(m) == 'Multi(\n  a=1\n  b=2\n  (x): Act()\n)'


def test_pickle_and_deepcopy_module():
    net = Net()
    net.fc1.register_forward_hook(_noop_hook)
    x = npnn.randn(2, 4)
    clone = pickle.loads(pickle.dumps(net))
    assert np.allclose(clone(x).detach().numpy(), net(x).detach().numpy())
    assert isinstance(clone.fc1.weight, nn.Parameter) and clone.fc1.weight.requires_grad
    assert len(clone.fc1._forward_hooks) == 1
    dc = copy.deepcopy(net)
    assert dc.fc1.weight is not net.fc1.weight
    assert np.array_equal(dc.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy())
    dc.fc1.weight.data.mul_(0)
    assert not np.allclose(net.fc1.weight.detach().numpy(), 0)
    # __setstate__ fills in hook dicts missing from old pickles
    st = net.__getstate__()
    del st['_forward_pre_hooks_with_kwargs']
    m = Net.__new__(Net)
    m.__setstate__(st)
    assert m._forward_pre_hooks_with_kwargs == OrderedDict()


def _noop_hook(mod, args, out):
    return None


def test_forward_missing_is_reported():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(1)


def test_module_init_rejects_arguments():
    with pytest.raises(TypeError, match='unexpected keyword argument'):
        nn.Module(foo=1)


# --- Parameter ---------------------------------------------------------------------------------------------------

def test_parameter_basics():
    t = npnn.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, npnn.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == 'Parameter containing:\ntensor([1., 2.], requires_grad=True)'
    assert np.shares_memory(p.detach().numpy(), t.numpy())
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match='floating point'):
        nn.Parameter(npnn.tensor([1, 2]))
    q = nn.Parameter(npnn.tensor([1, 2]), requires_grad=False)
    assert q.dtype == npnn.int64
    d = copy.deepcopy(p)
    assert type(d) is nn.Parameter and d.requires_grad and not np.shares_memory(d.detach().numpy(), t.numpy())
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.requires_grad and np.array_equal(r.detach().numpy(), [1, 2])
    # arithmetic on a parameter gives a plain tensor in the graph
    y = p * 2
    assert type(y) is npnn.Tensor and y.requires_grad


def test_uninitialized_parameter_materialize():
    p = nn.UninitializedParameter()
    assert isinstance(p, nn.Parameter)
    with pytest.raises(RuntimeError, match='uninitialized parameter'):
        p.shape
    p.materialize((3, 2))
    assert type(p) is nn.Parameter and p.shape == (3, 2) and p.requires_grad
    m = nn.Module()
    m.w = nn.UninitializedParameter()
    m.load_state_dict({'w': npnn.ones(2, 5)})
    assert m.w.shape == (2, 5) and np.all(m.w.detach().numpy() == 1)


def test_full_backward_hook_output_entries_for_non_tensors():
    class Out(nn.Module):
        def forward(self, x):
            return 3, x * 2, npnn.ones(2)
    m = Out()
    seen = []
    m.register_full_backward_pre_hook(lambda mod, gout: seen.append(('pre', gout)))
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append(('full', gin, gout)))
    x = npnn.ones(2, requires_grad=True)
    m(x)[1].sum().backward()
    assert [s[0] for s in seen] == ['pre', 'full']
    gout = seen[0][1]
    assert len(gout) == 3 and gout[0] is None and gout[2] is None and np.allclose(gout[1].numpy(), 1)
    assert np.allclose(seen[1][1][0].numpy(), 2) and np.allclose(x.grad.numpy(), 2)
    with pytest.raises(RuntimeError, match='invalid number of grad_input'):
        m2 = Out()
        m2.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0]))
        m2(x)[1].sum().backward()


def test_hooks_may_remove_themselves_while_others_follow():
    m = nn.Linear(2, 2)
    calls = []
    handles = {}

    def once_pre(mod, args):
        calls.append('pre-once')
        handles['pre'].remove()

    def once_fwd(mod, args, out):
        calls.append('fwd-once')
        handles['fwd'].remove()

    handles['pre'] = m.register_forward_pre_hook(once_pre)
    m.register_forward_pre_hook(lambda mod, args: calls.append('pre'))
    handles['fwd'] = m.register_forward_hook(once_fwd)
    m.register_forward_hook(lambda mod, args, out: calls.append('fwd'))
    x = npnn.ones(1, 2)
    m(x)
    m(x)
    assert calls == ['pre-once', 'pre', 'fwd-once', 'fwd', 'pre', 'fwd']
