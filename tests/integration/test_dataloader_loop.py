"""A custom map-style Dataset of variable-length sequences, a collate_fn that pads and returns a dict,
DataLoader(num_workers=2, shuffle=True, drop_last) with worker_init_fn, plus random_split and
TensorDataset, driving a small training loop."""
import numpy as np
import pytest

from .helpers import backends, cached


def run(torch):
    nn = torch.nn
    F = torch.nn.functional
    data = torch.utils.data

    class SeqDataset(data.Dataset):
        def __init__(self, n=96, seed=0):
            rng = np.random.RandomState(seed)
            self.items = []
            for _ in range(n):
                length = rng.randint(2, 7)
                label = rng.randint(0, 2)
                x = rng.randn(length, 3).astype(np.float32) + (1.5 if label else -1.5)
                self.items.append((x, label))

        def __len__(self):
            return len(self.items)

        def __getitem__(self, idx):
            x, label = self.items[idx]
            return torch.from_numpy(x), label

    def collate(batch):
        xs, ys = zip(*batch)
        lengths = torch.tensor([len(x) for x in xs])
        padded = torch.nn.utils.rnn.pad_sequence(list(xs), batch_first=True)
        return {'x': padded, 'lengths': lengths, 'y': torch.tensor(ys, dtype=torch.long)}

    def worker_init_fn(worker_id):
        info = torch.utils.data.get_worker_info()
        assert info is not None and info.id == worker_id and info.num_workers == 2
        np.random.seed(info.seed % 2 ** 32)

    torch.manual_seed(0)
    ds = SeqDataset()
    train_ds, val_ds = data.random_split(ds, [64, 32], generator=torch.Generator().manual_seed(42))
    loader = data.DataLoader(train_ds, batch_size=16, shuffle=True, num_workers=2, collate_fn=collate,
                             drop_last=True, worker_init_fn=worker_init_fn, persistent_workers=False)
    val_loader = data.DataLoader(val_ds, batch_size=10, shuffle=False, num_workers=0, collate_fn=collate)

    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    n_batches = 0
    shapes = set()
    for epoch in range(3):
        for batch in loader:
            x, lengths, y = batch['x'], batch['lengths'], batch['y']
            shapes.add(x.shape[0])
            mask = torch.arange(x.size(1))[None, :] < lengths[:, None]
            h = model(x)
            pooled = (h * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(1)
            loss = F.cross_entropy(pooled, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n_batches += 1

    correct = total = 0
    with torch.no_grad():
        for batch in val_loader:
            x, lengths, y = batch['x'], batch['lengths'], batch['y']
            mask = torch.arange(x.size(1))[None, :] < lengths[:, None]
            pooled = (model(x) * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(1)
            correct += (pooled.argmax(1) == y).sum().item()
            total += y.numel()

    # default collate of a TensorDataset with workers
    tds = data.TensorDataset(torch.arange(20).float().view(10, 2), torch.arange(10))
    batches = list(data.DataLoader(tds, batch_size=4, num_workers=2))
    return dict(n_batches=n_batches, shapes=sorted(shapes), acc=correct / total, total=total,
                lens=(len(train_ds), len(val_ds), len(loader), len(val_loader)),
                tds=[(tuple(a.shape), str(a.dtype).split('.')[-1], b.tolist()) for a, b in batches])


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_dataloader_loop(lib):
    r = RESULT(lib)
    assert r['n_batches'] == 12 and r['shapes'] == [16]
    assert r['total'] == 32 and r['acc'] > 0.9
    assert r['lens'] == (64, 32, 4, 4)
    assert r['tds'][0] == ((4, 2), 'float32', [0, 1, 2, 3])
    assert r['tds'][-1] == ((2, 2), 'float32', [8, 9])


def test_dataloader_same_as_torch():
    a, b = RESULT('npnn'), RESULT('torch')
    assert a['tds'] == b['tds'] and a['lens'] == b['lens']
