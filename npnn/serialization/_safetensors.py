"""The safetensors format: ``save_safetensors`` / ``load_safetensors`` for ``{name: tensor}`` dicts."""
import collections.abc
import json
import struct

import numpy as np

from ..tensor import Tensor
from ..backend import dtypes as _dt
from ..backend.device import array_to, to_device, CPU


def _le(arr):
    """A C-contiguous little-endian copy-if-needed of a NumPy array."""
    if arr.dtype.byteorder == '>' or (arr.dtype.byteorder == '=' and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder('<'))
    return arr if arr.flags.c_contiguous else arr.copy(order='C')  # (ascontiguousarray makes 0-d 1-d)


def _le_dtype(npd):
    """The little-endian form of a dtype (the dtype itself on little-endian machines)."""
    return npd if np.little_endian or npd.itemsize == 1 else npd.newbyteorder('<')


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
