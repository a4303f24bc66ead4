"""``npnn.testing.assert_close``: PyTorch's closeness assertion for tensors, NumPy arrays, numbers and
nested sequences or mappings of them, with PyTorch's per-dtype default tolerances."""
import collections.abc

import numpy as np

from .tensor import Tensor

__all__ = ['assert_close']

# (rtol, atol) by dtype name, as PyTorch chooses them
_DEFAULT_TOLERANCES = {'float16': (1e-3, 1e-5), 'bfloat16': (1.6e-2, 1e-5), 'float32': (1.3e-6, 1e-5),
                       'float64': (1e-7, 1e-7), 'complex64': (1.3e-6, 1e-5), 'complex128': (1e-7, 1e-7)}


def _fail(msg, default):
    raise AssertionError(default if msg is None else (msg(default) if callable(msg) else msg))


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    from . import creation
    return creation.tensor(x)


def _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    a, e = _as_tensor(actual), _as_tensor(expected)
    where = f' at {path}' if path else ''
    if a.shape != e.shape:
        _fail(msg, f"The values for attribute 'shape' do not match{where}: {a.shape} != {e.shape}.")
    if check_device and a.device != e.device:
        _fail(msg, f"The values for attribute 'device' do not match{where}: {a.device} != {e.device}.")
    if check_dtype and a.dtype != e.dtype:
        _fail(msg, f"The values for attribute 'dtype' do not match{where}: {a.dtype} != {e.dtype}.")
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is None:
        pair = [_DEFAULT_TOLERANCES.get(t.dtype.name, (0.0, 0.0)) for t in (a, e)]
        rtol, atol = max(p[0] for p in pair), max(p[1] for p in pair)
    x = np.asarray(a.detach().cpu().numpy())
    y = np.asarray(e.detach().cpu().numpy())
    if x.dtype == np.bool_ or y.dtype == np.bool_:
        x, y = x.astype(np.int64), y.astype(np.int64)
    dt = np.result_type(x.dtype, y.dtype, np.float64) if x.dtype.kind in 'fc' or y.dtype.kind in 'fc' \
        else np.result_type(x.dtype, y.dtype)
    x, y = x.astype(dt), y.astype(dt)
    close = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    n_bad, total = int((~close).sum()), close.size
    diff = np.abs(x - y).astype(np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        rel = diff / np.abs(y)
    diff_c = np.where(close, -1, np.nan_to_num(diff, nan=np.inf))
    rel_c = np.where(close, -1, np.nan_to_num(rel, nan=np.inf))
    ia = np.unravel_index(int(np.argmax(diff_c)), x.shape) if x.ndim else ()
    ir = np.unravel_index(int(np.argmax(rel_c)), x.shape) if x.ndim else ()
    kind = 'Scalars' if x.ndim == 0 else 'Tensor-likes'
    lines = [f"{kind} are not close{where}!", '']
    if x.ndim == 0:
        lines += [f"Expected {y.item()} but got {x.item()}.",
                  f"Absolute difference: {diff.item()} (up to {atol} allowed)",
                  f"Relative difference: {rel.item()} (up to {rtol} allowed)"]
    else:
        idx = lambda i: tuple(int(v) for v in i)  # noqa: E731
        lines += [f"Mismatched elements: {n_bad} / {total} ({100.0 * n_bad / total:.1f}%)",
                  f"Greatest absolute difference: {diff[ia]} at index {idx(ia)} (up to {atol} allowed)",
                  f"Greatest relative difference: {rel[ir]} at index {idx(ir)} (up to {rtol} allowed)"]
    _fail(msg, '\n'.join(lines))


def _walk(actual, expected, path, kw):
    leaf = (Tensor, np.ndarray, int, float, complex, bool, np.generic)
    if isinstance(actual, leaf) or isinstance(expected, leaf):
        if not (isinstance(actual, leaf) and isinstance(expected, leaf)):
            raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                            f"{type(expected)}.")
        return _compare(actual, expected, path=path, **kw)
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            _fail(kw['msg'], f"The keys of the mappings do not match{' at ' + path if path else ''}: "
                             f"{sorted(map(str, actual))} != {sorted(map(str, expected))}")
        for k in expected:
            _walk(actual[k], expected[k], f'{path}[{k!r}]' if path else f'item [{k!r}]', kw)
        return
    if isinstance(actual, collections.abc.Sequence) and isinstance(expected, collections.abc.Sequence) \
            and not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            _fail(kw['msg'], f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (x, y) in enumerate(zip(actual, expected)):
            _walk(x, y, f'{path}[{i}]' if path else f'item [{i}]', kw)
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raises AssertionError unless ``|actual - expected| <= atol + rtol * |expected|`` elementwise (and
    shapes, devices and dtypes agree); tolerances default by dtype as in PyTorch."""
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)) and check_dtype \
            and type(actual) is not type(expected) and not isinstance(actual, bool):
        _fail(msg, f"The values for attribute 'dtype' do not match: {type(actual)} != {type(expected)}.")
    kw = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
              msg=msg)
    _walk(actual, expected, '', kw)


assert_allclose = assert_close
