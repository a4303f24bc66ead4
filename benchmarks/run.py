"""Run every benchmark and print one table: ms per step for npnn, PyTorch and hand-written NumPy, and ratios.

    python benchmarks/run.py                  # CPU
    python benchmarks/run.py --device cuda    # the GPU variants (CuPy; PyTorch on CUDA when it has it)
    python benchmarks/run.py --only mlp cnn   # a subset

PyTorch is given the thread count NumPy's BLAS uses. A benchmark that fails is reported in the table and
the others still run. Lower ratios are better; 1.00 means as fast as the reference.
"""
import argparse
import os
import platform
import sys
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from benchmarks._common import blas_threads, try_torch  # noqa: E402

NAMES = ['overhead', 'mlp', 'cnn', 'conv_layers', 'lstm', 'dataloader']


def _row(workload, npnn_ms, torch_ms=None, numpy_ms=None):
    return {'workload': workload, 'npnn': npnn_ms, 'torch': torch_ms, 'numpy': numpy_ms}


def bench_overhead(device, quick):
    from benchmarks import overhead
    r = overhead.run(device, steps=60 if quick else 200)
    return [_row(f'autograd overhead: {overhead.N_OPS} small ops + backward', r['npnn'], r.get('torch'),
                 r.get('numpy'))]


def bench_mlp(device, quick):
    from benchmarks import mlp
    r = mlp.run(device, steps=20 if quick else 50)
    return [_row(f"MLP 784-512-256-10 train step, batch {r['batch']}", r['npnn_ms'], r.get('torch_ms'),
                 r.get('numpy_ms'))]


def bench_cnn(device, quick):
    from benchmarks import cnn
    r = cnn.run(device, steps=10 if quick else 30)
    t = r.get('torch', {})
    return [_row(f"LeNet-style CNN train step, batch {r['batch']}", r['npnn']['step_ms'], t.get('step_ms')),
            _row(f"LeNet-style CNN inference, batch {r['batch']}", r['npnn']['inference_ms'],
                 t.get('inference_ms'))]


def bench_conv_layers(device, quick):
    from benchmarks import conv_layers
    r = conv_layers.run('cuda' if device.startswith('cuda') else device, steps=7 if quick else 21)
    return [_row(f'conv layer fwd+bwd, batch 32: {k}', t['npnn'], t.get('torch')) for k, t in r['layers'].items()]


def bench_lstm(device, quick):
    from benchmarks import lstm
    r = lstm.run('cuda' if device.startswith('cuda') else device, steps=10 if quick else 30)
    return [_row('LSTM train step, seq 35 x batch 32, hidden 256', r['npnn_ms'], r.get('torch_ms'))]


def bench_dataloader(device, quick):
    """Loader cost per batch of 64 (3x32x32), no simulated decode, 0 and 2 workers."""
    from benchmarks import dataloader as dl
    warnings.filterwarnings('ignore', message='This DataLoader will create')
    import npnn.data as nd
    torch = try_torch()
    batches, epochs = (16, 1) if quick else (48, 2)
    n = batches * 64
    rows = []
    for workers in (0, 2):
        kw = dict(batch_size=64, shuffle=True, num_workers=workers)
        ours = dl.measure(lambda: nd.DataLoader(dl.NpnnDecode(n, 0.0), **kw), epochs)
        theirs = None
        if torch is not None:
            import torch.utils.data as td
            theirs = 1000.0 / dl.measure(lambda: td.DataLoader(dl.Decode(n, 0.0), **kw), epochs)
        rows.append(_row(f'DataLoader batch of 64, {workers} workers', 1000.0 / ours, theirs))
    return rows


def _fastest(rows):
    """One row from repeated runs of the same workload: the smallest time in each column."""
    out = dict(rows[0])
    for key in ('npnn', 'torch', 'numpy'):
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = min(values) if values else None
    return out


def machine():
    """One line naming the CPU, the core count, BLAS threads and library versions."""
    import numpy
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    torch = try_torch()
    parts = [cpu, f'{os.cpu_count()} cores', f'BLAS threads {blas_threads()}', f'numpy {numpy.__version__}']
    if torch is not None:
        parts.append(f'torch {torch.__version__}')
    return ', '.join(parts)


def format_table(rows):
    cols = ['workload', 'npnn ms', 'PyTorch ms', 'NumPy ms', 'npnn/PyTorch', 'npnn/NumPy']

    def ms(v):
        return '-' if v is None else f'{v:.2f}'

    def ratio(a, b):
        return '-' if a is None or b is None else f'{a / b:.2f}x'
    cells = [[r['workload'], ms(r['npnn']), ms(r['torch']), ms(r['numpy']), ratio(r['npnn'], r['torch']),
              ratio(r['npnn'], r['numpy'])] if 'error' not in r else
             [r['workload'], 'failed: ' + r['error'], '', '', '', ''] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ['| ' + ' | '.join(c.ljust(w) for c, w in zip(cols, widths)) + ' |',
             '|' + '|'.join('-' * (w + 2) for w in widths) + '|']
    for row in cells:
        lines.append('| ' + ' | '.join(v.ljust(w) if i == 0 else v.rjust(w)
                                       for i, (v, w) in enumerate(zip(row, widths))) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    ap.add_argument('--only', nargs='+', choices=NAMES, default=NAMES)
    ap.add_argument('--quick', action='store_true', help='fewer steps (noisier)')
    ap.add_argument('--repeat', type=int, default=1,
                    help='run each benchmark N times and keep the fastest of each column (steadier on a busy machine)')
    args = ap.parse_args(argv)
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(blas_threads())
    print(f'device {args.device}; {machine()}')
    rows = []
    for name in args.only:
        t0 = time.perf_counter()
        try:
            runs = [globals()[f'bench_{name}'](args.device, args.quick) for _ in range(max(1, args.repeat))]
            rows += [_fastest(same) for same in zip(*runs)]
        except Exception as e:  # report it and keep going
            traceback.print_exc()
            rows.append({'workload': name, 'error': f'{type(e).__name__}: {e}'[:80]})
        print(f'  {name}: done in {time.perf_counter() - t0:.0f}s', file=sys.stderr)
    print(format_table(rows))
    return rows


if __name__ == '__main__':
    main()
