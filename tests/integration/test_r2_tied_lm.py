"""Weight tying (the output projection's weight *is* the embedding's Parameter), label-smoothed
cross-entropy with ignore_index, AdamW with two parameter groups (no weight decay on biases, norms and
embeddings, chosen by name and ndim), a linear-warmup + cosine schedule through LambdaLR, gradient clipping,
and a state_dict round trip that keeps the tie. Losses, learning rates and final weights match PyTorch."""
import math

import numpy as np

from .helpers import get

V, D, PAD = 13, 8, 0


def _batches():
    rng = np.random.RandomState(7)
    out = []
    for _ in range(10):
        x = rng.randint(1, V, (4, 6)).astype(np.int64)
        y = np.roll(x, -1, axis=1)
        y[:, -1] = PAD
        y[rng.rand(4, 6) < 0.15] = PAD
        out.append((x, y))
    return out


def run(torch, state, batches, total=10, warmup=3):
    nn = torch.nn

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, D)
            self.rnn = nn.GRU(D, D, batch_first=True)
            self.norm = nn.LayerNorm(D)
            self.out = nn.Linear(D, V)
            self.out.weight = self.emb.weight

        def forward(self, x):
            h, _ = self.rnn(self.emb(x))
            return self.out(self.norm(h))

    torch.manual_seed(0)
    model = TiedLM()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    names = [n for n, _ in model.named_parameters()]
    tied = model.out.weight is model.emb.weight
    n_params = sum(p.numel() for p in model.parameters())
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or 'norm' in n or 'emb' in n else decay).append(p)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=1e-2, betas=(0.9, 0.95))

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    crit = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
    losses, lrs, norms = [], [], []
    for x, y in batches:
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        logits = model(x)
        loss = crit(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append([g['lr'] for g in opt.param_groups])
    sd = model.state_dict()
    final = {k: v.detach().numpy().copy() for k, v in sd.items()}
    clone = TiedLM()
    clone.load_state_dict(sd)
    still_tied = clone.out.weight is clone.emb.weight
    return dict(init=init, names=names, tied=tied, n_params=n_params, losses=losses, lrs=lrs, norms=norms,
                final=final, sd_keys=sorted(sd.keys()), still_tied=still_tied,
                groups=[len(g['params']) for g in opt.param_groups],
                sched_state=sorted(sched.state_dict().keys()))


def test_tied_lm_matches_torch():
    import npnn
    batches = _batches()
    ref = run(get('torch'), None, batches)
    got = run(npnn, ref['init'], batches)
    assert got['names'] == ref['names'] and 'out.weight' not in got['names']
    assert got['tied'] and ref['tied'] and got['still_tied'] and ref['still_tied']
    assert got['n_params'] == ref['n_params']
    assert got['sd_keys'] == ref['sd_keys'] and 'out.weight' in got['sd_keys']
    assert got['groups'] == ref['groups']
    assert got['sched_state'] == ref['sched_state']
    np.testing.assert_allclose(got['lrs'], ref['lrs'], rtol=1e-7)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got['norms'], ref['norms'], rtol=1e-4, atol=1e-5)
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=1e-3, atol=1e-5, err_msg=k)
    np.testing.assert_array_equal(got['final']['out.weight'], got['final']['emb.weight'])
