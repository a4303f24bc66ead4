"""MLP training step: npnn vs PyTorch vs the same step written by hand with the array library.

784-512-256-10 with ReLU, cross-entropy, SGD (momentum 0.9); batch 128 on the CPU, 1024 on a GPU. All
three start from the same weights and see the same batch; PyTorch runs with the thread count NumPy's BLAS
uses. The hand-written step (forward, backward and update as plain array code, no autograd) runs on NumPy,
or on CuPy with ``--device cuda``: it is the floor that npnn's bookkeeping adds to.

    python benchmarks/mlp.py [--device cpu|cuda] [--batch N] [--steps 50]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._common import blas_threads, print_table, try_torch  # noqa: E402

SIZES = (784, 512, 256, 10)
LR, MOMENTUM = 0.01, 0.9


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return out


def _framework_step(lib, device, weights, x_np, y_np):
    """A step function for npnn or torch (same API) and the loss of its first step."""
    nn = lib.nn
    layers = []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w, device=device))
    opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    x = lib.tensor(x_np, device=device)
    y = lib.tensor(y_np, device=device)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step, float(step().item())


def _array_step(xp, weights, x_np, y_np):
    """The same step as plain array code: forward, hand-derived backward, momentum SGD update."""
    params = [xp.asarray(w) for w in weights]
    bufs = [xp.zeros_like(p) for p in params]
    x, y = xp.asarray(x_np), xp.asarray(y_np)
    n = x.shape[0]
    rows = xp.arange(n)
    lr, mom, inv_n = LR, MOMENTUM, 1.0 / n  # Python floats keep float32 arrays float32 (NumPy and CuPy)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = x @ w1.T
        h1 += b1
        xp.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        xp.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        z -= z.max(axis=1, keepdims=True)
        e = xp.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = (xp.log(s[:, 0]) - z[rows, y]).mean()
        g = e
        g /= s
        g[rows, y] -= 1
        g *= inv_n
        grads = [None] * 6
        grads[4], grads[5] = g.T @ h2, g.sum(axis=0)
        g = g @ w3
        g *= h2 > 0
        grads[2], grads[3] = g.T @ h1, g.sum(axis=0)
        g = g @ w2
        g *= h1 > 0
        grads[0], grads[1] = g.T @ x, g.sum(axis=0)
        for p, b, gr in zip(params, bufs, grads):
            b *= mom
            b += gr
            p -= lr * b
        return loss
    return step, float(step())


def interleaved(fns, steps, rounds=7, warmup=3):
    """ms per call of each of ``fns`` (name -> (fn, sync)): the best of ``rounds`` rounds, the rounds of
    different functions taking turns so that a change in machine load hits them all alike."""
    for fn, sync in fns.values():
        for _ in range(warmup):
            fn()
        if sync:
            sync()
    per = max(1, steps // rounds)
    best = {k: float('inf') for k in fns}
    for _ in range(rounds):
        for k, (fn, sync) in fns.items():
            t0 = time.perf_counter()
            for _ in range(per):
                fn()
            if sync:
                sync()
            best[k] = min(best[k], (time.perf_counter() - t0) * 1000.0 / per)
    return best


def run(device='cpu', batch=None, steps=50, threads=None):
    """ms per training step for npnn, PyTorch (when installed) and hand-written array code."""
    import npnn
    torch = try_torch()
    cuda = str(device).startswith('cuda')
    batch = batch or (1024 if cuda else 128)
    threads = threads or blas_threads()
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y_np = rng.integers(0, SIZES[-1], batch).astype(np.int64)
    weights = _weights()
    res = {'device': str(device), 'batch': batch, 'threads': threads}

    fns = {}
    step, res['npnn_loss'] = _framework_step(npnn, device, weights, x_np, y_np)
    fns['npnn'] = (step, npnn.cuda.synchronize if cuda else None)

    if torch is not None:
        torch.set_num_threads(threads)
        tdev = 'cuda' if cuda else 'cpu'
        if not cuda or torch.cuda.is_available():
            step, res['torch_loss'] = _framework_step(torch, tdev, weights, x_np, y_np)
            fns['torch'] = (step, torch.cuda.synchronize if cuda else None)

    if cuda:
        import cupy as xp
        with xp.cuda.Device(npnn.device(device).index or 0):
            step, res['numpy_loss'] = _array_step(xp, weights, x_np, y_np)
            fns['numpy'] = (step, xp.cuda.Device().synchronize)
            times = interleaved(fns, steps)
    else:
        step, res['numpy_loss'] = _array_step(np, weights, x_np, y_np)
        fns['numpy'] = (step, None)
        times = interleaved(fns, steps)
    res.update({f'{k}_ms': v for k, v in times.items()})
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=None)
    ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    r = run(a.device, a.batch, a.steps, a.threads)
    rows = [{'lib': k, 'ms/step': r.get(f'{k}_ms'), 'first loss': r.get(f'{k}_loss')}
            for k in ('npnn', 'torch', 'numpy') if f'{k}_ms' in r]
    print_table(f"MLP 784-512-256-10 step, batch {r['batch']}, device {r['device']}, threads {r['threads']}",
                rows, ['lib', 'ms/step', 'first loss'])
    if 'torch_ms' in r:
        print(f"npnn/PyTorch {r['npnn_ms'] / r['torch_ms']:.2f}x")
    print(f"npnn/hand-written {r['npnn_ms'] / r['numpy_ms']:.2f}x")


if __name__ == '__main__':
    main()
