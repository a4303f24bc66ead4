"""Writing PyTorch's zip checkpoint format, so that ``torch.load`` opens what ``npnn.save`` writes.

Archive layout (entries stored, not compressed), all under ``archive/``:

- ``data.pkl``: the pickle. A tensor is written as a call to ``torch._utils._rebuild_tensor_v2(storage,
  storage_offset, size, stride, requires_grad, backward_hooks)``, a Parameter as
  ``torch._utils._rebuild_parameter(tensor, requires_grad, backward_hooks)``; a storage is the persistent id
  ``('storage', torch.<Type>Storage, key, location, numel)`` with location ``'cpu'`` or ``'cuda:N'``.
  npnn dtypes, devices and ``Size`` are written as ``torch.float32``, ``torch.device(...)``,
  ``torch.Size(...)``. Other objects (whole modules, NumPy arrays) are pickled as npnn objects: npnn reads
  them back, PyTorch can only with npnn installed and ``weights_only=False``.
- ``data/<key>``: the raw little-endian bytes of one storage, aligned to 64 bytes in the file;
- ``version`` (``3``), ``byteorder`` (``little``), ``.format_version``, ``.storage_alignment``.

Tensors whose arrays view one NumPy/CuPy buffer share one storage (offset and strides into it), as views of
one tensor do in PyTorch; any other tensor gets a storage of its own.
"""
import collections
import io
import pickle
import struct
import sys
import zipfile

import numpy as np

from ..tensor import Tensor, Size, _AUTOGRAD_STATE
from ..backend import dtypes as _dt
from ..backend.device import array_to, device as _device, CPU
from ._allow import _rebuild_ndarray
from ._torch_read import STORAGE_NAMES

ARCHIVE = 'archive'
_ALIGN = 64
_STAMP = (1980, 1, 1, 0, 0, 0)  # a fixed date keeps the output byte-for-byte reproducible


class _Global:
    """A PyTorch name the pickle refers to (``torch.FloatStorage``): written as a GLOBAL opcode, without
    importing PyTorch."""
    __slots__ = ('module', 'name')

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle wants reduce functions callable; this one is only ever written
        raise TypeError(f"{self.module}.{self.name} is a PyTorch name written into checkpoints, not callable")


class _Call:
    """An object that pickles as ``func(*args)``."""
    __slots__ = ('func', 'args')

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


_REBUILD_TENSOR = _Global('torch._utils', '_rebuild_tensor_v2')
_REBUILD_PARAMETER = _Global('torch._utils', '_rebuild_parameter')
_REBUILD_PARAMETER_STATE = _Global('torch._utils', '_rebuild_parameter_with_state')
_REBUILD_FROM_TYPE = _Global('torch._tensor', '_rebuild_from_type_v2')
_TORCH_TENSOR = _Global('torch', 'Tensor')
_TORCH_DEVICE = _Global('torch', 'device')
_TORCH_SIZE = _Global('torch', 'Size')
_STORAGE_TYPES = {np.dtype(npd): _Global('torch', name) for name, npd in STORAGE_NAMES.items()}
_DTYPES = {d: _Global('torch', d.name) for d in set(_dt._names.values())}


class _Storage:
    __slots__ = ('key', 'stype', 'location', 'flat')

    def __init__(self, key, flat, location):
        self.key, self.flat, self.location = key, flat, location
        self.stype = _STORAGE_TYPES[flat.dtype.newbyteorder('=')]


def _ptr(a):
    return a.__array_interface__['data'][0] if isinstance(a, np.ndarray) else a.data.ptr


def _owner_view(arr):
    """``(owner, offset, strides)`` in elements when ``arr`` views a contiguous array of its dtype that owns
    its buffer, else None."""
    root = arr
    while isinstance(root.base, type(arr)):
        root = root.base
    if root.dtype != arr.dtype or arr.size == 0 or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    it = arr.dtype.itemsize
    off = _ptr(arr) - _ptr(root)
    if off < 0 or off % it or any(s < 0 or s % it for s in arr.strides):
        return None
    off //= it
    strides = tuple(s // it for s in arr.strides)
    if off + sum((n - 1) * s for n, s in zip(arr.shape, strides)) >= root.size:
        return None
    return root, off, strides


class _Storages:
    """The storages of one archive: one per buffer that saved tensors view."""

    def __init__(self):
        self.by_owner = {}  # id(owner array) -> (owner, _Storage); the owner is kept alive
        self.ordered = []

    def _new(self, flat, location):
        st = _Storage(str(len(self.ordered)), flat, location)
        self.ordered.append(st)
        return st

    def place(self, t):
        """``(storage, offset, size, stride)`` of tensor ``t``."""
        arr = t._data
        if arr.dtype not in _STORAGE_TYPES:
            raise RuntimeError(f"npnn.save: tensors of dtype {t.dtype} have no PyTorch storage type")
        location = str(t.device)
        hit = _owner_view(arr)
        if hit is not None:
            owner, off, strides = hit
            entry = self.by_owner.get(id(owner))
            if entry is None:
                flat = owner.reshape(-1, order='C' if owner.flags.c_contiguous else 'F')  # memory order
                st = self._new(flat, location)
                self.by_owner[id(owner)] = (owner, st)
            else:
                st = entry[1]
            return st, off, tuple(arr.shape), strides
        own = arr.copy(order='C')  # (np.ascontiguousarray would make a 0-d array 1-d)
        strides = tuple(s // own.dtype.itemsize for s in own.strides)
        return self._new(own.reshape(-1), location), 0, tuple(arr.shape), strides


def _user_state(t):
    d = getattr(t, '__dict__', None)
    return {k: v for k, v in d.items() if k not in _AUTOGRAD_STATE} if d else {}


class _Pickler(pickle._Pickler):
    """The pure-Python pickler (its dispatch table can be extended) writing PyTorch's tensor records."""
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol)
        self._storages = storages

    def _save_torch_name(self, obj):
        self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('utf-8'))
        self.memoize(obj)
    dispatch[_Global] = _save_torch_name

    def persistent_id(self, obj):
        if type(obj) is _Storage:
            return ('storage', obj.stype, obj.key, obj.location, int(obj.flat.size))
        return None

    def save(self, obj, save_persistent_id=True):
        cls = type(obj)
        if cls is _dt.dtype:
            obj = _DTYPES[obj]
        elif cls is _device:
            obj = _Call(_TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        elif cls is Size:
            obj = _Call(_TORCH_SIZE, (tuple(obj),))
        elif cls is np.ndarray and obj.dtype.kind in 'biufc':
            le = obj.dtype if obj.dtype.itemsize == 1 else obj.dtype.newbyteorder('<')
            obj = _Call(_rebuild_ndarray, (le.str, tuple(obj.shape), obj.astype(le).tobytes()))
        super().save(obj, save_persistent_id)

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        return NotImplemented

    def _reduce_tensor(self, t):
        from ..nn.parameter import Parameter
        storage, offset, size, stride = self._storages.place(t)
        rg = bool(t.requires_grad)
        state = _user_state(t)
        cls = type(t)
        if cls is Parameter:
            data = _Call(_REBUILD_TENSOR, (storage, offset, size, stride, False, collections.OrderedDict()))
            if state:
                return _REBUILD_PARAMETER_STATE, (data, rg, collections.OrderedDict(), state)
            return _REBUILD_PARAMETER, (data, rg, collections.OrderedDict())
        args = (storage, offset, size, stride, rg, collections.OrderedDict())
        if cls is Tensor and not state:
            return _REBUILD_TENSOR, args
        return _REBUILD_FROM_TYPE, (_REBUILD_TENSOR, _TORCH_TENSOR if cls is Tensor else cls, args, state)


def _entry(z, name, data, align=False):
    info = zipfile.ZipInfo(name, date_time=_STAMP)
    info.compress_type = zipfile.ZIP_STORED
    if align:
        # pad the local header's extra field so the data starts on a 64-byte boundary (PyTorch's mmap=True
        # loading maps storages in place); zipfile appends a 20-byte zip64 field for very large entries
        zip64 = len(data) * 1.05 > zipfile.ZIP64_LIMIT
        start = z.start_dir + 30 + len(name.encode('utf-8')) + (20 if zip64 else 0)
        pad = -start % _ALIGN
        if pad:
            pad += _ALIGN if pad < 4 else 0
            info.extra = struct.pack('<HH', 0x4246, pad - 4) + b'Z' * (pad - 4)
    z.writestr(info, data)


def _le_bytes(flat):
    a = array_to(flat, CPU)
    if a.dtype.itemsize > 1 and a.dtype.byteorder not in ('<', '|') and \
            not (a.dtype.byteorder == '=' and np.little_endian):
        a = a.astype(a.dtype.newbyteorder('<'))
    return a.tobytes()


def save_torch(obj, fh, protocol):
    """Write ``obj`` as a PyTorch zip checkpoint into the writable binary file ``fh``."""
    storages = _Storages()
    buf = io.BytesIO()
    # the pure-Python pickler spends up to four frames per nesting level where the C one spends one: allow
    # as deep an object (nested modules, containers) as pickle.dump/torch.save would
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(4 * limit)
    try:
        _Pickler(buf, protocol, storages).dump(obj)
    finally:
        sys.setrecursionlimit(limit)
    with zipfile.ZipFile(fh, 'w', compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        _entry(z, f'{ARCHIVE}/data.pkl', buf.getvalue())
        _entry(z, f'{ARCHIVE}/.format_version', b'1')
        _entry(z, f'{ARCHIVE}/.storage_alignment', str(_ALIGN).encode())
        _entry(z, f'{ARCHIVE}/byteorder', b'little')
        for st in storages.ordered:
            _entry(z, f'{ARCHIVE}/data/{st.key}', _le_bytes(st.flat), align=True)
        _entry(z, f'{ARCHIVE}/version', b'3\n')
