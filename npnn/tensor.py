"""Tensor: one array (NumPy or CuPy) plus autograd metadata; its methods call the ops."""
import numbers

import numpy as np

from .backend import dtypes
from .backend.device import CPU, array_module, array_to, device_of, to_device
from .autograd.grad_mode import state
from .autograd import ops as _ops
from .autograd.node import Node


def _not_comparable(other):
    """True for operands a Tensor comparison does not take (None, str, dtype objects, arbitrary objects)."""
    return not (isinstance(other, (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple))
                or hasattr(other, '__cuda_array_interface__'))  # a CuPy array


class Tensor:
    """A multi-dimensional array with autograd, like ``torch.Tensor``.

    ``Tensor(data)`` copies ``data`` as the default float dtype; ``Tensor(*sizes)`` allocates that shape.
    Prefer ``npnn.tensor`` and the creation functions.
    """

    __slots__ = ('_data', '_rg', '_node', '_vc', '__weakref__', '__dict__')
    __array_priority__ = 1000  # numpy scalars/arrays on the left defer to our reflected operators
    # rarely set per-tensor state lives in the instance dict, with these class defaults (keeps _make lean)
    _grad = None
    _out = 0
    _hooks = None
    _post_acc_hooks = None
    _retains = False
    # a differentiable view remembers the tensor owning its memory and the version it last agreed with;
    # in-place writes through the view re-record the root (CopySlices) and stale views re-derive from it
    _view_root = None
    _view_ver = 0
    _inference = False  # made under inference_mode

    def __init__(self, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            d = args[0]
            arr = d._data.astype(dtypes.get_default_dtype().np) if isinstance(d, Tensor) else \
                np.asarray(d, dtype=dtypes.get_default_dtype().np)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = np.empty(tuple(int(s) for s in shape), dtype=dtypes.get_default_dtype().np)
        dev = to_device(device) if device is not None else CPU
        self._data = array_to(arr, dev)
        self._rg = False
        self._node = None
        self._vc = [0]

    _make = staticmethod(_ops._util.make)  # the fast constructor ops use: wraps an array without checks

    def _edge(self):
        if self._view_root is not None and self._view_ver != self._vc[0]:
            self._refresh_view()
        n = self._node
        if n is None:
            return self
        if n.n_outputs == 1:
            return n
        return (n, self._out)

    # --- attributes -----------------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the size of one dim."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_ops.norm_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == 'cuda'

    @property
    def is_cpu(self):
        return self.device.type == 'cpu'

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.dtype.itemsize

    @property
    def itemsize(self):
        return self._data.dtype.itemsize

    @property
    def nbytes(self):
        return int(self._data.nbytes)

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if self._node is not None:
            if not value:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                                   "computed variable in a subgraph that doesn't require differentiation use "
                                   "var_no_grad = var.detach().")
            return
        if value and self._data.dtype.kind not in 'fc':
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if value and self._inference and not state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        self._rg = bool(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place; returns self."""
        self.requires_grad = requires_grad
        return self

    def is_inference(self):
        """True for a tensor made under ``inference_mode`` (or detached from one)."""
        return self._inference

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        if self._view_root is not None and self._view_ver != self._vc[0]:
            self._refresh_view()
        return self._node

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if type(value._data) is not type(self._data):
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """A tensor sharing this one's array, outside autograd."""
        t = Tensor._make(self._data)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def T(self):
        nd = self._data.ndim
        return self.permute(tuple(range(nd - 1, -1, -1))) if nd > 1 else self

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T.conj() if self.is_complex() else self.T

    @property
    def mH(self):
        return self.mT.conj() if self.is_complex() else self.mT

    @property
    def output_nr(self):
        return self._out

    @property
    def _version(self):
        return self._vc[0]

    @property
    def is_sparse(self):
        return False

    @property
    def layout(self):
        return 'strided'

    @property
    def real(self):
        from . import spectral  # complex helpers live with the spectral code
        return spectral.real(self)

    @property
    def imag(self):
        from . import spectral
        return spectral.imag(self)

    def is_floating_point(self):
        return self._data.dtype.kind == 'f'

    def is_complex(self):
        return self._data.dtype.kind == 'c'

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def is_signed(self):
        return self._data.dtype.kind in 'fic'

    def data_ptr(self):
        a = self._data
        return a.__array_interface__['data'][0] if isinstance(a, np.ndarray) else a.data.ptr

    def stride(self, dim=None):
        st = tuple(s // self._data.dtype.itemsize for s in self._data.strides)
        return st if dim is None else st[_ops.norm_dim(dim, self._data.ndim)]

    def storage_offset(self):
        """Offset, in elements, of this tensor's first element from the start of the memory it views."""
        a = root = self._data
        while isinstance(root.base, type(a)):
            root = root.base
        if root is a:
            return 0
        return (self.data_ptr() - Tensor._make(root).data_ptr()) // a.dtype.itemsize

    def get_device(self):
        d = self.device
        return -1 if d.type == 'cpu' else d.index

    def conj(self):
        from . import spectral
        return spectral.conj(self)

    def angle(self):
        from . import spectral
        return spectral.angle(self)

    # npnn's conj and neg always produce materialised values (no lazy conjugate/negative bits), so these
    # are identities that let code written for PyTorch's lazy views run unchanged
    def resolve_conj(self):
        return self

    def resolve_neg(self):
        return self

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    def stft(self, *args, **kwargs):
        from . import spectral
        return spectral.stft(self, *args, **kwargs)

    def istft(self, *args, **kwargs):
        from . import spectral
        return spectral.istft(self, *args, **kwargs)

    # --- conversion -----------------------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item() if isinstance(self._data, np.ndarray) else self._data.item()

    def tolist(self):
        a = self._data
        return (a if isinstance(a, np.ndarray) else a.get()).tolist()

    def numpy(self, *, force=False):
        """The NumPy array (shared memory on the CPU)."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        a = self._data
        if not isinstance(a, np.ndarray):
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                                "copy the tensor to host memory first.")
            return a.get()
        return a

    def __array__(self, dtype=None, copy=None):
        a = array_to(self._data, CPU)
        return a if dtype is None else a.astype(dtype)

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def cpu(self):
        return self.to(CPU)

    def cuda(self, device=None, non_blocking=False):
        """A copy on the GPU (``cuda`` or ``cuda:N``)."""
        if device is None:
            dev = to_device('cuda')
        elif isinstance(device, int):
            dev = to_device(f'cuda:{device}')
        else:
            dev = to_device(device)
        return self.to(dev)

    def to(self, *args, **kwargs):
        """Convert dtype and/or device: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``."""
        dev, dt, copy = _parse_to(args, kwargs)
        r = self
        if dev is not None and dev != self.device:
            r = r._to_device_diff(dev)
        if dt is not None and dt.np != r._data.dtype:
            r = _ops.cast(r, dt.np)
        if copy and r is self:
            r = self.clone()
        return r

    def _to_device_diff(self, dev):
        arr = array_to(self._data, dev)
        if state.enabled and self._rg:
            from .autograd.ops.shape import ToCopyBackward0
            n = ToCopyBackward0((self,))
            n.dt, n.dev = None, self.device
            return Tensor._make(arr, n)
        return Tensor._make(arr)

    def _cast(self, np_dtype):
        return _ops.cast(self, np.dtype(np_dtype))

    def type(self, dtype=None, non_blocking=False):
        """The type name (no argument), or a copy cast to ``dtype``."""
        if dtype is None:
            return _type_name(self)
        if isinstance(dtype, str) and dtype.endswith('Tensor'):
            dtype = _TYPE_NAMES_REV.get(dtype.split('.')[-1], dtype)
        elif isinstance(dtype, type) and isinstance(getattr(dtype, 'dtype', None), dtypes.dtype):
            dtype = dtype.dtype  # a legacy type such as npnn.LongTensor
        return self.to(dtypes.to_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self._cast(np.float32)

    def double(self):
        return self._cast(np.float64)

    def half(self):
        return self._cast(np.float16)

    def bfloat16(self):
        if dtypes.bfloat16 is None:
            raise RuntimeError("bfloat16 needs the ml_dtypes package")
        return self._cast(dtypes.bfloat16.np)

    def long(self):
        return self._cast(np.int64)

    def int(self):
        return self._cast(np.int32)

    def short(self):
        return self._cast(np.int16)

    def char(self):
        return self._cast(np.int8)

    def byte(self):
        return self._cast(np.uint8)

    def bool(self):
        return self._cast(np.bool_)

    def cfloat(self):
        return self._cast(np.complex64)

    def cdouble(self):
        return self._cast(np.complex128)

    def adjoint(self):
        """The conjugate transpose of the last two dims."""
        return self.transpose(-2, -1).conj()

    def is_same_size(self, other):
        return self._data.shape == other._data.shape

    def is_nonzero(self):
        """``bool`` of a one-element tensor (PyTorch's error for any other size)."""
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self._data.size > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def isreal(self):
        """True where the element has no imaginary part (everywhere for real dtypes)."""
        if self._data.dtype.kind != 'c':
            return Tensor._make(array_module(self._data).ones(self._data.shape, dtype=bool))
        return Tensor._make(self._data.imag == 0)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (array_to(self._data, CPU), str(self.device), self._rg, type(self)))

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        new = type(self).__new__(type(self))
        new._init_leaf(self._data.copy(), self._rg)
        if self._grad is not None:
            new._grad = Tensor._make(self._grad._data.copy())
        import copy
        for k, v in self.__dict__.items():
            if k not in _AUTOGRAD_STATE:  # user attributes (e.g. on Parameters) are copied, hooks are not
                setattr(new, k, copy.deepcopy(v, memo))
        memo[id(self)] = new
        return new

    def _init_leaf(self, data, rg):
        """Initialise a bare instance (``cls.__new__``) as a leaf holding ``data``."""
        self._data = data
        self._rg = rg
        self._node = None
        self._vc = [0]

    # --- autograd -------------------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate gradients of this tensor into the leaves' ``.grad``."""
        from .autograd.functions import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A tensor sharing the data, cut from the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        if self._inference:
            t._inference = True
        return t

    def detach_(self):
        """Cut this tensor from the graph in place (it becomes a leaf)."""
        self._node = None
        self._rg = False
        self._view_root = None
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None or getattr(self, '_retains', False):
            return
        import weakref
        ref = weakref.ref(self)

        def hook(g):
            t = ref()
            if t is not None:
                if t._grad is None:
                    t._grad = Tensor._make(g._data.copy()) if not g._rg else g
                else:
                    t._grad = t._grad + g
        self._node._add_pre_hook(self._out, _RetainHook(hook))
        self._retains = True

    @property
    def retains_grad(self):
        return bool(getattr(self, '_retains', False)) and self._node is not None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            return self._node._add_pre_hook(self._out, hook)
        from .autograd.node import _Handle
        if self._hooks is None:
            self._hooks = {}
        h = _Handle(self._hooks, None)
        h._item = h.id
        self._hooks[h.id] = hook
        return h

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after backward has accumulated its ``.grad`` (e.g. to step an
        optimizer per parameter during backward); returns a removable handle."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd.node import _Handle
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        h = _Handle(self._post_acc_hooks, None)
        h._item = h.id
        self._post_acc_hooks[h.id] = hook
        return h

    def _check_inplace(self):
        if self._inference and not state.inference:
            raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
                               "a clone to get a normal tensor before doing inplace update.See "
                               "https://github.com/pytorch/rfcs/pull/17 for more details.")
        if self._node is None and self._rg and state.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        root = self._view_root
        if root is not None and root._node is None and root._rg and state.enabled:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")

    def _refresh_view(self):
        """The root was written in place since this view last agreed with it: the view's history becomes
        'this region of the root'."""
        root = self._view_root
        pos = _view_positions(root._data, self._data)
        self._view_ver = self._vc[0]
        if pos is None:  # no longer aliases the root (its storage was replaced)
            self._view_root = None
            return
        if root._rg:
            n = _ViewOfRootBackward((root,))
            n.pos, n.root_shape, n.view_shape = pos, root._data.shape, self._data.shape
            self._node, self._out, self._rg = n, 0, True

    def _after_inplace(self):
        """This view was written in place with a recorded history: re-record its root as the old root with the
        view's region replaced (PyTorch's CopySlices)."""
        root = self._view_root
        pos = _view_positions(root._data, self._data)
        self._view_ver = self._vc[0]
        if pos is None:
            self._view_root = None
            return
        n = _CopySlicesBackward((root._shallow(), self))
        n.pos, n.root_shape, n.view_shape = pos, root._data.shape, self._data.shape
        root._node, root._out, root._rg = n, 0, True

    def _shallow(self):
        """A new tensor object with this one's array and graph position (for rebasing in-place ops)."""
        if self._view_root is not None and self._view_ver != self._vc[0]:
            self._refresh_view()
        t = Tensor._make(self._data, self._node, self._out)
        t._rg = self._rg
        return t

    def _snapshot(self):
        """Like ``_shallow`` but with a copy of the data, kept intact when self is overwritten."""
        if self._view_root is not None and self._view_ver != self._vc[0]:
            self._refresh_view()
        t = Tensor._make(self._data.copy(), self._node, self._out)
        t._rg = self._rg
        return t

    def _rebase(self, node):
        self._node = node
        self._out = 0
        self._rg = True
        if self._view_root is not None:
            self._after_inplace()

    def _inplace_from(self, result):
        """Write an out-of-place result into this tensor's memory and adopt its history."""
        a, r = self._data, result._data
        if r.shape != a.shape:
            try:
                np.broadcast_shapes(r.shape, a.shape)
                ok = np.broadcast_shapes(r.shape, a.shape) == a.shape
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape "
                                   f"{list(np.broadcast_shapes(r.shape, a.shape)) if _bc_ok(r.shape, a.shape) else list(r.shape)}")
        if r.dtype != a.dtype and not np.can_cast(r.dtype, a.dtype, 'same_kind') and \
                not (r.dtype.kind == 'b'):
            raise RuntimeError(f"result type {_kind_name(r.dtype)} can't be cast to the desired output type "
                               f"{_kind_name(a.dtype)}")
        a[...] = r
        self._vc[0] += 1
        if result._node is not None:
            self._node = result._node
            self._out = result._out
            self._rg = True
            if self._view_root is not None:
                self._after_inplace()

    def _inplace(self, fn, *args, **kwargs):
        """Run the out-of-place op ``fn`` and write its result into self (recording a rebase)."""
        self._check_inplace()
        if state.enabled and (self._rg or any(isinstance(x, Tensor) and x._rg for x in args)):
            src = self._snapshot()
            self._inplace_from(fn(src, *args, **kwargs))
        else:
            self._inplace_from(fn(self, *args, **kwargs))
        return self

    def _assign_out(self, res):
        """Implement ``out=``: resize to the result and copy it in."""
        if self._rg and state.enabled and res._rg:
            raise RuntimeError("functions with out=... arguments don't support automatic differentiation, but "
                               "one of the arguments requires grad.")
        r = res._data
        if self._data.shape != r.shape:
            self._data = array_module(r).empty(r.shape, dtype=self._data.dtype)
        self._data[...] = r
        self._vc[0] += 1

    # --- operators ------------------------------------------------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(self, other)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.elementwise._rsub(self, other)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(self, other)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.rdiv(self, other)

    def __floordiv__(self, other):
        return _ops.div(self, other, rounding_mode='floor')

    def __rfloordiv__(self, other):
        return _ops.div(_ops.to_tensor_like(other, self), self, rounding_mode='floor')

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(_ops.to_tensor_like(other, self), self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.elementwise._rpow(self, other)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(_ops.to_tensor_like(other, self), self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        if self._data.dtype == np.bool_:
            return Tensor._make(~self._data)
        return _ops.bitwise_not(self)

    def __and__(self, other):
        return _ops.bitwise_and(self, other) if self._data.dtype != np.bool_ else _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.bitwise_or(self, other) if self._data.dtype != np.bool_ else _ops.logical_or(self, other)

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other) if self._data.dtype != np.bool_ else _ops.logical_xor(self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __lshift__(self, other):
        return Tensor._make(self._data << (other._data if isinstance(other, Tensor) else other))

    def __rshift__(self, other):
        return Tensor._make(self._data >> (other._data if isinstance(other, Tensor) else other))

    # Against None, a string or another non-numeric object PyTorch's comparisons return NotImplemented, so
    # ``t == None`` is False, ``t in (None, 'auto')`` works and ``t < 'x'`` raises Python's TypeError.
    def __eq__(self, other):
        return NotImplemented if _not_comparable(other) else _ops.eq(self, other)

    def __ne__(self, other):
        return NotImplemented if _not_comparable(other) else _ops.ne(self, other)

    def __lt__(self, other):
        return NotImplemented if _not_comparable(other) else _ops.lt(self, other)

    def __le__(self, other):
        return NotImplemented if _not_comparable(other) else _ops.le(self, other)

    def __gt__(self, other):
        return NotImplemented if _not_comparable(other) else _ops.gt(self, other)

    def __ge__(self, other):
        return NotImplemented if _not_comparable(other) else _ops.ge(self, other)

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __setitem__(self, key, value):
        _ops.setitem(self, key, value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __imod__(self, other):
        return self._inplace(_ops.remainder, other)

    def __ifloordiv__(self, other):
        return self._inplace(lambda a, b: _ops.div(a, b, rounding_mode='floor'), other)

    def __iand__(self, other):
        return self._inplace(Tensor.__and__, other)

    def __ior__(self, other):
        return self._inplace(Tensor.__or__, other)

    def __ixor__(self, other):
        return self._inplace(Tensor.__xor__, other)

    # fast in-place arithmetic (no recording: one ufunc with out=)
    def _fast_inplace(self, ufunc, other, alpha=1):
        a = self._data
        if isinstance(other, Tensor):
            b = other._data
            if type(b) is not type(a) and b.ndim:
                _ops.check_same_device(a, b)
        else:
            b = other
        if alpha != 1:
            b = b * alpha
        try:
            ufunc(a, b, out=a, casting='same_kind')
        except (TypeError, ValueError) as e:
            if 'broadcast' in str(e) or 'shape' in str(e):
                raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape "
                                   f"{list(np.broadcast_shapes(a.shape, np.shape(b)))}") from None
            raise RuntimeError(f"result type {_kind_name(np.result_type(a, b))} can't be cast to the desired "
                               f"output type {_kind_name(a.dtype)}") from None
        self._vc[0] += 1
        return self

    def _needs_record(self, other):
        return state.enabled and (self._rg or (isinstance(other, Tensor) and other._rg))

    def add_(self, other, *, alpha=1):
        """In-place ``self += alpha * other``."""
        if self._needs_record(other):
            return self._inplace(_ops.add, other, alpha=alpha)
        self._check_inplace()
        return self._fast_inplace(array_module(self._data).add, other, alpha)

    def sub_(self, other, *, alpha=1):
        if self._needs_record(other):
            return self._inplace(_ops.sub, other, alpha=alpha)
        self._check_inplace()
        return self._fast_inplace(array_module(self._data).subtract, other, alpha)

    def mul_(self, other):
        if self._needs_record(other):
            return self._inplace(_ops.mul, other)
        self._check_inplace()
        return self._fast_inplace(array_module(self._data).multiply, other)

    def div_(self, other, *, rounding_mode=None):
        if self._needs_record(other) or rounding_mode is not None or self._data.dtype.kind != 'f':
            return self._inplace(_ops.div, other, rounding_mode=rounding_mode)
        self._check_inplace()
        return self._fast_inplace(array_module(self._data).true_divide, other)

    def zero_(self):
        """Fill with zeros in place."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` in place (a 0-dim tensor value is differentiable)."""
        self._check_inplace()
        src = value if isinstance(value, Tensor) else None
        v = value._data if src is not None else value
        if src is not None and src._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{src._data.ndim} dimensions.")
        self._overwrite(v, src, 'FillBackward0' if not isinstance(v, int) or v != 0 else 'ZeroBackward0')
        return self

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast, cast, moved to this device) into self in place; differentiable."""
        self._check_inplace()
        if not isinstance(src, Tensor):
            src = Tensor._make(np.asarray(src))
        s = src._data
        if s.shape != self._data.shape and not _bc_ok(s.shape, self._data.shape) or \
                (s.shape != self._data.shape and np.broadcast_shapes(s.shape, self._data.shape) != self._data.shape):
            raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must "
                               f"match the size of tensor b ({s.shape[-1] if s.ndim else 1}) at non-singleton "
                               "dimension")
        self._overwrite(array_to(s, self.device), src, 'CopyBackwards')
        return self

    def _overwrite(self, value, src, name):
        """Write ``value`` into self; when grads flow, self's history becomes a node giving zero gradient to
        the old value and the (reduced, cast, moved) gradient to ``src``."""
        rec = state.enabled and (self._rg or (src is not None and src._rg))
        old = self._shallow() if rec else None
        self._data[...] = value
        self._vc[0] += 1
        if rec:
            n = _OverwriteBackward((old, src))
            n.src_spec = (src._data.shape, src._data.dtype, src.device) if src is not None else None
            n.label = name
            self._rebase(n)

    def _inplace_view(self, fn, *args):
        """Shape ops in place (``squeeze_`` ...): self takes the view's shape; a non-leaf adopts its history."""
        if self._node is not None and state.enabled:
            r = fn(self._shallow(), *args)
            self._data = r._data
            self._rebase(r._node) if r._node is not None else None
        else:
            self._data = fn(self, *args)._data
        return self

    def squeeze_(self, dim=None):
        return self._inplace_view(_ops.squeeze, dim)

    def unsqueeze_(self, dim):
        return self._inplace_view(_ops.unsqueeze, dim)

    def t_(self):
        return self._inplace_view(_ops.t)

    def transpose_(self, dim0, dim1):
        return self._inplace_view(_ops.transpose, dim0, dim1)

    swapdims_ = swapaxes_ = transpose_

    def resize_(self, *sizes):
        """Resize in place: keeps the leading elements, new ones uninitialised (zeros here)."""
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
        xp = array_module(self._data)
        flat = self._data.reshape(-1)
        n = int(np.prod(shape, dtype=np.int64))
        new = xp.zeros(n, dtype=self._data.dtype)
        k = min(n, flat.size)
        new[:k] = flat[:k]
        self._data = new.reshape(shape)
        self._vc[0] += 1
        return self

    def resize_as_(self, other):
        return self.resize_(other.shape)

    def uniform_(self, a=0, b=1, *, generator=None):
        from . import creation
        return self._fill_random(creation.rand, generator, a, b)

    def normal_(self, mean=0, std=1, *, generator=None):
        from . import creation
        return self._fill_random(creation.randn, generator, mean, std)

    def _fill_random(self, fn, generator, loc, scale):
        self._check_inplace()
        with _NoRecord():
            r = fn(*self._data.shape, dtype=self.dtype, device=self.device, generator=generator)
        if fn.__name__ == 'rand':
            self._data[...] = r._data * (scale - loc) + loc
        else:
            self._data[...] = r._data * scale + loc
        self._vc[0] += 1
        return self

    def bernoulli(self, *args, **kwargs):
        """0/1 samples with probabilities ``self`` (or ``p``); ``npnn.bernoulli(self, ...)``."""
        from . import creation
        return creation.bernoulli(self, *args, **kwargs)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Category indices drawn from the rows of ``self``; ``npnn.multinomial(self, ...)``."""
        from . import creation
        return creation.multinomial(self, num_samples, replacement, generator=generator)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal in place (gradients there become zero)."""
        a = self._data
        if a.ndim < 2:
            raise RuntimeError("dimensions must larger than 1")
        if a.ndim > 2 and len(set(a.shape)) != 1:
            raise RuntimeError("all dimensions of input must be of equal length")
        xp = array_module(a)
        mask = xp.zeros(a.shape, dtype=bool)
        xp.fill_diagonal(mask, True, wrap=wrap)
        return self.masked_fill_(Tensor._make(mask), fill_value)

    def bernoulli_(self, p=0.5, *, generator=None):
        self._check_inplace()
        from . import creation
        r = creation.rand(*self._data.shape, device=self.device, generator=generator,
                          dtype=dtypes.float64 if self._data.dtype == np.float64 else dtypes.float32)
        pv = p._data if isinstance(p, Tensor) else p
        self._data[...] = (r._data < pv)
        self._vc[0] += 1
        return self

    def random_(self, from_=0, to=None, *, generator=None):
        self._check_inplace()
        from . import creation
        if to is None:
            to, from_ = (from_ if from_ else (2 ** 24 if self.is_floating_point() else 2 ** 63 - 1)), 0
        r = creation.randint(from_, to, self._data.shape, device=self.device, generator=generator)
        self._data[...] = r._data
        self._vc[0] += 1
        return self

    def exponential_(self, lambd=1.0, *, generator=None):
        self._check_inplace()
        from . import creation
        r = creation.rand(*self._data.shape, dtype=self.dtype, device=self.device, generator=generator)
        xp = array_module(r._data)
        self._data[...] = -xp.log1p(-r._data) / lambd
        self._vc[0] += 1
        return self

    def geometric_(self, p, *, generator=None):
        self._check_inplace()
        from . import creation
        r = creation.rand(*self._data.shape, dtype=dtypes.float64, device=self.device, generator=generator)
        xp = array_module(r._data)
        self._data[...] = xp.ceil(xp.log1p(-r._data) / np.log1p(-p))
        self._vc[0] += 1
        return self

    def log_normal_(self, mean=1, std=2, *, generator=None):
        self.normal_(mean, std, generator=generator)
        self._data[...] = array_module(self._data).exp(self._data)
        return self

    def cauchy_(self, median=0, sigma=1, *, generator=None):
        self._check_inplace()
        from . import creation
        r = creation.rand(*self._data.shape, dtype=self.dtype, device=self.device, generator=generator)
        self._data[...] = median + sigma * array_module(r._data).tan(np.pi * (r._data - 0.5))
        self._vc[0] += 1
        return self

    def set_(self, source):
        self._data = source._data
        self._vc = source._vc
        return self

    def share_memory_(self):
        return self

    def is_shared(self):
        return False

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from . import creation
        return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                               requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from . import creation
        return creation.zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                              requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from . import creation
        return creation.ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from . import creation
        return creation.empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                              requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from . import creation
        return creation.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                             requires_grad=requires_grad)

    def new(self, *args, device=None):
        """Legacy constructor with this tensor's dtype and device: ``x.new()`` (empty), ``x.new(2, 3)`` or
        ``x.new(Size)`` (uninitialised of that size), ``x.new(data)`` for a list, tuple or array."""
        if not args:
            return self.new_empty((0,), device=device)
        if len(args) == 1 and not isinstance(args[0], (numbers.Integral, Size)):
            return self.new_tensor(args[0], device=device)
        return self.new_empty(*args, device=device)




class _OverwriteBackward(Node):
    """Backward of fill_/zero_/copy_ on a tensor in a graph: zero for the overwritten value, the gradient
    (reduced to its shape, cast and moved back) for the source."""

    def name(self):
        return self.label

    def backward(self, g):
        gs = None
        if self.next[1] is not None:
            shape, dt, dev = self.src_spec
            gs = _ops.sum_to(g, shape)
            if gs._data.dtype != dt:
                gs = gs._cast(dt)
            if gs.device != dev:
                gs = gs.to(dev)
        return (g * 0.0 if self.next[0] is not None else None), gs


_AUTOGRAD_STATE = frozenset({'_grad', '_out', '_hooks', '_post_acc_hooks', '_retains', '_view_root',
                             '_view_ver'})


def _array_address(a):
    iface = getattr(a, '__array_interface__', None)
    return iface['data'][0] if iface is not None else a.data.ptr


def _view_positions(root, view):
    """Flat (C-order) positions in ``root`` of each element of ``view``, an array aliasing root's memory;
    None when it does not (or reinterprets the bytes)."""
    if root.dtype.itemsize != view.dtype.itemsize:
        return None

    def byte_offsets(shape, strides):
        off = np.zeros(shape, dtype=np.int64)
        for d, (n, st) in enumerate(zip(shape, strides)):
            off += (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (len(shape) - d - 1))
        return off.ravel()
    vo = byte_offsets(view.shape, view.strides) + (_array_address(view) - _array_address(root))
    if root.flags.c_contiguous:  # offsets are the positions times the item size
        pos, rem = np.divmod(vo, root.dtype.itemsize)
        if pos.size and (rem.any() or pos.min() < 0 or pos.max() >= root.size):
            return None
        return pos.reshape(view.shape)
    ro = byte_offsets(root.shape, root.strides)
    order = np.argsort(ro, kind='stable')
    srt = ro[order]
    loc = np.searchsorted(srt, vo)
    if loc.size and (loc.max() >= srt.size or not np.array_equal(srt[loc], vo)):
        return None
    return order[loc].reshape(view.shape)


def _positions_on(pos, like):
    return Tensor._make(array_to(pos.ravel(), device_of(like._data)) if not isinstance(like._data, np.ndarray)
                        else pos.ravel())


class _CopySlicesBackward(Node):
    """The root after an in-place write through one of its views: the view's gradient is the region, the
    old root's gradient is the rest (zero on the region)."""
    saves = False

    def name(self):
        return 'CopySlices'

    def backward(self, g):
        idx = _positions_on(self.pos, g)
        flat = g.reshape(-1)
        g_view = flat[idx].reshape(self.view_shape) if self.next[1] is not None else None
        g_old = None
        if self.next[0] is not None:
            mask = array_module(g._data).zeros(flat.shape[0], dtype=bool)
            mask[idx._data] = True
            g_old = flat.masked_fill(Tensor._make(mask), 0).reshape(self.root_shape)
        return g_old, g_view


class _ViewOfRootBackward(Node):
    """A view re-derived from its (rewritten) root: its gradient lands on the viewed region of the root."""
    saves = False

    def name(self):
        return 'AsStridedBackward0'

    def backward(self, g):
        idx = _positions_on(self.pos, g)
        n = 1
        for s in self.root_shape:
            n *= s
        return (g.new_zeros(n).index_add(0, idx, g.reshape(-1)).reshape(self.root_shape),)


class _RetainHook:
    """Marks the pre-hook retain_grad installs (so it runs as an observer)."""
    _runs_last = True

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, g):
        self.fn(g)
        return None


class _NoRecord:
    def __enter__(self):
        self.prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc):
        state.enabled = self.prev


def _bc_ok(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _kind_name(npd):
    return {'f': 'Float', 'i': 'Long', 'u': 'Byte', 'b': 'Bool', 'c': 'ComplexFloat'}[np.dtype(npd).kind]


class Size(tuple):
    """The shape of a tensor: a tuple with PyTorch's repr ``npnn.Size([2, 3])``."""

    def __repr__(self):
        return f'npnn.Size({list(self)})'

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, k):
        r = tuple.__getitem__(self, k)
        return Size(r) if isinstance(k, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


_TYPE_NAMES = {np.dtype(np.float32): 'FloatTensor', np.dtype(np.float64): 'DoubleTensor',
               np.dtype(np.float16): 'HalfTensor', np.dtype(np.int64): 'LongTensor',
               np.dtype(np.int32): 'IntTensor', np.dtype(np.int16): 'ShortTensor', np.dtype(np.int8): 'CharTensor',
               np.dtype(np.uint8): 'ByteTensor', np.dtype(np.bool_): 'BoolTensor',
               np.dtype(np.complex64): 'ComplexFloatTensor', np.dtype(np.complex128): 'ComplexDoubleTensor'}
_TYPE_NAMES_REV = {v: dtypes.from_numpy_dtype(k) for k, v in _TYPE_NAMES.items()}


def _type_name(t):
    base = _TYPE_NAMES[t._data.dtype]
    return ('npnn.cuda.' if t.device.type == 'cuda' else 'npnn.') + base


def _parse_to(args, kwargs):
    dev = kwargs.get('device')
    dt = kwargs.get('dtype')
    copy = kwargs.get('copy', False)
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, (dtypes.dtype, type)) or (isinstance(a, np.dtype)):
            dt = a
        elif isinstance(a, str) and a.replace('torch.', '').replace('npnn.', '') in dtypes._names and \
                not a.startswith(('cpu', 'cuda')):
            dt = a
        elif isinstance(a, bool):
            pass  # non_blocking / copy positional flags
        elif a is not None:
            dev = a
    return (to_device(dev) if dev is not None else None), dtypes.to_dtype(dt), copy


def _rebuild(arr, dev, rg, cls=Tensor):
    from .backend.device import device as _device
    t = Tensor._make(array_to(arr, to_device(_device(dev))) if dev != 'cpu' else arr)
    t._rg = rg
    if cls is not Tensor:
        t2 = cls.__new__(cls)
        t2._init_leaf(t._data, rg)
        return t2
    return t


def _install_methods():
    """Attach the ops as Tensor methods (``x.exp()`` is ``npnn.exp(x)``)."""
    for name in _ops.TENSOR_METHODS:
        fn = getattr(_ops, name)
        if name not in Tensor.__dict__:
            setattr(Tensor, name, fn)
    # in-place variants computed out of place and written back
    for name in _ops.INPLACE_METHODS:
        if name + '_' in Tensor.__dict__:
            continue
        fn = getattr(_ops, name)

        def method(self, *args, _fn=fn, **kwargs):
            return self._inplace(_fn, *args, **kwargs)
        method.__name__ = name + '_'
        setattr(Tensor, name + '_', method)


_install_methods()


def _install_linalg_methods():
    """Tensor methods for the old top-level linear-algebra names (``x.inverse()`` ...)."""
    from .linalg import _toplevel
    for name in ('inverse det logdet slogdet pinverse cholesky cholesky_solve cholesky_inverse qr svd lu '
                 'lu_solve matrix_power matrix_exp triangular_solve').split():
        if name not in Tensor.__dict__:
            setattr(Tensor, name, getattr(_toplevel, name))
_ops._util._TENSOR = Tensor
