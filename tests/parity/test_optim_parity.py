"""Optimizers and LR schedulers against PyTorch: same model, data and initial weights, same trajectory."""
import copy
import math

import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')

RTOL, ATOL = 2e-4, 2e-5


def _init(seed=0):
    rng = np.random.default_rng(seed)
    f = np.float32
    return {
        'w1': (rng.standard_normal((4, 8)) * 0.5).astype(f), 'b1': (rng.standard_normal(8) * 0.1).astype(f),
        'w2': (rng.standard_normal((8, 3)) * 0.5).astype(f), 'b2': (rng.standard_normal(3) * 0.1).astype(f),
        'x': rng.standard_normal((16, 4)).astype(f), 'y': rng.standard_normal((16, 3)).astype(f),
    }


NAMES = ['w1', 'b1', 'w2', 'b2']


def _params(lib, data, device=None, frozen=()):
    ps = {}
    for k in NAMES:
        if lib is npnn:
            t = npnn.tensor(data[k], device=device)
        else:
            t = torch.tensor(data[k])
        t.requires_grad_(k not in frozen)
        ps[k] = t
    return ps


def _loss(lib, ps, x, y):
    h = lib.tanh(x @ ps['w1'] + ps['b1'])
    out = h @ ps['w2'] + ps['b2']
    return ((out - y) ** 2).mean()


def _groups(ps, per_group_lr, lr):
    if per_group_lr is None:
        return [ps[k] for k in NAMES]
    return [{'params': [ps['w1'], ps['b1']]}, {'params': [ps['w2'], ps['b2']], 'lr': lr * per_group_lr}]


def _run_torch(cls_name, kwargs, data, steps, per_group_lr=None, frozen=()):
    ps = _params(torch, data, frozen=frozen)
    opt = getattr(torch.optim, cls_name)(_groups(ps, per_group_lr, kwargs.get('lr', 1e-3)), **kwargs)
    x, y = torch.tensor(data['x']), torch.tensor(data['y'])
    for _ in range(steps):
        opt.zero_grad()
        _loss(torch, ps, x, y).backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in ps.items()}, opt


def _run_npnn(cls_name, kwargs, data, steps, device, per_group_lr=None, frozen=(), reload_at=None):
    ps = _params(npnn, data, device, frozen=frozen)
    make = lambda p: getattr(npnn.optim, cls_name)(_groups(p, per_group_lr, kwargs.get('lr', 1e-3)), **kwargs)
    opt = make(ps)
    x, y = npnn.tensor(data['x'], device=device), npnn.tensor(data['y'], device=device)
    for i in range(steps):
        if reload_at is not None and i == reload_at:
            sd = copy.deepcopy(opt.state_dict())
            # a fresh model (same current values) and a fresh optimizer continue from the saved state
            cur = {k: v.detach().cpu().numpy().copy() for k, v in ps.items()}
            ps = _params(npnn, {**data, **cur}, device, frozen=frozen)
            opt = make(ps)
            opt.load_state_dict(sd)
        opt.zero_grad()
        _loss(npnn, ps, x, y).backward()
        opt.step()
    return {k: v.detach().cpu().numpy() for k, v in ps.items()}, opt


CONFIGS = [
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9)),
    ('SGD', dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ('SGD', dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ('SGD', dict(lr=0.05, momentum=0.5, maximize=True)),
    ('Adam', dict(lr=0.01)),
    ('Adam', dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ('Adam', dict(lr=0.01, amsgrad=True, maximize=True)),
    ('Adam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ('AdamW', dict(lr=0.01)),
    ('AdamW', dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ('Adagrad', dict(lr=0.1)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1)),
    ('Adagrad', dict(lr=0.1, maximize=True, eps=1e-6)),
    ('Adadelta', dict(lr=1.0)),
    ('Adadelta', dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ('Adamax', dict(lr=0.01)),
    ('Adamax', dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    ('ASGD', dict(lr=0.05)),
    ('ASGD', dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.01)),
    ('NAdam', dict(lr=0.01)),
    ('NAdam', dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ('NAdam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('RAdam', dict(lr=0.01)),
    ('RAdam', dict(lr=0.01, weight_decay=0.1)),
    ('RAdam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, betas=(0.9, 0.9))),
    ('RMSprop', dict(lr=0.01)),
    ('RMSprop', dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
    ('RMSprop', dict(lr=0.01, centered=True, alpha=0.9)),
    ('RMSprop', dict(lr=0.005, centered=True, momentum=0.5, maximize=True)),
    ('Rprop', dict(lr=0.01)),
    ('Rprop', dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-4, 0.1), maximize=True)),
]
IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for c, kw in CONFIGS]


def _assert_same(a, b, **kw):
    for k in NAMES:
        np.testing.assert_allclose(a[k], b[k], rtol=kw.get('rtol', RTOL), atol=kw.get('atol', ATOL),
                                   err_msg=f'parameter {k}')


@pytest.mark.parametrize('cls_name,kwargs', CONFIGS, ids=IDS)
def test_twenty_steps_match_torch(cls_name, kwargs, device):
    data = _init()
    ref, _ = _run_torch(cls_name, kwargs, data, 20)
    got, _ = _run_npnn(cls_name, kwargs, data, 20, device)
    _assert_same(got, ref)


@pytest.mark.parametrize('cls_name,kwargs', CONFIGS[::2], ids=IDS[::2])
def test_per_group_lr_and_frozen_match_torch(cls_name, kwargs, device):
    data = _init(1)
    ref, _ = _run_torch(cls_name, kwargs, data, 20, per_group_lr=0.3, frozen=('b1',))
    got, _ = _run_npnn(cls_name, kwargs, data, 20, device, per_group_lr=0.3, frozen=('b1',))
    _assert_same(got, ref)
    assert np.array_equal(got['b1'], data['b1'])  # frozen: bit-identical


@pytest.mark.parametrize('cls_name,kwargs', CONFIGS[1::2], ids=IDS[1::2])
def test_state_dict_reload_midway_matches_torch(cls_name, kwargs, device):
    data = _init(2)
    ref, _ = _run_torch(cls_name, kwargs, data, 20, per_group_lr=0.5)
    got, _ = _run_npnn(cls_name, kwargs, data, 20, device, per_group_lr=0.5, reload_at=10)
    _assert_same(got, ref)


def test_adam_state_matches_torch(device):
    data = _init(3)
    _, topt = _run_torch('Adam', dict(lr=0.01, amsgrad=True), data, 7)
    _, nopt = _run_npnn('Adam', dict(lr=0.01, amsgrad=True), data, 7, device)
    tsd, nsd = topt.state_dict(), nopt.state_dict()
    assert sorted(tsd['state']) == sorted(nsd['state'])
    for i in tsd['state']:
        assert set(tsd['state'][i]) == set(nsd['state'][i])
        for k, v in tsd['state'][i].items():
            nv = nsd['state'][i][k]
            assert str(nv.dtype) == 'npnn.' + str(v.dtype).split('.')[-1], k
            np.testing.assert_allclose(nv.detach().cpu().numpy(), v.numpy(), rtol=RTOL, atol=1e-6)
    strip = lambda g: {k: v for k, v in g.items()}
    assert [strip(g) for g in tsd['param_groups']] == [strip(g) for g in nsd['param_groups']]


def test_sparse_adam_matches_torch_sparse_gradients(device):
    rng = np.random.default_rng(4)
    w0 = rng.standard_normal((10, 3)).astype(np.float32)
    tw = torch.tensor(w0, requires_grad=True)
    nw = npnn.tensor(w0, device=device, requires_grad=True)
    topt = torch.optim.SparseAdam([tw], lr=0.05)
    nopt = npnn.optim.SparseAdam([nw], lr=0.05)
    for step in range(15):
        g = np.zeros((10, 3), np.float32)
        rows = rng.choice(10, size=3, replace=False)
        g[rows] = rng.standard_normal((3, 3)).astype(np.float32)
        tw.grad = torch.tensor(g).to_sparse()
        nw.grad = npnn.tensor(g, device=device)
        topt.step()
        nopt.step()
    np.testing.assert_allclose(nw.detach().cpu().numpy(), tw.detach().numpy(), rtol=RTOL, atol=ATOL)


# --- LBFGS -------------------------------------------------------------------------------------------------------
def _rosenbrock(lib, x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _lbfgs_run(lib, x0, device, line_search, kw, steps=8):
    x = lib.tensor(x0, device=device) if lib is npnn else torch.tensor(x0)
    x.requires_grad_(True)
    opt = lib.optim.LBFGS([x], lr=1 if line_search else 0.1, line_search_fn=line_search, **kw)

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(lib, x)
        loss.backward()
        return loss
    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return x.detach().cpu().numpy(), losses, opt.state[x]


@pytest.mark.parametrize('line_search', [None, 'strong_wolfe'])
@pytest.mark.parametrize('kw', [dict(), dict(history_size=3, max_iter=10)], ids=['default', 'hist3'])
def test_lbfgs_rosenbrock_float64_trajectory_matches_torch(line_search, kw, device):
    x0 = np.array([-1.5, 2.0, -0.5, 1.2], np.float64)
    tx, tl, ts = _lbfgs_run(torch, x0, device, line_search, kw)
    nx, nl, ns = _lbfgs_run(npnn, x0, device, line_search, kw)
    np.testing.assert_allclose(nl, tl, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(nx, tx, rtol=1e-7, atol=1e-9)
    assert (ns['func_evals'], ns['n_iter']) == (ts['func_evals'], ts['n_iter'])


@pytest.mark.parametrize('line_search', [None, 'strong_wolfe'])
def test_lbfgs_rosenbrock_float32_reaches_torch_result(line_search, device):
    x0 = np.array([-1.5, 2.0, -0.5, 1.2], np.float32)
    tx, tl, _ = _lbfgs_run(torch, x0, device, line_search, {}, steps=10)
    nx, nl, _ = _lbfgs_run(npnn, x0, device, line_search, {}, steps=10)
    np.testing.assert_allclose(nl[:2], tl[:2], rtol=1e-4)
    np.testing.assert_allclose(nx, tx, atol=2e-3)
    assert nl[-1] < nl[0] * 1e-2
    if line_search:
        assert nl[-1] < 1e-4 and tl[-1] < 1e-4


# --- LR schedulers -----------------------------------------------------------------------------------------------
def _sched_pair(make, optim='SGD', groups=1, opt_kwargs=None):
    out = []
    for lib in (torch, npnn):
        ps = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
        pg = [{'params': [p], 'lr': 0.1 * (i + 1)} for i, p in enumerate(ps)]
        opt = getattr(lib.optim, optim)(pg, **(opt_kwargs or dict(lr=0.1, momentum=0.9)))
        out.append((opt, make(lib.optim.lr_scheduler, opt, lib)))
    return out


def _trace(opt, sched, n=100, metrics=None, key='momentum'):
    lrs, moms = [], []
    for i in range(n):
        opt.step()
        if metrics is not None:
            sched.step(metrics[i])
        else:
            sched.step()
        lrs.append([g['lr'] for g in opt.param_groups])
        if key == 'momentum':
            moms.append([g.get('momentum') for g in opt.param_groups])
        else:
            moms.append([g['betas'][0] for g in opt.param_groups])
        assert [float(v) for v in sched.get_last_lr()] == [float(v) for v in lrs[-1]]
    return np.array(lrs, dtype=np.float64), np.array(moms, dtype=np.float64)


SCHEDULERS = {
    'LambdaLR': lambda S, o, lib: S.LambdaLR(o, lambda e: 0.95 ** e),
    'LambdaLR-list': lambda S, o, lib: S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    'MultiplicativeLR': lambda S, o, lib: S.MultiplicativeLR(o, lambda e: 0.97),
    'StepLR': lambda S, o, lib: S.StepLR(o, step_size=7, gamma=0.5),
    'MultiStepLR': lambda S, o, lib: S.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
    'ConstantLR': lambda S, o, lib: S.ConstantLR(o, factor=0.25, total_iters=20),
    'LinearLR': lambda S, o, lib: S.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=40),
    'ExponentialLR': lambda S, o, lib: S.ExponentialLR(o, gamma=0.96),
    'PolynomialLR': lambda S, o, lib: S.PolynomialLR(o, total_iters=60, power=2.0),
    'CosineAnnealingLR': lambda S, o, lib: S.CosineAnnealingLR(o, T_max=30, eta_min=1e-3),
    'CosineAnnealingWarmRestarts': lambda S, o, lib: S.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2,
                                                                                      eta_min=1e-4),
    'CyclicLR-triangular': lambda S, o, lib: S.CyclicLR(o, 0.01, 0.1, step_size_up=7, step_size_down=13),
    'CyclicLR-triangular2': lambda S, o, lib: S.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=10,
                                                         mode='triangular2'),
    'CyclicLR-exp_range': lambda S, o, lib: S.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode='exp_range',
                                                       gamma=0.98, base_momentum=0.7, max_momentum=0.95),
    'CyclicLR-scale_fn': lambda S, o, lib: S.CyclicLR(o, 0.01, 0.1, step_size_up=6, scale_fn=lambda x: 0.9 ** x,
                                                      scale_mode='iterations', cycle_momentum=False),
    'OneCycleLR-cos': lambda S, o, lib: S.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=100),
    'OneCycleLR-linear-3phase': lambda S, o, lib: S.OneCycleLR(o, max_lr=0.5, epochs=10, steps_per_epoch=10,
                                                               anneal_strategy='linear', three_phase=True,
                                                               pct_start=0.25),
    'SequentialLR': lambda S, o, lib: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
                                                        S.CosineAnnealingLR(o, T_max=40),
                                                        S.ExponentialLR(o, gamma=0.9)], milestones=[10, 50]),
    'ChainedScheduler': lambda S, o, lib: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=15),
                                                              S.ExponentialLR(o, gamma=0.97)]),
}


@pytest.mark.parametrize('name', list(SCHEDULERS))
@pytest.mark.parametrize('groups', [1, 2])
def test_scheduler_matches_torch(name, groups):
    if name in ('LambdaLR-list', 'CyclicLR-triangular2', 'OneCycleLR-cos') and groups == 1:
        pytest.skip('per-group list needs two groups')
    (to, ts), (no, ns) = _sched_pair(SCHEDULERS[name], groups=groups)
    tl, tm = _trace(to, ts)
    nl, nm = _trace(no, ns)
    np.testing.assert_allclose(nl, tl, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nm, tm, rtol=1e-12, atol=1e-15)
    assert getattr(ns, "last_epoch", None) == getattr(ts, "last_epoch", None)


@pytest.mark.parametrize('name', ['CyclicLR-triangular', 'OneCycleLR-cos'])
def test_scheduler_cycles_adam_betas_like_torch(name):
    (to, ts), (no, ns) = _sched_pair(SCHEDULERS[name], optim='Adam', groups=2, opt_kwargs=dict(lr=0.1))
    tl, tm = _trace(to, ts, key='betas')
    nl, nm = _trace(no, ns, key='betas')
    np.testing.assert_allclose(nl, tl, rtol=1e-12)
    np.testing.assert_allclose(nm, tm, rtol=1e-12)


def test_warm_restarts_fractional_epochs_match_torch():
    (to, ts), (no, ns) = _sched_pair(SCHEDULERS['CosineAnnealingWarmRestarts'])
    for opt, sched in ((to, ts), (no, ns)):
        seq = []
        for e in np.arange(0, 60, 0.37):
            opt.step()
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                sched.step(float(e))
            seq.append(opt.param_groups[0]['lr'])
        opt._seq = seq
    np.testing.assert_allclose(no._seq, to._seq, rtol=1e-12)


@pytest.mark.parametrize('kw', [dict(), dict(mode='max', threshold_mode='abs', threshold=0.05),
                                dict(patience=2, cooldown=3, factor=0.5, min_lr=[0.01, 0.002]),
                                dict(mode='min', threshold_mode='abs', patience=0, eps=1e-3, min_lr=1e-3)])
def test_reduce_on_plateau_matches_torch(kw):
    rng = np.random.default_rng(5)
    metrics = list(np.concatenate([np.linspace(1.0, 0.5, 20), 0.5 + 0.01 * rng.standard_normal(40),
                                   np.linspace(0.5, 1.5, 40)]))
    (to, ts), (no, ns) = _sched_pair(lambda S, o, lib: S.ReduceLROnPlateau(o, **kw), groups=2)
    tl, _ = _trace(to, ts, metrics=metrics)
    nl, _ = _trace(no, ns, metrics=metrics)
    np.testing.assert_allclose(nl, tl, rtol=1e-12)
    assert len(np.unique(nl[:, 0])) > 1  # the metric script does trigger reductions
