"""``autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp built on reverse mode."""
from .functions import grad as _grad
from .grad_mode import enable_grad


def _tuple(x):
    return ((x,), False) if not isinstance(x, tuple) else (x, True)


def _prep(inputs, create_graph):
    return tuple(t.detach().requires_grad_(True) if not create_graph else
                 (t if t.requires_grad else t.detach().requires_grad_(True)) for t in inputs)


def _zeros_like(t):
    from ..creation import zeros_like
    return zeros_like(t)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``."""
    inputs, is_tuple = _tuple(inputs)
    with enable_grad():
        ins = _prep(inputs, create_graph)
        out = func(*ins)
        outs, out_tuple = _tuple(out)
        vs = _tuple(v)[0] if v is not None else (None,) * len(outs)
        gs = _grad(outs, ins, list(vs), create_graph=create_graph, allow_unused=True)
    gs = tuple(g if g is not None else _zeros_like(i) for g, i in zip(gs, ins))
    res_out = tuple(o if create_graph else o.detach() for o in outs)
    return (res_out if out_tuple else res_out[0]), (gs if is_tuple else gs[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)`` via the double-vjp trick."""
    inputs, is_tuple = _tuple(inputs)
    from ..creation import ones_like
    with enable_grad():
        ins = _prep(inputs, True)
        out = func(*ins)
        outs, out_tuple = _tuple(out)
        us = tuple(_zeros_like(o).requires_grad_(True) for o in outs)
        gs = _grad(outs, ins, list(us), create_graph=True, allow_unused=True)
        vs = _tuple(v)[0] if v is not None else tuple(ones_like(i) for i in ins)
        pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None]
        if pairs:
            jv = _grad([p[0] for p in pairs], list(us), [p[1] for p in pairs], create_graph=create_graph,
                       allow_unused=True)
        else:
            jv = (None,) * len(us)
    jv = tuple(j if j is not None else _zeros_like(o) for j, o in zip(jv, outs))
    jv = tuple(j if create_graph else j.detach() for j in jv)
    res_out = tuple(o.detach() for o in outs)
    return (res_out if out_tuple else res_out[0]), (jv if out_tuple else jv[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy='reverse-mode'):
    """The Jacobian of ``func`` at ``inputs``: shape ``out.shape + in.shape`` (nested tuples for tuples)."""
    from ..creation import zeros
    from ..autograd.ops import stack
    inputs, is_tuple = _tuple(inputs)
    with enable_grad():
        ins = _prep(inputs, create_graph)
        out = func(*ins)
        outs, out_tuple = _tuple(out)
        result = []
        for o in outs:
            flat = o.reshape(-1)
            rows = [[] for _ in ins]
            for k in range(flat.shape[0]):
                gs = _grad([flat[k]], ins, retain_graph=True, create_graph=create_graph, allow_unused=True)
                for i, (g, inp) in enumerate(zip(gs, ins)):
                    rows[i].append(g if g is not None else _zeros_like(inp))
            per_in = []
            for i, inp in enumerate(ins):
                if rows[i]:
                    j = stack(rows[i]).reshape(tuple(o.shape) + tuple(inp.shape))
                else:
                    j = zeros(tuple(o.shape) + tuple(inp.shape), dtype=inp.dtype, device=inp.device)
                per_in.append(j if create_graph else j.detach())
            result.append(tuple(per_in) if is_tuple else per_in[0])
    return tuple(result) if out_tuple else result[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy='reverse-mode'):
    """The Hessian of a scalar ``func`` at ``inputs``."""
    inputs_t, is_tuple = _tuple(inputs)

    def grad_fn(*ins):
        out = func(*ins)
        gs = _grad([out], ins, create_graph=True, allow_unused=True)
        gs = tuple(g if g is not None else _zeros_like(i) for g, i in zip(gs, ins))
        return gs if is_tuple else gs[0]
    return jacobian(grad_fn, inputs, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``."""
    inputs, is_tuple = _tuple(inputs)
    with enable_grad():
        ins = _prep(inputs, True)
        out = func(*ins)
        gs = _grad([out], ins, create_graph=True, allow_unused=True)
        vs = _tuple(v)[0]
        pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None]
        hv = _grad([p[0] for p in pairs], ins, [p[1] for p in pairs], create_graph=create_graph, allow_unused=True)
    hv = tuple(h if h is not None else _zeros_like(i) for h, i in zip(hv, ins))
    hv = tuple(h if create_graph else h.detach() for h in hv)
    return out.detach(), (hv if is_tuple else hv[0])


hvp = vhp  # symmetric Hessians: H v == v^T H
