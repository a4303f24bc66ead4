"""``npnn.__config__``: build and runtime configuration (array libraries, BLAS, threads)."""
import os
import platform
import sys

import numpy as np

__all__ = ['show', 'parallel_info']


def _version():
    try:
        from . import __version__
        return __version__
    except ImportError:
        try:
            from importlib.metadata import version
            return version('npnn')
        except Exception:
            return 'unknown'


def _module_version(name):
    try:
        mod = __import__(name)
        return getattr(mod, '__version__', 'unknown')
    except Exception:
        return None


def _blas_from_numpy():
    """NumPy's BLAS as its build configuration names it: (name, version) or (None, None)."""
    try:
        cfg = np.show_config(mode='dicts')
        blas = cfg['Build Dependencies']['blas']
        return blas.get('name'), blas.get('version')
    except Exception:
        return None, None


def _threadpools():
    """The native thread pools in use (BLAS, OpenMP) as threadpoolctl reports them; [] without it."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    try:
        return threadpoolctl.threadpool_info()
    except Exception:
        return []


def _gpus():
    try:
        from . import cuda
        if not cuda.is_available():
            return []
        return [f'cuda:{i}: {cuda.get_device_name(i)}' for i in range(cuda.device_count())]
    except Exception:
        return []


def parallel_info():
    """Threads available and used by the array libraries' native thread pools, as a multi-line string."""
    lines = ['npnn parallelism:', f'\tos.cpu_count() : {os.cpu_count()}']
    pools = _threadpools()
    if pools:
        for p in pools:
            lines.append(f"\t{p.get('internal_api')} ({p.get('user_api')}) {p.get('version') or ''}".rstrip()
                         + f" : {p.get('num_threads')} threads")
    else:
        name, ver = _blas_from_numpy()
        lines.append(f'\tBLAS : {name or "unknown"} {ver or ""}'.rstrip() + ' (thread count unknown: '
                     'threadpoolctl is not installed)')
    lines.append('Environment variables:')
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
        lines.append(f"\t{var} : {os.environ.get(var, '[not set]')}")
    return '\n'.join(lines) + '\n'


def show():
    """The configuration npnn runs with (versions, BLAS, threads, GPUs), as a multi-line string."""
    name, ver = _blas_from_numpy()
    lines = ['npnn built with:', f'  - npnn {_version()}', f'  - Python {platform.python_version()} '
             f'({sys.implementation.name}, {platform.system()} {platform.machine()})', f'  - NumPy {np.__version__}']
    sv = _module_version('scipy')
    lines.append(f'  - SciPy {sv}' if sv else '  - SciPy: not installed')
    try:
        import importlib.util
        has_cupy = importlib.util.find_spec('cupy') is not None
    except Exception:
        has_cupy = False
    cv = _module_version('cupy') if has_cupy else None
    lines.append(f'  - CuPy {cv}' if cv else '  - CuPy: not installed (CPU only)')
    lines.append(f'  - BLAS: {name or "unknown"} {ver or ""}'.rstrip())
    for p in _threadpools():
        lines.append(f"  - {p.get('user_api')}: {p.get('internal_api')} {p.get('version') or ''}, "
                     f"{p.get('num_threads')} threads")
    gpus = _gpus()
    lines.append('  - GPUs: ' + (', '.join(gpus) if gpus else 'none'))
    return '\n'.join(lines) + '\n'
