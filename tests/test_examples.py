"""Smoke tests for examples/: a few batches of each script on tiny settings, so they never rot."""
import gzip
import importlib.util
import math
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'examples')

pytest.importorskip('sklearn')


def _load(name):
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    spec = importlib.util.spec_from_file_location(f'_example_{name}', os.path.join(EXAMPLES, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_png(path):
    """(width, height, raw scanlines) of the 8-bit RGB or RGBA PNG an example wrote (built-in writer or
    matplotlib, whichever is installed)."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack('>I', data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xffffffff
        chunks[tag] = chunks.get(tag, b'') + body
        pos += 12 + length
    w, h, depth, color = struct.unpack('>IIBB', chunks[b'IHDR'][:10])
    assert depth == 8 and color in (2, 6)
    raw = zlib.decompress(chunks[b'IDAT'])
    assert len(raw) == h * (1 + (3 if color == 2 else 4) * w)
    return w, h, raw


def _check_history(history, epochs, metric='accuracy'):
    assert history['epoch'] == list(range(1, epochs + 1))
    assert all(math.isfinite(v) and v > 0 for v in history['train_loss'])
    assert len(history[metric]) == epochs


def test_mlp_digits_checkpoint_resume_and_plot(tmp_path, capsys, device):
    mlp = _load('mlp')
    ckpt, png = str(tmp_path / 'mlp.pt'), str(tmp_path / 'mlp.png')
    history = mlp.main(['--device', device, '--epochs', '2', '--limit-batches', '3', '--quiet',
                        '--checkpoint', ckpt, '--plot', png])
    _check_history(history, 2)
    assert all(0.0 <= a <= 1.0 for a in history['accuracy'])
    out = capsys.readouterr().out
    assert 'held-out accuracy' in out and 'train loss' in out
    w, h, _ = _read_png(png)
    assert w > 0 and h > 0

    resumed = mlp.main(['--device', device, '--epochs', '3', '--limit-batches', '3', '--quiet', '--resume', ckpt])
    _check_history(resumed, 3)
    assert resumed['train_loss'][:2] == history['train_loss']


def test_script_runs_from_the_command_line():
    root = os.path.dirname(EXAMPLES)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get('PYTHONPATH')] if p]),
               NPNN_DEVICE='cpu')
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, 'mlp.py'), '--epochs', '1', '--limit-batches', '2'],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'held-out accuracy' in proc.stdout
    assert 'epoch  1/1' in proc.stderr  # the progress line


def test_mlp_is_reproducible_with_seed():
    mlp = _load('mlp')
    args = ['--epochs', '1', '--limit-batches', '4', '--quiet', '--seed', '3']
    assert mlp.main(args)['train_loss'] == mlp.main(args)['train_loss']


def test_cnn_digits(capsys):
    cnn = _load('cnn')
    history = cnn.main(['--epochs', '1', '--limit-batches', '2', '--quiet'])
    _check_history(history, 1)
    assert 'held-out accuracy' in capsys.readouterr().out


def _write_idx(path, array):
    codes = {np.dtype('u1'): 0x08}
    header = struct.pack('>BBBB', 0, 0, codes[array.dtype], array.ndim)
    header += struct.pack('>' + 'I' * array.ndim, *array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.tobytes())


@pytest.mark.parametrize('script', ['mlp', 'cnn'])
def test_idx_folder(tmp_path, script):
    rng = np.random.default_rng(0)
    for prefix, n in (('train', 24), ('t10k', 12)):
        _write_idx(tmp_path / f'{prefix}-images-idx3-ubyte.gz', rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        _write_idx(tmp_path / f'{prefix}-labels-idx1-ubyte.gz', rng.integers(0, 10, (n,), dtype=np.uint8))
    module = _load(script)
    history = module.main(['--data', str(tmp_path), '--epochs', '1', '--batch-size', '8', '--quiet'])
    _check_history(history, 1)
    if script == 'cnn':
        assert module.LeNet is not None


def test_lstm_both_tasks(tmp_path, capsys):
    lstm = _load('lstm')
    text = tmp_path / 'tiny.txt'
    text.write_text('the quick brown fox jumps over the lazy dog. ' * 20)
    results = lstm.main(['--text', str(text), '--epochs', '1', '--limit-batches', '2', '--seq-len', '16',
                         '--hidden', '16', '--sample-len', '20', '--quiet', '--plot', str(tmp_path / 'l.png')])
    _check_history(results['charlm'], 1, 'perplexity')
    _check_history(results['digits'], 1)
    out = capsys.readouterr().out
    assert 'held-out perplexity' in out and 'sample' in out and 'held-out accuracy' in out
    assert os.path.isfile(tmp_path / 'l-charlm.png') and os.path.isfile(tmp_path / 'l-digits.png')


def test_lstm_default_text_is_offline():
    lstm = _load('lstm')
    text, source = lstm.default_text()
    assert len(text) > 500 and source


def test_plain_png_writer_draws_the_curves(tmp_path):
    common = _load('_common')
    path = str(tmp_path / 'plain.png')
    common._plain_png(path, [1, 2, 3], [[2.0, 1.0, 0.5], [0.5, 0.9, 0.95]])
    w, h, raw = _read_png(path)
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(h, 1 + 3 * w)[:, 1:].reshape(h, w, 3)
    blue = (pixels == np.array([31, 119, 180], dtype=np.uint8)).all(-1)
    green = (pixels == np.array([44, 160, 44], dtype=np.uint8)).all(-1)
    assert blue[:, :w // 2].any() and not blue[:, w // 2:].any()
    assert green[:, w // 2:].any() and not green[:, :w // 2].any()


def test_progress_and_table(capsys):
    common = _load('_common')
    p = common.Progress(2, 'demo', stream=sys.stdout)
    p.update(4, 1.0)
    p.update(4, 3.0)
    p.close()
    assert p.loss == 2.0
    common.print_table([{'a': 1, 'b': 0.5}], ['a', 'b'])
    out = capsys.readouterr().out
    assert 'demo' in out and '2/2' in out and '0.5000' in out
