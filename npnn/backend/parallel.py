"""Row-split threading for large NumPy passes.

NumPy releases the GIL inside its loops, so a long elementwise pass over many rows runs faster split into a
few contiguous row ranges on a small thread pool (as many threads as the machine gives this process, or as
``NPNN_NUM_THREADS`` / ``OMP_NUM_THREADS`` say). Small arrays and CuPy arrays run inline: for them a thread
hand-off costs more than it saves.
"""
import os

import numpy as np

__all__ = ['n_threads', 'run_parallel', 'row_ranges', 'split_rows']

_POOL = None
_POOL_PID = None


def n_threads():
    """The thread count for CPU work: the first set of NPNN/OMP/OPENBLAS/MKL_NUM_THREADS, else the cores."""
    for var in ('NPNN_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        v = os.environ.get(var)
        if v and v.isdigit() and int(v) > 0:
            return min(int(v), 8)
    try:
        return min(len(os.sched_getaffinity(0)), 8)
    except AttributeError:  # pragma: no cover - platforms without affinity
        return min(os.cpu_count() or 1, 8)


def run_parallel(fn, parts):
    """Call ``fn(part)`` for every part; parts after the first go to the pool, the first runs here."""
    global _POOL, _POOL_PID
    if len(parts) <= 1:
        for p in parts:
            fn(p)
        return
    if _POOL is None or _POOL_PID != os.getpid():  # a forked child gets its own pool
        from concurrent.futures import ThreadPoolExecutor
        _POOL = ThreadPoolExecutor(max_workers=n_threads(), thread_name_prefix='npnn-rows')
        _POOL_PID = os.getpid()
    futures = [_POOL.submit(fn, p) for p in parts[1:]]
    fn(parts[0])
    for f in futures:
        f.result()


def row_ranges(n, size, xp, min_size=1 << 20):
    """``range(n)`` as contiguous ``(start, stop)`` chunks, one per thread when ``size`` elements of NumPy
    work reach ``min_size``; a single chunk otherwise."""
    k = n_threads() if (xp is np and size >= min_size) else 1
    k = max(1, min(k, n))
    bounds = [n * i // k for i in range(k + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(k) if bounds[i] < bounds[i + 1]]


def split_rows(fn, arrays, xp, min_size=1 << 20):
    """Call ``fn(*parts)`` on the same row range of every array in ``arrays`` (equal first dims), one range
    per thread when the first array is NumPy work of at least ``min_size`` elements."""
    def part(r):
        a, b = r
        fn(*(x[a:b] for x in arrays))
    run_parallel(part, row_ranges(arrays[0].shape[0], arrays[0].size, xp, min_size))
