"""LR schedulers: values, the step-order warning, state dicts and argument errors."""
import math
import pickle
import warnings

import numpy as np
import pytest

import npnn
import npnn.optim as optim
from npnn.optim import lr_scheduler as S


def _opt(lr=0.1, groups=1, cls=optim.SGD, **kw):
    ps = [{'params': [npnn.zeros(2, requires_grad=True)], 'lr': lr * (i + 1)} for i in range(groups)]
    kw.setdefault('lr', lr)
    if cls is optim.SGD:
        kw.setdefault('momentum', 0.9)
    return cls(ps, **kw)


def _run(opt, sched, n):
    out = []
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]['lr'])
    return out


def test_step_lr_values():
    opt = _opt()
    s = S.StepLR(opt, step_size=2, gamma=0.5)
    assert s.get_last_lr() == [0.1] and s.last_epoch == 0
    np.testing.assert_allclose(_run(opt, s, 6), [0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])


def test_multistep_exponential_constant_linear_values():
    opt = _opt()
    s = S.MultiStepLR(opt, [2, 4, 4], gamma=0.1)
    np.testing.assert_allclose(_run(opt, s, 5), [0.1, 0.01, 0.01, 1e-4, 1e-4], rtol=1e-12)
    opt = _opt()
    s = S.ExponentialLR(opt, gamma=0.5)
    np.testing.assert_allclose(_run(opt, s, 3), [0.05, 0.025, 0.0125])
    opt = _opt()
    s = S.ConstantLR(opt, factor=0.5, total_iters=2)
    assert opt.param_groups[0]['lr'] == 0.05
    np.testing.assert_allclose(_run(opt, s, 3), [0.05, 0.1, 0.1])
    opt = _opt()
    s = S.LinearLR(opt, start_factor=0.5, end_factor=1.0, total_iters=4)
    np.testing.assert_allclose(_run(opt, s, 5), [0.0625, 0.075, 0.0875, 0.1, 0.1])


def test_cosine_annealing_follows_closed_form():
    opt = _opt()
    s = S.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    got = _run(opt, s, 25)
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(1, 26)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_polynomial_and_lambda_and_multiplicative():
    opt = _opt()
    s = S.PolynomialLR(opt, total_iters=4, power=2.0)
    np.testing.assert_allclose(_run(opt, s, 5), [0.1 * (1 - e / 4) ** 2 for e in (1, 2, 3, 4, 4)], atol=1e-15)
    opt = _opt()
    s = S.LambdaLR(opt, lambda e: 1.0 / (e + 1))
    np.testing.assert_allclose(_run(opt, s, 3), [0.05, 0.1 / 3, 0.025])
    opt = _opt()
    s = S.MultiplicativeLR(opt, lambda e: 0.5)
    np.testing.assert_allclose(_run(opt, s, 3), [0.05, 0.025, 0.0125])


def test_warm_restarts_restart_and_grow():
    opt = _opt()
    s = S.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    got = _run(opt, s, 9)
    assert got[2] == pytest.approx(0.1)   # restart at epoch 3
    assert got[8] == pytest.approx(0.1)   # next restart after 6 more epochs
    s.step(4.5)
    assert s.T_i == 6 and s.T_cur == pytest.approx(1.5) and s.last_epoch == 4


def test_cyclic_lr_triangular_and_momentum():
    opt = _opt()
    s = S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2)
    assert opt.param_groups[0]['momentum'] == 0.9
    got = _run(opt, s, 4)
    np.testing.assert_allclose(got, [0.5, 1.0, 0.5, 0.0])
    assert opt.param_groups[0]['momentum'] == pytest.approx(0.9)
    opt = _opt(cls=optim.Adam)
    s = S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2)
    _run(opt, s, 1)
    assert opt.param_groups[0]['betas'][0] == pytest.approx(0.85) and opt.param_groups[0]['betas'][1] == 0.999


def test_one_cycle_lr_shape():
    opt = _opt(cls=optim.Adam)
    s = S.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]['lr'] == pytest.approx(0.04)
    got = _run(opt, s, 9)
    assert max(got) == pytest.approx(1.0) and got[-1] == pytest.approx(0.04 / 1e4)
    _run(opt, s, 1)
    with pytest.raises(ValueError, match='Tried to step 11 times. The specified number of total steps is 10'):
        s.step()


def test_reduce_on_plateau_patience_cooldown_min_lr():
    opt = _opt()
    s = S.ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5, min_lr=0.03)
    lrs = []
    for m in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        s.step(m)
        lrs.append(opt.param_groups[0]['lr'])
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03]
    assert s.get_last_lr() == [0.03]


def test_sequential_and_chained():
    opt = _opt()
    s = S.SequentialLR(opt, [S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, gamma=0.5)],
                       milestones=[3])
    assert opt.param_groups[0]['lr'] == 0.05
    np.testing.assert_allclose(_run(opt, s, 5), [0.05, 0.1, 0.1, 0.05, 0.025])
    opt = _opt()
    s = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, gamma=0.5)])
    np.testing.assert_allclose(_run(opt, s, 3), [0.025, 0.025, 0.0125])


def test_warning_when_scheduler_steps_before_optimizer():
    opt = _opt()
    s = S.StepLR(opt, 1)
    with pytest.warns(UserWarning, match=r'Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`'):
        s.step()
    opt = _opt()
    s = S.StepLR(opt, 1)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        s.step()
        s.step()


def test_warning_when_optimizer_step_is_replaced():
    opt = _opt()
    s = S.StepLR(opt, 1)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match='has been overridden after learning rate scheduler'):
        s.step()


def test_get_lr_outside_step_warns_and_epoch_argument_deprecated():
    opt = _opt()
    s = S.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match='please use `get_last_lr\\(\\)`'):
        s.get_lr()
    opt.step()
    with pytest.warns(UserWarning, match='epoch parameter'):
        s.step(3)
    assert opt.param_groups[0]['lr'] == pytest.approx(0.1 * 0.5 ** 3)   # closed form


def test_state_dict_round_trip():
    opt = _opt()
    s = S.CosineAnnealingLR(opt, T_max=10)
    _run(opt, s, 4)
    sd = s.state_dict()
    assert 'optimizer' not in sd and sd['last_epoch'] == 4
    opt2 = _opt()
    s2 = S.CosineAnnealingLR(opt2, T_max=3)
    s2.load_state_dict(pickle.loads(pickle.dumps(sd)))
    assert s2.T_max == 10 and s2.last_epoch == 4 and s2.get_last_lr() == s.get_last_lr()
    opt = _opt()
    s = S.LambdaLR(opt, lambda e: 0.9 ** e)
    sd = s.state_dict()
    assert sd['lr_lambdas'] == [None]
    s.load_state_dict(sd)
    opt = _opt()
    s = S.SequentialLR(opt, [S.ConstantLR(opt), S.ExponentialLR(opt, 0.9)], milestones=[2])
    _run(opt, s, 3)
    sd = s.state_dict()
    assert len(sd['_schedulers']) == 2 and sd['last_epoch'] == 3


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = _opt()
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        S.StepLR(opt, 2, last_epoch=3)
    opt.param_groups[0]['initial_lr'] = 0.1
    s = S.StepLR(opt, 2, last_epoch=3)
    assert s.last_epoch == 4


def test_argument_errors():
    opt = _opt()
    with pytest.raises(TypeError, match='int is not an Optimizer'):
        S.StepLR(3, 1)
    with pytest.raises(ValueError, match='Constant multiplicative factor expected to be between 0 and 1.'):
        S.ConstantLR(opt, factor=2)
    with pytest.raises(ValueError, match='Starting multiplicative factor expected'):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match='Expected positive integer T_0, but got 0'):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match='Expected integer T_mult >= 1, but got 0'):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match='Factor should be < 1.0.'):
        S.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match='mode foo is unknown!'):
        S.ReduceLROnPlateau(opt, mode='foo')
    with pytest.raises(ValueError, match='threshold mode bar is unknown!'):
        S.ReduceLROnPlateau(opt, threshold_mode='bar')
    with pytest.raises(ValueError, match='expected 1 min_lrs, got 2'):
        S.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match='mode is invalid and scale_fn is None'):
        S.CyclicLR(opt, 0.1, 1.0, mode='nope')
    with pytest.raises(ValueError, match='You must define either total_steps OR'):
        S.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        S.OneCycleLR(opt, 1.0, total_steps=10, anneal_strategy='x')
    with pytest.raises(ValueError, match='Expected float between 0 and 1 pct_start'):
        S.OneCycleLR(opt, 1.0, total_steps=10, pct_start=2.0)
    with pytest.raises(ValueError, match='Expected 1 lr_lambdas, but got 2'):
        S.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    plain = optim.Rprop([npnn.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match='optimizer must support momentum or beta1'):
        S.CyclicLR(plain, 0.1, 1.0)
    with pytest.raises(ValueError, match='max_lr must have the same length as optimizer.param_groups'):
        S.OneCycleLR(opt, [1.0, 2.0], total_steps=10)
    with pytest.raises(ValueError, match='expects at least one scheduler'):
        S.SequentialLR(opt, [], [])
    with pytest.raises(ValueError, match='does not support `ReduceLROnPlateau`'):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match='expects number of schedulers provided to be one more'):
        S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[3])
