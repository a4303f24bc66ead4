"""A tabular regressor: one Embedding per categorical column in a ModuleList, concatenated with the
continuous features, LayerNorm + GELU + Dropout MLP, AdamW under OneCycleLR stepped per batch, gradient
clipping by norm, TensorDataset/DataLoader batches, and early stopping on a validation set that restores
the best state_dict (copy.deepcopy). With dropout off the run matches PyTorch step for step."""
import copy

import numpy as np
import pytest

from .helpers import get

CARD = [5, 3, 7]


def _data():
    rng = np.random.RandomState(0)
    n = 96
    cats = np.stack([rng.randint(0, c, n) for c in CARD], 1).astype(np.int64)
    cont = rng.randn(n, 4).astype(np.float32)
    effect = [rng.randn(c) for c in CARD]
    y = (cont @ np.array([0.5, -1.0, 0.3, 0.0]) + sum(e[cats[:, i]] for i, e in enumerate(effect))
         + 0.1 * rng.randn(n)).astype(np.float32)
    return (cats[:64], cont[:64], y[:64]), (cats[64:], cont[64:], y[64:])


def run(torch, state, data, p_drop=0.0, epochs=12, patience=3):
    nn = torch.nn
    F = torch.nn.functional
    (tr_cat, tr_cont, tr_y), (va_cat, va_cont, va_y) = data

    class TabNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embs = nn.ModuleList([nn.Embedding(c, min(4, (c + 1) // 2)) for c in CARD])
            width = sum(e.embedding_dim for e in self.embs) + 4
            self.norm_in = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 32), nn.GELU(), nn.Dropout(p_drop),
                                     nn.Linear(32, 16), nn.LayerNorm(16), nn.GELU(), nn.Dropout(p_drop))
            self.out = nn.Linear(16, 1)

        def forward(self, cat, cont):
            parts = [emb(cat[:, i]) for i, emb in enumerate(self.embs)]
            h = self.norm_in(torch.cat(parts + [cont], dim=1))
            return self.out(self.mlp(h)).squeeze(-1)

    torch.manual_seed(0)
    model = TabNet()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    train = torch.utils.data.TensorDataset(torch.from_numpy(tr_cat), torch.from_numpy(tr_cont),
                                           torch.from_numpy(tr_y))
    loader = torch.utils.data.DataLoader(train, batch_size=16, shuffle=False, drop_last=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-2, epochs=epochs, steps_per_epoch=len(loader),
                                                pct_start=0.3)
    loss_fn = nn.MSELoss()
    best, best_state, bad, losses, val_losses, lrs, norms = float('inf'), None, 0, [], [], [], []
    va = (torch.from_numpy(va_cat), torch.from_numpy(va_cont), torch.from_numpy(va_y))
    for epoch in range(epochs):
        model.train()
        for cat, cont, y in loader:
            loss = loss_fn(model(cat, cont), y)
            opt.zero_grad()
            loss.backward()
            norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)))
            opt.step()
            sched.step()
            losses.append(loss.item())
            lrs.append(opt.param_groups[0]['lr'])
        model.eval()
        with torch.no_grad():
            val = F.mse_loss(model(va[0], va[1]), va[2]).item()
        val_losses.append(val)
        if val < best - 1e-4:
            best, bad = val, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
            if bad >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        restored = F.mse_loss(model(va[0], va[1]), va[2]).item()
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return dict(init=init, losses=losses, val=val_losses, best=best, restored=restored, final=final, lrs=lrs,
                norms=norms, epochs_run=epoch + 1)


def test_tabular_matches_torch():
    import npnn
    data = _data()
    ref = run(get('torch'), None, data)
    got = run(npnn, ref['init'], data)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got['val'], ref['val'], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got['lrs'], ref['lrs'], rtol=1e-6)
    np.testing.assert_allclose(got['norms'], ref['norms'], rtol=2e-4, atol=1e-5)
    assert got['epochs_run'] == ref['epochs_run']
    assert got['restored'] == pytest.approx(got['best'], rel=1e-6)
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=2e-3, atol=2e-4, err_msg=k)


def test_tabular_with_dropout_and_early_stop():
    import npnn
    # a tiny patience forces the early stop to fire; the restored weights reproduce the best score
    r = run(npnn, None, _data(), p_drop=0.3, epochs=30, patience=1)
    assert np.isfinite(r['losses']).all()
    assert r['epochs_run'] < 30
    assert r['restored'] == pytest.approx(r['best'], rel=1e-6)
    assert min(r['val']) == pytest.approx(r['best'])
