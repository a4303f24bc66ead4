"""nn.Transformer, TransformerEncoder/Decoder(Layer) against PyTorch: same state_dict keys, and with the same
weights the same outputs and gradients under causal and key-padding masks."""
import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')

# PyTorch's own advice about its nested-tensor fast path, irrelevant here
pytestmark = pytest.mark.filterwarnings('ignore:enable_nested_tensor is True')


def _copy_weights(src, dst):
    sd = {k: npnn.tensor(v.detach().numpy()) for k, v in src.state_dict().items()}
    dst.load_state_dict(sd)


def _compare(tmod, nmod, targs, nargs, atol=1e-5):
    tmod.train()
    nmod.train()
    assert list(tmod.state_dict().keys()) == list(nmod.state_dict().keys())
    _copy_weights(tmod, nmod)
    to = tmod(*targs)
    no = nmod(*nargs)
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), atol=atol, rtol=1e-4)
    to.pow(2).sum().backward()
    no.pow(2).sum().backward()
    tg = dict(tmod.named_parameters())
    for name, p in nmod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tg[name].grad.numpy(), atol=1e-4, rtol=1e-3, err_msg=name)


def _pair(shape, seed):
    x = np.random.RandomState(seed).randn(*shape).astype(np.float32)
    return torch.tensor(x), npnn.tensor(x)


@pytest.mark.parametrize('norm_first', [False, True])
@pytest.mark.parametrize('activation', ['relu', 'gelu'])
def test_encoder_matches_torch(norm_first, activation):
    kw = dict(dim_feedforward=24, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first)
    tmod = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, **kw), 2,
                                       norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
    nmod = npnn.nn.TransformerEncoder(npnn.nn.TransformerEncoderLayer(16, 4, **kw), 2, norm=npnn.nn.LayerNorm(16))
    tx, nx = _pair((3, 5, 16), 0)
    pad = np.zeros((3, 5), dtype=np.float32)
    pad[1, 3:] = -np.inf
    tm = torch.nn.Transformer.generate_square_subsequent_mask(5)
    nm = npnn.nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(nm.numpy(), tm.numpy())
    _compare(tmod, nmod, (tx, tm, torch.tensor(pad)), (nx, nm, npnn.tensor(pad)))


def test_full_transformer_matches_torch_seq_first():
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0)
    torch.manual_seed(0)
    tmod = torch.nn.Transformer(**kw)
    nmod = npnn.nn.Transformer(**kw)
    ts, ns = _pair((6, 2, 8), 1)
    tt, nt = _pair((4, 2, 8), 2)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    nmask = npnn.nn.Transformer.generate_square_subsequent_mask(4)
    mpad = np.zeros((2, 6), dtype=bool)
    mpad[0, 4:] = True
    _compare(tmod, nmod, (ts, tt), (ns, nt))
    tmod.zero_grad()
    nmod.zero_grad()
    _compare(tmod, nmod, (ts, tt, None, tmask, None, None, None, torch.tensor(mpad)),
             (ns, nt, None, nmask, None, None, None, npnn.tensor(mpad)))


def test_transformer_init_and_errors():
    m = npnn.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    w = m.encoder.layers[0].linear1.weight
    bound = (6 / (8 + 8)) ** 0.5
    assert w.abs().max().item() <= bound
    assert m.encoder.layers[0].linear1.weight is not m.decoder.layers[0].linear1.weight
    with pytest.raises(RuntimeError, match='batch number'):
        m(npnn.randn(3, 2, 8), npnn.randn(3, 1, 8))
    with pytest.raises(RuntimeError, match='d_model'):
        m(npnn.randn(3, 2, 4), npnn.randn(3, 2, 4))
    layer = npnn.nn.TransformerEncoderLayer(8, 2)
    enc = npnn.nn.TransformerEncoder(layer, 2)
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert len(list(enc.parameters())) == 2 * len(list(layer.parameters()))
