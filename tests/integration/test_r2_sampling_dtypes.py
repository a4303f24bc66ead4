"""Imbalanced classification data handled the usual ways: random_split with fractions and a seeded
Generator, Subset/ConcatDataset indexing, class weights from torch.bincount turned into per-sample weights for
WeightedRandomSampler (draws are RNG-dependent: checked for length, range and the rebalancing effect), a
BatchSampler passed as batch_sampler, then a float64 model trained with class-weighted cross-entropy on a
fixed order, evaluated in float16 (.half()) and with bool masks, integer index tensors, torch.finfo/iinfo
limits in masking. The deterministic parts match PyTorch."""
import numpy as np

from .helpers import get


def _data():
    rng = np.random.RandomState(21)
    y = np.concatenate([np.zeros(48), np.ones(12), np.full(4, 2)]).astype(np.int64)
    x = (rng.randn(64, 5) + y[:, None] * 0.8).astype(np.float32)
    return x, y


def run(torch, state, x_np, y_np):
    nn = torch.nn
    F = torch.nn.functional
    data = torch.utils.data
    out = {}
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    ds = data.TensorDataset(x, y)
    tr, va = data.random_split(ds, [0.75, 0.25], generator=torch.Generator().manual_seed(42))
    out['split'] = (len(tr), len(va), sorted(tr.indices + va.indices) == list(range(64)))
    both = data.ConcatDataset([data.Subset(ds, [0, 50, 63]), data.Subset(ds, list(range(60, 64)))])
    out['concat'] = (len(both), [int(both[i][1]) for i in range(len(both))])
    counts = torch.bincount(y, minlength=3)
    class_w = counts.sum() / (len(counts) * counts.double())
    sample_w = class_w[y]
    sampler = data.WeightedRandomSampler(sample_w, num_samples=600, replacement=True,
                                         generator=torch.Generator().manual_seed(0))
    drawn = torch.tensor(list(sampler))
    freq = torch.bincount(y[drawn], minlength=3).double() / len(drawn)
    out['sampler'] = (len(sampler), int(drawn.min()) >= 0, int(drawn.max()) < 64,
                      bool((freq - 1 / 3).abs().max() < 0.1))
    out['class_w'] = class_w.numpy().copy()
    loader = data.DataLoader(ds, batch_sampler=data.BatchSampler(data.SequentialSampler(ds), 16, drop_last=False))
    out['batches'] = [len(b[1]) for b in loader]

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    out['init'] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    out['param_dtypes'] = sorted({str(p.dtype).split('.')[-1] for p in model.parameters()})
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.9, centered=True)
    crit = nn.CrossEntropyLoss(weight=class_w)
    losses = []
    for epoch in range(3):
        for xb, yb in loader:
            logits = model(xb.double())
            loss = crit(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    out['losses'] = losses
    out['loss_dtype'] = str(loss.dtype).split('.')[-1]
    out['final'] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}

    with torch.no_grad():
        logits64 = model(x.double())
        half = model.half()(x.half())
        out['half'] = (str(half.dtype).split('.')[-1], float((half.double() - logits64).abs().max()) < 0.05)
        model.double()
        minority = y > 0
        pred = logits64.argmax(dim=1)
        out['minority_acc'] = (pred[minority] == y[minority]).double().mean().item()
        idx = torch.nonzero(minority).squeeze(1)
        out['idx_dtype'] = str(idx.dtype).split('.')[-1]
        out['gathered'] = logits64[idx[:3], y[idx[:3]]].numpy().copy()
        neg = torch.finfo(logits64.dtype).min
        masked = logits64.masked_fill(F.one_hot(y, 3).bool(), neg)
        out['runner_up'] = masked.argmax(1).tolist()
        out['limits'] = (torch.finfo(torch.float16).max, torch.iinfo(torch.int32).max, torch.finfo(torch.float64).eps)
        out['mask_sum'] = (minority.sum().item(), str(minority.sum().dtype).split('.')[-1],
                           str(minority.dtype).split('.')[-1])
        out['int_math'] = ((y * 2 + 1).tolist()[-5:], str((y / 2).dtype).split('.')[-1], (y // 2).tolist()[-3:])
    return out


def test_sampling_and_dtypes_match_torch():
    import npnn
    x, y = _data()
    ref = run(get('torch'), None, x, y)
    got = run(npnn, ref['init'], x, y)
    assert got['split'] == ref['split'] == (48, 16, True)
    assert got['concat'] == ref['concat'] == (7, [0, 1, 2, 2, 2, 2, 2])
    assert got['sampler'] == ref['sampler'] == (600, True, True, True)
    np.testing.assert_allclose(got['class_w'], ref['class_w'], rtol=1e-12)
    assert got['batches'] == ref['batches'] == [16, 16, 16, 16]
    assert got['param_dtypes'] == ref['param_dtypes'] == ['float64']
    # centered RMSprop amplifies round-off
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-7, atol=1e-9)
    assert got['loss_dtype'] == ref['loss_dtype'] == 'float64'
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=1e-6, atol=1e-8, err_msg=k)
    assert got['half'] == ref['half'] == ('float16', True)
    assert got['minority_acc'] == ref['minority_acc']
    assert got['idx_dtype'] == ref['idx_dtype'] == 'int64'
    np.testing.assert_allclose(got['gathered'], ref['gathered'], rtol=1e-6, atol=1e-8)
    assert got['runner_up'] == ref['runner_up']
    assert got['limits'] == ref['limits']
    assert got['mask_sum'] == ref['mask_sum'] and got['int_math'] == ref['int_math']
