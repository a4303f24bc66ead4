"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode`` (thread-local)."""
import functools
import inspect
import threading


class _State(threading.local):
    enabled = True
    inference = False
    anomaly = False
    anomaly_check_nan = True


state = _State()

# Process-wide, unlike ``state``, so hot paths can skip the (slower) thread-local lookup with one cheap
# test: [0] counts inference_mode regions open in any thread, [1] turns True once any has been opened
# (inference tensors can exist only from then on).
inference_regions = [0, False]
_regions_lock = threading.Lock()


def is_grad_enabled():
    """True when operations are recorded for autograd in this thread."""
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base for grad-mode context managers that also work as decorators."""

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn):
        """A decorated generator runs each of its steps (not just its creation) under the mode, and the
        caller's mode is back in force between steps, as in PyTorch."""
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with self.__class__(*self._args()):
                    value = gen.send(None)
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        with self.__class__(*self._args()):
                            gen.close()
                        raise
                    except BaseException as exc:
                        with self.__class__(*self._args()):
                            value = gen.throw(exc)
                    else:
                        with self.__class__(*self._args()):
                            value = gen.send(sent)
            except StopIteration as stop:
                return stop.value
        return wrapper

    def _args(self):
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_Mode):
    """Disable gradient recording inside the block or decorated function."""

    def __init__(self, orig_func=None):
        self._fn = orig_func if callable(orig_func) else None

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):  # used as @no_grad without parentheses
            self.__init__()
            return self(orig_func)
        return self

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False


class enable_grad(_Mode):
    """Enable gradient recording inside the block or decorated function."""

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = True

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False


class set_grad_enabled(_Mode):
    """Set gradient recording on or off; applies immediately, and as a context manager restores on exit."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not {type(mode).__name__}")
        self.prev = state.enabled
        self.mode = mode
        state.enabled = mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False

    def __call__(self, fn):
        state.enabled = self.prev  # as a decorator it must not change the mode now
        return super().__call__(fn)


class inference_mode(_Mode):
    """Like ``no_grad``, and tensors made inside are inference tensors (``is_inference()``): they cannot
    be saved for backward later, nor updated in place outside inference mode.

    ``inference_mode(False)`` leaves inference mode and turns grad mode on, as in PyTorch.
    """

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.mode = bool(mode) if not callable(mode) else True

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        self.prev = (state.enabled, state.inference)
        state.enabled, state.inference = not self.mode, self.mode
        if self.mode:
            with _regions_lock:
                inference_regions[0] += 1
                inference_regions[1] = True

    def __exit__(self, *exc):
        state.enabled, state.inference = self.prev
        if self.mode:
            with _regions_lock:
                inference_regions[0] -= 1
        return False


def is_anomaly_enabled():
    """True inside ``detect_anomaly`` / after ``set_detect_anomaly(True)``."""
    return state.anomaly


def is_anomaly_check_nan_enabled():
    return state.anomaly_check_nan


class detect_anomaly(_Mode):
    """Within the block (or decorated function) backward raises as soon as a node returns nan gradients.

    npnn keeps no forward tracebacks: the error names the node whose backward produced the nan.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def _args(self):
        return (self.check_nan,)

    def __enter__(self):
        self.prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly, state.anomaly_check_nan = True, self.check_nan

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_nan = self.prev
        return False


class set_detect_anomaly(_Mode):
    """Turn anomaly detection on or off; as a function call, or scoped as a context manager."""

    def __init__(self, mode, check_nan=True):
        self.prev = (state.anomaly, state.anomaly_check_nan)
        self.mode, self.check_nan = bool(mode), check_nan
        state.anomaly, state.anomaly_check_nan = self.mode, check_nan

    def _args(self):
        return (self.mode, self.check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_nan = self.prev
        return False
