"""PyTorch's errors for bad input to the recurrent, embedding and CTC layers."""
import numpy as np
import pytest

import npnn
from npnn.nn.utils import rnn as U

nn = npnn.nn


def test_wrong_input_size():
    for m in (nn.LSTM(4, 5), nn.GRU(4, 5), nn.RNN(4, 5)):
        with pytest.raises(RuntimeError, match=r'input.size\(-1\) must be equal to input_size. Expected 4, got 3'):
            m(npnn.randn(6, 3, 3))


def test_wrong_hidden_shape():
    m = nn.GRU(4, 5, num_layers=2)
    with pytest.raises(RuntimeError, match=r'Expected hidden size \(2, 3, 5\), got \[1, 3, 5\]'):
        m(npnn.randn(6, 3, 4), npnn.zeros(1, 3, 5))
    r = nn.RNN(4, 5, num_layers=2)
    with pytest.raises(RuntimeError, match=r'Expected hidden size \(2, 3, 5\), got \[1, 3, 5\]'):
        r(npnn.randn(6, 3, 4), npnn.zeros(1, 3, 5))
    lstm = nn.LSTM(4, 5, num_layers=2)
    with pytest.raises(RuntimeError, match=r'Expected hidden\[0\] size \(2, 3, 5\), got \[1, 3, 5\]'):
        lstm(npnn.randn(6, 3, 4), (npnn.zeros(1, 3, 5), npnn.zeros(2, 3, 5)))
    with pytest.raises(RuntimeError, match=r'Expected hidden\[1\] size \(2, 3, 5\), got \[2, 3, 4\]'):
        lstm(npnn.randn(6, 3, 4), (npnn.zeros(2, 3, 5), npnn.zeros(2, 3, 4)))
    with pytest.raises(RuntimeError, match='For batched 3-D input, hx should also be 3-D'):
        m(npnn.randn(6, 3, 4), npnn.zeros(3, 5))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match='proj_size has to be smaller than hidden_size'):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match='only supported for LSTM'):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity='gelu')
    with pytest.raises(ValueError, match='dropout should be a number in range'):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match='non-zero dropout expects num_layers greater than 1'):
        nn.LSTM(3, 4, dropout=0.2)
    with pytest.raises(ValueError, match='Expected input to be 2D or 3D'):
        nn.LSTM(3, 4)(npnn.randn(2, 2, 2, 3))


def test_cell_errors():
    c = nn.LSTMCell(4, 5)
    with pytest.raises(RuntimeError, match='input has inconsistent input_size: got 3 expected 4'):
        c(npnn.randn(2, 3))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        c(npnn.randn(2, 4), (npnn.zeros(3, 5), npnn.zeros(3, 5)))


def test_unsorted_lengths_with_enforce_sorted():
    x = npnn.randn(5, 3, 2)
    with pytest.raises(RuntimeError, match='must be sorted in decreasing order when `enforce_sorted` is True'):
        U.pack_padded_sequence(x, [2, 5, 3])
    p = U.pack_padded_sequence(x, [2, 5, 3], enforce_sorted=False)
    assert p.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    with pytest.raises(RuntimeError, match='must be sorted in decreasing order'):
        U.pack_sequence([npnn.randn(1, 2), npnn.randn(3, 2)])
    with pytest.raises(RuntimeError, match='Length of all samples has to be greater than 0'):
        U.pack_padded_sequence(x, [5, 3, 0])


def test_embedding_index_out_of_range():
    e = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match='index out of range in self'):
        e(npnn.tensor([1, 10]))
    with pytest.raises(IndexError, match='index out of range in self'):
        e(npnn.tensor([-1]))
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types: Long, Int"):
        e(npnn.tensor([1.0]))
    with pytest.raises(IndexError, match='index out of range in self'):
        nn.EmbeddingBag(4, 2)(npnn.tensor([0, 4]), npnn.tensor([0]))
    with pytest.raises(RuntimeError, match='offsets\\[0\\] has to be 0'):
        nn.EmbeddingBag(4, 2)(npnn.tensor([0, 1]), npnn.tensor([1]))
    with pytest.raises(AssertionError, match='Padding_idx must be within num_embeddings'):
        nn.Embedding(4, 2, padding_idx=4)


def test_ctc_target_longer_than_input():
    lp = npnn.randn(3, 2, 5).log_softmax(-1) if hasattr(npnn.Tensor, 'log_softmax') else \
        npnn.nn.functional.log_softmax(npnn.randn(3, 2, 5), -1)
    lp.requires_grad_(True)
    tg = npnn.tensor([[1, 2, 3, 4, 1], [1, 2, 0, 0, 0]])
    loss = npnn.nn.functional.ctc_loss(lp, tg, [3, 3], [5, 2], reduction='none')
    v = loss.detach().numpy()
    assert np.isinf(v[0]) and np.isfinite(v[1])
    z = npnn.nn.functional.ctc_loss(lp, tg, [3, 3], [5, 2], reduction='none', zero_infinity=True)
    assert z.detach().numpy()[0] == 0
    z.sum().backward()
    g = lp.grad.numpy()
    assert np.all(g[:, 0] == 0) and np.all(np.isfinite(g)) and np.any(g[:, 1] != 0)
    with pytest.raises(ValueError, match='not a valid value for reduction'):
        npnn.nn.functional.ctc_loss(lp, tg, [3, 3], [5, 2], reduction='avg')
