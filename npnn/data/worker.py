"""Worker processes: the loop each one runs, ``get_worker_info``, and how batches cross to the main
process.

A batch travels as one small pickle plus shared-memory segments: NumPy arrays (and the arrays of CPU
tensors) of at least ``_MIN_SHM_BYTES`` go out of band (pickle protocol 5) into files under
``/dev/shm``. ``default_collate`` in a worker stacks straight into such a segment, so the array is
written once and the main process maps it without copying. The main process unlinks each segment as
soon as it has mapped it; the mapping lives as long as the arrays that use it.
"""
import glob
import io
import mmap
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

from . import _core, collate as _collate

__all__ = ['WorkerInfo', 'get_worker_info']

_MIN_SHM_BYTES = 8192
_ALIGN = 64
_STATUS_CHECK_INTERVAL = 1.0

_SHM_DIR = '/dev/shm' if os.path.isdir('/dev/shm') and os.access('/dev/shm', os.W_OK) else None


class WorkerInfo:
    """What a worker process knows about itself: ``id``, ``num_workers``, ``seed`` and ``dataset``
    (the worker's own copy)."""

    _frozen = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self._frozen = True

    def __setattr__(self, key, val):
        if self._frozen:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ', '.join(f'{k}={getattr(self, k)}' for k in self.__keys)
        return f'{self.__class__.__name__}({items})'


_worker_info = None


def get_worker_info():
    """In a DataLoader worker process: its :class:`WorkerInfo`. In the main process: ``None``."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried with its formatted traceback."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = ''.join(traceback.format_exception(*exc_info))
        self.where = where
        try:  # the class must be importable by the main process
            pickle.loads(pickle.dumps(self.exc_type))
        except Exception:
            self.exc_type = RuntimeError

    def reraise(self):
        """Raise the exception again, its message naming where it happened and the original traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    """KeyError quotes its argument; this keeps the message readable."""

    def __repr__(self):
        return self


class _IterableDatasetStopIteration:
    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Sent to persistent workers to start a new epoch."""

    def __init__(self, seed=None):
        self.seed = seed


# ---------------------------------------------------------------------------------------------------
# fetching samples

class _BaseFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last


class _MapFetcher(_BaseFetcher):
    def fetch(self, index):
        if self.auto_collation:
            getitems = getattr(self.dataset, '__getitems__', None)
            if getitems is not None:
                data = getitems(index)
            else:
                data = [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableFetcher(_BaseFetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableFetcher if is_iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# ---------------------------------------------------------------------------------------------------
# shared-memory transport

def _segment_path(name):
    return os.path.join(_SHM_DIR, name)


def _create_segment(name, nbytes):
    """A new shared-memory file of nbytes mapped read-write, or None when /dev/shm is full."""
    path = _segment_path(name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.posix_fallocate(fd, 0, nbytes)  # fails cleanly (instead of SIGBUS later) when full
        except OSError:
            os.unlink(path)
            return None
        return mmap.mmap(fd, nbytes)
    finally:
        os.close(fd)


class _SegmentWriter:
    """Allocates shared-memory segments in a worker and pickles batches with their arrays out of band."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.counter = 0
        self.live = []  # (start address, nbytes, name) of segments made for the batch being built

    def _new(self, nbytes):
        name = f'{self.prefix}{self.counter}'
        self.counter += 1
        m = _create_segment(name, nbytes)
        if m is None:
            return None, None
        return name, m

    def alloc(self, shape, dtype):
        """An array of the given shape in a fresh segment (None for small arrays or a full /dev/shm)."""
        dtype = np.dtype(dtype)
        count = 1
        for s in shape:
            count *= s
        nbytes = count * dtype.itemsize
        if nbytes < _MIN_SHM_BYTES or dtype.hasobject:
            return None
        name, m = self._new(nbytes)
        if m is None:
            return None
        arr = np.frombuffer(m, dtype=dtype, count=count).reshape(shape)
        self.live.append((arr.ctypes.data, nbytes, name))
        return arr

    def encode(self, obj):
        """Pickle ``obj``; returns (bytes, refs) where refs locate the out-of-band buffers."""
        refs = []
        pending = []  # buffers to copy into one new segment: (position in refs, PickleBuffer)

        def on_buffer(pb):
            raw = pb.raw()
            n = raw.nbytes
            if n < _MIN_SHM_BYTES:
                return True
            addr = np.frombuffer(raw, dtype=np.uint8).ctypes.data
            for start, size, name in self.live:
                if start <= addr and addr + n <= start + size:
                    refs.append((name, addr - start, n))
                    return False
            refs.append(None)
            pending.append((len(refs) - 1, raw))
            return False

        buf = io.BytesIO()
        _BatchPickler(buf, protocol=5, buffer_callback=on_buffer).dump(obj)
        if pending:
            offsets, total = [], 0
            for _, raw in pending:
                offsets.append(total)
                total += (raw.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
            name, m = self._new(total)
            if m is None:
                raise _NoSharedMemory
            for (pos, raw), off in zip(pending, offsets):
                m[off:off + raw.nbytes] = raw
                refs[pos] = (name, off, raw.nbytes)
            m.close()
        self.live = []
        return buf.getvalue(), refs

    def discard(self):
        """Unlink the segments made for a batch that will not be sent."""
        for _, _, name in self.live:
            try:
                os.unlink(_segment_path(name))
            except OSError:
                pass
        self.live = []


class _NoSharedMemory(Exception):
    pass


class _BatchPickler(pickle.Pickler):
    """Pickles CPU tensors as their NumPy array, so the array can travel out of band."""

    def reducer_override(self, obj):
        T = _core.tensor_class()
        if isinstance(obj, T):
            arr = _core.array_of(obj)
            if type(arr) is np.ndarray:
                return _rebuild_tensor, (arr, bool(getattr(obj, 'requires_grad', False)))
        return NotImplemented


def _rebuild_tensor(arr, requires_grad):
    t = _core.wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _encode_batch(writer, data):
    if writer is not None:
        try:
            blob, refs = writer.encode(data)
            return ('batch', blob, refs)
        except _NoSharedMemory:
            writer.discard()
    buf = io.BytesIO()
    _BatchPickler(buf, protocol=5).dump(data)
    return ('batch', buf.getvalue(), [])


def decode_batch(blob, refs):
    """Unpickle a batch in the main process, mapping (then unlinking) its shared-memory segments."""
    if not refs:
        return pickle.loads(blob)
    maps = {}
    views = []
    for name, off, n in refs:
        m = maps.get(name)
        if m is None:
            path = _segment_path(name)
            fd = os.open(path, os.O_RDWR)
            try:
                m = mmap.mmap(fd, os.fstat(fd).st_size)
            finally:
                os.close(fd)
                os.unlink(path)
            maps[name] = memoryview(m)
        views.append(maps[name][off:off + n])
    return pickle.loads(blob, buffers=views)


def remove_segments(prefix):
    """Unlink every segment left behind under ``prefix`` (batches never received)."""
    if _SHM_DIR is None:
        return
    for path in glob.glob(_segment_path(glob.escape(prefix) + '*')):
        try:
            os.unlink(path)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------------
# the worker loop

def _seed_worker(seed):
    random.seed(seed)
    np.random.seed([seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF])
    _core.default_generator().manual_seed(seed)


def worker_loop(is_iterable, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                drop_last, base_seed, init_fn, worker_id, num_workers, persistent_workers, shm_prefix):
    """Run by each worker process: take (task id, indices) from ``index_queue``, put (task id, payload)
    on ``data_queue``, until ``None`` arrives or the parent goes away."""
    global _worker_info
    parent_pid = os.getppid()  # the main process (or the forkserver); a change means it has gone away
    try:
        from ..backend.device import set_default_device
        set_default_device('cpu')  # a worker never touches CUDA: tensors made in it live on the CPU
        seed = base_seed + worker_id
        _seed_worker(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        writer = None
        if _SHM_DIR is not None and shm_prefix is not None:
            writer = _SegmentWriter(f'{shm_prefix}w{worker_id}_')
            _collate._batch_allocator = writer.alloc
        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        iteration_end = False
        while True:
            try:
                r = index_queue.get(timeout=_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    break
                continue
            if r is None:
                break
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                if is_iterable:
                    try:
                        fetcher = make_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                continue
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                payload = ('error', init_exception)
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                    payload = _encode_batch(writer, data)
                    del data
                except StopIteration:
                    if writer is not None:
                        writer.discard()
                    if is_iterable:
                        payload = ('stop', worker_id)
                        iteration_end = True
                    else:
                        payload = ('error', ExceptionWrapper(where=f"in DataLoader worker process {worker_id}"))
                except Exception:
                    payload = ('error', ExceptionWrapper(where=f"in DataLoader worker process {worker_id}"))
                    if writer is not None:
                        writer.discard()
            data_queue.put((idx, payload))
            del payload
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
