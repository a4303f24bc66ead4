"""DataLoader throughput: npnn against torch.utils.data on the same simulated-decode dataset.

Each sample costs about 1 ms (a sleep standing in for image decoding, plus a small NumPy op that
produces a 3x32x32 float32 image and an int label). Batches of 64 are loaded with 0, 2 and 4 workers;
the table gives batches per second for each loader and the ratio npnn / torch. A second table runs the
same with no simulated decode, so that only the loaders' own cost (collation, transfer between
processes, bookkeeping) is timed.

    python benchmarks/dataloader.py [--batches N] [--epochs E] [--decode-ms 1.0 0]
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import npnn.data as nd  # noqa: E402


class Decode:
    """A map-style dataset whose __getitem__ costs ~1 ms."""

    def __init__(self, n, decode_s=0.001):
        self.n = n
        self.decode_s = decode_s
        self.base = np.random.default_rng(0).standard_normal((3, 32, 32)).astype(np.float32)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.decode_s:
            time.sleep(self.decode_s)
        img = self.base * np.float32((i % 255) / 255.0) + np.float32(0.5)
        return img, i % 10


class NpnnDecode(Decode, nd.Dataset):
    pass


def measure(make_loader, epochs):
    """Batches per second over ``epochs`` passes (worker start-up included, as a user sees it)."""
    total, start = 0, time.perf_counter()
    for _ in range(epochs):
        loader = make_loader()
        for x, y in loader:
            assert x.shape[0] == y.shape[0]
            total += 1
        del loader
    return total / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--batches', type=int, default=48, help='batches per epoch')
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 2, 4])
    ap.add_argument('--decode-ms', type=float, nargs='+', default=[1.0, 0.0])
    args = ap.parse_args()
    warnings.filterwarnings('ignore', message='This DataLoader will create')
    n = args.batches * args.batch_size
    try:
        import torch
        import torch.utils.data as td
        torch.set_num_threads(1)
    except ImportError:
        td = None

    for ms in args.decode_ms:
        print(f"\nDataLoader: {n} samples/epoch, {ms:g} ms simulated decode per sample, batch {args.batch_size}, "
              f"{args.epochs} epochs, {os.cpu_count()} CPUs")
        print(f"{'workers':>7} | {'npnn batch/s':>12} | {'torch batch/s':>13} | {'npnn/torch':>10}")
        print('-' * 52)
        for nw in args.workers:
            kw = dict(batch_size=args.batch_size, shuffle=True, num_workers=nw)
            ours = measure(lambda: nd.DataLoader(NpnnDecode(n, ms / 1000), **kw), args.epochs)
            if td is not None:
                theirs = measure(lambda: td.DataLoader(Decode(n, ms / 1000), **kw), args.epochs)
                print(f"{nw:>7} | {ours:>12.2f} | {theirs:>13.2f} | {ours / theirs:>10.2f}")
            else:
                print(f"{nw:>7} | {ours:>12.2f} | {'n/a':>13} | {'n/a':>10}")


if __name__ == '__main__':
    main()
