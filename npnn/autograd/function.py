"""``autograd.Function``: user-defined ops with a custom backward."""
from .grad_mode import state
from .node import Node


class FunctionCtx:
    """The ``ctx`` API mixed into a custom Function's node."""

    def save_for_backward(self, *tensors):
        self.save(*tensors)

    @property
    def saved_tensors(self):
        return Node.saved_tensors(self)

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class BackwardCFunction(FunctionCtx, Node):
    """The node of one ``Function.apply`` call; it is also the ``ctx``."""
    n_outputs = 1

    def __init__(self, fn_cls, inputs, tensor_inputs):
        Node.__init__(self, tensor_inputs)
        self._fn = fn_cls
        self._input_map = inputs
        # one flag per forward argument, as PyTorch: False for non-tensor arguments
        edges = iter(self.next)
        self.needs_input_grad = tuple(next(edges) is not None if any(a is t for t in tensor_inputs) else False
                                      for a in inputs)
        self.materialize_grads = True
        self._non_diff = set()
        self._dirty = set()
        self._shapes = None

    def name(self):
        return self._fn.__name__ + 'Backward'

    def backward(self, grads):
        from ..tensor import Tensor
        if self.n_outputs == 1:
            grads = [grads]
        grads = list(grads)
        if self.materialize_grads:
            for i, g in enumerate(grads):
                if g is None:
                    shape, arr_mod, dt = self._shapes[i]
                    grads[i] = Tensor._make(arr_mod.zeros(shape, dtype=dt))
        res = self._fn.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        # the user returns one gradient per forward argument; keep those of tensor arguments
        if len(res) < len(self._input_map):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                               f"{len(self._input_map)}, got {len(res)})")
        out = []
        for pos in self._tensor_positions:
            g = res[pos]
            out.append(g)
        return tuple(out)


class _FunctionMeta(type):
    """Gives each Function subclass its own node class, ``<Name>Backward``, as PyTorch does, so that
    ``type(y.grad_fn).__name__`` and ``repr(y.grad_fn)`` name the user's function."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + 'Backward', (BackwardCFunction,), {'_forward_cls': cls})


class Function(metaclass=_FunctionMeta):
    """Base class for custom ops: define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` and call
    ``Fn.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor
        from ..backend.device import array_module
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensor_inputs = [args[i] for i in tensor_pos]
        record = state.enabled and any(t._rg for t in tensor_inputs)
        ctx = cls._backward_cls(cls, args, tensor_inputs)
        ctx._tensor_positions = tensor_pos
        prev = state.enabled
        state.enabled = False
        try:
            if cls.setup_context is not Function.setup_context and _overrides_forward_without_ctx(cls):
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        finally:
            state.enabled = prev
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        if not record:
            return out
        ctx.n_outputs = len(outs)
        ctx._shapes = []
        wrapped = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor):
                ctx._shapes.append((o._data.shape, array_module(o._data), o._data.dtype))
                if id(o) in ctx._non_diff:
                    wrapped.append(o)
                    continue
                if id(o) in ctx._dirty:
                    o._vc[0] += 1
                if any(o is t for t in tensor_inputs) and id(o) not in ctx._dirty:
                    o = o.detach()  # returning an input as-is gives a new view of it
                node_ref = ctx if ctx.n_outputs > 1 else ctx
                o._node = node_ref
                o._out = i
                o._rg = o._data.dtype.kind in 'fc'
                wrapped.append(o)
            else:
                ctx._shapes.append(((), None, None))
                wrapped.append(o)
        if ctx.n_outputs > 1:
            # multi-output nodes are addressed by (node, index) edges
            pass
        return wrapped[0] if single else tuple(wrapped)


def _overrides_forward_without_ctx(cls):
    import inspect
    try:
        params = list(inspect.signature(cls.forward).parameters)
    except (TypeError, ValueError):
        return False
    return not params or params[0] != 'ctx'


class once_differentiable:
    """Decorator accepted for compatibility (backward is run without building a graph)."""

    def __new__(cls, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(ctx, *args):
            prev = state.enabled
            state.enabled = False
            try:
                return fn(ctx, *args)
            finally:
                state.enabled = prev
        return wrapper
