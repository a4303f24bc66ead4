"""Recurrent layers against PyTorch: outputs, final states and the gradients of inputs, states and weights."""
import numpy as np
import pytest

import npnn
from npnn.nn.utils import rnn as nrnn
from tests.helpers import to_numpy

torch = pytest.importorskip('torch')
trnn = torch.nn.utils.rnn

TOL = dict(rtol=1e-4, atol=2e-5)


def _pair(kind, *args, device='cpu', **kwargs):
    """The same layer in both libraries, npnn's weights copied from torch's (npnn's on ``device``)."""
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(*args, **kwargs)
    nm = getattr(npnn.nn, kind)(*args, **kwargs)
    tnames = [n for n, _ in tm.named_parameters()]
    nnames = [n for n, _ in nm.named_parameters()]
    assert tnames == nnames
    for (n, tp), (_, np_) in zip(tm.named_parameters(), nm.named_parameters()):
        assert tuple(tp.shape) == tuple(np_.shape), n
        np_.data = npnn.tensor(tp.detach().numpy())
    return tm, nm.to(device)


def _leaf(a, lib, device='cpu'):
    t = npnn.tensor(a, device=device) if lib is npnn else torch.tensor(a)
    return t.requires_grad_(True)


def _check_grads(tm, nm, pairs):
    for (n, tp), (_, np_) in zip(tm.named_parameters(), nm.named_parameters()):
        np.testing.assert_allclose(to_numpy(np_.grad), tp.grad.numpy(), err_msg=f'grad of {n}', **TOL)
    for i, (a, b) in enumerate(pairs):
        np.testing.assert_allclose(to_numpy(a.grad), b.grad.numpy(), err_msg=f'grad of input {i}', **TOL)


def _loss(outs, lib, seed=1, device='cpu'):
    rng = np.random.default_rng(seed)
    total = 0
    for o in outs:
        g = rng.standard_normal(tuple(o.shape)).astype(np.float32)
        total = total + (o * (npnn.tensor(g, device=device) if lib is npnn else torch.tensor(g))).sum()
    return total


@pytest.mark.parametrize('kind', ['LSTM', 'GRU', 'RNN'])
@pytest.mark.parametrize('batch_first', [False, True])
def test_multilayer_bidirectional(kind, batch_first, device):
    T, B, I, H, L = 5, 3, 4, 6, 2
    tm, nm = _pair(kind, I, H, num_layers=L, bidirectional=True, batch_first=batch_first, device=device)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    h0 = rng.standard_normal((2 * L, B, H)).astype(np.float32)
    c0 = rng.standard_normal((2 * L, B, H)).astype(np.float32)
    res = {}
    for lib, m in ((npnn, nm), (torch, tm)):
        ins = [_leaf(x, lib, device), _leaf(h0, lib, device)]
        if kind == 'LSTM':
            ins.append(_leaf(c0, lib, device))
            y, (h, c) = m(ins[0], (ins[1], ins[2]))
            outs = [y, h, c]
        else:
            y, h = m(ins[0], ins[1])
            outs = [y, h]
        _loss(outs, lib, device=device).backward()
        res[lib] = (ins, outs)
    for a, b in zip(res[npnn][1], res[torch][1]):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL)
    _check_grads(tm, nm, zip(res[npnn][0], res[torch][0]))


@pytest.mark.parametrize('kind', ['LSTM', 'GRU', 'RNN'])
@pytest.mark.parametrize('enforce_sorted', [True, False])
def test_packed_variable_length(kind, enforce_sorted, device):
    I, H, L = 3, 5, 2
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    B, T = len(lengths), max(lengths)
    tm, nm = _pair(kind, I, H, num_layers=L, bidirectional=True, batch_first=True, device=device)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    h0 = rng.standard_normal((2 * L, B, H)).astype(np.float32)
    c0 = rng.standard_normal((2 * L, B, H)).astype(np.float32)
    res = {}
    for lib, m, U in ((npnn, nm, nrnn), (torch, tm, trnn)):
        ins = [_leaf(x, lib, device), _leaf(h0, lib, device), _leaf(c0, lib, device)]
        packed = U.pack_padded_sequence(ins[0], lengths, batch_first=True, enforce_sorted=enforce_sorted)
        if kind == 'LSTM':
            out, (h, c) = m(packed, (ins[1], ins[2]))
            states = [h, c]
        else:
            out, h = m(packed, ins[1])
            states = [h]
            ins = ins[:2]
        assert isinstance(out, U.PackedSequence)
        padded, lens = U.pad_packed_sequence(out, batch_first=True)
        outs = [out.data, padded] + states
        res[lib] = (ins, outs, lens)
        _loss(outs, lib, device=device).backward()
    np.testing.assert_array_equal(to_numpy(res[npnn][2]), res[torch][2].numpy())
    for a, b in zip(res[npnn][1], res[torch][1]):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL)
    _check_grads(tm, nm, zip(res[npnn][0], res[torch][0]))


@pytest.mark.parametrize('bidirectional', [False, True])
def test_lstm_proj_size(bidirectional):
    T, B, I, H, P, L = 4, 2, 3, 6, 4, 2
    tm, nm = _pair('LSTM', I, H, num_layers=L, proj_size=P, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    rng = np.random.default_rng(5)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    h0 = rng.standard_normal((D * L, B, P)).astype(np.float32)
    c0 = rng.standard_normal((D * L, B, H)).astype(np.float32)
    res = {}
    for lib, m in ((npnn, nm), (torch, tm)):
        ins = [_leaf(x, lib), _leaf(h0, lib), _leaf(c0, lib)]
        y, (h, c) = m(ins[0], (ins[1], ins[2]))
        outs = [y, h, c]
        _loss(outs, lib).backward()
        res[lib] = (ins, outs)
    for a, b in zip(res[npnn][1], res[torch][1]):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL)
    _check_grads(tm, nm, zip(res[npnn][0], res[torch][0]))


@pytest.mark.parametrize('kind', ['LSTM', 'GRU', 'RNN'])
def test_no_initial_state_unbatched_and_no_bias(kind):
    T, I, H = 4, 3, 5
    kw = dict(bias=False) if kind != 'RNN' else dict(bias=False, nonlinearity='relu')
    tm, nm = _pair(kind, I, H, **kw)
    x = np.random.default_rng(2).standard_normal((T, I)).astype(np.float32)
    res = {}
    for lib, m in ((npnn, nm), (torch, tm)):
        xi = _leaf(x, lib)
        y, st = m(xi)
        outs = [y] + (list(st) if kind == 'LSTM' else [st])
        _loss(outs, lib).backward()
        res[lib] = ([xi], outs)
    for a, b in zip(res[npnn][1], res[torch][1]):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL)
    _check_grads(tm, nm, zip(res[npnn][0], res[torch][0]))


@pytest.mark.parametrize('kind', ['LSTMCell', 'GRUCell', 'RNNCell'])
@pytest.mark.parametrize('batched', [True, False])
def test_cells(kind, batched, device):
    B, I, H = 3, 4, 5
    tm, nm = _pair(kind, I, H, device=device)
    rng = np.random.default_rng(4)
    shp = (B,) if batched else ()
    x = rng.standard_normal(shp + (I,)).astype(np.float32)
    h0 = rng.standard_normal(shp + (H,)).astype(np.float32)
    c0 = rng.standard_normal(shp + (H,)).astype(np.float32)
    res = {}
    for lib, m in ((npnn, nm), (torch, tm)):
        ins = [_leaf(x, lib, device), _leaf(h0, lib, device), _leaf(c0, lib, device)]
        outs = []
        h, c = ins[1], ins[2]
        for _ in range(3):  # a few steps, the state fed back
            if kind == 'LSTMCell':
                h, c = m(ins[0], (h, c))
                outs += [h, c]
            else:
                h = m(ins[0], h)
                outs.append(h)
        if kind != 'LSTMCell':
            ins = ins[:2]
        _loss(outs, lib, device=device).backward()
        res[lib] = (ins, outs)
    for a, b in zip(res[npnn][1], res[torch][1]):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL)
    _check_grads(tm, nm, zip(res[npnn][0], res[torch][0]))


def test_cell_without_state():
    tm, nm = _pair('LSTMCell', 3, 4)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    h, c = nm(npnn.tensor(x))
    th, tc = tm(torch.tensor(x))
    np.testing.assert_allclose(to_numpy(h), th.detach().numpy(), **TOL)
    np.testing.assert_allclose(to_numpy(c), tc.detach().numpy(), **TOL)


def test_parameter_shapes_and_init():
    m = npnn.nn.LSTM(7, 8, num_layers=2, bidirectional=True, proj_size=3)
    t = torch.nn.LSTM(7, 8, num_layers=2, bidirectional=True, proj_size=3)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    bound = 1 / np.sqrt(8)
    for p in m.parameters():
        a = to_numpy(p)
        assert a.dtype == np.float32
        assert np.abs(a).max() <= bound and a.std() > bound / 4
    g = npnn.nn.GRU(3, 4, bias=False)
    assert [n for n, _ in g.named_parameters()] == ['weight_ih_l0', 'weight_hh_l0']
    m.flatten_parameters()
    assert len(m.all_weights) == 4 and len(m.all_weights[0]) == 5


def test_dropout_between_layers_train_only():
    m = npnn.nn.GRU(3, 4, num_layers=3, dropout=0.5)
    x = npnn.randn(5, 2, 3)
    m.eval()
    y1, _ = m(x)
    y2, _ = m(x)
    np.testing.assert_array_equal(to_numpy(y1), to_numpy(y2))
    m.train()
    y3, _ = m(x)
    assert not np.allclose(to_numpy(y1), to_numpy(y3))
    m0 = npnn.nn.GRU(3, 4, num_layers=3, dropout=0.0)
    m0.load_state_dict(m.state_dict())
    np.testing.assert_allclose(to_numpy(m0(x)[0]), to_numpy(y1), rtol=1e-6)


def test_pack_pad_utilities():
    seqs_np = [np.random.default_rng(i).standard_normal((n, 2)).astype(np.float32) for i, n in
               enumerate([2, 5, 3])]
    nseq = [npnn.tensor(a, requires_grad=True) for a in seqs_np]
    tseq = [torch.tensor(a, requires_grad=True) for a in seqs_np]
    for bf in (False, True):
        for side in ('right', 'left'):
            a = nrnn.pad_sequence(nseq, batch_first=bf, padding_value=-1.0, padding_side=side)
            b = trnn.pad_sequence(tseq, batch_first=bf, padding_value=-1.0, padding_side=side)
            np.testing.assert_array_equal(to_numpy(a), b.detach().numpy())
    np_ = nrnn.pack_sequence(nseq, enforce_sorted=False)
    tp = trnn.pack_sequence(tseq, enforce_sorted=False)
    np.testing.assert_array_equal(to_numpy(np_.data), tp.data.detach().numpy())
    np.testing.assert_array_equal(to_numpy(np_.batch_sizes), tp.batch_sizes.numpy())
    np.testing.assert_array_equal(to_numpy(np_.sorted_indices), tp.sorted_indices.numpy())
    np.testing.assert_array_equal(to_numpy(np_.unsorted_indices), tp.unsorted_indices.numpy())
    assert np_.batch_sizes.dtype == npnn.int64
    a, la = nrnn.pad_packed_sequence(np_, total_length=7, padding_value=2.0)
    b, lb = trnn.pad_packed_sequence(tp, total_length=7, padding_value=2.0)
    np.testing.assert_array_equal(to_numpy(a), b.detach().numpy())
    np.testing.assert_array_equal(to_numpy(la), lb.numpy())
    for u, v in zip(nrnn.unpack_sequence(np_), trnn.unpack_sequence(tp)):
        np.testing.assert_array_equal(to_numpy(u), v.detach().numpy())
    for u, v in zip(nrnn.unpad_sequence(a, la), trnn.unpad_sequence(b, lb)):
        np.testing.assert_array_equal(to_numpy(u), v.detach().numpy())
    (a * a).sum().backward()
    (b * b).sum().backward()
    for u, v in zip(nseq, tseq):
        np.testing.assert_allclose(to_numpy(u.grad), v.grad.numpy())
    moved = np_.to(npnn.float64)
    assert moved.data.dtype == npnn.float64 and moved.batch_sizes is np_.batch_sizes
    assert isinstance(moved, nrnn.PackedSequence)
    with pytest.raises(ValueError, match='total_length'):
        nrnn.pad_packed_sequence(np_, total_length=2)


def test_packed_lstm_with_projection():
    I, H, P, L = 3, 5, 2, 2
    lengths = [4, 2, 3]
    tm, nm = _pair('LSTM', I, H, num_layers=L, proj_size=P, bidirectional=True)
    x = np.random.default_rng(7).standard_normal((4, 3, I)).astype(np.float32)
    res = {}
    for lib, m, U in ((npnn, nm, nrnn), (torch, tm, trnn)):
        xi = _leaf(x, lib)
        out, (h, c) = m(U.pack_padded_sequence(xi, lengths, enforce_sorted=False))
        outs = [out.data, h, c]
        _loss(outs, lib).backward()
        res[lib] = ([xi], outs)
    for a, b in zip(res[npnn][1], res[torch][1]):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **TOL)
    _check_grads(tm, nm, zip(res[npnn][0], res[torch][0]))


def test_one_graph_node_per_layer_and_direction():
    m = npnn.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    y, _ = m(npnn.randn(30, 2, 3))
    seen, stack = {}, [y.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or n.name() == 'AccumulateGrad' or id(n) in seen:
            continue
        seen[id(n)] = n  # keeps the node alive, so ids stay unique
        stack += [f for f, _ in n.next_functions]
    # 4 layer/direction nodes and the 2 concatenations: the graph does not grow with the 30 time steps
    assert sum(n.name() == 'LSTMBackward' for n in seen.values()) == 4
    assert len(seen) <= 6


@pytest.mark.parametrize('kind', ['LSTM', 'GRU'])
def test_long_sequence_backward_factors_split_over_threads(kind, device, monkeypatch):
    """Large enough that the whole-sequence backward factors are computed in row chunks on two threads."""
    from npnn.backend import parallel
    calls = []
    real = parallel.row_ranges

    def spy(n, size, xp, min_size=1 << 20):
        r = real(n, size, xp, min_size)
        calls.append(len(r))
        return r
    monkeypatch.setattr(parallel, 'n_threads', lambda: 2)
    monkeypatch.setattr(parallel, 'row_ranges', spy)
    T, B, I, H = 35, 10, 5, 256                  # T*B rows x 4H (3H) columns >= the split threshold
    tm, nm = _pair(kind, I, H, device=device)
    x = np.random.default_rng(0).standard_normal((T, B, I)).astype(np.float32)
    res = {}
    for lib, m in ((npnn, nm), (torch, tm)):
        xi = _leaf(x, lib, device)
        y, _ = m(xi)
        _loss([y], lib, device=device).backward()
        res[lib] = (xi, y)
    np.testing.assert_allclose(to_numpy(res[npnn][1]), res[torch][1].detach().numpy(), **TOL)
    _check_grads(tm, nm, [(res[npnn][0], res[torch][0])])
    assert calls and max(calls) == (2 if device == 'cpu' else 1)
