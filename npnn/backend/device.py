"""Devices and the array module (NumPy or CuPy) that serves each one."""
import os

import numpy as np

_cupy = None  # the cupy module once imported


class device:
    """A place where a tensor's array lives: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 1)``."""

    __slots__ = ('type', 'index')

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = 'cuda', type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        name = type
        if ':' in name:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {name}")
            name, _, idx = name.partition(':')
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in ('cpu', 'cuda'):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if name == 'cpu' and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type = name
        self.index = None if name == 'cpu' else index

    def __enter__(self):
        """``with device('cuda'):`` makes this the default device of creation functions inside the block."""
        _default_stack.append(_default[0])
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        _default[0] = _default_stack.pop()
        return False

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device('cpu')


def cupy_module():
    """Import CuPy on first use; raise a clear error when it or a GPU is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError(
                "CUDA device requested but CuPy is not installed; install npnn[gpu] (cupy-cuda12x) "
                "or another CuPy build") from e
        try:
            n = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # no driver / no GPU
            raise RuntimeError(f"CUDA device requested but no CUDA GPU is usable: {e}") from e
        if n == 0:
            raise RuntimeError("CUDA device requested but no CUDA GPU is present")
        _cupy = cupy
    return _cupy


def cupy_if_loaded():
    """The cupy module if it was already imported by npnn, else None (never imports it)."""
    return _cupy


def to_device(dev):
    """Normalise a str/int/device to a ``device`` with a concrete index for cuda."""
    if dev is None:
        return get_default_device()
    d = dev if type(dev) is device else device(dev)
    if d.type == 'cuda':
        cp = cupy_module()
        if d.index is None:
            d = device('cuda', cp.cuda.runtime.getDevice())
        elif d.index >= cp.cuda.runtime.getDeviceCount():
            raise RuntimeError(f"CUDA error: invalid device ordinal {d.index}")
    return d


def xp_for(dev):
    """The array module serving a device."""
    return np if dev.type == 'cpu' else cupy_module()


def array_module(a):
    """The array module of an array: numpy for numpy arrays and scalars, cupy for cupy arrays."""
    if isinstance(a, (np.ndarray, np.generic)):
        return np
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return _cupy
    return np


def device_of(a):
    """The device an array lives on."""
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return device('cuda', a.device.id)
    return CPU


def array_to(a, dev):
    """Copy/move an array to a device (no copy when already there)."""
    cp = _cupy
    if dev.type == 'cpu':
        if cp is not None and isinstance(a, cp.ndarray):
            return cp.asnumpy(a)
        return a
    cp = cupy_module()
    if isinstance(a, cp.ndarray) and a.device.id == dev.index:
        return a
    with cp.cuda.Device(dev.index):
        return cp.asarray(a)


def on_device(a):
    """A context manager that makes the array's GPU current (a no-op for NumPy arrays)."""
    if _cupy is not None and isinstance(a, _cupy.ndarray):
        return _cupy.cuda.Device(a.device.id)
    return _NULL


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL = _Null()


def _from_env():
    spec = os.environ.get('NPNN_DEVICE', 'cpu').strip() or 'cpu'
    d = device(spec)
    return d  # resolved lazily: CuPy is imported only when a cuda tensor is first made


_default = [_from_env()]
_default_stack = []  # defaults to restore when ``with device(...)`` blocks exit


def get_default_device():
    """The device creation functions use when no ``device=`` is given."""
    d = _default[0]
    if d.type == 'cuda' and d.index is None:
        d = _default[0] = to_device(d)
    return d


def set_default_device(dev):
    """Set the default device for creation functions (``None`` resets to cpu)."""
    _default[0] = CPU if dev is None else to_device(dev)
