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

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._common import blas_threads, print_table, timeit, try_torch  # noqa: E402


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


def _layer_times(lib, dev, batch, steps, sync):
    """Forward and backward ms of each conv/pool layer alone, on the shapes the network feeds it."""
    rng = np.random.default_rng(1)
    nn = lib.nn
    layers = [('conv1 1->16 k5', nn.Conv2d(1, 16, 5, padding=2).to(dev), (batch, 1, 28, 28)),
              ('pool1 2x2', nn.MaxPool2d(2), (batch, 16, 28, 28)),
              ('conv2 16->32 k5', nn.Conv2d(16, 32, 5, padding=2).to(dev), (batch, 16, 14, 14)),
              ('pool2 2x2', nn.MaxPool2d(2), (batch, 32, 14, 14))]
    res = {}
    for name, layer, shape in layers:
        x = lib.tensor(rng.standard_normal(shape).astype(np.float32), device=dev, requires_grad=True)
        with lib.no_grad():
            gshape = tuple(layer(x).shape)
        g = lib.tensor(rng.standard_normal(gshape).astype(np.float32), device=dev)

        def fwd():
            return layer(x)

        def fwd_bwd():
            x.grad = None
            for p in layer.parameters():
                p.grad = None
            layer(x).backward(g)

        tf = timeit(fwd, steps, sync=sync)
        tfb = timeit(fwd_bwd, steps, sync=sync)
        res[name] = (tf, max(tfb - tf, 0.0))
    return res


def _sync_for(lib, device):
    if device == 'cpu':
        return None
    if lib.__name__ == 'torch':
        return lib.cuda.synchronize
    return lib.cuda.synchronize


def _bench(lib, device, batch, steps, weights, x_np, y_np):
    dev = device
    sync = _sync_for(lib, device)
    net = _Net(lib, dev, weights)
    x = lib.tensor(x_np, device=dev)
    y = lib.tensor(y_np, device=dev)
    step_ms = timeit(lambda: net.step(x, y), steps, sync=sync)

    def fwd():
        return lib.nn.functional.cross_entropy(net.forward(x), y)
    fwd_ms = timeit(fwd, steps, sync=sync)

    def infer():
        with lib.no_grad():
            return net.forward(x)
    infer_ms = timeit(infer, steps, sync=sync)
    layers = _layer_times(lib, dev, batch, steps, sync)
    return {'step_ms': step_ms, 'forward_ms': fwd_ms, 'inference_ms': infer_ms, 'layers': layers,
            'loss': float(net.step(x, y).item())}


def run(device='cpu', batch=64, steps=30, threads=None):
    """Time the training step for npnn (and PyTorch when installed); returns a dict of timings in ms."""
    import npnn
    torch = try_torch()
    threads = threads or blas_threads()
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, size=batch).astype(np.int64)
    weights = _weights()
    out = {'device': device, 'batch': batch, 'threads': threads}
    out['npnn'] = _bench(npnn, device, batch, steps, weights, x_np, y_np)
    if torch is not None:
        torch.set_num_threads(threads)
        tdev = 'cuda' if device.startswith('cuda') else 'cpu'
        out['torch'] = _bench(torch, tdev, batch, steps, weights, x_np, y_np)
        out['ratio'] = out['npnn']['step_ms'] / out['torch']['step_ms']
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
    rows = [{'lib': k, 'step ms': r[k]['step_ms'], 'forward ms': r[k]['forward_ms'],
             'inference ms': r[k]['inference_ms'], 'loss': r[k]['loss']} for k in libs]
    print_table('whole step', rows, ['lib', 'step ms', 'forward ms', 'inference ms', 'loss'])
    if 'ratio' in r:
        print(f"ratio npnn/PyTorch: step {r['ratio']:.2f}x, forward {r['forward_ratio']:.2f}x")
    rows = []
    for name in r['npnn']['layers']:
        row = {'layer': name}
        for k in libs:
            f, b = r[k]['layers'][name]
            row[f'{k} fwd'] = f
            row[f'{k} bwd'] = b
        rows.append(row)
    print_table('per layer (ms)', rows, ['layer'] + [f'{k} {p}' for k in libs for p in ('fwd', 'bwd')])


if __name__ == '__main__':
    main()
