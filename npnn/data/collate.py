"""Turning a list of samples into a batch (``default_collate``) and arrays into tensors
(``default_convert``)."""
import collections.abc
import re

import numpy as np

from . import _core

__all__ = ['default_collate', 'default_convert']

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
_STRING_KINDS = re.compile(r'[SaUO]')

# Set inside worker processes: ``alloc(shape, dtype)`` returns an array in shared memory (or None), so
# stacked batches are written once, straight into the memory that the main process will map.
_batch_allocator = None


def _stack(arrays):
    first = arrays[0]
    shape = first.shape
    dtype = first.dtype
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(a.shape)} at entry {i}")
        if a.dtype != dtype:
            dtype = np.result_type(*[b.dtype for b in arrays])
            break
    out = None
    if _batch_allocator is not None:
        out = _batch_allocator((len(arrays),) + shape, dtype)
    if out is None:
        return np.stack(arrays)
    np.stack(arrays, out=out, casting='unsafe')
    return out


def _stack_tensors(batch):
    arrays = [_core.array_of(t) for t in batch]
    if all(type(a) is np.ndarray for a in arrays):
        return _core.wrap(_stack(arrays))
    import npnn
    return npnn.stack(list(batch), 0)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, '_fields')


def _mapping_like(elem, items):
    """Rebuild a mapping of elem's type (falling back to dict)."""
    if isinstance(elem, collections.abc.MutableMapping):
        try:
            clone = elem.copy() if hasattr(elem, 'copy') else type(elem)()
            clone.update(items)
            return clone
        except TypeError:
            return dict(items)
    try:
        return type(elem)(items)
    except TypeError:
        return dict(items)


def default_collate(batch):
    """Collate a list of samples into a batch, the way PyTorch's ``default_collate`` does.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a float64
    tensor, ints an int64 tensor (bools a bool tensor); strings and bytes are kept as a list; mappings,
    namedtuples and sequences are collated field by field (tuples come back as lists).
    """
    elem = batch[0]
    T = _core.tensor_class()
    if isinstance(elem, T):
        return _stack_tensors(batch)
    elem_type = type(elem)
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic):
        if isinstance(elem, (np.str_, np.bytes_)):
            return batch
        if _STRING_KINDS.search(elem.dtype.str) is not None:
            raise TypeError(_ERR.format(elem.dtype))
        if isinstance(elem, np.generic):
            return _core.wrap(np.array(batch))
        return _core.wrap(_stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return _core.wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return _core.wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _core.wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _mapping_like(elem, [(k, default_collate([d[k] for d in batch])) for k in elem])
    if _is_namedtuple(elem):
        return elem_type(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        size = len(next(it))
        if not all(len(e) == size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(s) for s in transposed]
        try:
            return elem_type([default_collate(s) for s in transposed])
        except TypeError:
            return [default_collate(s) for s in transposed]
    raise TypeError(_ERR.format(elem_type))


def default_convert(data):
    """Convert NumPy arrays (and NumPy scalars) inside ``data`` to tensors, keeping everything else.

    Used instead of :func:`default_collate` when automatic batching is off (``batch_size=None``).
    """
    if _core.is_tensor(data):
        return data
    if isinstance(data, np.ndarray):
        if _STRING_KINDS.search(data.dtype.str) is not None:
            return data
        return _core.wrap(data)
    if isinstance(data, np.generic):
        if isinstance(data, (np.str_, np.bytes_)) or _STRING_KINDS.search(data.dtype.str) is not None:
            return data
        return _core.wrap(np.array(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _mapping_like(data, [(k, default_convert(v)) for k, v in data.items()])
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
