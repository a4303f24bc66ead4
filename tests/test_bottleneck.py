"""``python -m npnn.utils.bottleneck``: runs a script under cProfile and the autograd profiler."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent('''
    import sys
    import npnn as torch
    m = torch.nn.Linear(4, 3)
    for _ in range(2):
        m(torch.randn(2, 4)).pow(2).mean().backward()
    print('ARGS', sys.argv[1:])
''')


def _run(tmp_path, *args):
    script = tmp_path / 'tiny.py'
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    return subprocess.run([sys.executable, '-m', 'npnn.utils.bottleneck', str(script), *args],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)


def test_bottleneck_prints_all_sections(tmp_path):
    r = _run(tmp_path, '--lr', '0.1')
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert 'Environment Summary' in out and 'NumPy' in out and 'npnn' in out and 'Device:' in out
    assert 'cProfile output' in out and 'by cumulative' in out and 'by tottime' in out
    assert 'ncalls' in out and 'run_backward' in out
    assert 'autograd profiler output' in out
    assert 'Self CPU %' in out and '# of Calls' in out
    assert 'AddmmBackward0' in out and 'linear' in out
    assert out.count("ARGS ['--lr', '0.1']") == 2  # run once per profiler, with its arguments
    assert out.index('cProfile output') < out.index('autograd profiler output')


def test_bottleneck_missing_script(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    r = subprocess.run([sys.executable, '-m', 'npnn.utils.bottleneck', str(tmp_path / 'nope.py')],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0 and 'not found' in r.stderr
