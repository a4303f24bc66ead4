"""Differentiable moves between devices: scatter a batch, gather outputs (``to`` carries the gradient)."""
from ...tensor import Tensor


def scatter_tensor(t, devices, dim):
    """Split ``t`` into at most ``len(devices)`` chunks along ``dim`` (like ``chunk``), one per device."""
    chunks = t.chunk(len(devices), dim)
    return [c.to(d) for c, d in zip(chunks, devices)]


def scatter(obj, devices, dim=0):
    """Scatter tensors (also nested in tuples, lists and dicts) over ``devices``; others are copied by reference.

    Returns one object per used device; a batch smaller than the device count uses fewer devices.
    """
    def rec(o):
        if isinstance(o, Tensor):
            return scatter_tensor(o, devices, dim)
        if isinstance(o, tuple) and hasattr(o, '_fields'):
            parts = [rec(x) for x in o]
            return [type(o)(*args) for args in zip(*parts)] if parts else [o for _ in devices]
        if isinstance(o, (tuple, list)) and len(o) > 0:
            parts = [rec(x) for x in o]
            return [type(o)(args) if isinstance(o, list) else tuple(args) for args in zip(*parts)]
        if isinstance(o, dict) and len(o) > 0:
            keys = list(o)
            parts = [rec(o[k]) for k in keys]
            return [type(o)(zip(keys, vals)) for vals in zip(*parts)]
        return [o for _ in devices]
    return rec(obj)


def scatter_kwargs(inputs, kwargs, devices, dim=0):
    """Scatter positional and keyword arguments; pad the shorter list so both have one entry per replica."""
    ins = scatter(tuple(inputs), devices, dim) if inputs else []
    kws = scatter(kwargs, devices, dim) if kwargs else []
    if len(ins) < len(kws):
        ins += [() for _ in range(len(kws) - len(ins))]
    elif len(kws) < len(ins):
        kws += [{} for _ in range(len(ins) - len(kws))]
    return tuple(ins), tuple(kws)


def gather(outputs, target_device, dim=0):
    """Concatenate per-replica outputs along ``dim`` on ``target_device`` (nested structures too)."""
    from ...autograd.ops import cat
    first = outputs[0]
    if isinstance(first, Tensor):
        if first.dim() == 0:  # scalars (e.g. a loss per replica) are stacked, as PyTorch does
            return cat([o.to(target_device).reshape(1) for o in outputs], 0)
        return cat([o.to(target_device) for o in outputs], dim)
    if first is None:
        return None
    if isinstance(first, dict):
        return type(first)((k, gather([o[k] for o in outputs], target_device, dim)) for k in first)
    if isinstance(first, tuple) and hasattr(first, '_fields'):
        return type(first)(*[gather(list(parts), target_device, dim) for parts in zip(*outputs)])
    if isinstance(first, (tuple, list)):
        return type(first)(gather(list(parts), target_device, dim) for parts in zip(*outputs))
    return first
