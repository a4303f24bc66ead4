"""Run replicas in parallel threads, each under its own device."""
import sys
import threading
import traceback

from ...autograd.grad_mode import state
from ...backend.device import cupy_if_loaded


class _ReplicaError:
    def __init__(self, where, exc_info):
        self.where = where
        self.exc = exc_info[1]
        self.text = ''.join(traceback.format_exception(*exc_info))

    def reraise(self):
        msg = f"Caught {type(self.exc).__name__} in {self.where}.\nOriginal {self.text}"
        try:
            err = type(self.exc)(msg)
        except Exception:
            err = RuntimeError(msg)
        raise err


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """Call ``modules[i](*inputs[i], **kwargs_tup[i])`` in one thread each; return the outputs in order.

    Grad mode is carried into the threads; an exception in a replica is re-raised here with its traceback.
    """
    n = len(modules)
    kwargs_tup = kwargs_tup or tuple({} for _ in range(n))
    devices = devices or [None] * n
    results = [None] * n
    grad_enabled = state.enabled

    def work(i):
        state.enabled = grad_enabled
        dev = devices[i]
        try:
            cp = cupy_if_loaded()
            if cp is not None and dev is not None and dev.type == 'cuda':
                with cp.cuda.Device(dev.index):
                    out = modules[i](*inputs[i], **kwargs_tup[i])
            else:
                out = modules[i](*inputs[i], **kwargs_tup[i])
            results[i] = out
        except Exception:
            results[i] = _ReplicaError(f'replica {i} on device {dev}', sys.exc_info())

    if n == 1:
        work(0)
    else:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for r in results:
        if isinstance(r, _ReplicaError):
            r.reraise()
    return results
