"""Parameter: a Tensor that a Module registers as learnable; Buffer and the uninitialized (lazy) variants."""
import copy

import numpy as np

from ..tensor import Tensor
from ..backend.device import array_to, CPU, to_device, xp_for
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
            setattr(new, k, copy.deepcopy(v, memo))
        return new

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (array_to(self._data, CPU), str(self.device), self._rg, type(self),
                                     dict(self.__dict__)))


def _rebuild_parameter(arr, dev, requires_grad, cls=Parameter, state=None):
    if dev != 'cpu':
        arr = array_to(arr, to_device(dev))
    p = cls.__new__(cls, Tensor._make(arr), requires_grad) if not issubclass(cls, UninitializedTensorMixin) \
        else cls.__new__(cls, requires_grad)
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


class UninitializedTensorMixin:
    """Shared behaviour of lazy placeholders: ``materialize(shape, device=None, dtype=None)`` turns the
    object into its initialized class in place."""

    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Allocate the data (uninitialized) and become the real class."""
        dev = to_device(device) if device is not None else self.device
        dt = dtypes.to_dtype(dtype) if dtype is not None else self.dtype
        if isinstance(shape, int):
            shape = (shape,)
        self._data = xp_for(dev).empty(tuple(shape), dtype=dt.np)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def numel(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before accessing their attributes.")

    def __repr__(self):
        return f'<{type(self).__name__}>'

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (np.empty((0,), self._data.dtype), str(self.device), self._rg, type(self), None))


def _new_uninitialized(cls, requires_grad, device, dtype):
    """An empty placeholder instance of ``cls`` on ``device`` with ``dtype`` (defaults: CPU, default dtype)."""
    dev = to_device(device) if device is not None else CPU
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    obj = Tensor.__new__(cls)
    _init_tensor(obj, xp_for(dev).empty((0,), dtype=dt.np), requires_grad)
    return obj


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (used by the Lazy modules)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _new_uninitialized(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        new = type(self)(self._rg, self.device, self.dtype)
        memo[id(self)] = new
        return new


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (used by the Lazy modules)."""

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
