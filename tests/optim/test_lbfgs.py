"""LBFGS: minimises Rosenbrock, with and without the strong-Wolfe line search; its options and state."""
import numpy as np
import pytest

import npnn
import npnn.optim as optim


def _rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _minimise(device, dtype=npnn.float32, steps=15, x0=(-1.5, 2.0, -0.5, 1.2), **kw):
    x = npnn.tensor(list(x0), device=device, dtype=dtype, requires_grad=True)
    opt = optim.LBFGS([x], **kw)
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(steps)]
    return x, opt, losses, calls[0]


def test_strong_wolfe_reaches_minimum(device):
    x, opt, losses, _ = _minimise(device, line_search_fn='strong_wolfe')
    np.testing.assert_allclose(x.detach().cpu().numpy(), np.ones(4), atol=1e-3)
    assert losses[-1] < 1e-6 and x.dtype == npnn.float32 and x.device.type == device


def test_plain_lbfgs_reaches_minimum_float64(device):
    x, opt, losses, _ = _minimise(device, npnn.float64, steps=40, x0=(-1.2, 1.0), lr=0.5, history_size=10)
    np.testing.assert_allclose(x.detach().cpu().numpy(), np.ones(2), atol=1e-4)


def test_max_iter_and_max_eval_bound_closure_calls():
    x, opt, _, calls = _minimise('cpu', steps=1, max_iter=4, line_search_fn=None, lr=0.1)
    assert calls == 4 and opt.state[x]['n_iter'] == 4 and opt.state[x]['func_evals'] == 4
    x, opt, _, calls = _minimise('cpu', steps=1, max_iter=50, max_eval=7, line_search_fn='strong_wolfe')
    assert calls <= 7 + 25 and opt.state[x]['func_evals'] == calls
    assert opt.defaults['max_eval'] == 7
    assert optim.LBFGS([npnn.zeros(1, requires_grad=True)], max_iter=8).defaults['max_eval'] == 10


def test_history_size_bounds_memory():
    x, opt, _, _ = _minimise('cpu', steps=3, history_size=2, lr=0.1)
    assert len(opt.state[x]['old_dirs']) <= 2 and len(opt.state[x]['old_stps']) == len(opt.state[x]['ro'])


def test_tolerance_grad_stops_immediately_at_a_minimum():
    x = npnn.ones(4, requires_grad=True)
    opt = optim.LBFGS([x], tolerance_grad=1e-5)
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss
    opt.step(closure)
    assert calls[0] == 1 and opt.state[x]['n_iter'] == 0
    np.testing.assert_array_equal(x.detach().numpy(), np.ones(4))


def test_tolerance_change_stops_when_progress_stalls():
    x, opt, _, calls = _minimise('cpu', steps=1, max_iter=1000, max_eval=5000, tolerance_change=1e-2, lr=0.1)
    assert opt.state[x]['n_iter'] < 1000


def test_unknown_line_search_and_missing_closure():
    x = npnn.zeros(2, requires_grad=True)
    opt = optim.LBFGS([x], line_search_fn='armijo')

    def closure():
        opt.zero_grad()
        loss = ((x - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    with pytest.raises(TypeError):
        optim.LBFGS([x]).step()


def test_state_dict_round_trip_continues():
    x, opt, _, _ = _minimise('cpu', steps=2, lr=0.1, max_iter=5)
    sd = opt.state_dict()
    assert sd['state'][0]['n_iter'] == 10 and isinstance(sd['state'][0]['d'], npnn.Tensor)
    y = x.detach().clone().requires_grad_(True)
    opt2 = optim.LBFGS([y], lr=0.1, max_iter=5)
    opt2.load_state_dict(sd)

    def run(p, o):
        def closure():
            o.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss
        o.step(closure)
    run(x, opt)
    run(y, opt2)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy(), rtol=1e-6)
