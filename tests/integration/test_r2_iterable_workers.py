"""A streaming IterableDataset that shards itself across DataLoader workers with
torch.utils.data.get_worker_info() (id/num_workers/dataset copy), a worker_init_fn that seeds NumPy
per worker from torch.initial_seed(), DataLoader(num_workers=2) over it with batching, and a map-style
Dataset over the same rows through DataLoader(num_workers=2, persistent_workers, prefetch_factor) whose
order is deterministic. Then a training loop on the single-process stream, which matches PyTorch."""
import numpy as np

from .helpers import get

ROWS = np.random.RandomState(5).randn(40, 4).astype(np.float32)
TARGET = (ROWS @ np.array([1.0, -2.0, 0.5, 0.0], np.float32) + 0.3).astype(np.float32)


def make_classes(torch):
    data = torch.utils.data

    class Stream(data.IterableDataset):
        def __init__(self, start, end):
            super().__init__()
            self.start, self.end = start, end

        def __iter__(self):
            info = data.get_worker_info()
            if info is None:
                lo, hi = self.start, self.end
            else:
                per = int(np.ceil((self.end - self.start) / float(info.num_workers)))
                lo = self.start + info.id * per
                hi = min(lo + per, self.end)
            for i in range(lo, hi):
                yield torch.from_numpy(ROWS[i]), torch.tensor(TARGET[i]), i

    class Rows(data.Dataset):
        def __len__(self):
            return len(ROWS)

        def __getitem__(self, i):
            info = data.get_worker_info()
            return {'x': torch.from_numpy(ROWS[i]), 'y': float(TARGET[i]),
                    'worker': -1 if info is None else info.id}

    return Stream, Rows


def run(torch, state):
    nn = torch.nn
    Stream, Rows = make_classes(torch)
    out = {}
    seen = []

    def init_fn(worker_id):
        info = torch.utils.data.get_worker_info()
        np.random.seed((torch.initial_seed() + worker_id) % 2 ** 32)
        assert info.id == worker_id and info.num_workers == 2 and isinstance(info.dataset, Stream)

    loader = torch.utils.data.DataLoader(Stream(0, 40), batch_size=6, num_workers=2, worker_init_fn=init_fn)
    for xb, yb, idx in loader:
        assert xb.shape[1] == 4 and xb.dtype == torch.float32 and yb.shape == idx.shape
        seen.append(idx.tolist())
    out['stream_items'] = sorted(i for b in seen for i in b)
    out['stream_batches'] = sorted(len(b) for b in seen)
    out['single'] = [idx.tolist() for _, _, idx in torch.utils.data.DataLoader(Stream(3, 17), batch_size=5)]
    out['list_stream'] = sorted(int(i) for _, _, i in Stream(0, 10))

    rows = torch.utils.data.DataLoader(Rows(), batch_size=8, shuffle=False, num_workers=2,
                                       persistent_workers=True, prefetch_factor=2)
    for epoch in range(2):
        batches = list(rows)
        out['map_order_%d' % epoch] = np.concatenate([b['x'].numpy() for b in batches])
        out['map_y_dtype'] = str(batches[0]['y'].dtype).split('.')[-1]
        out['workers_used'] = sorted(set(w for b in batches for w in b['worker'].tolist()))

    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    out['init'] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    losses = []
    for epoch in range(3):
        for xb, yb, _ in torch.utils.data.DataLoader(Stream(0, 40), batch_size=8):
            loss = nn.functional.mse_loss(model(xb).squeeze(1), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    out['losses'] = losses
    out['final'] = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return out


def test_iterable_workers_match_torch():
    import npnn
    ref = run(get('torch'), None)
    got = run(npnn, ref['init'])
    assert got['stream_items'] == ref['stream_items'] == list(range(40))
    assert got['stream_batches'] == ref['stream_batches']
    assert got['single'] == ref['single'] == [[3, 4, 5, 6, 7], [8, 9, 10, 11, 12], [13, 14, 15, 16]]
    assert got['list_stream'] == ref['list_stream'] == list(range(10))
    np.testing.assert_array_equal(got['map_order_0'], ROWS)
    np.testing.assert_array_equal(got['map_order_1'], ROWS)
    assert got['map_y_dtype'] == ref['map_y_dtype'] == 'float64'
    assert got['workers_used'] == ref['workers_used'] == [0, 1]
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-4, atol=1e-6)
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=1e-4, atol=1e-6)
