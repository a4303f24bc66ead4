"""A small Transformer encoder classifier: Embedding, sinusoidal positions in a buffer, MultiheadAttention
with a key-padding mask and a causal mask, LayerNorm, trained with Adam."""
import math

import pytest

from .helpers import backends, cached


def build_and_train(torch):
    nn = torch.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len=64):
            super().__init__()
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            self.register_buffer('pe', pe.unsqueeze(0))

        def forward(self, x):
            return x + self.pe[:, :x.size(1)]

    class Block(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.attn = nn.MultiheadAttention(d, heads, dropout=0.0, batch_first=True)
            self.ln1 = nn.LayerNorm(d)
            self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
            self.ln2 = nn.LayerNorm(d)

        def forward(self, x, key_padding_mask=None, attn_mask=None):
            h = self.ln1(x)
            a, w = self.attn(h, h, h, key_padding_mask=key_padding_mask, attn_mask=attn_mask,
                             need_weights=True)
            x = x + a
            x = x + self.ff(self.ln2(x))
            return x, w

    class Classifier(nn.Module):
        def __init__(self, vocab, d=32, heads=4, n_classes=2, pad_idx=0):
            super().__init__()
            self.pad_idx = pad_idx
            self.emb = nn.Embedding(vocab, d, padding_idx=pad_idx)
            self.pos = PositionalEncoding(d)
            self.blocks = nn.ModuleList([Block(d, heads) for _ in range(2)])
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, n_classes)

        def forward(self, tokens):
            pad = tokens == self.pad_idx
            L = tokens.size(1)
            causal = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
            x = self.pos(self.emb(tokens) * math.sqrt(self.emb.embedding_dim))
            for blk in self.blocks:
                x, w = blk(x, key_padding_mask=pad, attn_mask=causal)
            x = self.norm(x)
            keep = (~pad).unsqueeze(-1).float()
            pooled = (x * keep).sum(1) / keep.sum(1).clamp(min=1.0)
            return self.head(pooled), w

    torch.manual_seed(0)
    # class 1 iff token 3 appears in the sequence; variable lengths padded with 0
    N, L, V = 64, 10, 8
    tokens = torch.randint(4, V, (N, L))
    lengths = torch.randint(3, L + 1, (N,))
    labels = torch.randint(0, 2, (N,))
    pos = torch.randint(0, 3, (N,))
    tokens[torch.arange(N), pos] = torch.where(labels == 1, torch.tensor(3), tokens[torch.arange(N), pos])
    for i in range(N):
        tokens[i, lengths[i]:] = 0

    model = Classifier(V)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    crit = nn.CrossEntropyLoss()
    first = None
    for epoch in range(40):
        model.train()
        logits, _ = model(tokens)
        loss = crit(logits, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if first is None:
            first = loss.item()
    model.eval()
    with torch.no_grad():
        logits, w = model(tokens)
        acc = (logits.argmax(-1) == labels).float().mean().item()
    return dict(first=first, last=loss.item(), acc=acc, logits_shape=tuple(logits.shape),
                attn_shape=tuple(w.shape), keys=list(model.state_dict().keys()),
                buffers=[n for n, _ in model.named_buffers()],
                pad_grad=model.emb.weight.grad[0].abs().sum().item(),
                n_params=sum(p.numel() for p in model.parameters() if p.requires_grad))


RESULT = cached(build_and_train)


@pytest.mark.parametrize('lib', backends())
def test_transformer_classifier(lib):
    r = RESULT(lib)
    assert r['last'] < 0.3 * r['first']
    assert r['acc'] > 0.9
    assert r['logits_shape'] == (64, 2)
    assert r['attn_shape'] == (64, 10, 10)
    assert r['buffers'] == ['pos.pe']
    assert r['pad_grad'] == 0.0


def test_transformer_same_structure_as_torch():
    a = RESULT('npnn')
    b = RESULT('torch')
    assert a['keys'] == b['keys']
    assert a['n_params'] == b['n_params']
