"""Reverse-mode execution: run the nodes reachable from the roots in reverse tape order."""
import heapq
from heapq import heappop, heappush

import numpy as np

from ..backend.device import on_device, array_module

from .grad_mode import state
from .node import Node

# set by the autograd profiler while it runs: called as ``observe(node, grads)`` in place of ``node.backward(grads)``
_node_observer = None


def run_backward(roots, grad_roots, retain_graph=False, create_graph=False, inputs=None, accumulate=True,
                 allow_unused=False):
    """Backpropagate ``grad_roots`` from ``roots``.

    With ``accumulate`` the leaves' (or ``inputs``') ``.grad`` is accumulated; otherwise the gradients of
    ``inputs`` are returned in order (``autograd.grad``). Like PyTorch, backward never warns about inf or
    nan it produces (d/dx sqrt(x) at 0, 0 * inf ...): NumPy's floating-point warnings are off while it runs.
    """
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        return _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, accumulate, allow_unused)


def _run_backward(roots, grad_roots, retain_graph, create_graph, inputs, accumulate, allow_unused):
    add = _add_tensors if create_graph else _ArraySum()
    observe = _node_observer
    check_nan = state.anomaly and state.anomaly_check_nan  # read once, not per node
    buffers = {}       # node -> grad (or list of grads for multi-output nodes)
    heap = []
    leaf_grads = {}    # id(leaf) -> [leaf, grad]
    # capture points for `inputs`
    capture = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            e = t._edge() if t._rg else None
            if e is None:
                continue
            capture.setdefault(_key(e), []).append(i)

    for r, g in zip(roots, grad_roots):
        e = r._edge() if r._rg else None
        if e is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        _push(e, g, buffers, heap, leaf_grads, add)

    captured = [None] * (len(inputs) if inputs is not None else 0)
    owned = add.owned if not create_graph else ()  # running sums this pass may add into in place
    prev_enabled = state.enabled
    state.enabled = create_graph
    try:
        while heap:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
            if owned and type(grads) is not list:
                owned.discard(grads)
            if node.pre_hooks:
                grads = _run_pre_hooks(node, grads)
            if capture is not None:
                if node.n_outputs == 1:
                    idxs = capture.get(node)
                    if idxs:
                        for i in idxs:
                            captured[i] = grads
                else:
                    for k, g in enumerate(grads):
                        for i in capture.get((node, k), ()):
                            captured[i] = g
            if node.released:
                from .node import _raise_released
                _raise_released()
            g0 = grads if type(grads) is not list else next((g for g in grads if g is not None), None)
            if g0 is not None and type(g0._data) is not _ndarray:  # GPU work runs under its array's device
                with on_device(g0._data):
                    in_grads = node.backward(grads) if observe is None else observe(node, grads)
            elif observe is None:
                in_grads = node.backward(grads)
            else:
                in_grads = observe(node, grads)
            if node.hooks:
                for h in node.hooks:
                    r = h(in_grads if isinstance(in_grads, tuple) else (in_grads,),
                          grads if isinstance(grads, list) else (grads,))
                    if r is not None:
                        in_grads = tuple(r)
            if not retain_graph and node.saves:
                node.release()
            nxt = node.next
            if type(in_grads) is not tuple:
                in_grads = (in_grads,) if in_grads is None or not isinstance(in_grads, (list,)) else tuple(in_grads)
            if len(in_grads) != len(nxt):
                raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients (expected "
                                   f"{len(nxt)}, got {len(in_grads)})")
            if check_nan:
                _check_nan(node, in_grads)
            for e, g in zip(nxt, in_grads):
                if e is None or g is None:
                    continue
                if e.__class__ is not tuple and isinstance(e, Node):  # the common case, inlined
                    cur = buffers.get(e, _MISSING)
                    if cur is _MISSING:
                        buffers[e] = g
                        heappush(heap, (-e.seq, e))
                    else:
                        buffers[e] = add(cur, g)
                elif type(e) is not tuple:  # a leaf
                    cur = leaf_grads.get(id(e))
                    if cur is None:
                        leaf_grads[id(e)] = [e, g]
                    else:
                        cur[1] = add(cur[1], g)
                else:
                    _push(e, g, buffers, heap, leaf_grads, add)
    finally:
        state.enabled = prev_enabled

    # leaves
    if capture is not None:
        for i, t in enumerate(inputs):
            if t._node is None and t._rg:
                lg = leaf_grads.get(id(t))
                if lg is not None:
                    captured[i] = _leaf_hooks(t, lg[1])
    if accumulate:
        wanted = None if inputs is None else {id(t) for t in inputs}
        handed = {id(g._data) for g in grad_roots}  # arrays a leaf must not own without copying
        for key, (leaf, g) in leaf_grads.items():
            if wanted is not None and key not in wanted:
                continue
            g = _leaf_hooks(leaf, g)
            if g is None:
                continue
            if not create_graph:
                g = g.detach() if g._node is not None else g
            if leaf.grad is None:
                if g._data.shape != leaf._data.shape:
                    g = g.expand(leaf._data.shape).clone()
                leaf.grad = g if create_graph else _own(g, handed)
            else:
                if create_graph:
                    leaf.grad = leaf.grad + g
                else:
                    leaf.grad._data += g._data
                    leaf.grad._vc[0] += 1
            if leaf._post_acc_hooks:
                for fn in list(leaf._post_acc_hooks.values()):
                    fn(leaf)
        if inputs is not None:  # non-leaf inputs of backward(inputs=...)
            for i, t in enumerate(inputs):
                if t._node is not None and captured[i] is not None:
                    g = captured[i]
                    t.grad = g if t.grad is None else t.grad + g
        return None
    for i, g in enumerate(captured):
        if g is None and not allow_unused:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                               "Set allow_unused=True if this is the desired behavior.")
    return tuple(captured)


def _own(g, handed):
    """A gradient the leaf may own: in-place updates of ``.grad`` (accumulation, clipping) must never write
    into a view, a read-only broadcast, the caller's ``gradient`` or another leaf's gradient."""
    from ..tensor import Tensor
    a = g._data
    if id(a) in handed or a.base is not None or not getattr(a.flags, 'writeable', True):
        a = a.copy()
    handed.add(id(a))
    return Tensor._make(a)


def _key(e):
    if isinstance(e, Node) or type(e) is tuple:
        return e
    return e  # leaf tensor


def _add_tensors(a, b):
    return a + b


class _ArraySum:
    """Sums gradients as plain arrays. The first sum allocates a fresh array that this pass owns; later
    contributions are added into it in place (no allocation per extra use of a tensor)."""

    def __init__(self):
        self.owned = set()  # the sum tensors themselves (kept alive, so identity checks stay valid)

    def __call__(self, a, b):
        ad, bd = a._data, b._data
        if a in self.owned and ad.shape == bd.shape and ad.dtype == bd.dtype:
            ad += bd
            return a
        from .ops._util import _TENSOR
        t = _TENSOR._make(ad + bd)
        self.owned.add(t)
        return t


def _push(e, g, buffers, heap, leaf_grads, add):
    if isinstance(e, Node):
        cur = buffers.get(e, _MISSING)
        if cur is _MISSING:
            buffers[e] = g
            heapq.heappush(heap, (-e.seq, e))
        else:
            buffers[e] = add(cur, g)
    elif type(e) is tuple:
        node, idx = e
        cur = buffers.get(node, _MISSING)
        if cur is _MISSING:
            lst = [None] * node.n_outputs
            lst[idx] = g
            buffers[node] = lst
            heapq.heappush(heap, (-node.seq, node))
        else:
            cur[idx] = g if cur[idx] is None else add(cur[idx], g)
    else:  # a leaf tensor
        k = id(e)
        cur = leaf_grads.get(k)
        if cur is None:
            leaf_grads[k] = [e, g]
        else:
            cur[1] = add(cur[1], g)


_MISSING = object()


def _check_nan(node, in_grads):
    for i, g in enumerate(in_grads):
        if g is not None and array_module(g._data).isnan(g._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


_ndarray = np.ndarray


def _pre_hook_order(entry):
    # PyTorch's order: tensor hooks, then retain_grad's hook (so .grad sees what the tensor hooks returned),
    # then hooks registered on the node itself
    idx, fn = entry
    return 2 if idx < 0 else (1 if getattr(fn, '_runs_last', False) else 0)


def _run_pre_hooks(node, grads):
    for idx, fn in sorted(node.pre_hooks, key=_pre_hook_order):
        if node.n_outputs == 1:
            r = fn(grads) if idx >= 0 else fn((grads,))
            if r is not None:
                grads = r if idx >= 0 else r[0]
        else:
            if idx < 0:
                r = fn(tuple(grads))
                if r is not None:
                    grads = list(r)
            elif grads[idx] is not None:
                r = fn(grads[idx])
                if r is not None:
                    grads[idx] = r
    return grads


def _leaf_hooks(leaf, g):
    hooks = leaf._hooks
    if hooks:
        for fn in list(hooks.values()):
            r = fn(g)
            if r is not None:
                g = r
    return g
