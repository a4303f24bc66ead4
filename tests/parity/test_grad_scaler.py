"""GradScaler against torch.amp.GradScaler('cpu'): scale trajectory, skipped steps, unscale_ + clipping,
state_dict, errors."""
import pickle

import numpy as np
import pytest

torch = pytest.importorskip('torch')
import npnn  # noqa: E402


def _loop(lib, dev, steps=30, inf_steps=(4, 5, 17), growth_interval=3, clip=None, opt_name='SGD'):
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((2, 4)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    x, y = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((6, 2)).astype(np.float32)
    m = lib.nn.Linear(4, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(w0))
        m.bias.copy_(lib.tensor(b0))
    m = m.to(dev)
    x, y = lib.tensor(x).to(dev), lib.tensor(y).to(dev)
    opt = getattr(lib.optim, opt_name)(m.parameters(), lr=0.05)
    scaler = lib.amp.GradScaler(dev, init_scale=2.0 ** 10, growth_factor=4.0, backoff_factor=0.25,
                                growth_interval=growth_interval)
    scales, rets, losses, norms = [], [], [], []
    for i in range(steps):
        opt.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        scaler.scale(loss).backward()
        if i in inf_steps:
            with lib.no_grad():
                m.weight.grad[0, 1] = float('inf') if i % 2 else float('nan')
        if clip is not None:
            scaler.unscale_(opt)
            norms.append(float(lib.nn.utils.clip_grad_norm_(m.parameters(), clip)))
        w_before = m.weight.detach().cpu().numpy().copy()
        rets.append(scaler.step(opt) is None)
        skipped = np.array_equal(w_before, m.weight.detach().cpu().numpy())
        assert skipped == (i in inf_steps)
        scaler.update()
        scales.append(scaler.get_scale())
        losses.append(float(loss.detach()))
    return dict(scales=scales, rets=rets, losses=losses, norms=norms, w=m.weight.detach().cpu().numpy(),
                sd=scaler.state_dict())


def test_training_loop_matches_torch(device):
    for kw in (dict(), dict(clip=0.5), dict(opt_name='Adam', growth_interval=2, inf_steps=(0, 9, 10, 11))):
        a = _loop(npnn, device, **kw)
        b = _loop(torch, 'cpu', **kw)
        assert a['scales'] == b['scales']
        assert len(set(a['scales'])) > 3  # it did grow and back off
        assert a['rets'] == b['rets']
        np.testing.assert_allclose(a['losses'], b['losses'], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a['norms'], b['norms'], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a['w'], b['w'], rtol=1e-5, atol=1e-6)
        assert a['sd'] == b['sd']


def test_scale_and_unscale_values(device):
    for lib, dev in ((npnn, device), (torch, 'cpu')):
        s = lib.amp.GradScaler(dev, init_scale=3.0)
        assert s.get_scale() == 3.0  # before the first scale(): init_scale
        t = lib.tensor([1.0, -2.0], device=dev)
        out = s.scale([t, (t * 2, [t])])
        assert isinstance(out, list) and isinstance(out[1], tuple) and isinstance(out[1][1], list)
        np.testing.assert_array_equal(out[1][0].cpu().numpy(), [6.0, -12.0])
        gen = s.scale(x for x in [t])
        assert not isinstance(gen, (list, tuple))
        np.testing.assert_array_equal(next(iter(gen)).cpu().numpy(), [3.0, -6.0])
        with pytest.raises(ValueError, match='outputs must be a Tensor or an iterable of Tensors'):
            s.scale([t, 1.0])
        p = lib.tensor([1.0, 2.0], device=dev, requires_grad=True)
        q = lib.tensor([5.0], device=dev, requires_grad=True)  # no grad: skipped by unscale_
        opt = lib.optim.SGD([p, q], lr=1.0)
        s.scale((p * p).sum()).backward()
        np.testing.assert_array_equal(p.grad.cpu().numpy(), [6.0, 12.0])
        s.unscale_(opt)
        np.testing.assert_allclose(p.grad.cpu().numpy(), [2.0, 4.0], rtol=1e-6)
        assert s.step(opt) is None  # SGD.step returns None either way
        np.testing.assert_allclose(p.detach().cpu().numpy(), [-1.0, -2.0], rtol=1e-6)
        assert q.grad is None


def test_step_returns_closure_value_and_rejects_closure_kwarg():
    for lib in (npnn, torch):
        p = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        s = lib.amp.GradScaler('cpu')
        s.scale(p.sum()).backward()

        def closure():
            return lib.tensor(7.0)
        assert float(s.step(opt, closure)) == 7.0
        s.update()
        s.scale(p.sum()).backward()
        with pytest.raises(RuntimeError, match='Closure use is not currently supported'):
            s.step(opt, closure=closure)


def test_update_new_scale_and_setters():
    for lib in (npnn, torch):
        s = lib.amp.GradScaler('cpu')
        p = lib.tensor([1.0], requires_grad=True)
        s.scale(p.sum())
        s.update(8.0)
        assert s.get_scale() == 8.0
        s.update(lib.tensor(0.5))
        assert s.get_scale() == 0.5
        with pytest.raises(AssertionError, match='new_scale should be a float'):
            s.update(lib.tensor([1.0, 2.0]))
        s.set_growth_factor(3.0), s.set_backoff_factor(0.1), s.set_growth_interval(7)
        assert (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()) == (3.0, 0.1, 7)
        with pytest.raises(AssertionError, match='growth factor must be > 1.0'):
            lib.amp.GradScaler('cpu', growth_factor=1.0)
        with pytest.raises(AssertionError, match='backoff factor must be < 1.0'):
            lib.amp.GradScaler('cpu', backoff_factor=1.0)


def test_state_dict_round_trip_matches_torch():
    a = _loop(npnn, 'cpu', steps=11)
    assert set(a['sd']) == {'scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker'}
    for lib in (npnn, torch):
        fresh = lib.amp.GradScaler('cpu')
        fresh.load_state_dict(a['sd'])
        assert fresh.state_dict() == a['sd'] and fresh.get_scale() == a['sd']['scale']
        used = lib.amp.GradScaler('cpu')
        used.scale(lib.ones(1))
        used.load_state_dict(a['sd'])
        assert used.state_dict() == a['sd']
        with pytest.raises(RuntimeError, match='The source state dict is empty'):
            used.load_state_dict({})
        clone = pickle.loads(pickle.dumps(used))
        assert clone.state_dict() == a['sd']
    # the restored growth tracker continues: two clean steps later it grows (tracker 1 -> interval 3)
    sd = dict(a['sd'], _growth_tracker=1, growth_interval=3)
    got = []
    for lib in (npnn, torch):
        s = lib.amp.GradScaler('cpu')
        s.load_state_dict(sd)
        p = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        traj = []
        for _ in range(3):
            opt.zero_grad()
            s.scale(p.sum()).backward()
            s.step(opt)
            s.update()
            traj.append((s.get_scale(), s.state_dict()['_growth_tracker']))
        got.append(traj)
    assert got[0] == got[1]


def test_errors_match_torch():
    for lib in (npnn, torch):
        p = lib.tensor([1.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        s = lib.amp.GradScaler('cpu')
        with pytest.raises(AssertionError, match='Attempted step but _scale is None'):
            s.step(opt)
        with pytest.raises(AssertionError, match='Attempted unscale_ but _scale is None'):
            s.unscale_(opt)
        with pytest.raises(AssertionError, match='Attempted update but _scale is None'):
            s.update()
        loss = s.scale(p.sum())
        with pytest.raises(AssertionError, match='No inf checks were recorded for this optimizer'):
            s.step(opt)  # no backward: no gradients to check
        s = lib.amp.GradScaler('cpu')
        s.scale(p.sum())
        with pytest.raises(AssertionError, match='No inf checks were recorded prior to update'):
            s.update()
        loss.backward()
        s.unscale_(opt)
        with pytest.raises(RuntimeError, match=r'unscale_\(\) has already been called on this optimizer since '
                                               r'the last update\(\)'):
            s.unscale_(opt)
        s.step(opt)
        with pytest.raises(RuntimeError, match=r'step\(\) has already been called since the last update\(\)'):
            s.step(opt)
        with pytest.raises(RuntimeError, match=r'unscale_\(\) is being called after step\(\)'):
            s.unscale_(opt)
        with pytest.raises(AssertionError, match='may only be pickled at the beginning'):
            pickle.dumps(s)
        s.update()
        h = lib.tensor([1.0], dtype=lib.float16, requires_grad=True)
        h.grad = lib.tensor([1.0], dtype=lib.float16)
        with pytest.raises(ValueError, match='Attempting to unscale FP16 gradients'):
            s.unscale_(lib.optim.SGD([h], lr=0.1))


def test_disabled_is_pass_through():
    for lib in (npnn, torch):
        s = lib.amp.GradScaler('cpu', enabled=False, growth_factor=0.5)  # no factor checks when disabled
        t = lib.tensor([2.0], requires_grad=True)
        assert s.scale(t) is t and s.get_scale() == 1.0 and not s.is_enabled()
        opt = lib.optim.SGD([t], lr=1.0)
        t.sum().backward()
        with lib.no_grad():
            t.grad[0] = float('inf')
        s.unscale_(opt)
        s.step(opt)  # steps even with an inf gradient
        assert np.isinf(t.detach().numpy()[0])
        s.update()
        assert s.state_dict() == {}
        s.load_state_dict({})
