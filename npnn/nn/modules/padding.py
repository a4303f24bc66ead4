"""Padding layers: zero, constant, reflection, replication and circular, 1-D to 3-D."""
from .. import functional as F
from .module import Module

__all__ = ['ZeroPad1d', 'ZeroPad2d', 'ZeroPad3d', 'ConstantPad1d', 'ConstantPad2d', 'ConstantPad3d',
           'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d', 'ReplicationPad1d', 'ReplicationPad2d',
           'ReplicationPad3d', 'CircularPad1d', 'CircularPad2d', 'CircularPad3d']


def _pads(padding, d):
    if isinstance(padding, (tuple, list)):
        padding = tuple(padding)
        if len(padding) != 2 * d:
            raise ValueError(f"Padding length must be {2 * d}, got {len(padding)}")
        return padding
    return (padding,) * (2 * d)


class _ConstantPadNd(Module):
    _dims = 1

    def __init__(self, padding, value):
        super().__init__()
        self.padding = _pads(padding, self._dims)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f'padding={self.padding}, value={self.value}'


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant."""
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant."""
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant."""
    _dims = 3


class _ZeroPadNd:
    """Mixed in before a ``ConstantPad*d``: the constant is zero and the repr shows only the padding."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Pad the last dim with zeros."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Pad the last 2 dims with zeros."""


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Pad the last 3 dims with zeros."""


class _ModePadNd(Module):
    _dims = 1
    _mode = 'reflect'

    def __init__(self, padding):
        super().__init__()
        self.padding = _pads(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f'{self.padding}'


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim by reflecting the input."""
    _dims, _mode = 1, 'reflect'


class ReflectionPad2d(_ModePadNd):
    """Pad the last 2 dims by reflecting the input."""
    _dims, _mode = 2, 'reflect'


class ReflectionPad3d(_ModePadNd):
    """Pad the last 3 dims by reflecting the input."""
    _dims, _mode = 3, 'reflect'


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating the edge."""
    _dims, _mode = 1, 'replicate'


class ReplicationPad2d(_ModePadNd):
    """Pad the last 2 dims by repeating the edges."""
    _dims, _mode = 2, 'replicate'


class ReplicationPad3d(_ModePadNd):
    """Pad the last 3 dims by repeating the edges."""
    _dims, _mode = 3, 'replicate'


class CircularPad1d(_ModePadNd):
    """Pad the last dim circularly."""
    _dims, _mode = 1, 'circular'


class CircularPad2d(_ModePadNd):
    """Pad the last 2 dims circularly."""
    _dims, _mode = 2, 'circular'


class CircularPad3d(_ModePadNd):
    """Pad the last 3 dims circularly."""
    _dims, _mode = 3, 'circular'
