"""Top-level runtime switches PyTorch scripts set at start-up (threads, determinism, matmul precision,
``compile``), type-limit queries (``finfo``, ``iinfo``) and the legacy typed constructors
(``FloatTensor``, ``LongTensor``, ...)."""
import os

import numpy as np

from .backend import dtypes
from .tensor import Tensor, Size, _TYPE_NAMES_REV

__all__ = ['set_num_threads', 'get_num_threads', 'set_num_interop_threads', 'get_num_interop_threads',
           'use_deterministic_algorithms', 'are_deterministic_algorithms_enabled',
           'set_float32_matmul_precision', 'get_float32_matmul_precision', 'compile', 'finfo', 'iinfo',
           'FloatTensor', 'DoubleTensor', 'HalfTensor', 'LongTensor', 'IntTensor', 'ShortTensor', 'CharTensor',
           'ByteTensor', 'BoolTensor', 'memory_format', 'contiguous_format', 'channels_last', 'channels_last_3d',
           'preserve_format']

_state = {'threads': None, 'interop': None, 'deterministic': False, 'warn_only': False,
          'matmul_precision': 'highest'}


def set_num_threads(num):
    """Sets the number of threads the BLAS and OpenMP pools use (through threadpoolctl when installed)."""
    if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _state['threads'] = num
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(limits=num)


def get_num_threads():
    if _state['threads'] is not None:
        return _state['threads']
    try:
        import threadpoolctl
        counts = [p['num_threads'] for p in threadpoolctl.threadpool_info() if p.get('user_api') == 'blas']
        if counts:
            return max(counts)
    except ImportError:
        pass
    return os.cpu_count() or 1


def set_num_interop_threads(num):
    """Accepted for compatibility: npnn has no inter-op thread pool."""
    if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state['interop'] = num


def get_num_interop_threads():
    return _state['interop'] or 1


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded only: every npnn kernel is already deterministic for a given input and seed."""
    _state['deterministic'] = bool(mode)
    _state['warn_only'] = bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _state['deterministic']


def is_deterministic_algorithms_warn_only_enabled():
    return _state['warn_only']


def set_float32_matmul_precision(precision):
    """Recorded only: float32 matrix products always run in full float32 precision."""
    if precision not in ('highest', 'high', 'medium'):
        raise RuntimeError(f"Invalid precision: {precision}; expected 'highest', 'high' or 'medium'")
    _state['matmul_precision'] = precision


def get_float32_matmul_precision():
    return _state['matmul_precision']


def compile(model=None, *, fullgraph=False, dynamic=None, backend='inductor', mode=None, options=None,
            disable=False):
    """Returns ``model`` unchanged: npnn has no graph compiler, so compiled code runs eagerly. Used as a
    decorator with arguments (``@compile(mode=...)``), it returns the identity decorator."""
    if model is None:
        return lambda fn: fn
    return model


class _TypeInfo:
    def __repr__(self):
        fields = ', '.join(f'{k}={getattr(self, k)}' for k in self._fields)
        return f'{type(self).__name__}({fields}, dtype={self.dtype})'


class finfo(_TypeInfo):
    """Limits of a floating-point dtype (``npnn.finfo(npnn.float32).eps``); no argument: the default dtype."""
    _fields = ('resolution', 'min', 'max', 'eps', 'smallest_normal', 'tiny')

    def __init__(self, type=None):
        dt = dtypes.get_default_dtype() if type is None else dtypes.to_dtype(type)
        if not (dt.is_floating_point or dt.is_complex):
            raise TypeError(f"finfo expects a floating-point dtype, got {dt}")
        info = np.finfo(dt.np)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -info.precision
        self.dtype = dt.to_real().name


class iinfo(_TypeInfo):
    """Limits of an integer dtype (``npnn.iinfo(npnn.int64).max``)."""
    _fields = ('min', 'max')

    def __init__(self, type):
        dt = dtypes.to_dtype(type)
        if dt.np.kind not in 'iu':
            raise TypeError(f"iinfo expects an integer dtype, got {dt}")
        info = np.iinfo(dt.np)
        self.bits = info.bits
        self.min = int(info.min)
        self.max = int(info.max)
        self.dtype = dt.name


class _LegacyTensorType(type):
    """``npnn.FloatTensor`` and friends: calling one builds a CPU tensor of that dtype (from data, or
    uninitialised from sizes); ``isinstance(t, npnn.FloatTensor)`` checks a tensor's dtype."""

    def __call__(cls, *args, device=None):
        from . import creation
        dt = cls.dtype
        if not args:
            return creation.empty(0, dtype=dt, device=device)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return creation.empty(*args, dtype=dt, device=device)
        if len(args) == 1 and isinstance(args[0], Size):
            return creation.empty(args[0], dtype=dt, device=device)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                return data.to(dt)
            return creation.tensor(data, dtype=dt, device=device)
        raise TypeError(f"{cls.__name__}(): expected sizes or one sequence of data")

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'npnn.{cls.__name__}'>"


def _legacy(name):
    return _LegacyTensorType(name, (), {'dtype': _TYPE_NAMES_REV[name], '__module__': 'npnn'})


FloatTensor = _legacy('FloatTensor')
DoubleTensor = _legacy('DoubleTensor')
HalfTensor = _legacy('HalfTensor')
LongTensor = _legacy('LongTensor')
IntTensor = _legacy('IntTensor')
ShortTensor = _legacy('ShortTensor')
CharTensor = _legacy('CharTensor')
ByteTensor = _legacy('ByteTensor')
BoolTensor = _legacy('BoolTensor')


class memory_format:
    """A memory-layout tag (``npnn.channels_last`` ...). Accepted wherever PyTorch takes ``memory_format=``;
    npnn keeps its arrays in their logical (contiguous) layout whatever the tag."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f'npnn.{self.name}'

    def __reduce__(self):
        return self.name  # pickled by reference to the module-level constant


contiguous_format = memory_format('contiguous_format')
channels_last = memory_format('channels_last')
channels_last_3d = memory_format('channels_last_3d')
preserve_format = memory_format('preserve_format')
