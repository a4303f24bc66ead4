"""A character-level LSTM over variable-length sequences: pad_sequence, pack_padded_sequence,
pad_packed_sequence, gradient clipping, and greedy sampling with a carried hidden state."""
import pytest

from .helpers import backends, cached

TEXT = ['hello world', 'hello there', 'help me', 'hold on', 'low tide', 'yellow', 'hollow']


def run(torch):
    nn = torch.nn
    from_ = torch.nn.utils.rnn

    chars = sorted(set(''.join(TEXT)))
    stoi = {c: i + 1 for i, c in enumerate(chars)}  # 0 is padding
    vocab = len(stoi) + 1

    class CharRNN(nn.Module):
        def __init__(self, vocab, emb=16, hidden=48, layers=2):
            super().__init__()
            self.embed = nn.Embedding(vocab, emb, padding_idx=0)
            self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True, dropout=0.1)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, x, lengths=None, hidden=None):
            e = self.embed(x)
            if lengths is not None:
                packed = from_.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
                out, hidden = self.lstm(packed, hidden)
                out, _ = from_.pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
            else:
                out, hidden = self.lstm(e, hidden)
            return self.out(out), hidden

    torch.manual_seed(0)
    seqs = [torch.tensor([stoi[c] for c in s]) for s in TEXT]
    inputs = from_.pad_sequence([s[:-1] for s in seqs], batch_first=True, padding_value=0)
    targets = from_.pad_sequence([s[1:] for s in seqs], batch_first=True, padding_value=-100)
    lengths = torch.tensor([len(s) - 1 for s in seqs])

    model = CharRNN(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    crit = nn.CrossEntropyLoss(ignore_index=-100)
    losses = []
    for step in range(60):
        model.train()
        logits, (h, c) = model(inputs, lengths)
        loss = crit(logits.reshape(-1, vocab), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())

    model.eval()
    itos = {i: c for c, i in stoi.items()}
    with torch.no_grad():
        x = torch.tensor([[stoi['h']]])
        hidden = None
        out = 'h'
        for _ in range(4):
            logits, hidden = model(x, hidden=hidden)
            nxt = logits[:, -1].argmax(-1)
            out += itos[nxt.item()]
            x = nxt.unsqueeze(0)
    return dict(first=losses[0], last=losses[-1], sample=out, h_shape=tuple(h.shape),
                logits_shape=tuple(logits.shape), total_is_tensor=torch.is_tensor(total),
                keys=list(model.state_dict().keys()))


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_char_rnn(lib):
    r = RESULT(lib)
    assert r['last'] < 0.5 * r['first']
    assert r['sample'].startswith('hel')
    assert r['h_shape'] == (2, 7, 48)
    assert r['logits_shape'][:2] == (1, 1)
    assert r['total_is_tensor']


def test_char_rnn_keys_match_torch():
    assert RESULT('npnn')['keys'] == RESULT('torch')['keys']
