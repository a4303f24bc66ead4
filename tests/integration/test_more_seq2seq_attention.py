"""A GRU encoder-decoder that learns to reverse token sequences: dot-product attention through
bmm + masked_fill over padded source positions, teacher forcing on a fixed schedule, greedy decoding
under no_grad. Same weights and data on npnn and PyTorch give the same losses and parameters."""
import numpy as np
import pytest

from .helpers import get

PAD, BOS, VOCAB = 0, 1, 9


def _data():
    rng = np.random.RandomState(0)
    batches = []
    for _ in range(12):
        lengths = rng.randint(3, 7, size=6)
        src = np.zeros((6, 6), dtype=np.int64)
        tgt = np.zeros((6, 6), dtype=np.int64)
        for i, n in enumerate(lengths):
            toks = rng.randint(2, VOCAB, size=n)
            src[i, :n] = toks
            tgt[i, :n] = toks[::-1]
        batches.append((src, tgt))
    teacher = rng.rand(12) < 0.5
    return batches, teacher


def run(torch, state, data):
    nn = torch.nn
    F = torch.nn.functional
    batches, teacher = data

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, 12, padding_idx=PAD)
            self.rnn = nn.GRU(12, 16, batch_first=True)

        def forward(self, src):
            out, h = self.rnn(self.emb(src))
            return out, h

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, 12, padding_idx=PAD)
            self.rnn = nn.GRU(12 + 16, 16, batch_first=True)
            self.out = nn.Linear(32, VOCAB)

        def forward(self, tok, h, enc_out, src_mask):
            # tok: (B,) -> one step
            e = self.emb(tok).unsqueeze(1)
            q = h[-1].unsqueeze(1)                                  # (B, 1, H)
            scores = torch.bmm(q, enc_out.transpose(1, 2))          # (B, 1, S)
            scores = scores.masked_fill(~src_mask.unsqueeze(1), float('-inf'))
            attn = F.softmax(scores, dim=-1)
            ctx = torch.bmm(attn, enc_out)                          # (B, 1, H)
            out, h = self.rnn(torch.cat([e, ctx], dim=-1), h)
            logits = self.out(torch.cat([out.squeeze(1), ctx.squeeze(1)], dim=1))
            return logits, h, attn.squeeze(1)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = Decoder()

        def forward(self, src, tgt, teacher_forcing):
            enc_out, h = self.encoder(src)
            mask = src != PAD
            tok = torch.full((src.size(0),), BOS, dtype=torch.long)
            outputs = []
            for t in range(tgt.size(1)):
                logits, h, _ = self.decoder(tok, h, enc_out, mask)
                outputs.append(logits)
                tok = tgt[:, t] if teacher_forcing else logits.argmax(dim=-1)
            return torch.stack(outputs, dim=1)

    torch.manual_seed(0)
    model = Seq2Seq()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    crit = nn.CrossEntropyLoss(ignore_index=PAD)
    losses = []
    for (src, tgt), tf in zip(batches, teacher):
        src, tgt = torch.from_numpy(src), torch.from_numpy(tgt)
        model.train()
        logits = model(src, tgt, bool(tf))
        loss = crit(logits.reshape(-1, VOCAB), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        src = torch.from_numpy(batches[0][0])
        enc_out, h = model.encoder(src)
        tok = torch.full((src.size(0),), BOS, dtype=torch.long)
        preds, attns = [], []
        for _ in range(src.size(1)):
            logits, h, attn = model.decoder(tok, h, enc_out, src != PAD)
            tok = logits.argmax(-1)
            preds.append(tok)
            attns.append(attn)
        preds = torch.stack(preds, 1).numpy()
        attns = torch.stack(attns, 1).numpy()
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return init, losses, final, preds, attns


def test_seq2seq_attention_matches_torch():
    import npnn
    data = _data()
    init, ref_losses, ref_final, ref_preds, ref_attn = run(get('torch'), None, data)
    _, losses, final, preds, attn = run(npnn, init, data)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4, atol=1e-5)
    assert final.keys() == ref_final.keys()
    for k in ref_final:
        np.testing.assert_allclose(final[k], ref_final[k], rtol=1e-3, atol=1e-4, err_msg=k)
    np.testing.assert_allclose(attn, ref_attn, rtol=1e-3, atol=1e-5)
    # padded source positions get exactly zero attention
    src = data[0][0][0]
    assert (attn * (src == PAD)[:, None, :] == 0).all()
    np.testing.assert_allclose(attn.sum(-1), 1.0, rtol=1e-5)
    assert (preds == ref_preds).mean() > 0.95


def test_seq2seq_attention_learns_without_torch():
    import npnn
    _, losses, _, _, _ = run(npnn, None, _data())
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
