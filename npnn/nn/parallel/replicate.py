"""Replicate a module onto devices; parameters reach the replicas through differentiable copies."""
from ...autograd.grad_mode import no_grad


def replicate(module, devices, detach=False):
    """One replica of ``module`` per device. Replica parameters are copies recorded in the graph (so backward
    sums every replica's gradient into the original); on the module's own device the originals are used.
    Buffers are shared on the module's device (running statistics written by replica 0 land in the original,
    as in PyTorch) and copied elsewhere."""
    params = list(module.parameters())
    src = params[0].device if params else None
    replicas = []
    for i, dev in enumerate(devices):
        shared = (dev == src) and i == 0
        pmap, bmap = {}, {}
        for p in module.parameters():
            if shared:
                pmap[id(p)] = p
            else:
                q = p.to(dev) if not detach else p.detach().to(dev)
                if q is p:  # same device (CPU replicas): a graph-recorded alias keeps the original a leaf
                    q = p.view_as(p) if (p.requires_grad and not detach) else p
                pmap[id(p)] = q
        for b in module.buffers():
            if shared:
                bmap[id(b)] = b
            else:
                with no_grad():
                    bmap[id(b)] = b.to(dev, copy=True)
        replicas.append(_copy_tree(module, pmap, bmap, {}))
    return replicas


def _copy_tree(m, pmap, bmap, memo):
    if id(m) in memo:
        return memo[id(m)]
    r = m._replicate_for_data_parallel()
    memo[id(m)] = r
    for k, p in m._parameters.items():
        r._parameters[k] = None if p is None else pmap[id(p)]
    for k, b in m._buffers.items():
        r._buffers[k] = None if b is None else bmap[id(b)]
    for k, child in m._modules.items():
        r._modules[k] = None if child is None else _copy_tree(child, pmap, bmap, memo)
    return r
