"""LeNet-style CNN training step: npnn vs PyTorch in one run.

Batch 64 of 1x28x28: conv 1->16 k5 pad2, relu, maxpool 2, conv 16->32 k5 pad2, relu, maxpool 2,
linear 1568->128, relu, linear 128->10, cross-entropy, SGD. Both libraries start from the same weights and
see the same batch; PyTorch runs with the thread count NumPy's BLAS uses. Prints ms/step, the ratio
npnn / PyTorch, forward-only times and a per-layer split (forward and backward of each conv/pool layer).

    python benchmarks/cnn.py [--device cpu|cuda] [--batch 64] [--steps 30] [--threads N]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._common import blas_threads, print_table, try_torch  # noqa: E402


def _weights(seed=0):
    rng = np.random.default_rng(seed)

    def u(shape, fan_in):
        b = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-b, b, size=shape).astype(np.float32)
    return [u((16, 1, 5, 5), 25), u((16,), 25), u((32, 16, 5, 5), 400), u((32,), 400),
            u((128, 1568), 1568), u((128,), 1568), u((10, 128), 128), u((10,), 128)]


class _Net:
    """The same network in either library (``lib`` is npnn or torch)."""

    def __init__(self, lib, dev, weights):
        nn = lib.nn
        self.lib = lib
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2).to(dev)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2).to(dev)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(1568, 128).to(dev)
        self.fc2 = nn.Linear(128, 10).to(dev)
        self.params = [self.conv1.weight, self.conv1.bias, self.conv2.weight, self.conv2.bias,
                       self.fc1.weight, self.fc1.bias, self.fc2.weight, self.fc2.bias]
        with lib.no_grad():
            for p, w in zip(self.params, weights):
                p.copy_(lib.tensor(w, device=dev))
        self.opt = lib.optim.SGD(self.params, lr=0.01)

    def forward(self, x):
        F = self.lib.nn.functional
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self.lib.nn.functional.cross_entropy(self.forward(x), y)
        loss.backward()
        self.opt.step()
        return loss


def _paired(fns, steps, sync, rounds=7, warmup=2):
    """Time several callables in alternating rounds (so background load hits them alike); returns per
    callable (median, best) milliseconds per call over the rounds."""
    for f in fns:
        for _ in range(warmup):
            f()
    per = max(1, steps // rounds)
    times = [[] for _ in fns]
    for _ in range(rounds):
        for i, f in enumerate(fns):
            if sync[i]:
                sync[i]()
            t0 = time.perf_counter()
            for _ in range(per):
                f()
            if sync[i]:
                sync[i]()
            times[i].append((time.perf_counter() - t0) * 1000.0 / per)
    return [(sorted(t)[len(t) // 2], min(t)) for t in times]


def _layers(lib, dev, batch):
    """Each conv/pool layer alone, on the shapes the network feeds it: name -> (fwd, fwd+bwd) callables."""
    rng = np.random.default_rng(1)
    nn = lib.nn
    specs = [('conv1 1->16 k5', lambda: nn.Conv2d(1, 16, 5, padding=2).to(dev), (batch, 1, 28, 28), False),
             ('pool1 2x2', lambda: nn.MaxPool2d(2), (batch, 16, 28, 28), True),
             ('conv2 16->32 k5', lambda: nn.Conv2d(16, 32, 5, padding=2).to(dev), (batch, 16, 14, 14), True),
             ('pool2 2x2', lambda: nn.MaxPool2d(2), (batch, 32, 14, 14), True)]
    out = {}
    for name, mk, shape, need_x in specs:
        layer = mk()
        x = lib.tensor(rng.standard_normal(shape).astype(np.float32), device=dev, requires_grad=need_x)
        with lib.no_grad():
            gshape = tuple(layer(x).shape)
        g = lib.tensor(rng.standard_normal(gshape).astype(np.float32), device=dev)

        def fwd(layer=layer, x=x):
            with lib.no_grad():
                return layer(x)

        def fwd_bwd(layer=layer, x=x, g=g):
            x.grad = None
            for p in layer.parameters():
                p.grad = None
            layer(x).backward(g)
        out[name] = (fwd, fwd_bwd)
    return out


def _sync_for(lib, device):
    if device == 'cpu':
        return None
    return lib.cuda.synchronize


def run(device='cpu', batch=64, steps=30, threads=None):
    """Time the training step of npnn and (when installed) PyTorch, alternating rounds; returns a dict of
    milliseconds: per library ``step_ms``, ``forward_ms`` (forward + loss, recording), ``inference_ms``
    (no_grad), ``layers`` {name: (forward, backward)}, each a median over rounds, plus ``*_best`` minima."""
    import npnn
    torch = try_torch()
    threads = threads or blas_threads()
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, size=batch).astype(np.int64)
    weights = _weights()
    libs = [npnn]
    if torch is not None:
        torch.set_num_threads(threads)
        libs.append(torch)
    out = {'device': device, 'batch': batch, 'threads': threads}
    ctx = []
    for lib in libs:
        dev = device if lib is npnn else ('cuda' if device.startswith('cuda') else 'cpu')
        net = _Net(lib, dev, weights)
        x, y = lib.tensor(x_np, device=dev), lib.tensor(y_np, device=dev)
        ctx.append((lib, dev, net, x, y, _sync_for(lib, device)))
    syncs = [c[5] for c in ctx]
    step = _paired([lambda c=c: c[2].step(c[3], c[4]) for c in ctx], steps, syncs)
    fwd = _paired([lambda c=c: c[0].nn.functional.cross_entropy(c[2].forward(c[3]), c[4]) for c in ctx], steps, syncs)

    def infer(c):
        with c[0].no_grad():
            return c[2].forward(c[3])
    inf = _paired([lambda c=c: infer(c) for c in ctx], steps, syncs)
    layer_fns = [_layers(c[0], c[1], batch) for c in ctx]
    for i, c in enumerate(ctx):
        out[c[0].__name__] = {'step_ms': step[i][0], 'step_ms_best': step[i][1], 'forward_ms': fwd[i][0],
                              'forward_ms_best': fwd[i][1], 'inference_ms': inf[i][0],
                              'inference_ms_best': inf[i][1], 'layers': {},
                              'loss': float(c[2].step(c[3], c[4]).item())}
    for name in layer_fns[0]:
        f = _paired([lf[name][0] for lf in layer_fns], steps, syncs)
        fb = _paired([lf[name][1] for lf in layer_fns], steps, syncs)
        for i, c in enumerate(ctx):
            out[c[0].__name__]['layers'][name] = (f[i][1], max(fb[i][1] - f[i][1], 0.0))
    if torch is not None:
        out['ratio'] = out['npnn']['step_ms'] / out['torch']['step_ms']
        out['ratio_best'] = out['npnn']['step_ms_best'] / out['torch']['step_ms_best']
        out['forward_ratio'] = out['npnn']['forward_ms'] / out['torch']['forward_ms']
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    r = run(a.device, a.batch, a.steps, a.threads)
    print(f"LeNet-style CNN step, batch {r['batch']}, device {r['device']}, threads {r['threads']} "
          f"(PyTorch set to the same)")
    libs = [k for k in ('npnn', 'torch') if k in r]
    rows = [{'lib': k, 'step ms': r[k]['step_ms'], 'best step ms': r[k]['step_ms_best'],
             'forward ms': r[k]['forward_ms'], 'inference ms': r[k]['inference_ms'], 'loss': r[k]['loss']}
            for k in libs]
    print_table('whole step (median and best of alternating rounds)', rows,
                ['lib', 'step ms', 'best step ms', 'forward ms', 'inference ms', 'loss'])
    if 'ratio' in r:
        print(f"ratio npnn/PyTorch: step {r['ratio']:.2f}x (best rounds {r['ratio_best']:.2f}x), "
              f"forward {r['forward_ratio']:.2f}x")
    rows = []
    for name in r['npnn']['layers']:
        row = {'layer': name}
        for k in libs:
            f, b = r[k]['layers'][name]
            row[f'{k} fwd'] = f
            row[f'{k} bwd'] = b
        rows.append(row)
    print_table('per layer, best rounds (ms; fwd under no_grad, bwd = fwd+bwd - fwd)', rows,
                ['layer'] + [f'{k} {p}' for k in libs for p in ('fwd', 'bwd')])


if __name__ == '__main__':
    main()
