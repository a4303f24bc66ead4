"""Adafactor against torch.optim.Adafactor: 20-step trajectories, state layout, state dicts both ways, errors."""
import copy

import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')

SHAPES = {'s': (), 'v': (5,), 'm': (4, 6), 't': (2, 3, 5)}


def _data(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for k, shp in SHAPES.items():
        out[k] = rng.standard_normal(shp).astype(dtype)
        out['A' + k] = rng.standard_normal(shp).astype(dtype)
        out['B' + k] = rng.uniform(0.2, 1.5, shp).astype(dtype)
    return out


def _params(lib, data, device=None):
    if lib is npnn:
        return {k: npnn.tensor(data[k], device=device, requires_grad=True) for k in SHAPES}
    return {k: torch.tensor(data[k], requires_grad=True) for k in SHAPES}


def _loss(lib, ps, data, device=None):
    total = 0
    for k, p in ps.items():
        A = npnn.tensor(data['A' + k], device=device) if lib is npnn else torch.tensor(data['A' + k])
        B = npnn.tensor(data['B' + k], device=device) if lib is npnn else torch.tensor(data['B' + k])
        total = total + (lib.sin(p) * A).sum() + (p * p * B).sum()
    return total


def _run(lib, kwargs, data, steps, device=None, reload_at=None):
    ps = _params(lib, data, device)
    mod = npnn.optim if lib is npnn else torch.optim
    make = lambda ps: mod.Adafactor(list(ps.values()), **kwargs)
    opt = make(ps)
    for i in range(steps):
        if reload_at is not None and i == reload_at:
            sd = copy.deepcopy(opt.state_dict())
            cur = {k: v.detach().cpu().numpy().copy() if lib is npnn else v.detach().numpy().copy()
                   for k, v in ps.items()}
            ps = _params(lib, {**data, **cur}, device)
            opt = make(ps)
            opt.load_state_dict(sd)
        opt.zero_grad()
        _loss(lib, ps, data, device).backward()
        opt.step()
    vals = {k: (v.detach().cpu().numpy() if lib is npnn else v.detach().numpy()) for k, v in ps.items()}
    return vals, opt


CONFIGS = [
    dict(),
    dict(lr=0.05),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.03, maximize=True),
    dict(lr=0.02, beta2_decay=-0.5, eps=(1e-30, 1e-2), d=2.0),
    dict(lr=0.2, eps=(1e-3, 1e-3), weight_decay=0.01, foreach=True),
    dict(lr=1.0, d=1.0),  # rho_t = 1/sqrt(t): the clip and the relative step both bite
]


@pytest.mark.parametrize('kwargs', CONFIGS, ids=[str(c) for c in CONFIGS])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_trajectory(kwargs, dtype, device):
    data = _data(dtype)
    got, _ = _run(npnn, kwargs, data, 20, device)
    want, _ = _run(torch, kwargs, data, 20)
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for k in SHAPES:
        assert got[k].dtype == want[k].dtype
        np.testing.assert_allclose(got[k], want[k], err_msg=k, **tol)
        assert not np.allclose(got[k], data[k])  # the parameters did move


def test_state_layout(device):
    data = _data()
    _, nopt = _run(npnn, dict(lr=0.05), data, 3, device)
    _, topt = _run(torch, dict(lr=0.05), data, 3)
    nsd, tsd = nopt.state_dict(), topt.state_dict()
    assert set(nsd['state']) == set(tsd['state'])
    for i in tsd['state']:
        ns, ts = nsd['state'][i], tsd['state'][i]
        assert set(ns) == set(ts)
        for key in ts:
            a, b = ns[key].cpu().numpy(), ts[key].numpy()
            assert a.shape == b.shape and a.dtype == b.dtype, key
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-7, err_msg=key)
    ng, tg = nsd['param_groups'][0], tsd['param_groups'][0]
    assert set(ng) == set(tg)
    for key in tg:
        assert ng[key] == tg[key], key


@pytest.mark.parametrize('kwargs', [dict(lr=0.05), dict(lr=0.05, weight_decay=0.1, maximize=True)])
def test_state_dict_mid_run(kwargs, device):
    data = _data(np.float64)
    got, _ = _run(npnn, kwargs, data, 20, device, reload_at=7)
    want, _ = _run(torch, kwargs, data, 20)
    for k in SHAPES:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def _to_torch(obj):
    if isinstance(obj, npnn.Tensor):
        return torch.tensor(obj.cpu().numpy())
    if isinstance(obj, dict):
        return {k: _to_torch(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_torch(v) for v in obj]
    return obj


def _to_npnn(obj, device):
    if isinstance(obj, torch.Tensor):
        return npnn.tensor(obj.numpy(), device='cpu' if obj.dim() == 0 and obj.dtype == torch.float32 else device)
    if isinstance(obj, dict):
        return {k: _to_npnn(v, device) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_npnn(v, device) for v in obj]
    return obj


@pytest.mark.parametrize('direction', ['torch_to_npnn', 'npnn_to_torch'])
def test_state_dict_cross_load(direction, device):
    data = _data(np.float64)
    kw = dict(lr=0.05, weight_decay=0.05)
    want, _ = _run(torch, kw, data, 12)
    if direction == 'torch_to_npnn':
        tv, topt = _run(torch, kw, data, 5)
        ps = _params(npnn, {**data, **tv}, device)
        opt = npnn.optim.Adafactor(list(ps.values()), **kw)
        opt.load_state_dict(_to_npnn(topt.state_dict(), device))
        for _ in range(7):
            opt.zero_grad()
            _loss(npnn, ps, data, device).backward()
            opt.step()
        got = {k: v.detach().cpu().numpy() for k, v in ps.items()}
    else:
        nv, nopt = _run(npnn, kw, data, 5, device)
        ps = _params(torch, {**data, **nv})
        opt = torch.optim.Adafactor(list(ps.values()), **kw)
        opt.load_state_dict(_to_torch(nopt.state_dict()))
        for _ in range(7):
            opt.zero_grad()
            _loss(torch, ps, data).backward()
            opt.step()
        got = {k: v.detach().numpy() for k, v in ps.items()}
    for k in SHAPES:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_frozen_param_and_defaults(device):
    p = npnn.tensor(np.ones((3, 2), np.float32), device=device, requires_grad=True)
    q = npnn.tensor(np.ones(3, np.float32), device=device, requires_grad=True)
    opt = npnn.optim.Adafactor([p, q])
    tp = torch.ones(3, 2, requires_grad=True)
    topt = torch.optim.Adafactor([tp, torch.ones(3, requires_grad=True)])
    assert {k: v for k, v in opt.defaults.items()} == topt.defaults
    (p * p).sum().backward()
    opt.step()
    assert q not in opt.state and len(opt.state) == 1
    (tp * tp).sum().backward()
    topt.step()
    np.testing.assert_allclose(p.detach().cpu().numpy(), tp.detach().numpy(), rtol=1e-6)


def test_mixed_dtypes_eps1_from_first_param(device):
    # eps1=None comes from the first parameter with a gradient and is kept for the group
    rng = np.random.default_rng(3)
    a64 = rng.standard_normal((3, 4)) * 1e-9
    a32 = (rng.standard_normal((4, 3)) * 1e-5).astype(np.float32)
    res = []
    for lib in (npnn, torch):
        if lib is npnn:
            ps = [npnn.tensor(a64, device=device, requires_grad=True),
                  npnn.tensor(a32, device=device, requires_grad=True)]
        else:
            ps = [torch.tensor(a64, requires_grad=True), torch.tensor(a32, requires_grad=True)]
        opt = (npnn.optim if lib is npnn else torch.optim).Adafactor(ps, lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            ((ps[0] * 2.0).sum() + (ps[1] * ps[1]).sum()).backward()
            opt.step()
        res.append([p.detach().cpu().numpy() if lib is npnn else p.detach().numpy() for p in ps])
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=2e-4, atol=1e-9)


@pytest.mark.parametrize('kwargs,msg', [
    (dict(lr=-0.1), "Learning rate should be >= 0 but is: -0.1"),
    (dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    (dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
    (dict(eps=(None, -1e-3)), "epsilon2 should be >= 0 but is: -0.001"),
    (dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    (dict(weight_decay=-1.0), "weight_decay should be >= 0 but is: -1.0"),
])
def test_bad_hyperparameters(kwargs, msg):
    with pytest.raises(ValueError, match='^' + msg.replace('.', r'\.') + '$'):
        npnn.optim.Adafactor([npnn.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match='^' + msg.replace('.', r'\.') + '$'):
        torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kwargs)


def test_tensor_lr_must_be_one_element():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        npnn.optim.Adafactor([npnn.zeros(2, requires_grad=True)], lr=npnn.tensor([0.1, 0.2]))
    opt = npnn.optim.Adafactor([npnn.zeros(2, requires_grad=True)], lr=npnn.tensor(0.1))
    assert float(opt.param_groups[0]['lr']) == pytest.approx(0.1)


def test_complex_parameter_raises():
    p = npnn.zeros(3, dtype=npnn.complex64, requires_grad=True)
    p.grad = npnn.ones(3, dtype=npnn.complex64)
    opt = npnn.optim.Adafactor([p])
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        opt.step()
    tp = torch.zeros(3, dtype=torch.complex64, requires_grad=True)
    tp.grad = torch.ones(3, dtype=torch.complex64)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        torch.optim.Adafactor([tp]).step()

