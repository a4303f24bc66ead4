"""``F.pad``: constant, reflect, replicate and circular padding of the trailing dims (one autograd node)."""
import numpy as np

from ...autograd.node import Node
from ...autograd.ops._util import make, recording
from ...backend.device import array_module, on_device
from ...backend.conv_kernels import scatter_add_rows

__all__ = ['pad']


class ConstantPadNdBackward0(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        xp = array_module(gd)
        with on_device(gd):
            gx = xp.zeros(self.in_shape, dtype=gd.dtype)
            gx[self.src] = gd[self.dst]
        return make(gx)


def _constant(input, pads, value):
    x = input._data
    xp = array_module(x)
    nd = len(pads)
    lead = x.ndim - nd
    out_shape = list(x.shape)
    src, dst = [slice(None)] * lead, [slice(None)] * lead
    for i, (l, r) in enumerate(pads):
        L = x.shape[lead + i]
        o = L + l + r
        if o < 0:
            raise RuntimeError(f"The input size {L}, plus negative padding {l} and {r} resulted in a negative "
                               f"output size, which is invalid. Check dimension {lead + i} of your input.")
        out_shape[lead + i] = o
        s0, s1 = max(0, -l), L - max(0, -r)
        src.append(slice(s0, max(s0, s1)))
        dst.append(slice(max(0, l), max(0, l) + max(0, s1 - s0)))
    src, dst = tuple(src), tuple(dst)
    with on_device(x):
        if value is None or value == 0:
            y = xp.zeros(tuple(out_shape), dtype=x.dtype)
        else:
            y = xp.full(tuple(out_shape), value, dtype=x.dtype)
        y[dst] = x[src]
    if recording(input):
        node = ConstantPadNdBackward0((input,))
        node.in_shape, node.src, node.dst = x.shape, src, dst
        return make(y, node)
    return make(y)


def _index(mode, L, l, r):
    j = np.arange(-l, L + r)
    if mode == 'reflect':
        j = np.abs(j)
        j = np.where(j > L - 1, 2 * (L - 1) - j, j)
    elif mode == 'replicate':
        j = np.clip(j, 0, L - 1)
    else:
        j = np.mod(j, L)
    return j


class IndexPadBackward(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        xp = array_module(gd)
        with on_device(gd):
            for ax, L, l, r, idx in reversed(self.steps):
                gd = _index_add_axis(xp, gd, ax, L, l, r, idx, self.mode)
        return make(xp.ascontiguousarray(gd))


def _index_add_axis(xp, g, ax, L, l, r, idx, mode):
    """Sum ``g`` (padded along ``ax``) back to length ``L``: slice-adds per region, no scatter unless the
    pads are negative."""
    if l < 0 or r < 0 or (mode != 'replicate' and (l > L or r > L)):
        gm = xp.moveaxis(g, ax, -1)
        lead = gm.shape[:-1]
        rows = int(np.prod(lead))
        ii = xp.broadcast_to(xp.asarray(idx), (rows, idx.shape[0]))
        out = scatter_add_rows(L, ii, xp.ascontiguousarray(gm).reshape(rows, -1))
        return xp.moveaxis(out.reshape(lead + (L,)), -1, ax)
    pre = (slice(None),) * ax
    gx = g[pre + (slice(l, l + L),)].copy()
    if mode == 'replicate':
        if l:
            gx[pre + (slice(0, 1),)] += g[pre + (slice(0, l),)].sum(axis=ax, keepdims=True)
        if r:
            gx[pre + (slice(L - 1, L),)] += g[pre + (slice(l + L, None),)].sum(axis=ax, keepdims=True)
        return gx
    if l:
        gx[pre + (xp.asarray(idx[:l]),)] += g[pre + (slice(0, l),)]
    if r:
        gx[pre + (xp.asarray(idx[l + L:]),)] += g[pre + (slice(l + L, None),)]
    return gx


def _indexed(input, pads, mode):
    x = input._data
    xp = array_module(x)
    nd = len(pads)
    lead = x.ndim - nd
    steps = []
    with on_device(x):
        y = x
        for i, (l, r) in enumerate(pads):
            ax = lead + i
            L = x.shape[ax]
            if mode == 'reflect' and (l >= L or r >= L):
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                                   f"dimension, but got: padding ({l}, {r}) at dimension {ax} of input "
                                   f"{list(x.shape)}")
            if mode == 'circular' and (l > L or r > L):
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if mode == 'replicate' and L == 0 and (l or r):
                raise RuntimeError("padding size is expected to be non-negative for replicate padding")
            if l == 0 and r == 0:
                continue
            idx = _index(mode, L, l, r)
            y = xp.take(y, xp.asarray(idx), axis=ax)
            steps.append((ax, L, l, r, idx))
    if recording(input):
        node = IndexPadBackward((input,))
        node.steps = steps
        node.mode = mode
        return make(y, node)
    return make(y)


def pad(input, pad, mode='constant', value=None):
    """Pad the trailing dims: ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)``;
    ``mode`` is 'constant' (with ``value``), 'reflect', 'replicate' or 'circular'."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = len(pad) // 2
    x = input._data
    if nd > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")
    pads = tuple((pad[2 * (nd - 1 - i)], pad[2 * (nd - 1 - i) + 1]) for i in range(nd))
    if mode == 'constant':
        return _constant(input, pads, value)
    if mode not in ('reflect', 'replicate', 'circular'):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    if nd > 3 or x.ndim not in (nd + 1, nd + 2):
        raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now"
                                  if nd > 3 or x.ndim > 5 else
                                  f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 batch "
                                  f"size and other non-zero dimensions for input, but got: {list(x.shape)}")
    return _indexed(input, pads, mode)
