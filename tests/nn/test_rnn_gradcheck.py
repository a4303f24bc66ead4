"""float64 gradcheck of the fused recurrent sequence ops, cells, embedding, attention and CTC."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck
from npnn.nn.functional.recurrent import rnn_layer

F = npnn.nn.functional


def _t(*shape, seed=0, scale=0.5):
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    return npnn.tensor(a, dtype=npnn.float64, requires_grad=True)


@pytest.mark.parametrize('mode', ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'])
@pytest.mark.parametrize('reverse', [False, True])
@pytest.mark.parametrize('packed', [False, True])
def test_layer_gradcheck(mode, reverse, packed):
    G = {'LSTM': 4, 'GRU': 3}.get(mode, 1)
    I, H, B = 2, 3, 3
    bsz = [3, 2, 2, 1] if packed else None
    x = _t(sum(bsz), I, seed=1) if packed else _t(3, B, I, seed=1)
    h0, c0 = _t(B, H, seed=2), _t(B, H, seed=3) if mode == 'LSTM' else None
    w = [_t(G * H, I, seed=4), _t(G * H, H, seed=5), _t(G * H, seed=6), _t(G * H, seed=7)]
    ins = [x, h0] + ([c0] if c0 is not None else []) + w

    def fn(*a):
        if c0 is not None:
            x, h, c, *ws = a
        else:
            (x, h, *ws), c = a, None
        y, hn, cn = rnn_layer(mode, x, h, c, *ws, batch_sizes=bsz, reverse=reverse)
        return (y, hn) + ((cn,) if cn is not None else ())
    assert gradcheck(fn, tuple(ins), eps=1e-6, atol=1e-5)


def test_lstm_projection_gradcheck():
    I, H, P, B = 2, 4, 2, 2
    x, h0, c0 = _t(3, B, I, seed=1), _t(B, P, seed=2), _t(B, H, seed=3)
    w = [_t(4 * H, I, seed=4), _t(4 * H, P, seed=5), _t(4 * H, seed=6), _t(4 * H, seed=7), _t(P, H, seed=8)]

    def fn(x, h, c, *ws):
        return rnn_layer('LSTM', x, h, c, *ws)
    assert gradcheck(fn, tuple([x, h0, c0] + w))


@pytest.mark.parametrize('kind', ['LSTM', 'GRU'])
def test_module_gradcheck(kind):
    m = getattr(npnn.nn, kind)(2, 3, num_layers=2, bidirectional=True, batch_first=True).double()
    x = _t(2, 3, 2, seed=1)

    def fn(x):
        out, _ = m(x)
        return out
    assert gradcheck(fn, (x,))


def test_embedding_bag_attention_ctc_gradcheck():
    w = _t(6, 3, seed=1)
    idx = npnn.tensor([[1, 2, 1], [5, 0, 1]])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))  # padding_idx/freq scaling alter the true gradient
    assert gradcheck(lambda w: F.embedding_bag(idx, w, mode='mean', padding_idx=2), (w,))
    q, k, v = _t(2, 3, 4, seed=2), _t(2, 5, 4, seed=3), _t(2, 5, 4, seed=4)
    mask = npnn.tensor(np.random.default_rng(0).random((3, 5)) > 0.3) | npnn.tensor(np.eye(3, 5, dtype=bool))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v))
    x = _t(6, 2, 4, seed=5)
    tg = npnn.tensor([[1, 1, 2], [3, 2, 0]])

    def ctc(x):  # PyTorch's CTC gradient assumes log-softmax inputs
        return F.ctc_loss(F.log_softmax(x, -1), tg, [6, 5], [3, 2], reduction='sum')
    assert gradcheck(ctc, (x,))
