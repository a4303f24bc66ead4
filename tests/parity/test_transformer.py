"""nn.Transformer, TransformerEncoder/Decoder(Layer) against PyTorch: same state_dict keys, and with the same
weights the same outputs and gradients under causal and key-padding masks."""
import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')

# PyTorch's own advice about its nested-tensor fast path (npnn gives the same), irrelevant here
pytestmark = [pytest.mark.filterwarnings('ignore:enable_nested_tensor is True'),
              pytest.mark.filterwarnings('ignore:The PyTorch API of nested tensors')]


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


# --- eval-mode inference with a key-padding mask: PyTorch's nested-tensor path zeroes padded positions ------

def _encoders(nhead=4, norm=True, enable_nested_tensor=True, mask_check=True, **kw):
    kw = dict(dict(dim_feedforward=24, dropout=0.1, batch_first=True), **kw)
    torch.manual_seed(3)
    tmod = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, nhead, **kw), 2,
                                       norm=torch.nn.LayerNorm(16) if norm else None,
                                       enable_nested_tensor=enable_nested_tensor, mask_check=mask_check)
    nmod = npnn.nn.TransformerEncoder(npnn.nn.TransformerEncoderLayer(16, nhead, **kw), 2,
                                      norm=npnn.nn.LayerNorm(16) if norm else None,
                                      enable_nested_tensor=enable_nested_tensor, mask_check=mask_check)
    _copy_weights(tmod, nmod)
    if norm:  # a non-trivial final norm: padded rows then read norm(0) = its bias
        with torch.no_grad():
            tmod.norm.bias.normal_()
        _copy_weights(tmod, nmod)
    return tmod.eval(), nmod.eval()


LEFT_PAD = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 1, 1, 1]], dtype=bool)


def _run_eval(tmod, nmod, x, pad, grad=False, mask=None, src_grad=False, **call):
    tx, nx = torch.tensor(x), npnn.tensor(x)
    if src_grad:
        tx.requires_grad_(True)
        nx.requires_grad_(True)
    tp, np_ = (None, None) if pad is None else (torch.tensor(pad), npnn.tensor(pad))
    tm, nm = (None, None) if mask is None else (torch.tensor(mask), npnn.tensor(mask))
    if grad:
        to, no = tmod(tx, tm, tp, **call), nmod(nx, nm, np_, **call)
    else:
        with torch.no_grad(), npnn.no_grad():
            to, no = tmod(tx, tm, tp, **call), nmod(nx, nm, np_, **call)
    to, no = to.detach().numpy(), no.detach().numpy()
    np.testing.assert_allclose(no, to, atol=2e-5, rtol=1e-4)
    return no


@pytest.mark.parametrize('norm', [True, False])
@pytest.mark.parametrize('activation', ['relu', 'gelu'])
def test_encoder_eval_no_grad_zeroes_padding(norm, activation):
    tmod, nmod = _encoders(norm=norm, activation=activation)
    x = np.random.RandomState(4).randn(3, 5, 16).astype(np.float32)
    out = _run_eval(tmod, nmod, x, LEFT_PAD)
    padded = out[LEFT_PAD]
    if norm:
        np.testing.assert_allclose(padded, np.broadcast_to(tmod.norm.bias.detach().numpy(), padded.shape),
                                   atol=1e-6)
    else:
        assert (padded == 0).all()
    # the unpadded positions are what the ordinary masked computation gives (it runs when grad is needed)
    ref = nmod(npnn.tensor(x), src_key_padding_mask=npnn.tensor(LEFT_PAD)).detach().numpy()
    np.testing.assert_allclose(out[~LEFT_PAD], ref[~LEFT_PAD], atol=2e-5, rtol=1e-4)
    assert np.abs(ref[LEFT_PAD] - padded).min() > 1e-4  # where the padded rows are computed, not zeroed


def test_encoder_training_mode_unchanged():
    tmod, nmod = _encoders(norm=False, dropout=0.0)
    tmod.train(), nmod.train()
    x = np.random.RandomState(4).randn(3, 5, 16).astype(np.float32)
    out = _run_eval(tmod, nmod, x, LEFT_PAD)
    assert np.abs(out[LEFT_PAD]).min() > 1e-3


def test_encoder_fast_path_needs_no_grad():
    tmod, nmod = _encoders(norm=False)
    x = np.random.RandomState(5).randn(3, 5, 16).astype(np.float32)
    out = _run_eval(tmod, nmod, x, LEFT_PAD, grad=True)  # parameters require grad: the ordinary path
    assert np.abs(out[LEFT_PAD]).min() > 1e-3
    out = _run_eval(tmod, nmod, x, LEFT_PAD, grad=True, src_grad=True)
    assert np.abs(out[LEFT_PAD]).min() > 1e-3
    for m in (tmod, nmod):
        m.requires_grad_(False)
    out = _run_eval(tmod, nmod, x, LEFT_PAD, grad=True)  # nothing requires grad: nested path again
    assert (out[LEFT_PAD] == 0).all()


def test_encoder_fast_path_mask_variants():
    x = np.random.RandomState(6).randn(3, 5, 16).astype(np.float32)
    holes = np.array([[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 1, 1]], dtype=bool)  # not left-aligned
    tmod, nmod = _encoders(norm=False)
    out = _run_eval(tmod, nmod, x, holes)  # mask_check: ordinary path, nothing zeroed
    assert np.abs(out[holes]).min() > 1e-3
    tmod, nmod = _encoders(norm=False, mask_check=False)
    out = _run_eval(tmod, nmod, x, holes)  # unchecked: each row keeps its first (count of unpadded) positions
    kept = np.arange(5)[None] < (~holes).sum(1, keepdims=True)
    assert (out[~kept] == 0).all() and np.abs(out[kept]).min() > 1e-3
    tmod, nmod = _encoders(norm=True)
    fpad = np.zeros((3, 5), dtype=np.float32)
    fpad[0, 3:] = -np.inf
    fpad[2, 2:] = -1.0  # any non-zero float entry drops the position on that path
    _run_eval(tmod, nmod, x, fpad)
    allpad = LEFT_PAD.copy()
    allpad[1] = True
    out = _run_eval(tmod, nmod, x, allpad)
    np.testing.assert_allclose(out[1], np.broadcast_to(tmod.norm.bias.detach().numpy(), (5, 16)), atol=1e-6)
    # with an attention mask as well, or without a padding mask, the ordinary path runs
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    out = _run_eval(tmod, nmod, x, LEFT_PAD, mask=causal)
    assert np.abs(out[LEFT_PAD] - tmod.norm.bias.detach().numpy()).min() > 1e-4
    _run_eval(tmod, nmod, x, None)


@pytest.mark.parametrize('case', ['disabled', 'seq_first', 'norm_first', 'odd_heads', 'callable_act', 'no_bias'])
def test_encoder_without_nested_path(case):
    import warnings
    kw = {'disabled': dict(enable_nested_tensor=False), 'seq_first': dict(batch_first=False),
          'norm_first': dict(norm_first=True), 'odd_heads': dict(nhead=1),
          'callable_act': dict(activation=lambda t: t.tanh()), 'no_bias': dict(bias=False)}[case]
    layer_kw = dict(dict(dim_feedforward=24, batch_first=True), **kw)
    nhead = layer_kw.pop('nhead', 4)
    enc_kw = {'enable_nested_tensor': layer_kw.pop('enable_nested_tensor', True)}
    messages = []
    for lib in (torch, npnn):
        layer = lib.nn.TransformerEncoderLayer(16, nhead, **layer_kw)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter('always')
            enc = lib.nn.TransformerEncoder(layer, 2, **enc_kw)
        messages.append([str(w.message) for w in rec])
        assert enc.use_nested_tensor is False and enc.enable_nested_tensor is enc_kw['enable_nested_tensor']
    assert messages[0] == messages[1]  # the same construction warning as PyTorch, naming the same reason
    assert len(messages[0]) == (0 if case == 'disabled' else 1)
    tmod, nmod = _encoders(norm=False, **kw)
    x = np.random.RandomState(7).randn(3, 5, 16).astype(np.float32)
    if case == 'seq_first':
        x = x.transpose(1, 0, 2).copy()
    out = _run_eval(tmod, nmod, x, LEFT_PAD)
    padded = out.transpose(1, 0, 2)[LEFT_PAD] if case == 'seq_first' else out[LEFT_PAD]
    assert np.abs(padded).min() > 1e-4


def test_encoder_layer_alone_keeps_padded_rows():
    tmod, nmod = _encoders(norm=False)
    x = np.random.RandomState(8).randn(3, 5, 16).astype(np.float32)
    out = _run_eval(tmod.layers[0], nmod.layers[0], x, LEFT_PAD)
    assert np.abs(out[LEFT_PAD]).min() > 1e-3
    assert nmod.layers[0].activation_relu_or_gelu == tmod.layers[0].activation_relu_or_gelu == 1


def test_full_transformer_eval_batch_first_padding():
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16,
              batch_first=True)
    torch.manual_seed(1)
    tmod = torch.nn.Transformer(**kw).eval()
    nmod = npnn.nn.Transformer(**kw).eval()
    _copy_weights(tmod, nmod)
    with torch.no_grad():
        tmod.encoder.norm.bias.normal_()
    _copy_weights(tmod, nmod)
    rs = np.random.RandomState(9)
    src, tgt = rs.randn(2, 6, 8).astype(np.float32), rs.randn(2, 4, 8).astype(np.float32)
    pad = np.zeros((2, 6), dtype=bool)
    pad[0, 4:] = True
    with torch.no_grad(), npnn.no_grad():
        to = tmod(torch.tensor(src), torch.tensor(tgt), src_key_padding_mask=torch.tensor(pad))
        no = nmod(npnn.tensor(src), npnn.tensor(tgt), src_key_padding_mask=npnn.tensor(pad))
        # the decoder sees the zeroed memory rows unless they are masked for it too
        assert not np.allclose(
            tmod(torch.tensor(src), torch.tensor(tgt)).numpy()[0], to.numpy()[0], atol=1e-4)
    np.testing.assert_allclose(no.numpy(), to.numpy(), atol=2e-5, rtol=1e-4)
