"""Saving and loading: ``npnn.save``/``npnn.load`` and the safetensors format.

``save`` writes PyTorch's zip checkpoint format (see ``_torch_write``): ``torch.load`` opens the tensors,
Parameters, state dicts and optimizer states it writes, with ``weights_only=True`` too.

``load(..., weights_only=True)`` (the default) unpickles with an allow-list: containers, primitive types,
dtypes, devices, ``Size`` and the tensors of the archive. Any other global the pickle names (a class, a
function such as ``os.system``) is refused with ``pickle.UnpicklingError`` naming it, so a file can never
run code. Whole modules and arbitrary objects need ``weights_only=False`` (only for trusted files).
``load`` reads PyTorch checkpoints (``torch.save`` output; PyTorch not needed) and files in npnn's first
archive format (``_legacy``).
"""
import io
import os
import pickle
import struct
import zipfile
import zlib

from ._allow import add_safe_globals, get_safe_globals, clear_safe_globals
from ._legacy import ROOT as _LEGACY_ROOT, load_legacy as _load_legacy
from ._safetensors import save_safetensors, load_safetensors
from ._torch_read import load_torch as _load_torch
from ._torch_write import save_torch as _save_torch

__all__ = ['save', 'load', 'save_safetensors', 'load_safetensors', 'add_safe_globals', 'get_safe_globals',
           'clear_safe_globals']

DEFAULT_PROTOCOL = 2


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True):
    """Save ``obj`` (tensors, state dicts, nested containers; with ``load(weights_only=False)`` also whole
    modules and other picklable objects) to a path or a writable binary file object, in PyTorch's zip
    checkpoint format."""
    own = isinstance(f, (str, bytes, os.PathLike))
    fh = open(f, 'wb') if own else f
    try:
        _save_torch(obj, fh, pickle_protocol)
    finally:
        if own:
            fh.close()


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
    """Load an object saved with ``npnn.save`` or ``torch.save`` (its tensors, dtypes, devices and
    containers become npnn ones), or a file of npnn's first format.

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
            if f'{_LEGACY_ROOT}/data.pkl' in names:
                return _load_legacy(z, weights_only, map_location)
            pkl = sorted(n for n in names if n.endswith('/data.pkl') and n.count('/') == 1)
            if not pkl:
                raise RuntimeError(f"npnn.load: {_describe(f)} is a zip file but not an npnn archive or PyTorch "
                                   "checkpoint (no <archive>/data.pkl)")
            return _load_torch(z, pkl[0][:-len('data.pkl')], weights_only, map_location)
        except pickle.UnpicklingError as e:
            if 'Weights only load failed' in str(e):
                raise
            raise RuntimeError(f"npnn.load: {_describe(f)} is corrupted ({e})") from None
        except (zipfile.BadZipFile, EOFError, struct.error, zlib.error, ValueError, IndexError, KeyError) as e:
            raise RuntimeError(f"npnn.load: {_describe(f)} is truncated or corrupted ({type(e).__name__}: {e})") \
                from None
    finally:
        z.close()
        if fh is not None:
            fh.close()
