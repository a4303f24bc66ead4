"""Convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``.

Each call is one autograd node: windows of the padded input copied once into a GEMM-ready column array,
one matmul (batched over groups), and a hand-written backward that is two more matmuls plus a col2im made of
strided slice-adds per kernel offset. Depthwise convolutions (``groups == C_in``) take a direct path instead
(``backend.depthwise``): a matmul per channel over full window columns would be memory-bound. The backward
works on arrays; under ``create_graph=True`` it is rebuilt from differentiable convolutions instead (slower,
but higher-order gradients are exact).
"""
import math

from ...autograd.node import Node, _raise_released
from ...autograd.grad_mode import state
from ...autograd.ops._util import make, recording, check_same_device
from ...backend.device import array_module, on_device
from ...backend.dtypes import from_numpy_dtype
from ...backend.conv_kernels import (im2col, col2im, pad_zeros, crop, wide_offsets, im2col_wide, col2im_wide,
                                     take, give)
from ...backend import depthwise
from ._utils import int_tuple

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d']


_TUPLE_ERROR = ("expected {name} to be a single integer value or a list of {d} values to match the convolution "
                "dimensions, but got {name}={v}")


def _tuple(v, d, name='argument'):
    return int_tuple(v, d, name, _TUPLE_ERROR)


def _dtype_check(x, w, b):
    if x.dtype != w.dtype:
        raise RuntimeError(f"Input type ({from_numpy_dtype(x.dtype).name}) and weight type "
                           f"({from_numpy_dtype(w.dtype).name}) should be the same")
    if b is not None and b.dtype != w.dtype:
        raise RuntimeError(f"Input type ({from_numpy_dtype(x.dtype).name}) and bias type "
                           f"({from_numpy_dtype(b.dtype).name}) should be the same")


def _batchify(input, d, name):
    shape = tuple(input._data.shape)
    if len(shape) == d + 2:
        return input._data, False
    if len(shape) == d + 1:
        return input._data[None], True
    raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {name}, but got input "
                       f"of size: {list(shape)}")


def _operands(input, weight, bias, d, name):
    """The arrays of a convolution's operands, batched, after the device and dtype checks."""
    x, unbatched = _batchify(input, d, name)
    w = weight._data
    b = bias._data if bias is not None else None
    check_same_device(x, w)
    if b is not None:
        check_same_device(x, b)
    _dtype_check(x, w, b)
    return x, unbatched, w, b


def _fmt(t):
    return ' x '.join(str(i) for i in t)


# ---------------------------------------------------------------------------------------------------------
# array-level cores (shared by conv and conv_transpose, which are each other's adjoints)

def _gemm_fwd(cols, w2, groups, out=None):
    """``w2 (Cout, Cg*K) @ cols (C*K, P)`` per group -> (Cout, P) (into ``out`` when given)."""
    xp = array_module(cols)
    if groups == 1:
        return xp.matmul(w2, cols, out=out)
    cout, p = w2.shape[0], cols.shape[-1]
    res = xp.matmul(w2.reshape(groups, cout // groups, -1), cols.reshape(groups, -1, p),
                    out=None if out is None else out.reshape(groups, cout // groups, p))
    return res.reshape(cout, p) if out is None else out


def _gemm_t(w2, g2, groups, out=None):
    """``w2.T (Cg*K, Cout) @ g2 (Cout, P)`` per group -> (C*K, P) (into ``out`` when given)."""
    xp = array_module(g2)
    if groups == 1:
        return xp.matmul(w2.T, g2, out=out)
    cout, p = w2.shape[0], g2.shape[-1]
    res = xp.matmul(w2.reshape(groups, cout // groups, -1).transpose(0, 2, 1), g2.reshape(groups, cout // groups, p),
                    out=None if out is None else out.reshape(groups, -1, p))
    return res.reshape(-1, p) if out is None else out


def _gemm_w(g2, cols, groups):
    """``g2 (Cout, P) @ cols.T (P, C*K)`` per group -> (Cout, Cg*K)."""
    xp = array_module(g2)
    if groups == 1:
        return g2 @ cols.T
    cout = g2.shape[0]
    return xp.matmul(g2.reshape(groups, cout // groups, -1),
                     cols.reshape(groups, -1, cols.shape[-1]).transpose(0, 2, 1)).reshape(cout, -1)


def _to_channels_first(a):
    """(N, C, *S) -> contiguous (C, N*prod(S))."""
    xp = array_module(a)
    n, c = a.shape[:2]
    if n == 1:
        return a.reshape(c, -1)
    return xp.ascontiguousarray(a.reshape(n, c, -1).transpose(1, 0, 2)).reshape(c, -1)


def _from_channels_first(a2, n, spatial):
    """(C, N*prod(S)) -> contiguous (N, C, *S)."""
    xp = array_module(a2)
    c = a2.shape[0]
    if n == 1:
        return a2.reshape((1, c) + tuple(spatial))
    return xp.ascontiguousarray(a2.reshape(c, n, -1).transpose(1, 0, 2)).reshape((n, c) + tuple(spatial))


# ---------------------------------------------------------------------------------------------------------
# convolution


class _ConvBackwardBase(Node):
    """What the backward of conv and conv_transpose share: the released and version checks, the switch to
    differentiable ops under create_graph, unbatched input and the bias gradient. Subclasses give the input
    and weight gradients, on arrays (``_array_grads``) and as ops (``_graph_grads``)."""
    __slots__ = ()

    def backward(self, g):
        if self.released:
            _raise_released()
        x_t, w_t = self.saved_tensors()  # version check of input and weight
        if state.enabled:
            return self._backward_graph(g, x_t, w_t)
        gd = g._data
        if self.unbatched:
            gd = gd[None]
        need_x, need_w, need_b = (e is not None for e in self.next)
        with on_device(gd):
            gx, gw = self._array_grads(gd, need_x, need_w)
            gb = make(gd.sum(axis=(0,) + tuple(range(2, gd.ndim)))) if need_b else None
        return gx, gw, gb

    def _backward_graph(self, g, x, w):
        if self.unbatched:
            x, g = x.unsqueeze(0), g.unsqueeze(0)
        gx, gw = self._graph_grads(g, x, w, self.next[0] is not None, self.next[1] is not None)
        if gx is not None and self.unbatched:
            gx = gx.squeeze(0)
        gb = g.sum((0,) + tuple(range(2, g.ndim))) if self.next[2] is not None else None
        return gx, gw, gb


def _pad_graph(t, pads):
    """``pad_zeros`` as a differentiable op."""
    from .padding import pad
    flat_pads = [p for lr in reversed(pads) for p in lr]
    return pad(t, flat_pads) if any(flat_pads) else t


class ConvolutionBackward0(_ConvBackwardBase):
    __slots__ = ()

    def release(self):
        super().release()
        if self.cols is not None:
            give(self.cols)
        self.cols = None
        self.x = None

    def _array_grads(self, gd, need_x, need_w):
        xp = array_module(gd)
        w = self.w
        if self.dw:
            gx, gw = depthwise.backward(gd, self.x_shape, self.x, w, self.pads, self.stride, self.dilation,
                                        need_x, need_w)
            if gx is not None:
                gx = make(gx[0] if self.unbatched else gx)
            return gx, (make(gw) if gw is not None else None)
        groups = self.groups
        n = gd.shape[0]
        gpads = None
        # the columns of g are Cout/C times those the other way builds: worth it up to equal channel counts
        # (and a 1x1 kernel's gx is one GEMM already)
        if need_x and self.wide and math.prod(self.kernel) > 1 and w.shape[0] <= w.shape[1] * groups:
            reach = [dl * (k - 1) for k, dl in zip(self.kernel, self.dilation)]
            if all(0 <= l <= e and 0 <= r <= e for (l, r), e in zip(self.pads, reach)):
                gpads = tuple((e - l, e - r) for (l, r), e in zip(self.pads, reach))
        need_g2 = need_w or (need_x and gpads is None)
        gw_ = None
        d = len(self.kernel)
        if self.wide:
            padded, wide_shape, offsets, total = self.ctx
        if self.wide and need_g2:
            cout = gd.shape[1]
            gw_ = take((cout, n) + wide_shape, gd.dtype, xp)
            for i in range(1, d):  # zero only the cropped (wide) columns
                if wide_shape[i] > self.out_shape[i]:
                    gw_[(slice(None),) * (2 + i) + (slice(self.out_shape[i], None),)] = 0
            gw_[(Ellipsis,) + tuple(slice(0, o) for o in self.out_shape)] = \
                gd.transpose((1, 0) + tuple(range(2, 2 + d)))
            g2 = gw_.reshape(cout, -1)
        elif need_g2:
            g2 = _to_channels_first(gd)  # (Cout, P)
        gx = gw = None
        if gpads is not None:
            # stride 1: gx is the convolution of g, padded by the kernel reach minus the forward padding, with the
            # flipped kernel, in/out channels swapped per group: window copies + a GEMM with a small output,
            # cheaper than a GEMM writing kernel-size times the input and a col2im reading it back
            cout, cg = w.shape[:2]
            og = cout // groups
            k_all = tuple(range(3, 3 + d))
            wt = w.reshape((groups, og, cg) + self.kernel).transpose((0, 2, 1) + k_all)
            wt = xp.ascontiguousarray(wt[(Ellipsis,) + (slice(None, None, -1),) * d]).reshape(
                (groups * cg, og) + self.kernel)
            spatial = _unpad(padded, self.pads)
            gpadded = tuple(o + l + r for o, (l, r) in zip(self.out_shape, gpads))
            gx, gcols, _ = _wide_forward(xp, gd, wt, None, gpads, gpadded, self.kernel, self.dilation, spatial,
                                         groups)
            give(gcols)
            gx = make(gx[0] if self.unbatched else gx)
        elif need_x:
            w2 = w.reshape(w.shape[0], -1)
            if self.wide:  # a reused buffer: fresh multi-megabyte arrays cost page faults
                gcols = _gemm_t(w2, g2, groups, out=take((w2.shape[1] * groups, g2.shape[1]), gd.dtype, xp))
            else:
                gcols = _gemm_t(w2, g2, groups)
            if self.wide:
                c = gcols.shape[0] // len(offsets)
                gt_buf = col2im_wide(gcols.reshape(c, len(offsets), n, -1), total, offsets)
                give(gcols)
                gt = gt_buf.reshape((c, n) + tuple(padded))[(slice(None), slice(None)) +
                                                           _interior(self.pads, _unpad(padded, self.pads))]
                gx = xp.ascontiguousarray(gt.transpose((1, 0) + tuple(range(2, 2 + d))))
                give(gt_buf)
            else:
                cols_shape, xpad_shape = self.ctx
                gx = col2im(gcols.reshape(cols_shape), xpad_shape, self.kernel, self.stride, self.dilation,
                            self.out_shape)
                gx = crop(gx, self.pads)
            if self.unbatched:
                gx = gx[0]
            gx = make(xp.ascontiguousarray(gx))
        if need_w:
            cols = self.cols
            gw = make(_gemm_w(g2, cols.reshape(-1, g2.shape[1]), groups).reshape(w.shape))
        if gw_ is not None:
            give(gw_)
        return gx, gw

    def _graph_grads(self, g, x, w, need_x, need_w):
        d = len(self.kernel)
        xpad = _pad_graph(x, self.pads)
        padded = tuple(xpad.shape[2:])
        gx = gw = None
        if need_x:
            full = tuple((o - 1) * s + dl * (k - 1) + 1
                         for o, s, dl, k in zip(self.out_shape, self.stride, self.dilation, self.kernel))
            op = tuple(p - f for p, f in zip(padded, full))
            gx = _conv_transpose(g, w, None, self.stride, 0, op, self.groups, self.dilation, d)
            gx = gx[(slice(None), slice(None)) + _interior(self.pads, _unpad(padded, self.pads))]
        if need_w:
            gw = _weight_grad(xpad, g, self.stride, self.dilation, self.kernel, self.groups, d)
        return gx, gw


def _weight_grad(xpad, g, stride, dilation, kernel, groups, d):
    """``dW[co, ci, k] = sum_{n,o} g[n, co, o] * xpad[n, g(co)*cg + ci, o*stride + k*dilation]`` as ONE grouped
    convolution (differentiable): the input is ``xpad`` with the in-group channel index as batch and (group,
    sample) as channels, the weight is ``g`` with samples as channels, and stride and dilation swap roles."""
    n, c = xpad.shape[:2]
    cg = c // groups
    sp = tuple(xpad.shape[2:])
    xg = xpad.reshape((n, groups, cg) + sp).permute((2, 1, 0) + tuple(range(3, 3 + d)))
    xg = xg.reshape((cg, groups * n) + sp)  # [ci, (group, sample), ...]
    r = _conv(xg, g.transpose(0, 1), None, dilation, 0, stride, groups, d)  # (cg, Cout, *K')
    r = r[(slice(None), slice(None)) + tuple(slice(0, k) for k in kernel)]
    return r.transpose(0, 1)


def _unpad(padded, pads):
    return tuple(p - l - r for p, (l, r) in zip(padded, pads))


def _conv(input, weight, bias, stride, padding, dilation, groups, d):
    name = f'conv{d}d'
    x, unbatched, w, b = _operands(input, weight, bias, d, name)
    if w.ndim != d + 2:
        raise RuntimeError("weight should have at least three dimensions" if w.ndim < 3 else
                           f"Expected {d + 2}-dimensional weight for {d + 2}-dimensional input "
                           f"{list(x.shape)}, but got {w.ndim}-dimensional weight of size {list(w.shape)} instead")
    stride = _tuple(stride, d, 'stride')
    dilation = _tuple(dilation, d, 'dilation')
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(s <= 0 for s in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation: {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    kernel = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding == 'valid':
            pads = ((0, 0),) * d
        elif padding == 'same':
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, dl in zip(kernel, dilation):
                tot = dl * (k - 1)
                pads.append((tot // 2, tot - tot // 2))
            pads = tuple(pads)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = _tuple(padding, d, 'padding')
        if any(i < 0 for i in p):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((i, i) for i in p)
    n, c = x.shape[:2]
    cout = w.shape[0]
    if cout % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {list(w.shape)} instead")
    if c != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected input"
                           f"{list(input.shape)} to have {w.shape[1] * groups} channels, but got {c} channels "
                           f"instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != cout):
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional with "
                           f"{cout} elements, but got bias of size {list(b.shape)} instead")
    spatial = x.shape[2:]
    padded = tuple(s + l + r for s, (l, r) in zip(spatial, pads))
    eff = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_fmt(padded)}). Kernel size: "
                           f"({_fmt(eff)}). Kernel size can't be greater than actual input size")
    out_shape = tuple((p - e) // s + 1 for p, e, s in zip(padded, eff, stride))
    xp = array_module(x)
    wide = all(s == 1 for s in stride)
    dw = 1 < groups == c
    cols = ctx = None
    with on_device(x):
        if dw:  # depthwise: per-tap multiply-adds beat window columns + a matmul per channel
            out = depthwise.forward(x, w, b, pads, stride, dilation, out_shape)
        elif wide:
            out, cols, ctx = _wide_forward(xp, x, w, b, pads, padded, kernel, dilation, out_shape, groups)
        else:
            xpad = pad_zeros(x, pads)
            cols = im2col(xpad, kernel, stride, dilation, out_shape)  # (C, *K, N, *O)
            p = n * math.prod(out_shape)
            out2 = _gemm_fwd(cols.reshape(-1, p), w.reshape(cout, -1), groups)  # (Cout, P)
            if b is not None:
                out2 += b[:, None]
            out = _from_channels_first(out2, n, out_shape)
            ctx = (cols.shape, xpad.shape)
        if unbatched:
            out = out[0]
    if not recording(input, weight, bias):
        if cols is not None:
            give(cols)
    if recording(input, weight, bias):
        node = ConvolutionBackward0((input, weight, bias))
        node.save(input, weight)
        node.w = w
        node.cols = cols if weight._rg else None
        if not weight._rg and cols is not None:
            give(cols)
        node.dw = dw
        node.x = x if (dw and weight._rg) else None
        node.x_shape = x.shape
        node.wide = wide
        node.ctx = ctx
        node.kernel, node.stride, node.dilation, node.out_shape = kernel, stride, dilation, out_shape
        node.pads, node.groups, node.unbatched = pads, groups, unbatched
        return make(out, node)
    return make(out)


def _interior(pads, spatial):
    return tuple(slice(l, l + s) for (l, _), s in zip(pads, spatial))


def _wide_forward(xp, x, w, b, pads, padded, kernel, dilation, out_shape, groups):
    """Stride-1 convolution through contiguous-run windows (see ``im2col_wide``)."""
    n, c = x.shape[:2]
    d = len(kernel)
    cout = w.shape[0]
    xt = take((c, n) + tuple(padded), x.dtype, xp)
    _zero_borders(xt, pads)
    xt[(slice(None), slice(None)) + _interior(pads, x.shape[2:])] = x.transpose((1, 0) + tuple(range(2, 2 + d)))
    total = math.prod(padded)
    wide_shape = (out_shape[0],) + tuple(padded[1:])
    length = math.prod(wide_shape)
    offsets = wide_offsets(padded, kernel, dilation)
    cols = im2col_wide(xt.reshape(c, n, total), offsets, length)  # (C, K, N, length)
    give(xt)
    cols2 = cols.reshape(-1, n * length)
    out2 = _gemm_fwd(cols2, w.reshape(cout, -1), groups, out=take((cout, n * length), x.dtype, xp))
    view = out2.reshape((cout, n) + wide_shape)[(Ellipsis,) + tuple(slice(0, o) for o in out_shape)]
    view = view.transpose((1, 0) + tuple(range(2, 2 + d)))
    if b is not None:  # the bias add and the crop/transpose in one pass
        out = xp.empty((n, cout) + tuple(out_shape), dtype=out2.dtype)
        xp.add(view, b.reshape((1, cout) + (1,) * d), out=out)
    else:
        out = xp.ascontiguousarray(view)
    give(out2)
    return out, cols, (padded, wide_shape, offsets, total)


def _zero_borders(a, pads):
    """Zero the padding frame of a ``(C, N, *padded)`` buffer (its interior is overwritten next)."""
    for i, (l, r) in enumerate(pads):
        pre = (slice(None),) * (2 + i)
        if l:
            a[pre + (slice(0, l),)] = 0
        if r:
            a[pre + (slice(a.shape[2 + i] - r, None),)] = 0


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over ``(N, C_in, L)`` (or unbatched ``(C_in, L)``) input."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``) input."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over ``(N, C_in, D, H, W)`` (or unbatched) input."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


# ---------------------------------------------------------------------------------------------------------
# transposed convolution


class ConvolutionBackward1(_ConvBackwardBase):
    __slots__ = ()

    def name(self):
        return 'ConvolutionBackward0'

    def release(self):
        super().release()
        self.x2 = None

    def _array_grads(self, gd, need_x, need_w):
        gx = gw = None
        if need_x or need_w:
            w = self.w  # (Cin, Cout/G, *K)
            n = gd.shape[0]
            # pad the output gradient back to the full col2im extent, then take its windows
            gpad = pad_zeros(gd, self.gpads)
            cols = im2col(gpad, self.kernel, self.stride, self.dilation, self.in_shape)  # (Cout, *K, N, *I)
            cols2 = cols.reshape(-1, n * math.prod(self.in_shape))
            if need_x:
                gx2 = _gemm_fwd(cols2, w.reshape(w.shape[0], -1), self.groups)  # (Cin, P)
                gx = _from_channels_first(gx2, n, self.in_shape)
                gx = make(gx[0] if self.unbatched else gx)
            if need_w:
                gw = make(_gemm_w(self.x2, cols2, self.groups).reshape(w.shape))
            give(cols)
        return gx, gw

    def _graph_grads(self, g, x, w, need_x, need_w):
        d = len(self.kernel)
        gpad = _pad_graph(g, self.gpads)
        gx = gw = None
        if need_x:
            gx = _conv(gpad, w, None, self.stride, 0, self.dilation, self.groups, d)
            gx = gx[(slice(None), slice(None)) + tuple(slice(0, i) for i in self.in_shape)]
        if need_w:
            gw = _weight_grad(gpad, x, self.stride, self.dilation, self.kernel, self.groups, d)
        return gx, gw


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, d, output_size=None):
    name = f'conv_transpose{d}d'
    x, unbatched, w, b = _operands(input, weight, bias, d, name)
    if w.ndim != d + 2:
        raise RuntimeError(f"Expected {d + 2}-dimensional weight for {d + 2}-dimensional input "
                           f"{list(x.shape)}, but got {w.ndim}-dimensional weight of size {list(w.shape)} instead")
    if isinstance(padding, str):
        raise RuntimeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    stride = _tuple(stride, d, 'stride')
    dilation = _tuple(dilation, d, 'dilation')
    pad = _tuple(padding, d, 'padding')
    opad = _tuple(output_padding, d, 'output_padding')
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(s <= 0 for s in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation: {list(dilation)}")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    n, cin = x.shape[:2]
    kernel = tuple(w.shape[2:])
    if w.shape[0] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected input"
                           f"{list(input.shape)} to have {w.shape[0]} channels, but got {cin} channels instead")
    if cin % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {list(w.shape)} instead")
    cout = w.shape[1] * groups
    if b is not None and (b.ndim != 1 or b.shape[0] != cout):
        raise RuntimeError(f"Given transposed=1, weight of size {list(w.shape)}, expected bias to be "
                           f"1-dimensional with {cout} elements, but got bias of size {list(b.shape)} instead")
    for op, s, dl in zip(opad, stride, dilation):
        if op >= s and op >= dl:
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                               f"output_padding: {_fmt(opad)}, stride: {_fmt(stride)}, dilation: {_fmt(dilation)}")
    in_shape = tuple(x.shape[2:])
    full = tuple((i - 1) * s + dl * (k - 1) + 1 for i, s, dl, k in zip(in_shape, stride, dilation, kernel))
    out_shape = tuple(f - 2 * p + op for f, p, op in zip(full, pad, opad))
    if any(o <= 0 for o in out_shape):
        raise RuntimeError(f"Given input size per channel: ({_fmt(in_shape)}). Calculated output size per channel: "
                           f"({_fmt(out_shape)}). Output size is too small")
    alloc = tuple(f + max(0, op - p) for f, op, p in zip(full, opad, pad))
    crops = tuple((p, a - p - o) for a, p, o in zip(alloc, pad, out_shape))
    xp = array_module(x)
    with on_device(x):
        x2 = _to_channels_first(x)  # (Cin, N*I)
        cols = _gemm_t(w.reshape(cin, -1), x2, groups)  # (Cout*K, N*I)
        cols = cols.reshape((cout,) + kernel + (n,) + in_shape)
        y = col2im(cols, (n, cout) + alloc, kernel, stride, dilation, in_shape)
        y = crop(y, crops)
        if b is not None:
            y = y + b.reshape((cout,) + (1,) * d)
        else:
            y = xp.ascontiguousarray(y)
        if unbatched:
            y = y[0]
    if recording(input, weight, bias):
        node = ConvolutionBackward1((input, weight, bias))
        node.save(input, weight)
        node.w = w
        node.x2 = x2 if weight._rg else None
        node.gpads = crops
        node.kernel, node.stride, node.dilation, node.in_shape = kernel, stride, dilation, in_shape
        node.groups, node.unbatched = groups, unbatched
        return make(y, node)
    return make(y)


def _output_padding_for(input_shape, output_size, stride, padding, kernel, dilation, d):
    """The output_padding that makes a transposed conv produce ``output_size`` (PyTorch's rule and errors)."""
    output_size = list(output_size)
    if len(output_size) == d + 2:
        output_size = output_size[2:]
    elif len(output_size) == d + 1 and len(input_shape) == d + 1:
        output_size = output_size[1:]
    if len(output_size) != d:
        raise ValueError(f"ConvTranspose{d}D: for {len(input_shape)}D input, output_size must have {d} or "
                         f"{d + 2} elements (got {len(output_size)})")
    res = []
    sp = input_shape[-d:]
    for i in range(d):
        mn = (sp[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + 1
        mx = mn + stride[i] - 1
        if output_size[i] < mn or output_size[i] > mx:
            raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                             f"{[(sp[j] - 1) * stride[j] - 2 * padding[j] + dilation[j] * (kernel[j] - 1) + 1 for j in range(d)]} "
                             f"to {[(sp[j] - 1) * stride[j] - 2 * padding[j] + dilation[j] * (kernel[j] - 1) + stride[j] for j in range(d)]} "
                             f"(for an input of {list(sp)})")
        res.append(output_size[i] - mn)
    return tuple(res)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution ("deconvolution"); weight is ``(C_in, C_out/groups, kL)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution; weight is ``(C_in, C_out/groups, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution; weight is ``(C_in, C_out/groups, kD, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
