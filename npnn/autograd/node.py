"""Graph nodes: one per recorded op, numbered in tape order, holding the op's backward rule."""
import itertools

from .grad_mode import state, inference_regions

_tape = itertools.count()


class Node:
    """A recorded operation. ``next`` links to the inputs' nodes (a Node, ``(Node, output_index)`` for
    multi-output nodes, a leaf Tensor, or None where no gradient flows). Subclasses implement
    ``backward(grad)`` returning one gradient (Tensor or None) per input, written with tensor ops so
    that ``create_graph=True`` records them.
    """

    __slots__ = ('seq', 'next', '__weakref__', '__dict__')
    n_outputs = 1
    saves = True  # False for nodes whose backward needs nothing saved
    # per-node state that most nodes never set: class defaults, instance dict when set
    saved = None
    versions = None
    out_vc = None
    out_data = None
    pre_hooks = None
    hooks = None
    released = False

    def __init__(self, inputs):
        self.seq = next(_tape)
        self.next = tuple([t._edge() if t is not None and t._rg else None for t in inputs])

    # --- saving -------------------------------------------------------------------------------------------
    def save(self, *tensors):
        """Save input tensors for backward; an in-place change to them is detected at backward time."""
        if inference_regions[1]:  # inference tensors exist only once an inference_mode region was opened
            _check_not_inference(tensors)
        self.saved = tensors
        self.versions = tuple([t._vc[0] if t is not None else 0 for t in tensors])

    def save_output(self, out):
        """Save the op's output array (no reference cycle): ``output()`` rebuilds a tensor on this node."""
        self.out_data = out._data
        self.out_vc = out._vc
        self.out_version = out._vc[0]

    def output_array(self):
        """The saved output array (checked against in-place changes)."""
        if self.released:
            _raise_released()
        if self.out_vc[0] != self.out_version:
            _raise_modified(self.out_data, self.out_vc[0], self.out_version, self)
        return self.out_data

    def output(self):
        """The saved output as a tensor; under create_graph it stays connected to this node."""
        from .ops._util import _TENSOR
        data = self.output_array()
        if state.enabled:
            return _TENSOR._make(data, self, 0)
        return _TENSOR._make(data)

    def saved_tensors(self):
        s = self.saved
        if s is None:
            if self.released:
                _raise_released()
            return ()
        for t, v in zip(s, self.versions):
            if t is not None and t._vc[0] != v:
                _raise_modified(t._data, t._vc[0], v, self)
        return s

    def release(self):
        if self.saves:
            self.released = True
            self.saved = None
            self.out_data = None

    # --- introspection (grad_fn API) ----------------------------------------------------------------------
    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        out = []
        for e in self.next:
            if e is None:
                out.append((None, 0))
            elif isinstance(e, Node):
                out.append((e, 0))
            elif type(e) is tuple:
                out.append(e)
            else:
                out.append((AccumulateGrad(e), 0))
        return tuple(out)

    def register_hook(self, fn):
        """Hook called as ``fn(grad_inputs, grad_outputs)`` after this node's backward."""
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)
        return _Handle(self.hooks, fn)

    def register_prehook(self, fn):
        """Hook called as ``fn(grad_outputs)`` before this node's backward; may return replacements."""
        return self._add_pre_hook(-1, fn)

    def _add_pre_hook(self, idx, fn):
        if self.pre_hooks is None:
            self.pre_hooks = []
        entry = (idx, fn)
        self.pre_hooks.append(entry)
        return _Handle(self.pre_hooks, entry)

    def __repr__(self):
        return f'<{type(self).__name__} object at {id(self):#x}>'

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError


class AccumulateGrad:
    """The grad_fn-like view of a leaf (only for ``next_functions`` introspection)."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return 'AccumulateGrad'

    next_functions = ()


class _Handle:
    """Removable handle returned by hook registration."""

    _next_id = itertools.count()

    def __init__(self, container, item):
        self._container = container
        self._item = item
        self.id = next(self._next_id)

    def remove(self):
        c = self._container
        if isinstance(c, dict):
            c.pop(self._item, None)
        else:
            try:
                c.remove(self._item)
            except ValueError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _check_not_inference(tensors):
    for t in tensors:
        if getattr(t, '_inference', False):
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference "
                "mode in computation tracked by autograd. To work around this, you can make a clone to get a "
                "normal tensor and use it in autograd, or use `no_grad()` instead of `inference_mode()`.")


def _raise_released():
    raise RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors after they have "
        "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
        "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
        "or if you need to access saved tensors after calling backward.")


def _raise_modified(arr, now, expected, node):
    from ..backend.dtypes import from_numpy_dtype
    shape = list(arr.shape) if arr is not None else []
    dt = from_numpy_dtype(arr.dtype).name if arr is not None else '?'
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[npnn.{dt} {shape}], which is output 0 of {type(node).__name__}, is at version {now}; expected "
        f"version {expected} instead. Hint: the backtrace further above can point at the operation that "
        "failed to compute its gradient.")
