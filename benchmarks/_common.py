"""Shared benchmark plumbing: timing, thread matching and table printing."""
import os
import time


def try_torch():
    """PyTorch if installed, else None."""
    try:
        import torch
        return torch
    except ImportError:
        return None


def blas_threads():
    """The thread count NumPy's BLAS uses (so PyTorch can be given the same)."""
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get('user_api') == 'blas':
                return int(info['num_threads'])
    except ImportError:
        pass
    return int(os.environ.get('OMP_NUM_THREADS', os.cpu_count() or 1))


def timeit(fn, steps, warmup=3, sync=None):
    """Median-of-rounds milliseconds per call of ``fn`` (``sync`` is called before reading the clock)."""
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    rounds = []
    per = max(1, steps // 5)
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(per):
            fn()
        if sync:
            sync()
        rounds.append((time.perf_counter() - t0) * 1000.0 / per)
    rounds.sort()
    return rounds[len(rounds) // 2]


def time_interleaved(fns, steps, warmup=3, rounds=7, sync=None):
    """Median ms per call for each of ``fns`` (name -> callable), timed in alternating rounds so that
    background load affects every contender alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    if sync:
        sync()
    per = max(1, steps // rounds)
    res = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(per):
                fn()
            if sync:
                sync()
            res[name].append((time.perf_counter() - t0) * 1000.0 / per)
    return {name: sorted(v)[len(v) // 2] for name, v in res.items()}


def print_table(title, rows, cols):
    """Print ``rows`` (dicts) as an aligned table with the given columns."""
    print(title)
    widths = [max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols]
    print('  '.join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print('  '.join(_fmt(r.get(c)).ljust(w) for c, w in zip(cols, widths)))


def _fmt(v):
    if v is None:
        return '-'
    if isinstance(v, float):
        return f'{v:.3f}'
    return str(v)
