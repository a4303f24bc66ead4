"""Autograd bookkeeping cost: 100 chained elementwise ops on 16x16 float32 tensors plus backward().

Compares npnn, PyTorch (when installed) and the same arithmetic in plain NumPy without gradients.
Run: ``python benchmarks/overhead.py``.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import blas_threads, print_table, time_interleaved, try_torch  # noqa: E402

N_OPS = 100


def _chain(x, w):
    # a mix of binary and unary ops, 100 in total
    for i in range(N_OPS // 4):
        x = x * w
        x = x + 0.5
        x = x.tanh()
        x = x - w
    return x


def _chain_np(x, w):
    for i in range(N_OPS // 4):
        x = x * w
        x = x + 0.5
        x = np.tanh(x)
        x = x - w
    return x


def run(device='cpu', steps=200):
    """Return ms/step for npnn, torch and numpy."""
    import npnn
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((16, 16)).astype(np.float32)
    wa = (rng.standard_normal((16, 16)) * 0.1).astype(np.float32)
    res = {}
    x = npnn.tensor(xa, device=device, requires_grad=True)
    w = npnn.tensor(wa, device=device, requires_grad=True)
    sync = None
    if device != 'cpu':
        import cupy
        sync = cupy.cuda.Device().synchronize

    def step_npnn():
        x.grad = None
        w.grad = None
        _chain(x, w).sum().backward()
    fns = {'npnn': step_npnn}
    torch = try_torch()
    if torch is not None:
        dev = 'cuda' if device != 'cpu' else 'cpu'
        tx = torch.tensor(xa, device=dev, requires_grad=True)
        tw = torch.tensor(wa, device=dev, requires_grad=True)

        def step_torch():
            tx.grad = None
            tw.grad = None
            _chain(tx, tw).sum().backward()
        fns['torch'] = step_torch
    if device == 'cpu':
        fns['numpy'] = lambda: _chain_np(xa, wa).sum()

    def sync_all():
        if sync:
            sync()
        if torch is not None and device != 'cpu':
            torch.cuda.synchronize()
    res.update(time_interleaved(fns, steps, sync=sync_all))
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--device', default='cpu')
    p.add_argument('--steps', type=int, default=200)
    args = p.parse_args()
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(blas_threads())
    r = run(args.device, args.steps)
    row = {'workload': f'overhead ({N_OPS} ops 16x16 + backward)', 'npnn ms': r['npnn'], 'torch ms': r.get('torch'),
           'numpy ms (no grad)': r.get('numpy'),
           'npnn/torch': r['npnn'] / r['torch'] if 'torch' in r else None}
    print_table(f'device={args.device}', [row], list(row))


if __name__ == '__main__':
    main()
