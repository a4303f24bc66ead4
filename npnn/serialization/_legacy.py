"""npnn's first archive format (``npnn_archive/...``), still read by ``load``; ``save`` no longer writes it.

Layout: a zip archive (entries stored) with ``npnn_archive/version`` (``1``), ``npnn_archive/byteorder``,
``npnn_archive/data.pkl`` (a pickle in which every tensor and NumPy array is a persistent id
``('tensor', key, dtype, shape, device, requires_grad, kind)`` or ``('ndarray', key, dtype, shape)``) and
``npnn_archive/data/<key>`` (the little-endian C-order bytes of that array).
"""
import io
import pickle
import zipfile

import numpy as np

from ..tensor import Tensor
from ..backend import dtypes as _dt
from ..backend.device import array_to, CPU
from . import _allow
from ._location import restore_device

ROOT = 'npnn_archive'
VERSION = '1'


def _le(arr):
    """A C-contiguous little-endian copy-if-needed of a NumPy array."""
    if arr.dtype.byteorder == '>' or (arr.dtype.byteorder == '=' and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder('<'))
    return arr if arr.flags.c_contiguous else arr.copy(order='C')  # (ascontiguousarray makes 0-d 1-d)


def _kind(t):
    from ..nn.parameter import Parameter
    cls = type(t)
    if cls is Tensor:
        return 'Tensor'
    if cls is Parameter:
        return 'Parameter'
    return ('class', cls.__module__, cls.__qualname__)


class _Pickler(pickle.Pickler):
    def __init__(self, file, protocol, records):
        super().__init__(file, protocol)
        self._records = records
        self._ids = {}
        self._keep = []  # saved objects stay alive so their ids stay unique while pickling

    def persistent_id(self, obj):
        if isinstance(obj, Tensor) or (type(obj) is np.ndarray and obj.dtype.kind in 'biufc'):
            pid = self._ids.get(id(obj))
            if pid is None:
                key = str(len(self._records))
                if isinstance(obj, Tensor):
                    self._records[key] = _le(array_to(obj._data, CPU))
                    pid = ('tensor', key, _dt.from_numpy_dtype(obj._data.dtype).name, tuple(obj._data.shape),
                           str(obj.device), bool(obj._rg), _kind(obj))
                else:
                    self._records[key] = _le(obj)
                    pid = ('ndarray', key, obj.dtype.str.replace('>', '<'), tuple(obj.shape))
                self._ids[id(obj)] = pid
                self._keep.append(obj)
            return pid
        return None


def save_legacy(obj, f, protocol=2):
    """Write ``obj`` in the old npnn format (kept to test that ``load`` still reads such files)."""
    records = {}
    buf = io.BytesIO()
    _Pickler(buf, protocol, records).dump(obj)
    with zipfile.ZipFile(f, 'w', compression=zipfile.ZIP_STORED) as z:
        z.writestr(f'{ROOT}/version', VERSION + '\n')
        z.writestr(f'{ROOT}/byteorder', 'little')
        z.writestr(f'{ROOT}/data.pkl', buf.getvalue())
        for key, arr in records.items():
            z.writestr(f'{ROOT}/data/{key}', arr.tobytes())


class Unpickler(pickle.Unpickler):
    """Reads ``data.pkl`` of an old npnn archive; with ``weights_only`` only allow-listed globals."""

    def __init__(self, file, archive, weights_only, map_location):
        super().__init__(file)
        self._archive = archive
        self._weights_only = weights_only
        self._map_location = map_location
        self._loaded = {}

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        return _allow.safe_global(module, name)

    def _array(self, key, np_dtype, shape):
        if not isinstance(key, str) or not isinstance(shape, tuple) or \
                not all(isinstance(s, int) and s >= 0 for s in shape):
            raise pickle.UnpicklingError("corrupted tensor record in the archive")
        try:
            raw = self._archive.read(f'{ROOT}/data/{key}')
        except KeyError:
            raise RuntimeError(f"npnn.load: the archive lacks the data of tensor {key}: the file is truncated or "
                               "corrupted") from None
        n = int(np.prod(shape, dtype=np.int64))
        if len(raw) != n * np_dtype.itemsize:
            raise RuntimeError(f"npnn.load: tensor {key} holds {len(raw)} bytes where its shape {list(shape)} needs "
                               f"{n * np_dtype.itemsize}: the file is corrupted")
        le = np_dtype if np_dtype.itemsize == 1 else np_dtype.newbyteorder('<')
        return np.frombuffer(raw, dtype=le).astype(np_dtype, copy=True).reshape(shape)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 2:
            raise pickle.UnpicklingError(f"unsupported persistent id in the archive: {pid!r}")
        cached = self._loaded.get(pid[1])
        if cached is not None:
            return cached
        if pid[0] == 'ndarray' and len(pid) == 4:
            _, key, dstr, shape = pid
            try:
                np_dtype = np.dtype(dstr)
            except TypeError:
                raise pickle.UnpicklingError(f"unsupported array dtype {dstr!r} in the archive") from None
            if np_dtype.kind not in 'biufc':
                raise pickle.UnpicklingError(f"unsupported array dtype {dstr!r} in the archive")
            out = self._array(key, np_dtype, shape)
        elif pid[0] == 'tensor' and len(pid) == 7:
            _, key, dname, shape, dev, rg, kind = pid
            d = _dt._names.get(dname) if isinstance(dname, str) else None
            if d is None:
                raise pickle.UnpicklingError(f"unsupported tensor dtype {dname!r} in the archive")
            arr = restore_device(self._array(key, d.np, shape), str(dev), self._map_location)
            out = self._make_tensor(arr, bool(rg), kind)
        else:
            raise pickle.UnpicklingError(f"unsupported persistent id in the archive: {pid[0]!r}")
        self._loaded[pid[1]] = out
        return out

    def _make_tensor(self, arr, rg, kind):
        from ..nn.parameter import Parameter
        if kind == 'Tensor':
            t = Tensor._make(arr)
            if rg and arr.dtype.kind in 'fc':
                t._rg = True
            return t
        if kind == 'Parameter':
            return Parameter(Tensor._make(arr), requires_grad=rg and arr.dtype.kind in 'fc')
        if isinstance(kind, tuple) and len(kind) == 3 and kind[0] == 'class':
            cls = self.find_class(kind[1], kind[2])
            if not (isinstance(cls, type) and issubclass(cls, Tensor)):
                raise pickle.UnpicklingError(f"{kind[1]}.{kind[2]} is not a Tensor class")
            t = cls.__new__(cls)
            t._init_leaf(arr, rg)
            return t
        raise pickle.UnpicklingError(f"unsupported tensor kind {kind!r} in the archive")


def load_legacy(z, weights_only, map_location):
    """Unpickle an old npnn archive open as the ZipFile ``z``."""
    names = set(z.namelist())
    version = z.read(f'{ROOT}/version').decode('ascii', 'replace').strip() if f'{ROOT}/version' in names \
        else VERSION
    if version != VERSION:
        raise RuntimeError(f"npnn.load: unsupported archive version {version!r}")
    return Unpickler(io.BytesIO(z.read(f'{ROOT}/data.pkl')), z, weights_only, map_location).load()
