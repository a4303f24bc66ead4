"""A nanoGPT-style character model, written the way that code base writes it: a causal-mask buffer made
with torch.tril and masked_fill, tied input/output embeddings, GELU(approximate='tanh'), model.apply
init plus a scaled init picked by parameter name, AdamW groups split by p.dim() (checking
inspect.signature for `fused`), an autocast context that may be nullcontext, ignore_index=-1 targets,
and generate() with temperature, top-k filtering by indexing assignment and torch.multinomial.
Same weights and batches as PyTorch give the same losses; sampling is checked for validity."""
import contextlib
import inspect
import math

import numpy as np
import pytest

from .helpers import get

V, T, C, H, L_ = 11, 8, 16, 2, 2


def _batches():
    rng = np.random.RandomState(0)
    out = []
    for _ in range(10):
        x = rng.randint(0, V, (4, T)).astype(np.int64)
        y = np.roll(x, -1, axis=1)
        y[:, -1] = -1
        out.append((x, y))
    return out


def build(torch):
    nn = torch.nn
    F = torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(C, 3 * C)
            self.c_proj = nn.Linear(C, C)
            self.register_buffer('bias', torch.tril(torch.ones(T, T)).view(1, 1, T, T))

        def forward(self, x):
            B, T_, C_ = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            k = k.view(B, T_, H, C_ // H).transpose(1, 2)
            q = q.view(B, T_, H, C_ // H).transpose(1, 2)
            v = v.view(B, T_, H, C_ // H).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T_, :T_] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T_, C_)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(C)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(C)
            self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(approximate='tanh'), nn.Linear(4 * C, C))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(V, C), wpe=nn.Embedding(T, C),
                h=nn.ModuleList([Block() for _ in range(L_)]), ln_f=nn.LayerNorm(C)))
            self.lm_head = nn.Linear(C, V, bias=False)
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith('c_proj.weight'):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * L_))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def get_num_params(self):
            return sum(p.numel() for p in self.parameters()) - self.transformer.wpe.weight.numel()

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            if targets is not None:
                logits = self.lm_head(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            else:
                logits = self.lm_head(x[:, [-1], :])
                loss = None
            return logits, loss

        def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
            param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
            decay = [p for n, p in param_dict.items() if p.dim() >= 2]
            nodecay = [p for n, p in param_dict.items() if p.dim() < 2]
            groups = [{'params': decay, 'weight_decay': weight_decay}, {'params': nodecay, 'weight_decay': 0.0}]
            fused_available = 'fused' in inspect.signature(torch.optim.AdamW).parameters
            extra = dict(fused=True) if fused_available and device_type == 'cuda' else dict()
            return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, **extra)

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= T else idx[:, -T:]
                logits, _ = self(idx_cond)
                logits = logits[:, -1, :] / temperature
                if top_k is not None:
                    v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                    logits[logits < v[:, [-1]]] = -float('Inf')
                probs = F.softmax(logits, dim=-1)
                idx_next = torch.multinomial(probs, num_samples=1)
                idx = torch.cat((idx, idx_next), dim=1)
            return idx

    return GPT()


def run(torch, state, batches):
    torch.manual_seed(0)
    model = build(torch)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95), 'cpu')
    ctx = contextlib.nullcontext() if True else torch.amp.autocast(device_type='cpu', dtype=torch.bfloat16)
    scaler = torch.amp.GradScaler('cpu', enabled=False)
    losses = []
    for x, y in batches:
        with ctx:
            _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    torch.manual_seed(1)
    sample = model.generate(torch.zeros((2, 1), dtype=torch.long), 12, temperature=0.8, top_k=3)
    tied = model.transformer.wte.weight is model.lm_head.weight
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return dict(init=init, losses=losses, final=final, sample=sample, tied=tied, n_params=model.get_num_params(),
                groups=[len(g['params']) for g in opt.param_groups])


def test_nanogpt_matches_torch():
    import npnn
    data = _batches()
    ref = run(get('torch'), None, data)
    got = run(npnn, ref['init'], data)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=2e-4, atol=2e-5)
    assert list(got['final']) == list(ref['final'])
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=2e-3, atol=2e-4, err_msg=k)
    assert got['tied'] and ref['tied']
    assert got['n_params'] == ref['n_params'] and got['groups'] == ref['groups']
    s = got['sample']
    assert tuple(s.shape) == (2, 13) and int(s.min()) >= 0 and int(s.max()) < V


def test_nanogpt_top_k_sampling_stays_in_top_k():
    import npnn
    npnn.manual_seed(0)
    model = build(npnn).eval()
    with npnn.no_grad():
        idx = npnn.zeros((1, 1), dtype=npnn.long)
        logits, _ = model(idx)
        top = set(npnn.topk(logits[0, -1], 2).indices.tolist())
        for _ in range(20):
            nxt = model.generate(idx, 1, top_k=2)[0, -1].item()
            assert nxt in top
