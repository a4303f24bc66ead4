"""The allow-list of ``load(weights_only=True)``: the only globals a weights file may name."""
import _compat_pickle
import collections
import pickle

import numpy as np

from ..tensor import Size
from ..backend import dtypes as _dt
from ..backend.device import device as _device


def _latin1_encode(text, encoding='utf-8', errors='strict'):
    # protocol-2 pickles store bytes as codecs.encode(str, 'latin1'); nothing else is accepted
    if encoding != 'latin1' or not isinstance(text, str):
        raise pickle.UnpicklingError(f"Weights only load failed: _codecs.encode is only allowed with the latin1 "
                                     f"encoding, got {encoding!r}")
    return text.encode('latin1', errors)


def _rebuild_ndarray(dtype_str, shape, data):
    """A numeric NumPy array from its little-endian bytes (how ``save`` writes NumPy arrays)."""
    try:
        npd = np.dtype(dtype_str)
    except TypeError:
        raise pickle.UnpicklingError(f"unsupported array dtype {dtype_str!r} in the archive") from None
    if npd.kind not in 'biufc' or not isinstance(shape, tuple) or \
            not all(isinstance(s, int) and s >= 0 for s in shape) or not isinstance(data, (bytes, bytearray)):
        raise pickle.UnpicklingError("corrupted NumPy array record in the archive")
    if len(data) != int(np.prod(shape, dtype=np.int64)) * npd.itemsize:
        raise RuntimeError(f"npnn.load: a NumPy array of shape {list(shape)} holds {len(data)} bytes: the file "
                           "is corrupted")
    le = npd if npd.itemsize == 1 else npd.newbyteorder('<')
    return np.frombuffer(data, dtype=le).astype(npd.newbyteorder('='), copy=True).reshape(shape)


SAFE_GLOBALS = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('builtins', 'set'): set,
    ('builtins', 'frozenset'): frozenset,
    ('builtins', 'complex'): complex,
    ('builtins', 'slice'): slice,
    ('builtins', 'bytearray'): bytearray,
    ('_codecs', 'encode'): _latin1_encode,
    ('npnn.backend.dtypes', '_by_name'): _dt._by_name,
    ('npnn.backend.device', 'device'): _device,
    ('npnn.tensor', 'Size'): Size,
    (__name__, '_rebuild_ndarray'): _rebuild_ndarray,
}
_user_safe_globals = {}


def add_safe_globals(objs):
    """Allow these classes/functions in ``weights_only=True`` loads (only for ones that cannot run code)."""
    for o in objs:
        _user_safe_globals[(o.__module__, o.__qualname__)] = o


def get_safe_globals():
    """The globals added with ``add_safe_globals``."""
    return list(_user_safe_globals.values())


def clear_safe_globals():
    """Forget every global added with ``add_safe_globals``."""
    _user_safe_globals.clear()


def refuse(module, name):
    raise pickle.UnpicklingError(
        f"Weights only load failed: the file refers to the global '{module}.{name}', which is not allowed with "
        "weights_only=True (only tensors, dtypes, devices, containers and primitive values are). The file may "
        "try to run code. Load it with weights_only=False only if you trust its source, or allow that class "
        "with npnn.serialization.add_safe_globals.")


def safe_global(module, name):
    """The allowed object a weights-only pickle names as ``module.name``; refuses every other one."""
    # protocol-2 pickles name Python 2 modules (__builtin__.set ...): map them as pickle does
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    g = SAFE_GLOBALS.get((module, name)) or _user_safe_globals.get((module, name))
    if g is None:
        refuse(module, name)
    return g
