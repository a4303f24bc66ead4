"""Module system parity with PyTorch: repr text, state_dict order, iterator orders, error text, hooks."""
from collections import OrderedDict

import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')


def build(lib):
    """The same module tree in npnn or torch, made of tiny modules defined against ``lib``."""
    nn = lib.nn

    class Lin(nn.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.in_features, self.out_features = i, o
            self.weight = nn.Parameter(lib.zeros(o, i))
            if bias:
                self.bias = nn.Parameter(lib.zeros(o))
            else:
                self.register_parameter('bias', None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f'in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}'

    class Act(nn.Module):
        def forward(self, x):
            return x.tanh()

    class Norm(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.n = n
            self.weight = nn.Parameter(lib.ones(n))
            self.register_buffer('running_mean', lib.zeros(n))
            self.register_buffer('tmp', lib.zeros(n), persistent=False)
            self.register_buffer('num_batches_tracked', lib.tensor(0))

        def forward(self, x):
            return (x - self.running_mean) * self.weight

        def extra_repr(self):
            return f'{self.n}, eps=1e-05\nmomentum=0.1'

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = Lin(4, 4)
            self.norm = Norm(4)
            self.acts = nn.ModuleList([Act(), Act(), Lin(4, 4, bias=False), Act()])
            self.heads = nn.ModuleDict({'b': Lin(4, 2), 'a': Lin(4, 3)})
            self.extra = nn.ParameterList([nn.Parameter(lib.zeros(2, 3)), nn.Parameter(lib.zeros(5))])
            self.table = nn.ParameterDict({'z': nn.Parameter(lib.zeros(1)), 'y': nn.Parameter(lib.zeros(2, 2))})
            self.gain = nn.Parameter(lib.ones(1))

        def forward(self, x):
            return self.norm(self.proj(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(OrderedDict([('fc', Lin(3, 4)), ('act', Act())]))
            self.block = Block()
            self.tail = nn.Sequential(Lin(4, 4), Act(), nn.Sequential(Lin(4, 1), Act()))
            self.tail_shared = self.stem  # the same module twice
            self.register_buffer('step', lib.tensor(0))

        def forward(self, x):
            return self.tail(self.block(self.stem(x)))

    return Net()


def _t2n(text):
    return text.replace('torch.', 'npnn.')


def test_repr_matches_pytorch():
    assert repr(build(npnn)) == _t2n(repr(build(torch)))


def test_real_layers_repr_when_available():
    if not hasattr(npnn.nn, 'Linear') or not hasattr(npnn.nn, 'ReLU'):
        pytest.skip('layers not available')

    def make(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 8, bias=False), nn.ReLU()),
                             nn.ModuleList([nn.Linear(8, 2) for _ in range(3)]))
    assert repr(make(npnn)) == repr(make(torch))


def test_state_dict_and_iterator_orders_match_pytorch():
    a, b = build(npnn), build(torch)
    assert list(a.state_dict()) == list(b.state_dict())
    assert list(a.state_dict(prefix='p.', keep_vars=True)) == list(b.state_dict(prefix='p.', keep_vars=True))
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    assert [n for n, _ in a.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in b.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in a.named_buffers()] == [n for n, _ in b.named_buffers()]
    assert [n for n, _ in a.named_modules()] == [n for n, _ in b.named_modules()]
    assert [n for n, _ in a.named_modules(remove_duplicate=False)] == \
        [n for n, _ in b.named_modules(remove_duplicate=False)]
    assert [n for n, _ in a.named_children()] == [n for n, _ in b.named_children()]
    assert [n for n, _ in a.named_parameters(prefix='x', recurse=False)] == \
        [n for n, _ in b.named_parameters(prefix='x', recurse=False)]
    assert dict(a.state_dict()._metadata) == dict(b.state_dict()._metadata)
    assert sorted(k for k in dir(a) if not k.startswith('_')) == sorted(k for k in dir(b) if not k.startswith('_')
                                                                       and k in dir(a))


def test_container_reprs_match_pytorch():
    for lib_make in [lambda lib: lib.nn.ParameterList([lib.zeros(2, 3), lib.nn.Parameter(lib.zeros(4)), 'x']),
                     lambda lib: lib.nn.ParameterDict({'b': lib.zeros(2), 'a': lib.zeros(3, 1)}),
                     lambda lib: lib.nn.ModuleList(),
                     lambda lib: lib.nn.Sequential(),
                     lambda lib: lib.nn.ModuleDict()]:
        assert repr(lib_make(npnn)) == _t2n(repr(lib_make(torch)))


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e), _t2n(str(e))
    return None


def test_load_state_dict_errors_match_pytorch():
    def cases(lib):
        sd = build(lib).state_dict()
        del sd['stem.fc.bias']
        del sd['block.norm.running_mean']
        sd['block.bogus'] = lib.zeros(1)
        sd['nothere.weight'] = lib.zeros(1)
        sd['tail.0.weight'] = lib.zeros(5, 5)
        sd['block.extra.1'] = lib.zeros(7)
        return sd
    assert _error(lambda: build(npnn).load_state_dict(cases(npnn))) == \
        _error(lambda: build(torch).load_state_dict(cases(torch)))
    ours = _error(lambda: build(npnn).load_state_dict(cases(npnn), strict=False))
    assert ours == _error(lambda: build(torch).load_state_dict(cases(torch), strict=False))
    assert ours[0] is RuntimeError and 'size mismatch for tail.0.weight' in ours[1]

    def loose(lib):
        sd = build(lib).state_dict()
        del sd['stem.fc.bias']
        sd['junk'] = lib.zeros(1)
        return sd
    r1 = build(npnn).load_state_dict(loose(npnn), strict=False)
    r2 = build(torch).load_state_dict(loose(torch), strict=False)
    assert r1.missing_keys == r2.missing_keys and r1.unexpected_keys == r2.unexpected_keys
    assert repr(r1) == repr(r2)
    assert repr(build(npnn).load_state_dict(build(npnn).state_dict())) == \
        repr(build(torch).load_state_dict(build(torch).state_dict()))


def test_setattr_errors_match_pytorch():
    def attempts(lib):
        m = build(lib)
        return [lambda: setattr(m.stem.fc, 'weight', lib.zeros(4, 3)),
                lambda: setattr(m, 'stem', 3),
                lambda: setattr(m, 'step', 'x'),
                lambda: m.register_parameter('a.b', None),
                lambda: m.register_buffer('stem', lib.zeros(1)),
                lambda: m.add_module('', m.stem),
                lambda: m.get_submodule('block.nothere'),
                lambda: m.get_parameter('block.norm.running_mean'),
                lambda: m.get_buffer('block.gain'),
                lambda: m.train('x'),
                lambda: m.nothere]
    for ours, theirs in zip(attempts(npnn), attempts(torch)):
        assert _error(ours) == _error(theirs)


def test_backward_hooks_see_the_same_gradients_as_pytorch():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    xv = rng.standard_normal((5, 4)).astype(np.float32)
    gv = rng.standard_normal((5, 3)).astype(np.float32)

    def run(lib):
        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = lib.nn.Parameter(lib.tensor(w))

            def forward(self, x, y):
                h = x @ self.weight.T
                return h * 2, (h * y).sum()
        m = Two()
        log = []
        m.register_full_backward_pre_hook(lambda mod, go: log.append(('pre', [g.numpy().copy() for g in go])))
        m.register_full_backward_hook(lambda mod, gi, go: log.append(
            ('full', [None if g is None else g.numpy().copy() for g in gi], [g.numpy().copy() for g in go])))
        m.register_forward_hook(lambda mod, args, out: log.append(('fwd', len(args), len(out))))
        x = lib.tensor(xv, requires_grad=True)
        y = lib.tensor(np.ones((5, 3), np.float32))
        a, s = m(x, y)
        (a * lib.tensor(gv)).sum().add(s * 3).backward()
        return log, x.grad.numpy(), m.weight.grad.numpy()
    (l1, xg1, wg1), (l2, xg2, wg2) = run(npnn), run(torch)
    assert [e[0] for e in l1] == [e[0] for e in l2] == ['fwd', 'pre', 'full']
    assert l1[0] == l2[0]
    for a, b in zip(l1[1][1], l2[1][1]):
        assert np.allclose(a, b, atol=1e-6)
    for a, b in zip(l1[2][1], l2[2][1]):
        assert (a is None) == (b is None) and (a is None or np.allclose(a, b, atol=1e-5))
    for a, b in zip(l1[2][2], l2[2][2]):
        assert np.allclose(a, b, atol=1e-6)
    assert np.allclose(xg1, xg2, atol=1e-5) and np.allclose(wg1, wg2, atol=1e-4)


def test_forward_hook_call_order_matches_pytorch():
    def run(lib):
        log = []
        m = build(lib)
        for name, mod in m.named_modules():
            mod.register_forward_pre_hook(lambda mod, a, name=name: log.append(('pre', name)))
            mod.register_forward_hook(lambda mod, a, o, name=name: log.append(('post', name)))
        m(lib.zeros(2, 3))
        return log
    assert run(npnn) == run(torch)


def test_pytorch_state_dict_loads_into_npnn_model():
    b = build(torch)
    with torch.no_grad():
        for p in b.parameters():
            p.normal_()
    sd = {k: npnn.tensor(v.numpy()) for k, v in b.state_dict().items()}
    a = build(npnn)
    a.load_state_dict(sd)
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    assert np.allclose(a(npnn.tensor(x)).detach().numpy(), b(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_module_deepcopy_keeps_training_flags():
    import copy
    a = build(npnn)
    a.block.eval()
    r = copy.deepcopy(a)
    assert not r.block.training and r.training
    assert [n for n, _ in r.named_parameters()] == [n for n, _ in a.named_parameters()]
