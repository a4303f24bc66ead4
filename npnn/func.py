"""``npnn.func``: PyTorch's ``torch.func`` entry points most scripts use, built on npnn's reverse-mode tape.

``functional_call`` runs a module with substitute parameters and buffers; ``grad``, ``grad_and_value``,
``vjp``, ``jacrev``/``jacfwd`` and ``hessian`` are function transforms over tensors (or dicts, lists and
tuples of tensors, for ``grad``'s argument); ``vmap`` maps a function over a batch dimension by running it
once per slice and stacking the results (same values and gradients as PyTorch's, without its speed).
"""
import contextlib

from .autograd.functions import grad as _autograd_grad
from .autograd.grad_mode import enable_grad
from .tensor import Tensor

__all__ = ['functional_call', 'stack_module_state', 'grad', 'grad_and_value', 'vjp', 'jvp', 'jacrev', 'jacfwd',
           'hessian', 'vmap']


# --- functional_call ------------------------------------------------------------------------------------

def _owner(module, name):
    mod = module
    *path, leaf = name.split('.')
    for p in path:
        mod = getattr(mod, p)
    return mod, leaf


@contextlib.contextmanager
def _swapped(module, tensors, strict):
    saved = []
    if strict:
        expected = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing = sorted(expected - set(tensors))
        unexpected = sorted(set(tensors) - expected)
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: missing keys {missing}, "
                               f"unexpected keys {unexpected}")
    try:
        for name, t in tensors.items():
            mod, leaf = _owner(module, name)
            if leaf in mod._parameters:
                table = mod._parameters
            elif leaf in mod._buffers:
                table = mod._buffers
            else:
                raise AttributeError(f"'{type(mod).__name__}' object has no parameter or buffer '{leaf}'")
            saved.append((table, leaf, table[leaf]))
            table[leaf] = t
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """``module(*args, **kwargs)`` with the named parameters/buffers replaced by the given tensors."""
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = dict(parameter_and_buffer_dicts)
    else:
        tensors = {}
        for d in parameter_and_buffer_dicts:
            dup = set(tensors) & set(d)
            if dup:
                raise ValueError(f"{sorted(dup)} appeared in multiple dictionaries; behavior of functional call "
                                 f"is ambiguous")
            tensors.update(d)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, tensors, strict):
        return module(*args, **(kwargs or {}))


def stack_module_state(models):
    """Stack the parameters and buffers of same-shaped models: ``(params, buffers)`` dicts of new leaves."""
    from .autograd.ops import stack
    models = list(models)
    if not models:
        raise RuntimeError('stack_module_state: Expected at least one model, got 0.')
    params = {n: stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_(p.requires_grad)
              for n, p in models[0].named_parameters()}
    buffers = {n: stack([dict(m.named_buffers())[n] for m in models]) for n, _ in models[0].named_buffers()}
    return params, buffers


# --- gradient transforms --------------------------------------------------------------------------------

def _leaves(tree):
    if isinstance(tree, Tensor):
        return [tree]
    if isinstance(tree, dict):
        return [leaf for v in tree.values() for leaf in _leaves(v)]
    if isinstance(tree, (list, tuple)):
        return [leaf for v in tree for leaf in _leaves(v)]
    raise ValueError(f"Expected tensors, or dicts/lists/tuples of tensors, got {type(tree).__name__}")


def _rebuild(tree, it):
    if isinstance(tree, Tensor):
        return next(it)
    if isinstance(tree, dict):
        return {k: _rebuild(v, it) for k, v in tree.items()}
    return type(tree)(_rebuild(v, it) for v in tree)


def _track(t):
    # an input already on an outer tape (a nested transform) keeps its graph; others become fresh leaves
    return t if t.requires_grad else t.detach().requires_grad_(True)


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning ``(gradient of func's scalar output w.r.t. args[argnums], output)``."""
    def wrapper(*args, **kwargs):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        args = list(args)
        trees = {}
        nested = False
        with enable_grad():
            for i in nums:
                leaves = _leaves(args[i])
                nested = nested or any(t.requires_grad for t in leaves)
                tracked = [_track(t) for t in leaves]
                trees[i] = (args[i], tracked)
                args[i] = _rebuild(args[i], iter(tracked))
            out = func(*args, **kwargs)
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                       "(output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim() if isinstance(out, Tensor) else '?'} dims. Maybe you "
                                   "wanted to use the vjp or jacrev APIs instead?")
            flat = [t for i in nums for t in trees[i][1]]
            gs = _autograd_grad(out, flat, create_graph=nested, allow_unused=True)
        from .creation import zeros_like
        gs = iter([g if g is not None else zeros_like(t) for g, t in zip(gs, flat)])
        grads = tuple(_rebuild(trees[i][0], gs) for i in nums)
        grads = grads[0] if isinstance(argnums, int) else grads
        value = out if nested else out.detach()
        return (grads, (value, aux)) if has_aux else (grads, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of ``func``'s scalar output w.r.t. ``args[argnums]``."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` gives one gradient per primal."""
    with enable_grad():
        tracked = [_track(p) for p in primals]
        out = func(*tracked)
        if has_aux:
            out, aux = out
    outs = out if isinstance(out, tuple) else (out,)

    def vjp_fn(*cotangents):
        if len(cotangents) == 1 and isinstance(cotangents[0], tuple) and isinstance(out, tuple):
            cotangents = cotangents[0]
        gs = _autograd_grad(list(outs), tracked, list(cotangents), retain_graph=True, allow_unused=True)
        from .creation import zeros_like
        return tuple(g if g is not None else zeros_like(t) for g, t in zip(gs, tracked))
    detached = tuple(o.detach() for o in outs)
    res = detached if isinstance(out, tuple) else detached[0]
    return (res, vjp_fn, aux) if has_aux else (res, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``: the forward-mode product, computed here with two reverse passes
    (same values as PyTorch's forward mode); with ``has_aux`` ``func`` returns ``(output, aux)`` and so does
    the result, ``(output, jvp_out, aux)``."""
    from .autograd import functional
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid "
                           "to call f(*primals).")
    if not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected tangents to be a tuple. E.g. it should be valid "
                           "to call f(*tangents).")
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, tangents also must be. "
                           f"Got primals with structure {len(primals)} and tangents with structure "
                           f"{len(tangents)}")
    for p, t in zip(primals, tangents):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the same shape, "
                               f"got {tuple(p.shape)} and {tuple(t.shape)}")
    aux = []

    def run(*xs):
        out = func(*xs)
        if has_aux:
            out, extra = out
            aux.append(extra)
        return out
    out, jv = functional.jvp(run, primals, tangents)
    return (out, jv, aux[0]) if has_aux else (out, jv)


def _jac(func, argnums, which):
    from .autograd import functional

    def wrapper(*args):
        single = isinstance(argnums, int)
        nums = (argnums,) if single else tuple(argnums)

        def partial(*xs):
            full = list(args)
            for i, x in zip(nums, xs):
                full[i] = x
            return func(*full)
        return getattr(functional, which)(partial, args[argnums] if single else tuple(args[i] for i in nums))
    return wrapper


def jacrev(func, argnums=0):
    """A function returning the Jacobian of ``func`` w.r.t. ``args[argnums]``."""
    return _jac(func, argnums, 'jacobian')


def jacfwd(func, argnums=0):
    """A function returning the Jacobian of ``func`` (computed in reverse mode here; same values)."""
    return _jac(func, argnums, 'jacobian')


def hessian(func, argnums=0):
    """A function returning the Hessian of scalar ``func`` w.r.t. ``args[argnums]``."""
    return _jac(func, argnums, 'hessian')


# --- vmap -----------------------------------------------------------------------------------------------

def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """``func`` mapped over dimension ``in_dims`` of its inputs, outputs stacked along ``out_dims``."""
    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(func, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`. in_dims has structure {len(dims)} but inputs has "
                             f"{len(args)} elements")
        mapped = [(t, d) for a, d in zip(args, dims) if d is not None and not _is_plain(a) for t in _leaves(a)]
        sizes = {t.shape[d] for t, d in mapped}
        if not sizes:
            raise ValueError("vmap(func)(<inputs>): at least one input must be a Tensor mapped over a dimension "
                             "(in_dims not None)")
        if len(sizes) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                             f"sizes {sorted(sizes)} for the mapped dimension")
        n = sizes.pop()
        results = []
        for i in range(n):
            sl = [a if d is None or _is_plain(a) else _rebuild(a, iter([t.select(d, i) for t in _leaves(a)]))
                  for a, d in zip(args, dims)]
            results.append(func(*sl, **kwargs))
        first = results[0]
        if isinstance(first, tuple) and isinstance(out_dims, (tuple, list)):
            return tuple(_stack_tree([r[k] for r in results], od) for k, od in enumerate(out_dims))
        return _stack_tree(results, out_dims)
    return wrapper


def _is_plain(a):
    """A non-tensor argument passed through unmapped (a number, None, a string)."""
    return not isinstance(a, (Tensor, dict, list, tuple))


def _stack_tree(results, dim):
    from .autograd.ops import stack
    per = [_leaves(r) for r in results]
    return _rebuild(results[0], iter([stack([p[k] for p in per], dim=dim) for k in range(len(per[0]))]))
