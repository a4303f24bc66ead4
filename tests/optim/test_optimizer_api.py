"""Optimizer base behaviour: param groups, argument errors, state dicts, zero_grad, hooks."""
import copy
import warnings

import numpy as np
import pytest

import npnn
import npnn.optim as optim


def _leaf(*shape, device='cpu'):
    return npnn.randn(*shape, device=device, requires_grad=True)


ALL = [optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad, optim.Adadelta, optim.Adamax, optim.ASGD, optim.NAdam,
       optim.RAdam, optim.RMSprop, optim.Rprop, optim.SparseAdam, optim.LBFGS]

BAD_HYPER = [
    (optim.SGD, dict(lr=-0.1), 'Invalid learning rate: -0.1'),
    (optim.SGD, dict(lr=0.1, momentum=-1), 'Invalid momentum value: -1'),
    (optim.SGD, dict(lr=0.1, weight_decay=-1), 'Invalid weight_decay value: -1'),
    (optim.SGD, dict(lr=0.1, nesterov=True), 'Nesterov momentum requires a momentum and zero dampening'),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     'Nesterov momentum requires a momentum and zero dampening'),
    (optim.Adam, dict(lr=-0.1), 'Invalid learning rate: -0.1'),
    (optim.Adam, dict(eps=-1e-8), 'Invalid epsilon value: -1e-08'),
    (optim.Adam, dict(betas=(1.0, 0.999)), 'Invalid beta parameter at index 0: 1.0'),
    (optim.Adam, dict(betas=(-0.1, 0.999)), 'Invalid beta parameter at index 0: -0.1'),
    (optim.Adam, dict(betas=(0.9, 1.0)), 'Invalid beta parameter at index 1: 1.0'),
    (optim.Adam, dict(weight_decay=-1), 'Invalid weight_decay value: -1'),
    (optim.AdamW, dict(betas=(0.9, 1.5)), 'Invalid beta parameter at index 1: 1.5'),
    (optim.Adagrad, dict(lr_decay=-1), 'Invalid lr_decay value: -1'),
    (optim.Adagrad, dict(initial_accumulator_value=-1), 'Invalid initial_accumulator_value value: -1'),
    (optim.Adadelta, dict(rho=1.5), 'Invalid rho value: 1.5'),
    (optim.Adamax, dict(betas=(1.0, 0.9)), 'Invalid beta parameter at index 0: 1.0'),
    (optim.ASGD, dict(lr=-1.0), 'Invalid learning rate: -1.0'),
    (optim.NAdam, dict(momentum_decay=-1), 'Invalid momentum_decay value: -1'),
    (optim.RAdam, dict(eps=-1.0), 'Invalid epsilon value: -1.0'),
    (optim.RMSprop, dict(alpha=-0.5), 'Invalid alpha value: -0.5'),
    (optim.RMSprop, dict(momentum=-0.5), 'Invalid momentum value: -0.5'),
    (optim.Rprop, dict(etas=(1.5, 1.2)), 'Invalid eta values: 1.5, 1.2'),
    (optim.SparseAdam, dict(lr=0.0), 'Invalid learning rate: 0.0'),
    (optim.LBFGS, dict(lr=-1), 'Invalid learning rate: -1'),
]


@pytest.mark.parametrize('cls,kwargs,msg', BAD_HYPER, ids=[f'{c.__name__}-{m}' for c, _, m in BAD_HYPER])
def test_invalid_hyperparameters_raise_torch_errors(cls, kwargs, msg):
    with pytest.raises(ValueError) as e:
        cls([_leaf(2)], **kwargs)
    assert str(e.value) == msg


@pytest.mark.parametrize('cls', ALL, ids=lambda c: c.__name__)
def test_parameter_list_errors(cls):
    a, b = _leaf(2), _leaf(3)
    with pytest.raises(ValueError, match='optimizer got an empty parameter list'):
        cls([])
    with pytest.raises(TypeError, match='params argument given to the optimizer should be an iterable of Tensors '
                                        'or dicts, but got npnn.FloatTensor'):
        cls(a)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        cls([a * 2])
    with pytest.raises(TypeError, match='optimizer can only optimize Tensors, but one of the params is int'):
        cls([a, 3])
    if cls is not optim.LBFGS:
        with pytest.raises(ValueError, match='some parameters appear in more than one parameter group'):
            cls([{'params': [a]}, {'params': [b, a]}])
        with pytest.raises(TypeError, match='param_group must be a dict'):
            cls([a]).add_param_group([b])
        with pytest.raises(TypeError, match='ordered collections'):
            cls([{'params': {a}}])


def test_duplicate_parameter_in_one_group_warns():
    a = _leaf(2)
    with pytest.warns(UserWarning, match='duplicate parameters'):
        optim.SGD([a, a], lr=0.1)


def test_lbfgs_refuses_groups():
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{'params': [_leaf(2)]}, {'params': [_leaf(2)]}])


def test_param_groups_take_defaults_and_overrides():
    a, b, c = _leaf(2), _leaf(2), _leaf(2)
    opt = optim.SGD([{'params': [a]}, {'params': b, 'lr': 0.5, 'momentum': 0.3}], lr=0.1, momentum=0.9)
    g0, g1 = opt.param_groups
    assert g0['lr'] == 0.1 and g0['momentum'] == 0.9 and g0['params'][0] is a
    assert g1['lr'] == 0.5 and g1['momentum'] == 0.3 and g1['params'] == [b]
    assert set(g0) == set(opt.defaults) | {'params'}
    opt.add_param_group({'params': [c], 'weight_decay': 0.1})
    g2 = opt.param_groups[2]
    assert g2['lr'] == 0.1 and g2['momentum'] == 0.9 and g2['weight_decay'] == 0.1
    with pytest.raises(ValueError, match='more than one parameter group'):
        opt.add_param_group({'params': [a]})
    assert len(opt.param_groups) == 3


def test_named_parameters_are_accepted_and_saved():
    a, b = _leaf(2), _leaf(3)
    opt = optim.Adam([('w', a), ('b', b)], lr=0.1)
    assert opt.param_groups[0]['params'] == [a, b]
    assert opt.state_dict()['param_groups'][0]['param_names'] == ['w', 'b']
    with pytest.raises(ValueError, match='cannot add param group without names'):
        opt.add_param_group({'params': [_leaf(1)]})


def test_required_lr():
    class MyOpt(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {'lr': optim.optimizer.required})
    MyOpt([{'params': [_leaf(1)], 'lr': 1.0}])
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        MyOpt([_leaf(1)])


def _train(opt, params, steps=3):
    for _ in range(steps):
        opt.zero_grad()
        loss = sum((p * p).sum() for p in params)
        loss.backward()
        opt.step()


def test_state_dict_format_like_torch():
    a, b, c = _leaf(2, 3), _leaf(3), _leaf(4)
    opt = optim.Adam([{'params': [a, b]}, {'params': [c], 'lr': 0.01}], lr=0.1)
    _train(opt, [a, b, c])
    sd = opt.state_dict()
    assert sorted(sd) == ['param_groups', 'state']
    assert [g['params'] for g in sd['param_groups']] == [[0, 1], [2]]
    assert sd['param_groups'][1]['lr'] == 0.01
    assert sorted(sd['state']) == [0, 1, 2]
    st = sd['state'][0]
    assert sorted(st) == ['exp_avg', 'exp_avg_sq', 'step']
    assert isinstance(st['step'], npnn.Tensor) and st['step'].dtype == npnn.float32 and st['step'].shape == ()
    assert st['step'].item() == 3.0 and st['step'].device.type == 'cpu'
    assert st['exp_avg'].shape == (2, 3) and st['exp_avg'].dtype == npnn.float32


def test_load_state_dict_into_fresh_optimizer_continues_identically(device):
    def make():
        npnn.manual_seed(3)
        ps = [npnn.randn(3, 2, device=device, requires_grad=True), npnn.randn(2, device=device, requires_grad=True)]
        return ps

    ps = make()
    opt = optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True)
    _train(opt, ps, 4)
    sd = copy.deepcopy(opt.state_dict())
    snapshot = [p.detach().clone() for p in ps]
    _train(opt, ps, 4)

    fresh = [p.clone().detach().requires_grad_(True) for p in snapshot]
    opt2 = optim.RMSprop(fresh, lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]['lr'] == 0.01 and opt2.param_groups[0]['params'][0] is fresh[0]
    assert opt2.state[fresh[0]]['square_avg'].device == fresh[0].device
    _train(opt2, fresh, 4)
    for p, q in zip(ps, fresh):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy())


def test_load_state_dict_casts_floating_state_to_param_dtype():
    a = _leaf(3)
    opt = optim.Adam([a], lr=0.1)
    _train(opt, [a], 2)
    sd = opt.state_dict()
    b = npnn.randn(3, dtype=npnn.float64, requires_grad=True)
    opt2 = optim.Adam([b], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[b]['exp_avg'].dtype == npnn.float64
    assert opt2.state[b]['step'].dtype == npnn.float32
    # the loaded state is a copy, not shared with the source optimizer
    assert opt2.state[b]['step'] is not opt.state[a]['step']


def test_load_state_dict_mismatch_leaves_optimizer_unchanged():
    a, b, c = _leaf(2), _leaf(2), _leaf(2)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    _train(opt, [a, b], 2)
    other = optim.SGD([{'params': [a]}, {'params': [c]}], lr=0.5, momentum=0.9)
    _train(other, [a, c], 1)
    before_groups = copy.deepcopy([{k: v for k, v in g.items() if k != 'params'} for g in opt.param_groups])
    before_state = {id(k): {n: t.detach().clone() for n, t in v.items()} for k, v in opt.state.items()}
    with pytest.raises(ValueError, match='loaded state dict has a different number of parameter groups'):
        opt.load_state_dict(other.state_dict())
    third = optim.SGD([a], lr=0.7)
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size "
                                         "of optimizer's group"):
        opt.load_state_dict(third.state_dict())
    assert [{k: v for k, v in g.items() if k != 'params'} for g in opt.param_groups] == before_groups
    assert opt.param_groups[0]['params'] == [a, b]
    for k, v in opt.state.items():
        for n, t in v.items():
            np.testing.assert_array_equal(t.numpy(), before_state[id(k)][n].numpy())


def test_zero_grad_set_to_none_and_zero():
    a = _leaf(3)
    opt = optim.SGD([a], lr=0.1)
    (a * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and np.all(a.grad.numpy() == 0)
    opt.zero_grad()
    assert a.grad is None


def test_step_closure_runs_with_grad_enabled_and_returns_loss():
    a = _leaf(3)
    opt = optim.Adam([a], lr=0.1)
    seen = []

    def closure():
        seen.append(npnn.is_grad_enabled())
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with npnn.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and isinstance(loss, npnn.Tensor)


def test_step_hooks_and_global_hooks():
    a = _leaf(2)
    opt = optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append('pre'))
    h2 = opt.register_step_post_hook(lambda o, args, kw: calls.append('post'))
    h3 = optim.register_optimizer_step_pre_hook(lambda o, args, kw: calls.append('gpre'))
    a.grad = npnn.ones(2)
    opt.step()
    assert calls == ['gpre', 'pre', 'post']
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert calls == ['gpre', 'pre', 'post']


def test_state_dict_hooks():
    a = _leaf(2)
    opt = optim.SGD([a], lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, 'extra': 1})
    assert opt.state_dict()['extra'] == 1
    seen = []
    opt.register_load_state_dict_post_hook(lambda o: seen.append(True))
    opt.load_state_dict(optim.SGD([_leaf(2)], lr=0.2).state_dict())
    assert seen == [True] and opt.param_groups[0]['lr'] == 0.2


def test_repr_and_pickle_state():
    a = _leaf(2)
    opt = optim.Adam([a], lr=0.1)
    r = repr(opt)
    assert r.startswith('Adam (') and 'Parameter Group 0' in r and 'lr: 0.1' in r
    st = opt.__getstate__()
    assert set(st) == {'defaults', 'state', 'param_groups'}


def test_tensor_lr_accepted():
    a = _leaf(2)
    opt = optim.SGD([a], lr=npnn.tensor(0.5))
    a.grad = npnn.ones(2)
    before = a.detach().clone().numpy()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), before - 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match='Tensor lr must be 1-element'):
        optim.Adam([a], lr=npnn.tensor([0.1, 0.2]))
