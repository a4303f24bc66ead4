"""A decoder-only language model built from nn.TransformerDecoder (norm_first layers, GELU activation,
batch_first) with a causal mask from nn.Transformer.generate_square_subsequent_mask, a learned positional
nn.Parameter, a key padding mask, teacher-forced training with cross_entropy(ignore_index=PAD) over
logits.transpose(1, 2), then greedy generation that grows the sequence with torch.cat and argmax under
torch.inference_mode, and the same logits from the model in eval mode with and without the float mask.
Dropout is off so everything matches PyTorch."""
import numpy as np

from .helpers import get

V, PAD, BOS, L = 11, 0, 1, 7


def _data():
    rng = np.random.RandomState(2)
    seqs = np.full((6, L + 1), PAD, np.int64)
    for i in range(6):
        n = rng.randint(4, L + 2)
        seqs[i, 0] = BOS
        seqs[i, 1:n] = rng.randint(2, V, n - 1)
    return seqs


def run(torch, state, seqs_np):
    nn = torch.nn
    F = torch.nn.functional

    class TinyLM(nn.Module):
        def __init__(self, d=16):
            super().__init__()
            self.tok = nn.Embedding(V, d, padding_idx=PAD)
            self.pos = nn.Parameter(torch.zeros(1, 16, d))
            layer = nn.TransformerDecoderLayer(d, nhead=2, dim_feedforward=32, dropout=0.0, activation='gelu',
                                               batch_first=True, norm_first=True)
            self.dec = nn.TransformerDecoder(layer, num_layers=2, norm=nn.LayerNorm(d))
            self.head = nn.Linear(d, V)
            # "memory": three learned tokens the decoder cross-attends to
            self.mem = nn.Parameter(torch.randn(1, 3, d))

        def forward(self, ids, pad_mask=None):
            t = ids.size(1)
            h = self.tok(ids) + self.pos[:, :t]
            mask = nn.Transformer.generate_square_subsequent_mask(t)
            mem = self.mem.expand(ids.size(0), -1, -1)
            h = self.dec(h, mem, tgt_mask=mask, tgt_key_padding_mask=pad_mask, tgt_is_causal=True)
            return self.head(h)

    torch.manual_seed(0)
    model = TinyLM()
    with torch.no_grad():
        nn.init.normal_(model.pos, std=0.02)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    seqs = torch.from_numpy(seqs_np)
    inp, tgt = seqs[:, :-1], seqs[:, 1:]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.98), eps=1e-9)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    losses = []
    model.train()
    for step in range(8):
        logits = model(inp)
        loss = F.cross_entropy(logits.transpose(1, 2), tgt, ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.inference_mode():
        ids = torch.full((2, 1), BOS, dtype=torch.long)
        steps_logits = []
        for _ in range(6):
            nxt_logits = model(ids)[:, -1, :]
            steps_logits.append(nxt_logits.numpy().copy())
            nxt = nxt_logits.argmax(dim=-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
        pad_mask = inp == PAD
        masked = model(inp, pad_mask=pad_mask)
        eval_logits = model(inp)
    masked = masked.masked_fill(pad_mask.unsqueeze(-1), 0.0)
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return dict(init=init, losses=losses, gen=ids.tolist(), steps_logits=steps_logits,
                mask=mask.numpy().copy(), masked=masked.numpy().copy(), eval_logits=eval_logits.numpy().copy(),
                final=final, inference=ids.requires_grad)


def test_decoder_greedy_matches_torch():
    import npnn
    seqs = _data()
    ref = run(get('torch'), None, seqs)
    got = run(npnn, ref['init'], seqs)
    np.testing.assert_array_equal(got['mask'], ref['mask'])
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-4, atol=1e-5)
    for a, b in zip(got['steps_logits'], ref['steps_logits']):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    assert got['gen'] == ref['gen']
    np.testing.assert_allclose(got['eval_logits'], ref['eval_logits'], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(got['masked'], ref['masked'], rtol=1e-3, atol=1e-4)
    assert not got['inference']
    for k in ref['final']:
        a, b = got['final'][k], ref['final'][k]
        if k.endswith('attn.in_proj_bias'):
            # the key bias adds q.b to every score of a row, which softmax ignores: its gradient is round-off,
            # which Adam scales up to +-lr, so only the query and value biases are comparable
            a, b = np.concatenate([a[:16], a[32:]]), np.concatenate([b[:16], b[32:]])
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-4, err_msg=k)
