"""``npnn.cuda``: GPU queries and control over CuPy. Every function is safe to call without CuPy or a GPU."""
import contextlib

from . import amp as _amp
from .backend import dtypes
from .backend.device import cupy_if_loaded as _cupy_if_loaded, cupy_module as _cupy_module, device as _Device


def _cupy():
    """The cupy module when a GPU is usable, else None (never raises)."""
    try:
        return _cupy_module()
    except Exception:
        return None


def is_available():
    """True when CuPy imports and at least one CUDA GPU is present."""
    return _cupy() is not None


def device_count():
    """Number of visible GPUs (0 without CuPy or a GPU)."""
    cp = _cupy()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def _require():
    cp = _cupy()
    if cp is None:
        _cupy_module()  # raises the explanatory error
    return cp


def _index(device):
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    d = _Device(device)
    if d.type != 'cuda':
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return d.index if d.index is not None else current_device()


def current_device():
    """Index of the current GPU."""
    return int(_require().cuda.runtime.getDevice())


def set_device(device):
    """Make ``device`` the current GPU."""
    _require().cuda.Device(_index(device)).use()


class device:
    """Context manager that makes a GPU current inside the block: ``with npnn.cuda.device(1): ...``."""

    def __init__(self, device):
        self.idx = _index(device) if device is not None and device != -1 else None
        self.prev = None

    def __enter__(self):
        if self.idx is not None:
            cp = _require()
            self.prev = cp.cuda.runtime.getDevice()
            cp.cuda.runtime.setDevice(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev is not None:
            _cupy().cuda.runtime.setDevice(self.prev)
        return False


def device_of(obj):
    return device(obj.get_device() if obj.is_cuda else None)


def get_device_name(device=None):
    props = _require().cuda.runtime.getDeviceProperties(_index(device))
    name = props['name']
    return name.decode() if isinstance(name, bytes) else name


class _DeviceProperties:
    def __init__(self, props):
        name = props['name']
        self.name = name.decode() if isinstance(name, bytes) else name
        self.total_memory = int(props['totalGlobalMem'])
        self.major = int(props['major'])
        self.minor = int(props['minor'])
        self.multi_processor_count = int(props['multiProcessorCount'])

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    return _DeviceProperties(_require().cuda.runtime.getDeviceProperties(_index(device)))


def get_device_capability(device=None):
    p = get_device_properties(device)
    return p.major, p.minor


def synchronize(device=None):
    """Wait for all work on a GPU to finish (no-op without a GPU)."""
    cp = _cupy()
    if cp is not None:
        with cp.cuda.Device(_index(device)):
            cp.cuda.Device().synchronize()


def _pool():
    cp = _cupy()
    return None if cp is None else cp.get_default_memory_pool()


def memory_allocated(device=None):
    """Bytes held by live arrays (CuPy's memory pool)."""
    p = _pool()
    if p is None:
        return 0
    with _cupy().cuda.Device(_index(device)):
        return int(p.used_bytes())


_peak = {}


def max_memory_allocated(device=None):
    """The highest ``memory_allocated`` seen by npnn's queries (pool total is an upper bound)."""
    p = _pool()
    if p is None:
        return 0
    idx = _index(device)
    cur = max(memory_allocated(idx), _peak.get(idx, 0))
    _peak[idx] = cur
    return cur


def reset_peak_memory_stats(device=None):
    if _pool() is not None:
        _peak[_index(device)] = memory_allocated(device)


def memory_reserved(device=None):
    """Bytes the memory pool holds from the driver."""
    p = _pool()
    if p is None:
        return 0
    with _cupy().cuda.Device(_index(device)):
        return int(p.total_bytes())


max_memory_reserved = memory_reserved


def empty_cache():
    """Return cached, unused pool memory to the driver."""
    p = _pool()
    if p is not None:
        p.free_all_blocks()
        _cupy().get_default_pinned_memory_pool().free_all_blocks()


def manual_seed(seed):
    """Seed the current GPU's default generator."""
    if is_available():
        from .backend.random import default_generator
        default_generator(_Device('cuda', current_device())).manual_seed(seed)


def manual_seed_all(seed):
    """Seed every GPU's default generator."""
    from .backend.random import default_generator
    for i in range(device_count()):
        default_generator(_Device('cuda', i)).manual_seed(seed)


def seed():
    if is_available():
        from .backend.random import default_generator
        default_generator(_Device('cuda', current_device())).seed()


def seed_all():
    from .backend.random import default_generator
    for i in range(device_count()):
        default_generator(_Device('cuda', i)).seed()


def initial_seed():
    from .backend.random import default_generator
    return default_generator(_Device('cuda', current_device())).initial_seed()


def get_rng_state(device='cuda'):
    from .backend.random import default_generator
    return default_generator(_Device('cuda', _index(device))).get_state()


def set_rng_state(new_state, device='cuda'):
    from .backend.random import default_generator
    default_generator(_Device('cuda', _index(device))).set_state(new_state)


def is_initialized():
    return _cupy_if_loaded() is not None


def init():
    _require()


class Stream:
    """A CUDA stream (CuPy's); without a GPU, a placeholder that does nothing."""

    def __init__(self, device=None, priority=0, **kwargs):
        cp = _cupy()
        self._s = None
        if cp is not None:
            with cp.cuda.Device(_index(device)):
                self._s = cp.cuda.Stream(non_blocking=True)

    def synchronize(self):
        if self._s is not None:
            self._s.synchronize()

    def wait_stream(self, stream):
        if self._s is not None and stream._s is not None:
            self._s.wait_event(stream._s.record())

    def query(self):
        return True if self._s is None else bool(self._s.done)

    def record_event(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def __enter__(self):
        if self._s is not None:
            self._s.__enter__()
        return self

    def __exit__(self, *exc):
        if self._s is not None:
            self._s.__exit__(*exc)
        return False


class Event:
    """A CUDA event for timing and synchronisation (placeholder without a GPU)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cp = _cupy()
        self._e = None if cp is None else cp.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream=None):
        if self._e is not None:
            self._e.record(stream._s if stream is not None and stream._s is not None else None)

    def synchronize(self):
        if self._e is not None:
            self._e.synchronize()

    def query(self):
        return True if self._e is None else bool(self._e.done)

    def elapsed_time(self, end_event):
        if self._e is None:
            return 0.0
        return float(_cupy().cuda.get_elapsed_time(self._e, end_event._e))

    def wait(self, stream=None):
        if self._e is not None and stream is not None and stream._s is not None:
            stream._s.wait_event(self._e)


def current_stream(device=None):
    s = Stream.__new__(Stream)
    cp = _cupy()
    s._s = None if cp is None else cp.cuda.get_current_stream()
    return s


def default_stream(device=None):
    s = Stream.__new__(Stream)
    cp = _cupy()
    s._s = None if cp is None else cp.cuda.Stream.null
    return s


@contextlib.contextmanager
def stream(s):
    if s is None or s._s is None:
        yield
    else:
        with s._s:
            yield


class amp:
    """``npnn.cuda.amp``: the older spelling of ``npnn.amp`` (see there: autocast changes no dtype; GradScaler
    scales and skips steps with inf/nan gradients)."""

    class autocast(_amp.autocast):
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            super().__init__('cuda', dtype=dtypes.float16 if dtype is None else dtype, enabled=enabled,
                             cache_enabled=cache_enabled)

    class GradScaler(_amp.GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            super().__init__('cuda', init_scale, growth_factor, backoff_factor, growth_interval, enabled)
