"""``python -m npnn.utils.bottleneck script.py [args]``: run a script under cProfile and the autograd profiler.

Like ``torch.utils.bottleneck``: prints an environment summary, the functions cProfile found most costly
(by cumulative and by own time) and the autograd profiler's per-op table.
"""
import argparse
import cProfile
import io
import os
import platform
import pstats
import runpy
import sys

__all__ = ['main', 'run_env_summary', 'run_cprofile', 'run_autograd_prof']


def _version():
    try:
        from importlib.metadata import version
        return version('npnn')
    except Exception:
        import npnn
        v = getattr(npnn, '__version__', None)
        if v:
            return v
    # a source checkout: the version in pyproject.toml next to the package
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        with open(os.path.join(root, 'pyproject.toml')) as f:
            for line in f:
                if line.strip().startswith('version'):
                    return line.split('=', 1)[1].strip().strip('"\'') + ' (source tree)'
    except OSError:
        pass
    return 'unknown'


def run_env_summary():
    """A few lines naming the Python, npnn, NumPy (and CuPy) versions and the device."""
    import numpy as np
    import npnn
    lines = [f'Python {platform.python_version()} on {platform.system()} {platform.machine()}',
             f'npnn {_version()}', f'NumPy {np.__version__}']
    cuda = False
    try:
        cuda = bool(npnn.cuda.is_available())
    except Exception:
        pass
    if cuda:
        try:
            import cupy
            lines.append(f'CuPy {cupy.__version__}')
            lines.append(f'Device: cuda ({npnn.cuda.device_count()} GPU(s), {npnn.cuda.get_device_name(0)})')
        except Exception:
            lines.append('Device: cuda')
    else:
        lines.append('Device: cpu (CUDA not available)')
    lines.append(f'Default device: {npnn.get_default_device()}')
    return '\n'.join(lines)


def _run_script(path, argv):
    """Execute ``path`` as ``__main__`` with ``sys.argv`` set to ``[path] + argv``; restore argv and path after."""
    old_argv, old_path = sys.argv[:], sys.path[:]
    sys.argv = [path] + list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv, sys.path[:] = old_argv, old_path


def run_cprofile(path, argv, top=15):
    """Run the script under cProfile; return the report sorted by cumulative and by own (tot) time."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        _run_script(path, argv)
    finally:
        prof.disable()
    out = []
    for key in ('cumulative', 'tottime'):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        out.append(f'cProfile output, top {top} by {key}\n' + '-' * 40 + '\n' + buf.getvalue().strip())
    return '\n\n'.join(out)


def run_autograd_prof(path, argv, use_cuda=False, row_limit=15):
    """Run the script under the autograd profiler; return its tables sorted by total and by self time."""
    from ...autograd.profiler import profile
    with profile(use_cuda=use_cuda) as prof:
        _run_script(path, argv)
    avg = prof.key_averages()
    return (avg.table(sort_by='cpu_time_total', row_limit=row_limit,
                      header='autograd profiler output, sorted by cpu_time_total') + '\n' +
            avg.table(sort_by='self_cpu_time_total', row_limit=row_limit,
                      header='autograd profiler output, sorted by self_cpu_time_total'))


def _banner(title):
    return '-' * 78 + '\n' + title.center(78) + '\n' + '-' * 78


def main(argv=None):
    """Entry point: parse ``script [args...]`` and print the three sections."""
    p = argparse.ArgumentParser(prog='python -m npnn.utils.bottleneck',
                                description='Summarise where a script spends its time (cProfile + autograd profiler).')
    p.add_argument('scriptfile', help='path to the script to run')
    p.add_argument('args', nargs=argparse.REMAINDER, help='arguments passed to the script')
    p.add_argument('--top', type=int, default=15, help='rows per report (default 15)')
    a = p.parse_args(argv)
    path = a.scriptfile
    if not os.path.isfile(path):
        p.error(f'script not found: {path}')
    print(_banner('Environment Summary'))
    print(run_env_summary())
    print('Running your script with cProfile')
    sys.stdout.flush()
    report = run_cprofile(path, a.args, a.top)
    print(_banner('cProfile output'))
    print(report)
    print('Running your script with the autograd profiler...')
    sys.stdout.flush()
    import npnn
    use_cuda = False
    try:
        use_cuda = bool(npnn.cuda.is_available()) and str(npnn.get_default_device()).startswith('cuda')
    except Exception:
        pass
    table = run_autograd_prof(path, a.args, use_cuda, a.top)
    print(_banner('autograd profiler output'))
    print(table)
    return 0
