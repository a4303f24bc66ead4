"""Reading PyTorch zip checkpoints (``torch.save`` output, and what ``npnn.save`` writes) into npnn objects.

The pickle's PyTorch globals (tensor rebuild functions, storage classes, dtypes, ``device``, ``Size``) map to
npnn equivalents, so PyTorch itself is not needed. Tensors that view one storage keep sharing memory when
they do not overlap; every view is bounds checked against its storage first.
"""
import io
import pickle

import numpy as np

from ..tensor import Tensor, Size, _AUTOGRAD_STATE
from ..backend import dtypes as _dt
from ..backend.device import device as _device
from ._legacy import Unpickler
from ._location import restore_device


class _StorageType:
    """Stands for ``torch.FloatStorage`` & co.: only the element type matters."""

    def __init__(self, np_dtype):
        self.np = np.dtype(np_dtype)


STORAGE_NAMES = {'FloatStorage': np.float32, 'DoubleStorage': np.float64, 'HalfStorage': np.float16,
                 'LongStorage': np.int64, 'IntStorage': np.int32, 'ShortStorage': np.int16,
                 'CharStorage': np.int8, 'ByteStorage': np.uint8, 'BoolStorage': np.bool_,
                 'ComplexFloatStorage': np.complex64, 'ComplexDoubleStorage': np.complex128}
if _dt.bfloat16 is not None:
    STORAGE_NAMES['BFloat16Storage'] = _dt.bfloat16.np


class _Storage:
    __slots__ = ('array', 'location')

    def __init__(self, array, location):
        self.array, self.location = array, location


# the map_location of the checkpoint being read (the rebuild functions are plain globals, called by pickle)
_map_location = [None]

# attributes a saved object state may not overwrite on a rebuilt tensor
_INTERNAL = frozenset({'_data', '_rg', '_node', '_vc'}) | _AUTOGRAD_STATE


def _set_state(t, state):
    if state is None:
        return t
    if not isinstance(state, dict):
        raise pickle.UnpicklingError("corrupted PyTorch tensor record (state is not a dict)")
    for k, v in state.items():
        if not isinstance(k, str) or k in _INTERNAL:
            raise pickle.UnpicklingError(f"a saved tensor state may not set {k!r}")
        setattr(t, k, v)
    return t


def _non_overlapping(size, stride):
    """True when no two elements of the view share memory (then it may alias the storage writably)."""
    dims = sorted((st, n) for n, st in zip(size, stride) if n > 1)
    reach = 1
    for st, n in dims:
        if st < reach:
            return False
        reach = st * n
    return True


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    """``torch._utils._rebuild_tensor_v2``: a tensor viewing ``storage`` (bounds checked)."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("corrupted PyTorch tensor record (no storage)")
    size, stride = tuple(size), tuple(stride)
    if not (isinstance(offset, int) and offset >= 0 and len(size) == len(stride) and
            all(isinstance(v, int) and v >= 0 for v in size + stride)):
        raise pickle.UnpicklingError("corrupted PyTorch tensor record (bad offset, size or stride)")
    base = storage.array
    n = base.shape[0]
    if 0 not in size and offset + sum((d - 1) * st for d, st in zip(size, stride)) >= n:
        raise RuntimeError("npnn.load: a PyTorch tensor reaches past the end of its storage: the file is corrupted")
    it = base.dtype.itemsize
    if 0 in size:
        arr = np.empty(size, dtype=base.dtype)
    elif _non_overlapping(size, stride):
        arr = np.ndarray(size, base.dtype, buffer=base, offset=offset * it, strides=tuple(st * it for st in stride))
    else:  # a broadcast (zero-stride) view: an own copy, as in-place writes to it would be ill-defined
        arr = np.lib.stride_tricks.as_strided(base[offset:], size, tuple(st * it for st in stride)).copy()
    arr = restore_device(arr, storage.location, _map_location[0])
    t = Tensor._make(arr)
    if requires_grad and arr.dtype.kind in 'fc':
        t._rg = True
    return t


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, backward_hooks, dtype=None, metadata=None):
    return _rebuild_tensor(storage, offset, size, stride, requires_grad, backward_hooks, metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks=None, state=None):
    from ..nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("corrupted PyTorch parameter record")
    p = Parameter(data, requires_grad=bool(requires_grad) and data._data.dtype.kind in 'fc')
    return _set_state(p, state)


def _rebuild_from_type(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: rebuild with ``func`` (itself an allowed global), then give the
    tensor the saved class (``Tensor``, ``Parameter`` or, when the class was allowed, a Tensor subclass) and
    its saved attributes."""
    from ..nn.parameter import Parameter
    t = func(*args)
    if not isinstance(t, Tensor) or not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise pickle.UnpicklingError("corrupted PyTorch tensor record (not a tensor class)")
    if type(t) is not new_type:
        if new_type is Parameter:
            t = Parameter(t, requires_grad=t._rg)
        else:
            t2 = new_type.__new__(new_type)
            t2._init_leaf(t._data, t._rg)
            t = t2
    return _set_state(t, state)


def _torch_globals():
    from ..nn.parameter import Parameter
    g = {('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
         ('torch._utils', '_rebuild_tensor_v3'): _rebuild_tensor_v3,
         ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
         ('torch._utils', '_rebuild_parameter_with_state'): _rebuild_parameter,
         ('torch._tensor', '_rebuild_from_type_v2'): _rebuild_from_type,
         ('torch', 'Tensor'): Tensor,
         ('torch.nn.parameter', 'Parameter'): Parameter,
         ('torch', 'device'): _device,
         ('torch', 'Size'): Size}
    for name, npd in STORAGE_NAMES.items():
        g[('torch', name)] = _StorageType(npd)
    for name, d in _dt._names.items():
        g[('torch', name)] = d
    return g


class TorchUnpickler(Unpickler):
    """Reads the pickle of a PyTorch zip checkpoint; tensors become npnn tensors. With ``weights_only`` only
    the globals a PyTorch weights file uses are accepted (each mapped to an npnn equivalent)."""

    def __init__(self, file, archive, prefix, weights_only, map_location, big_endian):
        super().__init__(file, archive, weights_only, map_location)
        self._prefix = prefix
        self._big = big_endian
        self._torch_globals = _torch_globals()
        self._storages = {}

    def find_class(self, module, name):
        g = self._torch_globals.get((module, name))
        if g is not None:
            return g
        if module == 'torch' and name in ('BFloat16Storage', 'bfloat16'):
            raise RuntimeError("npnn.load: the checkpoint holds bfloat16 tensors, which need the ml_dtypes package")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == 'storage' and
                isinstance(pid[1], _StorageType) and isinstance(pid[2], str) and isinstance(pid[3], str)):
            raise pickle.UnpicklingError(f"unsupported persistent id in the PyTorch checkpoint: {pid!r}")
        _, stype, key, location, _ = pid
        st = self._storages.get(key)
        if st is None:
            try:
                raw = self._archive.read(f'{self._prefix}data/{key}')
            except KeyError:
                raise RuntimeError(f"npnn.load: the checkpoint lacks storage {key}: the file is truncated or "
                                   "corrupted") from None
            if len(raw) % stype.np.itemsize:
                raise RuntimeError(f"npnn.load: storage {key} has {len(raw)} bytes, not a whole number of "
                                   f"{stype.np} elements: the file is corrupted")
            npd = stype.np.newbyteorder('>' if self._big else '<') if stype.np.itemsize > 1 else stype.np
            arr = np.frombuffer(raw, dtype=npd).astype(stype.np, copy=True)  # writable, native order
            st = self._storages[key] = _Storage(arr, location)
        return st


def load_torch(z, prefix, weights_only, map_location):
    """Unpickle a PyTorch zip checkpoint open as the ZipFile ``z``; its records live under ``prefix``."""
    names = set(z.namelist())
    big = prefix + 'byteorder' in names and z.read(prefix + 'byteorder').strip() == b'big'
    up = TorchUnpickler(io.BytesIO(z.read(prefix + 'data.pkl')), z, prefix, weights_only, map_location, big)
    _map_location[0] = map_location
    try:
        return up.load()
    finally:
        _map_location[0] = None


