"""Parameter: a Tensor that a Module registers as learnable; Buffer and the uninitialized (lazy) variants."""
import copy
import inspect

import numpy as np

from ..tensor import Tensor, _parse_to
from ..backend.device import array_to, CPU, to_device, cupy_module
from ..backend import dtypes

__all__ = ['Parameter', 'Buffer', 'UninitializedParameter', 'UninitializedBuffer']


def _init_tensor(obj, data, requires_grad):
    """Fill the Tensor slots of a freshly allocated subclass instance (a leaf sharing ``data``)."""
    obj._data = data
    obj._rg = False
    obj._grad = None
    obj._node = None
    obj._out = 0
    obj._vc = [0]
    obj._hooks = None
    if requires_grad:
        obj.requires_grad = True  # checks the dtype like PyTorch


class Parameter(Tensor):
    """A Tensor that is a module parameter: ``Parameter(data=None, requires_grad=True)``.

    It shares ``data``'s memory (detached from any graph) and is registered automatically when assigned
    as a Module attribute.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.empty((0,), dtype=dtypes.get_default_dtype().np)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        obj = Tensor.__new__(cls)
        _init_tensor(obj, arr, requires_grad)
        if isinstance(data, Tensor):
            obj._vc = data._vc  # shares storage with data: share its version counter too
        return obj

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return 'Parameter containing:\n' + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self), Tensor._make(self._data.copy()), self._rg)
        if self._grad is not None:
            new._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k != '_post_acc_hooks':  # hooks stay with the original, as in PyTorch
                setattr(new, k, copy.deepcopy(v, memo))
        return new

    def __reduce_ex__(self, protocol):
        state = {k: v for k, v in self.__dict__.items() if k != '_post_acc_hooks'}
        return (_rebuild_parameter, (array_to(self._data, CPU), str(self.device), self._rg, type(self), state))


def _rebuild_parameter(arr, dev, requires_grad, cls=Parameter, state=None):
    if dev != 'cpu':
        arr = array_to(arr, to_device(dev))
    p = cls.__new__(cls, Tensor._make(arr), requires_grad)
    if state:
        p.__dict__.update(state)
    return p


class _BufferMeta(type):
    # a Buffer(...) call returns a plain Tensor marked as a buffer; isinstance looks at that mark
    def __instancecheck__(cls, obj):
        if cls is Buffer:
            return isinstance(obj, Tensor) and getattr(obj, '_is_buffer', False)
        return super().__instancecheck__(obj)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A marker for tensors a Module registers as a buffer when assigned as an attribute:
    ``self.running = nn.Buffer(t, persistent=False)``."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(np.empty((0,), dtype=dtypes.get_default_dtype().np))
        t = data.detach()
        t._is_buffer = True
        t._buffer_persistent = bool(persistent)
        return t


class _UninitializedArray(np.ndarray):
    """The empty CPU storage of a lazy placeholder: any NumPy computation on it raises the lazy-use error, so
    functions that read a placeholder's array fail clearly instead of computing on an empty array."""

    _owner = 'UninitializedParameter'

    def __array_finalize__(self, obj):
        self._owner = getattr(obj, '_owner', 'UninitializedParameter')

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _use_error(self._owner, ufunc)

    def __array_function__(self, func, types, args, kwargs):
        raise _use_error(self._owner, func)


def _use_error(cls_name, func):
    kind = 'parameter' if 'Parameter' in cls_name else 'buffer'
    return ValueError(f"Attempted to use an uninitialized {kind} in {func}. This error happens when you are using a "
                      f"`LazyModule` or explicitly manipulating `nn.parameter.{cls_name}` objects. When using "
                      "LazyModules Call `forward` with a dummy batch to initialize the parameters before calling "
                      "npnn functions")


def _alloc(dev, shape, np_dtype):
    """An uninitialized array on ``dev``."""
    if dev.type == 'cpu':
        return np.empty(shape, dtype=np_dtype)
    cp = cupy_module()
    with cp.cuda.Device(dev.index):
        return cp.empty(shape, dtype=np_dtype)


def _placeholder_array(cls_name, dev, np_dtype):
    arr = _alloc(dev, (0,), np_dtype)
    if isinstance(arr, np.ndarray):
        arr = arr.view(_UninitializedArray)
        arr._owner = cls_name
    return arr


class UninitializedTensorMixin:
    """Shared behaviour of lazy placeholders. Only dtype/device queries and conversions (``to``, ``cuda``,
    ``cpu``, ``float`` ...) work; ``materialize(shape, device=None, dtype=None)`` gives the object its data
    and turns it into its initialized class in place (so references to it, e.g. an optimizer's, stay valid).
    Any other use raises."""

    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Allocate the data (uninitialized) with ``shape`` and become ``cls_to_become``."""
        dev = to_device(device) if device is not None else self.device
        dt = dtypes.to_dtype(dtype) if dtype is not None else self.dtype
        if isinstance(shape, int):
            shape = (shape,)
        self._data = _alloc(dev, tuple(shape), dt.np)
        self.__class__ = self.cls_to_become

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(self._rg, self.device, self.dtype)
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            setattr(new, k, copy.deepcopy(v, memo))
        return new

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f'<{type(self).__name__}>'

    __str__ = __repr__

    def __format__(self, spec):
        return repr(self)

    # --- conversions: a placeholder converts to a placeholder of the new dtype/device --------------------------
    def _converted(self, dev=None, dt=None):
        dev = self.device if dev is None else dev
        dt = self.dtype if dt is None else dt
        if dev == self.device and dt == self.dtype:
            return self
        new = _new_uninitialized(type(self), False, dev, dt)
        new._rg = self._rg
        new.__dict__.update(self.__dict__)
        return new

    def to(self, *args, **kwargs):
        """A placeholder with the requested device and/or dtype (self when nothing changes)."""
        dev, dt, _ = _parse_to(args, kwargs)
        return self._converted(dev, dt)

    def cuda(self, device=None, non_blocking=False):
        if device is None:
            device = 'cuda'
        elif isinstance(device, int):
            device = f'cuda:{device}'
        return self._converted(to_device(device))

    def cpu(self):
        return self._converted(CPU)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return Tensor.type(self)
        probe = Tensor._make(np.empty((0,), self._data.dtype))  # parses the legacy type names for us
        return self._converted(dt=probe.type(dtype).dtype)

    def float(self):
        return self._converted(dt=dtypes.float32)

    def double(self):
        return self._converted(dt=dtypes.float64)

    def half(self):
        return self._converted(dt=dtypes.float16)

    def bfloat16(self):
        if dtypes.bfloat16 is None:
            raise RuntimeError("bfloat16 needs the ml_dtypes package")
        return self._converted(dt=dtypes.bfloat16)

    def __reduce_ex__(self, protocol):
        return (_rebuild_uninitialized, (type(self), self._rg, str(self.device), str(self.dtype),
                                         dict(self.__dict__)))


def _rebuild_uninitialized(cls, requires_grad, dev, dt, state):
    obj = _new_uninitialized(cls, requires_grad, dev, dt)
    obj.__dict__.update(state)
    return obj


# Tensor methods a placeholder may use: queries of dtype/device and the conversions above.
_ALLOWED = frozenset('''size is_complex is_floating_point is_signed get_device requires_grad_ copy_
    long int short char byte bool __class__ __deepcopy__ __delattr__ __dir__ __getattribute__ __getstate__
    __hash__ __init__ __init_subclass__ __new__ __reduce__ __reduce_ex__ __repr__ __setattr__ __sizeof__
    __subclasshook__ __str__ __format__ __setstate__'''.split())


def _guard(name):
    def method(self, *args, **kwargs):
        raise _use_error(type(self).__name__, f'Tensor.{name}')
    method.__name__ = name
    method.__qualname__ = f'UninitializedTensorMixin.{name}'
    return method


def _install_guards():
    """Make every other Tensor method of a placeholder raise the lazy-use error (as PyTorch's placeholders do
    through ``__torch_function__``)."""
    for name in dir(Tensor):
        if name in _ALLOWED or name in UninitializedTensorMixin.__dict__:
            continue
        if name.startswith('_') and not name.startswith('__'):
            continue
        attr = inspect.getattr_static(Tensor, name)
        if isinstance(attr, (property, staticmethod, classmethod, type)) or not callable(attr):
            continue
        setattr(UninitializedTensorMixin, name, _guard(name))


_install_guards()


def _new_uninitialized(cls, requires_grad, device, dtype):
    """An empty placeholder instance of ``cls`` on ``device`` with ``dtype`` (defaults: CPU, default dtype)."""
    dev = to_device(device) if device is not None else CPU
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    obj = Tensor.__new__(cls)
    _init_tensor(obj, _placeholder_array(cls.__name__, dev, dt.np), requires_grad)
    return obj


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (what the Lazy modules hold until their first forward):
    ``UninitializedParameter(requires_grad=True, device=None, dtype=None)``."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _new_uninitialized(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (what the Lazy modules hold until their first forward):
    ``UninitializedBuffer(requires_grad=False, device=None, dtype=None, persistent=True)``."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        obj = _new_uninitialized(cls, requires_grad, device, dtype)
        obj._buffer_persistent = persistent
        return obj

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def is_lazy(t):
    """True for an uninitialized (lazy) parameter or buffer."""
    return isinstance(t, UninitializedTensorMixin)
