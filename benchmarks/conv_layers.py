"""Single convolution layers, forward + backward: npnn vs PyTorch in one run.

Each layer sees the same input, weights and upstream gradient in both libraries; a step is the forward
pass, the backward pass (input, weight and bias gradients) and nothing else. PyTorch runs with the thread
count NumPy's BLAS uses. Prints ms per step for each library and the ratio npnn / PyTorch per layer.

    python benchmarks/conv_layers.py [--device cpu|cuda] [--batch 32] [--steps 20] [--threads N]
                                     [--only dw3x3 ...]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._common import blas_threads, print_table, time_interleaved, try_torch  # noqa: E402

# name -> (in channels, out channels, kernel, Conv2d keyword arguments, spatial size)
LAYERS = {
    'conv3x3': (64, 64, 3, dict(padding=1), 32),
    'dw3x3': (128, 128, 3, dict(padding=1, groups=128), 32),
    'dw3x3 56px': (64, 64, 3, dict(padding=1, groups=64), 56),
    'dw3x3 s2': (128, 128, 3, dict(padding=1, stride=2, groups=128), 32),
    'group4 3x3': (64, 64, 3, dict(padding=1, groups=4), 32),
    'conv1x1': (64, 128, 1, dict(), 32),
}


def _layer(lib, dev, spec, batch, rng):
    """One layer and its fwd+bwd step callable in ``lib`` (npnn or torch), from NumPy data drawn by ``rng``
    (the same draws for both libraries when ``rng`` is seeded alike)."""
    cin, cout, k, kw, size = spec
    layer = lib.nn.Conv2d(cin, cout, k, **kw).to(dev)
    x_np = rng.standard_normal((batch, cin, size, size)).astype(np.float32)
    w_np = (rng.standard_normal(tuple(layer.weight.shape)) * 0.1).astype(np.float32)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(w_np, device=dev))
        gshape = tuple(layer(lib.tensor(x_np, device=dev)).shape)
    g = lib.tensor(rng.standard_normal(gshape).astype(np.float32), device=dev)
    x = lib.tensor(x_np, device=dev, requires_grad=True)

    def step():
        x.grad = None
        for p in layer.parameters():
            p.grad = None
        layer(x).backward(g)
    return step


def run(device='cpu', batch=32, steps=20, threads=None, only=None):
    """Time each layer's forward + backward step in npnn and (when installed) PyTorch, in alternating
    rounds; returns ``{'layers': {name: {'npnn': ms, 'torch': ms, 'ratio': x}}, ...}``."""
    import npnn
    torch = try_torch()
    threads = threads or blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    out = {'device': device, 'batch': batch, 'threads': threads, 'layers': {}}
    sync_n = npnn.cuda.synchronize if device != 'cpu' else None
    tdev = 'cuda' if device.startswith('cuda') else 'cpu'
    sync_t = torch.cuda.synchronize if (torch is not None and tdev == 'cuda') else None
    for name, spec in LAYERS.items():
        if only and name not in only:
            continue
        fns = {'npnn': _layer(npnn, device, spec, batch, np.random.default_rng(0))}
        if torch is not None:
            fns['torch'] = _layer(torch, tdev, spec, batch, np.random.default_rng(0))

        def sync():
            for s in (sync_n, sync_t):
                if s:
                    s()
        r = time_interleaved(fns, steps, sync=sync if (sync_n or sync_t) else None)
        if 'torch' in r:
            r['ratio'] = r['npnn'] / r['torch']
        out['layers'][name] = r
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--only', nargs='*', default=None, help='layer names to run (default: all)')
    a = ap.parse_args()
    r = run(a.device, a.batch, a.steps, a.threads, a.only)
    print(f"conv layers fwd+bwd, batch {r['batch']}, device {r['device']}, threads {r['threads']} "
          f"(PyTorch set to the same)")
    rows = []
    for name, t in r['layers'].items():
        cin, cout, k, kw, size = LAYERS[name]
        shape = f"{cin}->{cout} k{k} {size}x{size}" + ''.join(f' {key}={v}' for key, v in kw.items()
                                                                if key != 'padding')
        rows.append({'layer': name, 'shape': shape, 'npnn ms': t['npnn'], 'torch ms': t.get('torch'),
                     'ratio': t.get('ratio')})
    print_table('median of alternating rounds (ms per forward + backward)', rows,
                ['layer', 'shape', 'npnn ms', 'torch ms', 'ratio'])


if __name__ == '__main__':
    main()
