"""Saving and loading: ``npnn.save``/``npnn.load`` and the safetensors format.

File layout of ``npnn.save``: a zip archive (entries stored, not compressed) with

- ``<root>/version``: the format version;
- ``<root>/data.pkl``: a pickle of the object in which every tensor (and NumPy array) is replaced by a
  persistent id ``('tensor', key, dtype, shape, device, requires_grad, kind)``;
- ``<root>/data/<key>``: the raw little-endian bytes of that tensor's array (C order).

``load(..., weights_only=True)`` (the default) unpickles with an allow-list: containers, primitive types,
dtypes, devices, ``Size`` and the tensors of the archive. Any other global the pickle names (a class, a
function such as ``os.system``) is refused with ``pickle.UnpicklingError`` naming it, so a file can never
run code. Whole modules and arbitrary objects need ``weights_only=False`` (only for trusted files).

``load`` also reads PyTorch zip checkpoints (``torch.save`` output, PyTorch not needed): its tensor, storage,
dtype, device and Size globals map to npnn ones, under the same allow-list; every tensor view is bounds
checked against its storage. State dicts go the other way through the safetensors functions.
"""
import _compat_pickle
import collections
import collections.abc
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np

from .tensor import Tensor, Size
from .backend import dtypes as _dt
from .backend.device import array_to, device as _device, to_device, CPU

__all__ = ['save', 'load', 'save_safetensors', 'load_safetensors']

_ROOT = 'npnn_archive'
_FORMAT_VERSION = '1'
DEFAULT_PROTOCOL = 2


# --- save -----------------------------------------------------------------------------------------------------

def _tensor_kind(t):
    from .nn.parameter import Parameter
    cls = type(t)
    if cls is Tensor:
        return 'Tensor'
    if cls is Parameter:
        return 'Parameter'
    return ('class', cls.__module__, cls.__qualname__)


def _le(arr):
    """A C-contiguous little-endian copy-if-needed of a NumPy array."""
    if arr.dtype.byteorder == '>' or (arr.dtype.byteorder == '=' and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder('<'))
    return arr if arr.flags.c_contiguous else arr.copy(order='C')  # (ascontiguousarray makes 0-d 1-d)


def _le_dtype(npd):
    """The little-endian form of a dtype (the dtype itself on little-endian machines)."""
    return npd if np.little_endian or npd.itemsize == 1 else npd.newbyteorder('<')


class _Pickler(pickle.Pickler):
    def __init__(self, file, protocol, records):
        super().__init__(file, protocol)
        self._records = records   # key -> numpy array to write
        self._memo_ids = {}       # id(tensor or array) -> persistent id (keeps shared tensors shared)
        self._keep = []           # keep saved objects alive so ids stay unique while pickling

    def persistent_id(self, obj):
        if isinstance(obj, Tensor):
            pid = self._memo_ids.get(id(obj))
            if pid is None:
                key = str(len(self._records))
                arr = _le(array_to(obj._data, CPU))
                self._records[key] = arr
                pid = ('tensor', key, _dt.from_numpy_dtype(obj._data.dtype).name, tuple(obj._data.shape),
                       str(obj.device), bool(obj._rg), _tensor_kind(obj))
                self._memo_ids[id(obj)] = pid
                self._keep.append(obj)
            return pid
        if type(obj) is np.ndarray and obj.dtype.kind in 'biufc':
            pid = self._memo_ids.get(id(obj))
            if pid is None:
                key = str(len(self._records))
                self._records[key] = _le(obj)
                pid = ('ndarray', key, obj.dtype.str.replace('>', '<'), tuple(obj.shape))
                self._memo_ids[id(obj)] = pid
                self._keep.append(obj)
            return pid
        return None


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True):
    """Save ``obj`` (tensors, state dicts, nested containers; with ``load(weights_only=False)`` also whole
    modules and other picklable objects) to a path or a writable binary file object."""
    records = collections.OrderedDict()
    buf = io.BytesIO()
    _Pickler(buf, pickle_protocol, records).dump(obj)
    own = isinstance(f, (str, bytes, os.PathLike))
    fh = open(f, 'wb') if own else f
    try:
        with zipfile.ZipFile(fh, 'w', compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            z.writestr(f'{_ROOT}/version', _FORMAT_VERSION + '\n')
            z.writestr(f'{_ROOT}/byteorder', 'little')
            z.writestr(f'{_ROOT}/data.pkl', buf.getvalue())
            for key, arr in records.items():
                z.writestr(f'{_ROOT}/data/{key}', arr.tobytes() if arr.size else b'')
    finally:
        if own:
            fh.close()


# --- load -----------------------------------------------------------------------------------------------------

# every global a weights-only pickle may name; nothing here can run code chosen by the file
_SAFE_GLOBALS = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('builtins', 'set'): set,
    ('builtins', 'frozenset'): frozenset,
    ('builtins', 'complex'): complex,
    ('builtins', 'slice'): slice,
    ('builtins', 'bytearray'): bytearray,
    ('npnn.backend.dtypes', '_by_name'): _dt._by_name,
    ('npnn.backend.device', 'device'): _device,
    ('npnn.tensor', 'Size'): Size,
    ('_codecs', 'encode'): None,  # filled below: how protocol 2 pickles bytes
}


def _latin1_encode(text, encoding='utf-8', errors='strict'):
    # protocol-2 pickles store bytes as codecs.encode(str, 'latin1'); nothing else is accepted
    if encoding != 'latin1' or not isinstance(text, str):
        raise pickle.UnpicklingError(f"Weights only load failed: _codecs.encode is only allowed with the latin1 "
                                     f"encoding, got {encoding!r}")
    return text.encode('latin1', errors)


_SAFE_GLOBALS[('_codecs', 'encode')] = _latin1_encode
_user_safe_globals = {}


def add_safe_globals(objs):
    """Allow these classes/functions in ``weights_only=True`` loads (only for ones that cannot run code)."""
    for o in objs:
        _user_safe_globals[(o.__module__, o.__qualname__)] = o


def get_safe_globals():
    """The globals added with ``add_safe_globals``."""
    return list(_user_safe_globals.values())


def clear_safe_globals():
    _user_safe_globals.clear()


def _refuse(module, name):
    raise pickle.UnpicklingError(
        f"Weights only load failed: the file refers to the global '{module}.{name}', which is not allowed with "
        "weights_only=True (only tensors, dtypes, devices, containers and primitive values are). The file may "
        "try to run code. Load it with weights_only=False only if you trust its source, or allow that class "
        "with npnn.serialization.add_safe_globals.")


def _location_of(map_location, saved_dev):
    """The device a tensor saved on ``saved_dev`` (a string) loads to, or a callable result marker."""
    if map_location is None:
        return saved_dev
    if isinstance(map_location, (str, _device)):
        return str(map_location)
    if isinstance(map_location, dict):
        return str(map_location.get(saved_dev, saved_dev))
    return None  # callable: handled by the caller


def _restore_device(arr, saved_dev, map_location):
    if callable(map_location) and not isinstance(map_location, (str, _device, dict)):
        t = Tensor._make(arr)
        r = map_location(t, saved_dev)
        if r is None:
            return _restore_device(arr, saved_dev, None)
        if isinstance(r, Tensor):
            return r._data
        if isinstance(r, (str, _device)):
            return _restore_device(arr, saved_dev, r)
        raise RuntimeError(f"map_location callable returned {type(r).__name__}; expected a tensor, a device or "
                           "None")
    loc = _location_of(map_location, saved_dev)
    dev = _device(loc)
    if dev.type == 'cuda':
        from .backend.device import cupy_module
        try:
            cupy_module()
        except RuntimeError as e:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but CUDA is not available "
                               f"({e}). If you are running on a CPU-only machine, please use npnn.load with "
                               "map_location=npnn.device('cpu') to map your tensors to the CPU.") from None
        return array_to(arr, to_device(dev))
    return arr


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, weights_only, map_location):
        super().__init__(file)
        self._archive = archive
        self._weights_only = weights_only
        self._map_location = map_location
        self._loaded = {}

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        # protocol-2 pickles name Python 2 modules (__builtin__.set ...): map them as pickle does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        g = _SAFE_GLOBALS.get((module, name)) or _user_safe_globals.get((module, name))
        if g is None:
            _refuse(module, name)
        return g

    def _array(self, key, np_dtype, shape):
        if not isinstance(key, str) or not isinstance(shape, tuple) or \
                not all(isinstance(s, int) and s >= 0 for s in shape):
            raise pickle.UnpicklingError("corrupted tensor record in the archive")
        try:
            raw = self._archive.read(f'{_ROOT}/data/{key}')
        except KeyError:
            raise RuntimeError(f"npnn.load: the archive lacks the data of tensor {key}: the file is truncated or "
                               "corrupted") from None
        n = int(np.prod(shape, dtype=np.int64))
        if len(raw) != n * np_dtype.itemsize:
            raise RuntimeError(f"npnn.load: tensor {key} holds {len(raw)} bytes where its shape {list(shape)} needs "
                               f"{n * np_dtype.itemsize}: the file is corrupted")
        arr = np.frombuffer(raw, dtype=_le_dtype(np_dtype)).copy()
        return arr.astype(np_dtype, copy=False).reshape(shape)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"unsupported persistent id in the archive: {pid!r}")
        cached = self._loaded.get(pid[1] if len(pid) > 1 else None)
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
            arr = self._array(key, d.np, shape)
            arr = _restore_device(arr, str(dev), self._map_location)
            out = self._make_tensor(arr, bool(rg), kind)
        else:
            raise pickle.UnpicklingError(f"unsupported persistent id in the archive: {pid[0]!r}")
        self._loaded[pid[1]] = out
        return out

    def _make_tensor(self, arr, rg, kind):
        from .nn.parameter import Parameter
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


# --- reading PyTorch checkpoints -----------------------------------------------------------------------------

class _TorchStorageType:
    """Stands for ``torch.FloatStorage`` & co. in a PyTorch pickle: only the element type matters."""

    def __init__(self, np_dtype):
        self.np = np.dtype(np_dtype)


_TORCH_STORAGES = {'FloatStorage': np.float32, 'DoubleStorage': np.float64, 'HalfStorage': np.float16,
                   'LongStorage': np.int64, 'IntStorage': np.int32, 'ShortStorage': np.int16,
                   'CharStorage': np.int8, 'ByteStorage': np.uint8, 'BoolStorage': np.bool_,
                   'ComplexFloatStorage': np.complex64, 'ComplexDoubleStorage': np.complex128}
if _dt.bfloat16 is not None:
    _TORCH_STORAGES['BFloat16Storage'] = _dt.bfloat16.np


class _TorchStorage:
    __slots__ = ('array', 'location')

    def __init__(self, array, location):
        self.array, self.location = array, location


def _torch_tensor(storage, offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    """``torch._utils._rebuild_tensor_v2``: a tensor viewing ``storage`` (bounds checked, then copied)."""
    if not isinstance(storage, _TorchStorage):
        raise pickle.UnpicklingError("corrupted PyTorch tensor record (no storage)")
    size, stride = tuple(size), tuple(stride)
    if not (isinstance(offset, int) and offset >= 0 and len(size) == len(stride) and
            all(isinstance(v, int) and v >= 0 for v in size + stride)):
        raise pickle.UnpicklingError("corrupted PyTorch tensor record (bad offset, size or stride)")
    base = storage.array
    n = base.shape[0]
    if 0 not in size and offset + sum((d - 1) * st for d, st in zip(size, stride)) >= n:
        raise RuntimeError("npnn.load: a PyTorch tensor reaches past the end of its storage: the file is corrupted")
    if 0 in size:
        arr = np.empty(size, dtype=base.dtype)
    else:
        it = base.dtype.itemsize
        arr = np.lib.stride_tricks.as_strided(base[offset:], size, tuple(st * it for st in stride)).copy()
    arr = _restore_device(arr, storage.location, _torch_map_location[0])
    t = Tensor._make(arr)
    if requires_grad and arr.dtype.kind in 'fc':
        t._rg = True
    return t


def _torch_tensor_v3(storage, offset, size, stride, requires_grad, backward_hooks, dtype=None, metadata=None):
    return _torch_tensor(storage, offset, size, stride, requires_grad, backward_hooks, metadata)


def _torch_parameter(data, requires_grad, backward_hooks=None, state=None):
    from .nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("corrupted PyTorch parameter record")
    return Parameter(data, requires_grad=bool(requires_grad) and data._data.dtype.kind in 'fc')


def _torch_from_type(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: rebuild with ``func`` (itself an allowed global), keep the
    tensor's class only when it is Parameter."""
    from .nn.parameter import Parameter
    t = func(*args)
    if new_type is Parameter and not isinstance(t, Parameter):
        t = Parameter(t, requires_grad=t._rg)
    return t


def _torch_ordered_dict(*args):
    return collections.OrderedDict(*args)


_torch_map_location = [None]  # set while a PyTorch checkpoint is being read


def _torch_globals():
    from .nn.parameter import Parameter
    g = {('torch._utils', '_rebuild_tensor_v2'): _torch_tensor,
         ('torch._utils', '_rebuild_tensor_v3'): _torch_tensor_v3,
         ('torch._utils', '_rebuild_parameter'): _torch_parameter,
         ('torch._utils', '_rebuild_parameter_with_state'): _torch_parameter,
         ('torch._tensor', '_rebuild_from_type_v2'): _torch_from_type,
         ('torch', 'Tensor'): Tensor,
         ('torch.nn.parameter', 'Parameter'): Parameter,
         ('torch', 'device'): _device,
         ('torch', 'Size'): Size}
    for name, npd in _TORCH_STORAGES.items():
        g[('torch', name)] = _TorchStorageType(npd)
    for name, d in _dt._names.items():
        g[('torch', name)] = d
    return g


class _TorchUnpickler(_Unpickler):
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
                isinstance(pid[1], _TorchStorageType) and isinstance(pid[2], str) and isinstance(pid[3], str)):
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
            npd = stype.np.newbyteorder('>') if self._big and stype.np.itemsize > 1 else stype.np
            arr = np.frombuffer(raw, dtype=npd).astype(stype.np, copy=False)
            st = self._storages[key] = _TorchStorage(arr, location)
        return st


def _open_archive(f):
    """A ZipFile over a path or a file object, or a clear RuntimeError for anything that is not one."""
    own = isinstance(f, (str, bytes, os.PathLike))
    if own:
        fh = open(f, 'rb')
    else:
        fh = f
        if not (hasattr(fh, 'seek') and hasattr(fh, 'tell') and _seekable(fh)):
            fh = io.BytesIO(fh.read())
    try:
        return zipfile.ZipFile(fh, 'r'), (fh if own else None)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        if own:
            fh.close()
        raise RuntimeError(f"npnn.load: {_describe(f)} is not a valid npnn file, or it is truncated or corrupted "
                           f"({e})") from None


def _seekable(fh):
    try:
        return fh.seekable()
    except Exception:
        return False


def _describe(f):
    return repr(os.fspath(f)) if isinstance(f, (str, bytes, os.PathLike)) else 'the file object'


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved with ``npnn.save`` (or a PyTorch zip checkpoint: its tensors, dtypes, devices
    and containers become npnn ones).

    ``weights_only=True`` (default) allows only tensors, dtypes, devices, containers and primitive values and
    refuses every other global with ``pickle.UnpicklingError``; ``weights_only=False`` unpickles anything
    (whole modules) and must only be used on trusted files. ``map_location`` moves tensors: a device or
    string (``'cpu'``), a dict ``{'cuda:0': 'cpu'}`` mapping saved to new locations, or a callable
    ``fn(tensor_on_cpu, saved_location)`` returning a tensor, a device, or None (keep the saved location).
    A truncated or corrupted file raises RuntimeError.
    """
    if weights_only is None:
        weights_only = True
    z, fh = _open_archive(f)
    try:
        try:
            names = set(z.namelist())
            if f'{_ROOT}/data.pkl' not in names:
                torch_pkl = [n for n in names if n.endswith('/data.pkl') and n.count('/') == 1]
                if torch_pkl:
                    return _load_torch(z, torch_pkl[0][:-len('data.pkl')], weights_only, map_location)
                raise RuntimeError(f"npnn.load: {_describe(f)} is a zip file but not an npnn archive (no "
                                   f"{_ROOT}/data.pkl)")
            version = z.read(f'{_ROOT}/version').decode('ascii', 'replace').strip() \
                if f'{_ROOT}/version' in names else _FORMAT_VERSION
            if version != _FORMAT_VERSION:
                raise RuntimeError(f"npnn.load: unsupported archive version {version!r}")
            data = z.read(f'{_ROOT}/data.pkl')
            up = _Unpickler(io.BytesIO(data), z, weights_only, map_location)
            return up.load()
        except pickle.UnpicklingError as e:
            if 'Weights only load failed' in str(e):
                raise
            raise RuntimeError(f"npnn.load: {_describe(f)} is corrupted ({e})") from None
        except (zipfile.BadZipFile, EOFError, struct.error, zlib_error(), ValueError, IndexError, KeyError) as e:
            raise RuntimeError(f"npnn.load: {_describe(f)} is truncated or corrupted ({type(e).__name__}: {e})") \
                from None
    finally:
        z.close()
        if fh is not None:
            fh.close()


def _load_torch(z, prefix, weights_only, map_location):
    """Read a PyTorch zip checkpoint (``torch.save`` output) into npnn objects."""
    names = set(z.namelist())
    big = prefix + 'byteorder' in names and z.read(prefix + 'byteorder').strip() == b'big'
    up = _TorchUnpickler(io.BytesIO(z.read(prefix + 'data.pkl')), z, prefix, weights_only, map_location, big)
    _torch_map_location[0] = map_location
    try:
        return up.load()
    finally:
        _torch_map_location[0] = None


def zlib_error():
    import zlib
    return zlib.error


# --- safetensors ----------------------------------------------------------------------------------------------

_ST_DTYPES = {'BOOL': np.bool_, 'U8': np.uint8, 'I8': np.int8, 'I16': np.int16, 'U16': np.uint16,
              'F16': np.float16, 'I32': np.int32, 'U32': np.uint32, 'F32': np.float32, 'F64': np.float64,
              'I64': np.int64, 'U64': np.uint64, 'C64': np.complex64, 'C128': np.complex128}
if _dt.bfloat16 is not None:
    _ST_DTYPES['BF16'] = _dt.bfloat16.np
_ST_NAMES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}
_MAX_HEADER = 100_000_000


def save_safetensors(tensors, filename, metadata=None):
    """Write a ``{name: tensor}`` dict (a state dict) to a ``.safetensors`` file: an 8-byte little-endian
    header length, a JSON header (``dtype``, ``shape``, ``data_offsets`` per tensor, optional
    ``__metadata__`` of strings) padded with spaces to 8 bytes, then the tensors' raw little-endian bytes."""
    if not isinstance(tensors, collections.abc.Mapping):
        raise TypeError(f"save_safetensors expects a dict of tensors, got {type(tensors).__name__}")
    header = {}
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("safetensors metadata must map strings to strings")
        header['__metadata__'] = dict(metadata)
    chunks, off = [], 0
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors tensor names must be strings, got {type(name).__name__}")
        if name == '__metadata__':
            raise ValueError("'__metadata__' is reserved in the safetensors header")
        if not isinstance(t, Tensor):
            raise TypeError(f"value of {name!r} is {type(t).__name__}, not a tensor")
        arr = _le(array_to(t._data, CPU))
        code = _ST_NAMES.get(arr.dtype.newbyteorder('='))
        if code is None:
            raise TypeError(f"dtype {t.dtype} of {name!r} has no safetensors code")
        b = arr.tobytes()
        header[name] = {'dtype': code, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * (-len(hb) % 8)
    with open(filename, 'wb') as fh:
        fh.write(struct.pack('<Q', len(hb)))
        fh.write(hb)
        for b in chunks:
            fh.write(b)


def _st_error(msg):
    return RuntimeError(f"invalid safetensors file: {msg}")


def load_safetensors(filename, device=None, *, with_metadata=False):
    """Read a ``.safetensors`` file into an ``OrderedDict`` of tensors (in data order), on ``device``
    (default cpu). The header is validated against the format: known dtypes, shapes matching byte ranges,
    ranges that tile the data section exactly. With ``with_metadata`` returns ``(tensors, metadata)``."""
    with open(filename, 'rb') as fh:
        blob = fh.read()
    if len(blob) < 8:
        raise _st_error("the file is shorter than the 8-byte header length")
    (n,) = struct.unpack('<Q', blob[:8])
    if n > _MAX_HEADER:
        raise _st_error(f"header length {n} is too large")
    if 8 + n > len(blob):
        raise _st_error(f"header length {n} runs past the end of the file ({len(blob)} bytes): truncated file")
    try:
        header = json.loads(blob[8:8 + n].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _st_error(f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _st_error("the header is not a JSON object")
    data = memoryview(blob)[8 + n:]
    meta = header.pop('__metadata__', None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise _st_error("__metadata__ must map strings to strings")
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) - {'dtype', 'shape', 'data_offsets'} or len(info) != 3:
            raise _st_error(f"entry {name!r} must have exactly dtype, shape and data_offsets")
        code, shape, offs = info['dtype'], info['shape'], info['data_offsets']
        if code not in _ST_DTYPES:
            raise _st_error(f"entry {name!r} has unsupported dtype {code!r}")
        if not (isinstance(shape, list) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                for s in shape)):
            raise _st_error(f"entry {name!r} has an invalid shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int) and o >= 0 for o in offs)
                and offs[0] <= offs[1]):
            raise _st_error(f"entry {name!r} has invalid data_offsets {offs!r}")
        npd = np.dtype(_ST_DTYPES[code])
        need = int(np.prod(shape, dtype=np.int64)) * npd.itemsize
        if offs[1] - offs[0] != need:
            raise _st_error(f"entry {name!r}: data_offsets {offs} hold {offs[1] - offs[0]} bytes, its dtype and "
                            f"shape need {need}")
        entries.append((offs[0], offs[1], name, npd, tuple(shape)))
    entries.sort(key=lambda e: (e[0], e[1]))
    pos = 0
    for b, e, name, _, _ in entries:
        if b != pos:
            raise _st_error(f"entry {name!r} starts at {b}, expected {pos} (overlapping data or a hole)")
        pos = e
    if pos != len(data):
        raise _st_error(f"the data section has {len(data)} bytes, the header covers {pos}")
    dev = to_device(device) if device is not None else CPU
    out = collections.OrderedDict()
    for b, e, name, npd, shape in entries:
        arr = np.frombuffer(data[b:e], dtype=_le_dtype(npd)).astype(npd, copy=True).reshape(shape)
        out[name] = Tensor._make(array_to(arr, dev))
    return (out, meta or {}) if with_metadata else out
