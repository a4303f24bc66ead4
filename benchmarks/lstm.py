"""LSTM language-model step: npnn vs PyTorch in one run.

One-layer LSTM (input 64, hidden 256), sequence 35, batch 32, a linear layer to 100 classes on every step,
cross-entropy, SGD step. Prints ms/step for both and the ratio npnn / PyTorch.

    python benchmarks/lstm.py [--device cpu|cuda] [--steps 30] [--threads N]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _build(lib, dev, I, H, C, weights):
    lstm = lib.nn.LSTM(I, H).to(dev)
    if hasattr(lib.nn, 'Linear'):
        head = lib.nn.Linear(H, C).to(dev)
        params = list(lstm.parameters()) + list(head.parameters())
        with lib.no_grad():
            for p, w in zip(params, weights):
                p.copy_(lib.tensor(w, device=dev))

        def logits(y):
            return head(y)
    else:  # the same math by hand
        W = lib.tensor(weights[-2], device=dev, requires_grad=True)
        b = lib.tensor(weights[-1], device=dev, requires_grad=True)
        with lib.no_grad():
            for p, w in zip(lstm.parameters(), weights):
                p.copy_(lib.tensor(w, device=dev))
        params = list(lstm.parameters()) + [W, b]

        def logits(y):
            return y @ W.t() + b
    if hasattr(lib, 'optim') and hasattr(lib.optim, 'SGD'):
        opt = lib.optim.SGD(params, lr=0.1)
        step = opt.step

        def zero():
            opt.zero_grad()
    else:
        def step():
            with lib.no_grad():
                for p in params:
                    p -= 0.1 * p.grad

        def zero():
            for p in params:
                p.grad = None
    return lstm, logits, step, zero


def _stepper(lib, x, y, lstm, logits, step, zero, sync):
    """One timed training step (forward, loss, backward, SGD) as a closure returning (wall, CPU) seconds."""
    F = lib.nn.functional

    def one():
        t0, c0 = time.perf_counter(), time.process_time()
        zero()
        out, _ = lstm(x)
        z = logits(out)
        loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))
        loss.backward()
        step()
        sync()
        return time.perf_counter() - t0, time.process_time() - c0
    return one


def run(device='cpu', steps=40, seq=35, batch=32, input_size=64, hidden=256, classes=100, threads=None):
    """Time one training step of both libraries; returns a dict with ms/step, the ratio and threads."""
    import torch
    import npnn
    if threads is not None:
        torch.set_num_threads(threads)
    nthreads = torch.get_num_threads()
    try:  # the same thread count for NumPy's BLAS
        import threadpoolctl
        limiter = threadpoolctl.threadpool_limits(nthreads, user_api='blas')
    except ImportError:
        limiter = None
    try:
        return _run(device, steps, seq, batch, input_size, hidden, classes, nthreads)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _run(device, steps, seq, batch, input_size, hidden, classes, nthreads):
    import torch
    import npnn
    rng = np.random.default_rng(0)
    tl = torch.nn.LSTM(input_size, hidden)
    weights = [p.detach().numpy().copy() for p in tl.parameters()]
    weights += [rng.uniform(-0.06, 0.06, (classes, hidden)).astype(np.float32),
                np.zeros(classes, np.float32)]
    x = rng.standard_normal((seq, batch, input_size)).astype(np.float32)
    y = rng.integers(0, classes, (seq, batch)).astype(np.int64)
    if device == 'cuda':
        tdev = 'cuda'

        def tsync():
            torch.cuda.synchronize()

        def nsync():
            npnn.cuda.synchronize()
    else:
        tdev = 'cpu'

        def tsync():
            pass
        nsync = tsync
    res = {'device': device, 'threads': nthreads}
    m = _build(torch, tdev, input_size, hidden, classes, weights)
    t_step = _stepper(torch, torch.tensor(x, device=tdev), torch.tensor(y, device=tdev), *m, tsync)
    m = _build(npnn, device, input_size, hidden, classes, weights)
    n_step = _stepper(npnn, npnn.tensor(x, device=device), npnn.tensor(y, device=device), *m, nsync)
    for _ in range(3):
        t_step()
        n_step()
    tt, nt = [], []
    block = 5
    for _ in range(max(1, steps // block)):  # alternating blocks, so both see the same machine load
        t_step()                              # the first step of a block warms that library's threads
        tt += [t_step() for _ in range(block)]
        n_step()
        nt += [n_step() for _ in range(block)]
    tt, nt = np.array(tt), np.array(nt)
    res['torch_ms'] = 1000 * float(np.median(tt[:, 0]))
    res['npnn_ms'] = 1000 * float(np.median(nt[:, 0]))
    res['torch_min_ms'] = 1000 * float(tt[:, 0].min())
    res['npnn_min_ms'] = 1000 * float(nt[:, 0].min())
    # CPU time of the process per step: robust to other load on a shared machine (all threads summed)
    res['torch_cpu_ms'] = 1000 * float(np.median(tt[:, 1]))
    res['npnn_cpu_ms'] = 1000 * float(np.median(nt[:, 1]))
    res['ratio'] = res['npnn_ms'] / res['torch_ms']
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    r = run(a.device, a.steps, threads=a.threads)
    print(f"LSTM step (seq 35, batch 32, in 64, hidden 256, 100 classes) on {r['device']}, "
          f"torch threads {r['threads']}")
    print(f"  torch {r['torch_ms']:8.2f} ms/step (median; best {r['torch_min_ms']:.2f})")
    print(f"  npnn  {r['npnn_ms']:8.2f} ms/step (median; best {r['npnn_min_ms']:.2f})")
    print(f"  ratio {r['ratio']:8.2f}x (best/best {r['npnn_min_ms'] / r['torch_min_ms']:.2f}x)")
    print(f"  CPU time/step: torch {r['torch_cpu_ms']:.2f} ms, npnn {r['npnn_cpu_ms']:.2f} ms, ratio "
          f"{r['npnn_cpu_ms'] / r['torch_cpu_ms']:.2f}x")


if __name__ == '__main__':
    main()
