"""The autograd profiler: recorded ops and backward nodes, counts, nesting, tables, traces, clean restore."""
import json
import sys
import time
import types

import numpy as np
import pytest

import npnn
import npnn.nn as nn
import npnn.nn.functional as F
from npnn.autograd import engine
from npnn.autograd.profiler import EventList, emit_nvtx, profile, record_function


def _model():
    npnn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))


def _step(m, x):
    y = m(x)
    loss = (y * y).sum()
    loss.backward()
    return loss


def _snapshot():
    """Every attribute of every npnn module and npnn class, by identity."""
    snap = {}
    for name, mod in list(sys.modules.items()):
        if mod is None or not (name == 'npnn' or name.startswith('npnn.')):
            continue
        for k, v in list(vars(mod).items()):
            snap[(name, k)] = v
            if isinstance(v, type) and (v.__module__ or '').startswith('npnn'):
                for ck, cv in list(vars(v).items()):
                    snap[(name, k, ck)] = cv
    return snap


def _avg(prof):
    return {e.key: e for e in prof.key_averages()}


def _in_backward(e):
    while e is not None:
        if e.is_backward:
            return True
        e = e.cpu_parent
    return False


def _forward_counts(prof):
    out = {}
    for e in prof.events():
        if not _in_backward(e):
            out[e.name] = out.get(e.name, 0) + 1
    return out


def test_forward_and_backward_ops_recorded_with_counts():
    m = _model()
    x = npnn.randn(4, 6)
    with profile() as prof:
        _step(m, x)
    avg = _avg(prof)
    for name in ('linear', 'relu', 'mul', 'sum', 'nn.Module: Linear', 'nn.Module: Sequential'):
        assert name in avg, name
    for name in ('MulBackward0', 'SumBackward0', 'ReluBackward0'):
        assert name in avg, name
    assert avg['linear'].count == 2
    assert avg['nn.Module: Linear'].count == 2
    fwd = _forward_counts(prof)
    assert fwd['relu'] == 1 and fwd['mul'] == 1 and fwd['sum'] == 1 and avg['MulBackward0'].count == 1
    assert avg['mul'].count > fwd['mul']  # MulBackward0 multiplies too
    backward = [k for k in avg if k.endswith('Backward0')]
    assert len(backward) >= 4
    for e in prof.events():
        assert e.cpu_time_total > 0 and e.self_cpu_time_total >= 0
        assert e.self_cpu_time_total <= e.cpu_time_total + 1e-9
    assert prof.self_cpu_time_total > 0
    assert avg['MulBackward0'].is_backward and not avg['mul'].is_backward


def test_methods_operators_and_inplace_recorded():
    a = npnn.randn(3, 3)
    with profile() as prof:
        b = a + a
        c = b @ a
        c.exp_()
        d = c.reshape(9).float()
        _ = d[2:5]
    avg = _avg(prof)
    assert avg['add'].count == 1
    assert avg['matmul'].count == 1
    assert avg['exp_'].count == 1
    assert 'reshape' in avg and 'float' in avg and 'getitem' in avg


def test_counts_scale_with_iterations():
    x = npnn.randn(2, 2)
    with profile() as prof:
        for _ in range(7):
            x = npnn.tanh(x)
    assert _avg(prof)['tanh'].count == 7


def test_nested_self_time_excludes_children():
    x = npnn.randn(8, 8, requires_grad=True)

    def slow(t):
        time.sleep(0.02)
        return t * 2

    with profile() as prof:
        with record_function('outer'):
            time.sleep(0.01)
            with record_function('inner'):
                y = slow(x)
    evs = {e.name: e for e in prof.events()}
    outer, inner, mul = evs['outer'], evs['inner'], evs['mul']
    assert inner.cpu_parent is outer and mul.cpu_parent is inner
    assert inner in outer.cpu_children and mul in inner.cpu_children
    assert outer.cpu_time_total >= 30_000 * 0.9  # microseconds
    assert inner.cpu_time_total >= 20_000 * 0.9
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inner.cpu_time_total, abs=1e-6)
    assert inner.self_cpu_time_total == pytest.approx(inner.cpu_time_total - mul.cpu_time_total, abs=1e-6)
    assert outer.self_cpu_time_total >= 10_000 * 0.9 and outer.self_cpu_time_total < 20_000
    assert evs['outer'].is_user_annotation
    # total over the whole profile = sum of self times = time of the top level event
    assert prof.self_cpu_time_total == pytest.approx(outer.cpu_time_total, rel=1e-9)
    assert y.shape == (8, 8)


def test_op_calling_op_attributes_self_and_total():
    x = npnn.randn(5, 4, requires_grad=True)
    w = npnn.randn(3, 4, requires_grad=True)
    with profile() as prof:
        F.linear(x, w).sum().backward()
    for e in prof.events():
        child_total = sum(c.cpu_time_total for c in e.cpu_children)
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - child_total, rel=1e-6, abs=1e-3)
    # a backward node runs tensor ops: they are its children
    bw = [e for e in prof.events() if e.is_backward]
    assert bw and any(e.cpu_children for e in bw)


def test_record_function_decorator_and_noop_without_profiler():
    @record_function('my_block')
    def f(t):
        return t + 1

    x = npnn.ones(2)
    np.testing.assert_allclose(f(x).numpy(), [2, 2])  # no profiler: plain call
    with record_function('unused'):
        pass
    with profile() as prof:
        f(x)
        f(x)
    avg = _avg(prof)
    assert avg['my_block'].count == 2 and avg['add'].count == 2
    assert all(e.cpu_parent.name == 'my_block' for e in prof.events() if e.name == 'add')


def test_table_sorting_and_columns():
    m = _model()
    x = npnn.randn(4, 6)
    with profile(record_shapes=True) as prof:
        for _ in range(3):
            _step(m, x)
    ka = prof.key_averages()
    for key in ('cpu_time_total', 'self_cpu_time_total', 'count', 'cpu_time', 'self_cpu_time'):
        tab = ka.table(sort_by=key, row_limit=6)
        rows = tab.strip().split('\n')
        assert 'Name' in rows[1] and 'Self CPU %' in rows[1] and 'CPU total' in rows[1] and '# of Calls' in rows[1]
        body = rows[3:-2]
        assert len(body) == 6
        names = [r[:r.index('  ')].strip() if '  ' in r else r for r in body]
        vals = [getattr(next(e for e in ka if e.key == n), key) for n in names]
        assert vals == sorted(vals, reverse=True), key
        assert rows[-1].startswith('Self CPU time total:')
    with pytest.raises(ValueError):
        ka.table(sort_by='no_such_key')
    tab = ka.table(sort_by='count', row_limit=3, header='HEADER LINE')
    assert 'HEADER LINE' in tab
    # shapes grouping keeps separate rows per input shape
    g = prof.key_averages(group_by_input_shape=True)
    lin = [e for e in g if e.key == 'nn.Module: Linear']
    assert sorted(str(e.input_shapes) for e in lin) == ['[[4, 5]]', '[[4, 6]]']
    assert all(e.count == 3 for e in lin)
    assert 'Input Shapes' in g.table(sort_by='count')
    tot = ka.total_average()
    assert tot.count == sum(e.count for e in ka)
    assert tot.self_cpu_time_total == pytest.approx(prof.self_cpu_time_total)
    assert isinstance(prof.events(), EventList)
    assert 'linear' in str(prof)


def test_profile_memory_column():
    with profile(profile_memory=True) as prof:
        npnn.zeros(100, 10) + 1
    ka = prof.key_averages()
    assert 'CPU Mem' in ka.table()
    assert _avg(prof)['add'].self_cpu_memory_usage == 100 * 10 * 4


def test_export_chrome_trace(tmp_path):
    m = _model()
    with profile(record_shapes=True) as prof:
        with record_function('step'):
            _step(m, npnn.randn(2, 6))
    path = tmp_path / 'trace.json'
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    evs = data['traceEvents']
    assert len(evs) == len(prof.events())
    names = {e['name'] for e in evs}
    assert {'step', 'linear', 'MulBackward0'} <= names
    for e in evs:
        assert e['ph'] == 'X' and e['dur'] >= 0 and isinstance(e['ts'], (int, float))


def test_everything_restored_and_results_unchanged():
    m = _model()
    x = npnn.randn(4, 6)
    before = _snapshot()
    call_before = nn.Module.__call__
    loss0 = _step(m, x).item()
    g0 = [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    with profile(record_shapes=True, profile_memory=True) as prof:
        assert npnn.mul is not before[('npnn', 'mul')]
        assert engine._node_observer is not None
        loss1 = _step(m, x).item()
    g1 = [p.grad.numpy().copy() for p in m.parameters()]
    after = _snapshot()
    assert set(before) <= set(after)
    changed = [k for k, v in before.items() if after[k] is not v]
    assert changed == []
    assert nn.Module.__call__ is call_before
    assert engine._node_observer is None
    assert npnn.Tensor.exp is npnn.exp and npnn.Tensor.__dict__['exp'] is npnn.autograd.ops.exp
    assert loss0 == loss1
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    assert len(prof.events()) > 0


def test_restored_after_exception():
    before = npnn.add
    with pytest.raises(ZeroDivisionError):
        with profile():
            npnn.ones(2) + 1
            1 / 0
    assert npnn.add is before and engine._node_observer is None


def test_no_events_outside_context():
    x = npnn.randn(3, requires_grad=True)
    with profile() as prof:
        y = (x * 2).sum()
    n = len(prof.events())
    y.backward()  # after the context: not recorded
    npnn.exp(x)
    assert len(prof.events()) == n
    assert not any(e.is_backward for e in prof.events())
    with profile(enabled=False) as off:
        npnn.exp(x)
    assert off.function_events is None
    with pytest.raises(RuntimeError):
        off.key_averages()


def test_nested_profiles_rejected_and_misc_api():
    with profile():
        with pytest.raises(RuntimeError, match='already enabled'):
            with profile():
                pass
    with emit_nvtx():
        npnn.ones(1)
    assert npnn.autograd.profiler.profile is profile


def test_where_method_form_still_works_under_profile():
    c = npnn.tensor([True, False])
    a, b = npnn.tensor([1., 2.]), npnn.tensor([3., 4.])
    with profile() as prof:
        r1 = a.where(c, b)
        r2 = npnn.where(c, a, b)
    np.testing.assert_allclose(r1.numpy(), [1., 4.])
    np.testing.assert_allclose(r2.numpy(), [1., 4.])
    assert _avg(prof)['where'].count == 2
    assert isinstance(npnn.where, npnn.autograd.ops.elementwise._MethodForm)
    assert isinstance(npnn.where.fn, types.FunctionType) and not hasattr(npnn.where.fn, '__wrapped__')


def test_optimizer_step_and_zero_grad_recorded():
    m = _model()
    opt = npnn.optim.SGD(m.parameters(), lr=0.1)
    w0 = m[0].weight.detach().clone()
    step = vars(npnn.optim.SGD)['step']
    with profile() as prof:
        opt.zero_grad()
        _step(m, npnn.randn(2, 6))
        opt.step()
    avg = _avg(prof)
    assert avg['Optimizer.step#SGD.step'].count == 1
    assert avg['Optimizer.zero_grad#SGD.zero_grad'].count == 1
    assert not np.allclose(m[0].weight.detach().numpy(), w0.numpy())
    assert vars(npnn.optim.SGD)['step'] is step
