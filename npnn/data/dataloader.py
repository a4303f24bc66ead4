"""DataLoader: batches from a dataset, in the main process or in worker processes."""
import itertools
import math
import multiprocessing as mp
import multiprocessing.connection
import multiprocessing.context
import os
import signal
import warnings

import numpy as np

from . import _core, worker as _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ['DataLoader', 'get_worker_info']

get_worker_info = _worker.get_worker_info

_JOIN_TIMEOUT = 2.0
_iter_counter = itertools.count()


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the 'index' stream for an IterableDataset."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader`` does.

    ``num_workers > 0`` loads in that many worker processes (each seeded with ``base_seed + id``, where
    the base seed is drawn from ``generator`` or npnn's default generator), each keeping
    ``prefetch_factor`` batches in flight; batches arrive in sampler order (unless ``in_order=False``).
    Workers build NumPy-backed batches and hand their arrays over through shared memory; the main
    process wraps them as tensors. When npnn's default device is a GPU, batches are moved there, from
    page-locked buffers if ``pin_memory``; on the CPU ``pin_memory`` changes nothing.
    """

    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = 'iterable'
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            elif sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            elif batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = 'map'

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")

        if sampler is None:
            if self._dataset_kind == 'iterable':
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self.__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    # -- multiprocessing context ---------------------------------------------------------------------
    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context):
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid = mp.get_all_start_methods()
                    if multiprocessing_context not in valid:
                        raise ValueError(
                            "multiprocessing_context option should specify a valid start method in "
                            f"{valid!r}, but got multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = mp.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, mp.context.BaseContext):
                    raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                    f"specifying the start method, but got "
                                    f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val):
        if self.__initialized and attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset',
                                           'persistent_workers'):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    # -- iteration -----------------------------------------------------------------------------------
    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._dataset_kind == 'iterable':
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warn when more workers are asked for than this machine has CPUs for."""
        if self.num_workers <= 0:
            return
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count()
        if cpus is not None and self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. Our suggested "
                          f"max number of worker in current system is {cpus}, which is smaller than what this "
                          "DataLoader is going to create. Please be aware that excessive worker creation might get "
                          "DataLoader running slow or even freeze, lower the worker number to avoid potential "
                          "slowness/freeze if necessary.")

    def __del__(self):
        it = self.__dict__.get('_iterator')
        if it is not None and hasattr(it, '_shutdown_workers'):
            try:
                it._shutdown_workers()
            except Exception:
                pass


# ---------------------------------------------------------------------------------------------------
# moving batches to the target device

def _target(loader):
    """(pin, device to move to or None) for a loader, decided once per iterator."""
    from ..backend.device import cupy_if_loaded, get_default_device
    dev = get_default_device()
    move = dev if dev.type == 'cuda' else None
    pin = False
    if loader.pin_memory:
        if move is not None or str(loader.pin_memory_device).startswith('cuda') or cupy_if_loaded() is not None:
            pin = True
        elif not loader.__dict__.get('_warned_pin', False):
            loader._warned_pin = True
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.")
    return pin, move


def _place(data, pin, move):
    """Pin and/or move every CPU tensor (and array) inside a batch."""
    T = _core.tensor_class()
    if isinstance(data, T):
        arr = _core.array_of(data)
        if type(arr) is not np.ndarray:
            return data
        if pin:
            import cupyx
            buf = cupyx.empty_pinned(arr.shape, arr.dtype)
            np.copyto(buf, arr)
            data = _core.wrap(buf)
        if move is not None:
            data = data.to(move)
        return data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, dict):
        try:
            out = data.copy()
            out.update((k, _place(v, pin, move)) for k, v in data.items())
            return out
        except Exception:
            return {k: _place(v, pin, move) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, '_fields'):
        return type(data)(*(_place(d, pin, move) for d in data))
    if isinstance(data, tuple):
        return tuple(_place(d, pin, move) for d in data)
    if isinstance(data, list):
        return [_place(d, pin, move) for d in data]
    if hasattr(data, 'pin_memory') and pin:
        return data.pin_memory()
    return data


# ---------------------------------------------------------------------------------------------------
# iterators

class _BaseIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._shared_seed = None
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._pin, self._move = _target(loader)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _core.draw_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == 'iterable' and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                   f" (when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                        "IterableDataset replica at each worker.")
            warnings.warn(msg)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def _finish(self, data):
        if self._pin or self._move is not None:
            data = _place(data, self._pin, self._move)
        return data


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = _worker.make_fetcher(self._dataset_kind == 'iterable', self._dataset, self._auto_collation,
                                             self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        data = self._fetcher.fetch(index)
        return self._finish(data)


class _MultiProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._shutdown = False
        ctx = loader.multiprocessing_context
        if ctx is None:  # workers never touch CUDA, so fork is safe where it exists
            ctx = mp.get_context('fork') if 'fork' in mp.get_all_start_methods() else mp.get_context()
        self._ctx = ctx
        self._worker_init_fn = loader.worker_init_fn
        self._in_order = loader.in_order
        self._shm_prefix = f'npnn_{os.getpid()}_{next(_iter_counter)}_{os.urandom(3).hex()}_'
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        self._index_queues = []
        self._workers = []
        is_iterable = self._dataset_kind == 'iterable'
        try:
            for i in range(self._num_workers):
                iq = ctx.Queue()
                iq.cancel_join_thread()
                w = ctx.Process(
                    target=_worker.worker_loop,
                    args=(is_iterable, self._dataset, iq, self._worker_result_queue, self._workers_done_event,
                          self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                          self._worker_init_fn, i, self._num_workers, self._persistent_workers, self._shm_prefix),
                    daemon=True)
                w.start()
                self._index_queues.append(iq)
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reader = self._worker_result_queue._reader
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for q in self._index_queues:
                q.put(_worker._ResumeIteration(self._shared_seed))
            remaining = self._num_workers
            while remaining > 0:
                idx, _ = self._get_data()
                if isinstance(idx, _worker._ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    # -- receiving -----------------------------------------------------------------------------------
    def _check_workers(self):
        """Raise if a worker has exited (it never does on its own while the iterator runs)."""
        dead = [w for w in self._workers if w.exitcode is not None]
        if not dead:
            return
        if self._reader.poll(0):  # deliver what it sent before dying first
            return
        self._shutdown_workers()
        for w in dead:
            if w.exitcode < 0:
                try:
                    name = signal.Signals(-w.exitcode).name
                    desc = signal.strsignal(-w.exitcode) or name
                except ValueError:
                    desc = f'signal {-w.exitcode}'
                raise RuntimeError(f"DataLoader worker (pid {w.pid}) is killed by signal: {desc}. ")
        pids = ', '.join(str(w.pid) for w in dead)
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")

    def _get_data(self):
        """The next (task id, data) from any worker; raises on a dead worker or on timeout."""
        timeout = self._timeout if self._timeout > 0 else None
        deadline = None if timeout is None else _now() + timeout
        waitables = [self._reader] + [w.sentinel for w in self._workers]
        while True:
            if self._reader.poll(0):
                idx, payload = self._worker_result_queue.get()
                return idx, self._unpack(payload)
            remaining = None if deadline is None else deadline - _now()
            if remaining is not None and remaining <= 0:
                self._shutdown_workers()
                raise RuntimeError(f'DataLoader timed out after {self._timeout} seconds')
            ready = mp.connection.wait(waitables, remaining)
            if not ready:
                continue
            if self._reader not in ready:
                self._check_workers()

    @staticmethod
    def _unpack(payload):
        if payload is None:
            return None
        kind = payload[0]
        if kind == 'batch':
            return _worker.decode_batch(payload[1], payload[2])
        if kind == 'stop':
            return _worker._IterableDatasetStopIteration(payload[1])
        return payload[1]  # an ExceptionWrapper

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    worker_id = info[0]
                    if len(info) == 2 or self._workers_status[worker_id]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                self._rcvd_idx += 1
                return self._process_data(data)

            if self._shutdown:
                raise StopIteration
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _worker._IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if isinstance(idx, _worker._ResumeIteration):
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    del self._task_info[idx]
                    return self._process_data(data)
                self._task_info[idx] += (data,)
            else:
                del self._task_info[idx]
                self._rcvd_idx += 1
                return self._process_data(data)

    def _process_data(self, data):
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            self._shutdown_workers()  # the traceback keeps this iterator alive; its workers should not be
            data.reraise()
        return self._finish(data)

    def _try_put_index(self):
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return  # every worker has run dry (iterable datasets)
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _mark_worker_as_unavailable(self, worker_id):
        self._workers_status[worker_id] = False

    # -- shutting down -------------------------------------------------------------------------------
    def _shutdown_workers(self):
        """Stop every worker, join it (terminating stragglers) and remove undelivered segments."""
        if getattr(self, '_shutdown', True):
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for q in self._index_queues:
                try:
                    q.put(None)
                except Exception:
                    pass
            deadline = _now() + _JOIN_TIMEOUT
            for w in self._workers:
                w.join(max(0.0, deadline - _now()))
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(_JOIN_TIMEOUT)
                    if w.is_alive():
                        w.kill()
                        w.join()
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
            self._worker_result_queue.cancel_join_thread()
            self._worker_result_queue.close()
        finally:
            _worker.remove_segments(self._shm_prefix)

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # interpreter shutdown: multiprocessing reaps daemonic workers itself
            pass


def _now():
    import time
    return time.monotonic()

