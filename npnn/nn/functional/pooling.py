"""Pooling: max, average, adaptive, LP, fractional max, and max-unpooling (1-D to 3-D).

Fixed windows loop over the kernel offsets (a handful of strided whole-array ops each), never over pixels;
the backward of max and average pooling is a strided slice-add per offset (no scatter). Adaptive average
pooling is a separable linear map (one small matmul per spatial dim). Windows with data-dependent placement
(adaptive max, fractional max) gather once and scatter-add their gradient with one bincount.
"""
import math
import numbers

import numpy as np

from ...autograd.node import Node, _raise_released
from ...autograd.ops._util import make, recording
from ...backend.device import array_module, on_device
from ...backend.conv_kernels import pad_zeros, crop, window_slices, scatter_add_rows
from ._utils import int_tuple

__all__ = ['max_pool1d', 'max_pool2d', 'max_pool3d', 'max_pool1d_with_indices', 'max_pool2d_with_indices',
           'max_pool3d_with_indices', 'avg_pool1d', 'avg_pool2d', 'avg_pool3d', 'adaptive_avg_pool1d',
           'adaptive_avg_pool2d', 'adaptive_avg_pool3d', 'adaptive_max_pool1d', 'adaptive_max_pool2d',
           'adaptive_max_pool3d', 'adaptive_max_pool1d_with_indices', 'adaptive_max_pool2d_with_indices',
           'adaptive_max_pool3d_with_indices', 'lp_pool1d', 'lp_pool2d', 'lp_pool3d', 'fractional_max_pool2d',
           'fractional_max_pool3d', 'fractional_max_pool2d_with_indices', 'fractional_max_pool3d_with_indices',
           'max_unpool1d', 'max_unpool2d', 'max_unpool3d']


def _tuple(v, d, name):
    return int_tuple(v, d, name, "{name} must either be a single int, or a tuple of {d} ints")


def _batchify(input, d, name):
    x = input._data
    if x.ndim == d + 2:
        return x, False
    if x.ndim == d + 1:
        return x[None], True
    raise RuntimeError(f"{name}: Expected {d + 1}D or {d + 2}D (batch mode) tensor for input, but got: "
                       f"{list(x.shape)}" if d > 1 else
                       f"{name}: Expected 2D or 3D (batch mode) tensor for input, but got: {list(x.shape)}")


def _pool_out(L, k, s, p, dl, ceil):
    num = L + 2 * p - dl * (k - 1) - 1 + ((s - 1) if ceil else 0)
    o = num // s + 1
    if ceil and (o - 1) * s >= L + p:
        o -= 1
    return o


def _geometry(x, d, kernel_size, stride, padding, dilation, ceil_mode, name, avg=False):
    kernel = _tuple(kernel_size, d, 'kernel_size')
    stride = kernel if (stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0)) \
        else _tuple(stride, d, 'stride')
    pad = _tuple(padding, d, 'padding')
    dil = _tuple(dilation, d, 'dilation')
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel: {list(kernel)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride: {list(stride)}")
    if any(v <= 0 for v in dil):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation: {list(dil)}")
    for k, p, dl in zip(kernel, pad, dil):
        if p < 0:
            raise RuntimeError("pad must be non-negative")
        if p * 2 > (dl * (k - 1) + 1 if not avg else k):
            if avg:
                raise RuntimeError(f"pad should be at most half of kernel size, but got pad={p} and "
                                   f"kernel_size={k}")
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={dl}")
    spatial = x.shape[2:]
    out = tuple(_pool_out(L, k, s, p, dl, ceil_mode) for L, k, s, p, dl in zip(spatial, kernel, stride, pad, dil))
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(str(i) for i in (x.shape[1],) + spatial)}). Calculated "
                           f"output size: ({'x'.join(str(i) for i in (x.shape[1],) + out)}). Output size is too small")
    # padding on each side; the right side grows so that ceil_mode windows fit
    pads = tuple((p, max(p, (o - 1) * s + dl * (k - 1) + 1 - L - p))
                 for L, k, s, p, dl, o in zip(spatial, kernel, stride, pad, dil, out))
    return kernel, stride, pad, dil, out, pads


def _idx_dtype(k):
    return np.uint8 if k <= 255 else np.int32


# ---------------------------------------------------------------------------------------------------------
# max pooling


class _WindowPoolBackward(Node):
    """Backward of a fixed-window pool: the gradient share of each window offset (``_share``) added at that
    offset's strided slice of the padded input, then the padding cropped off."""
    __slots__ = ()

    def backward(self, g):
        if self.released:
            _raise_released()
        gd = g._data
        if self.unbatched:
            gd = gd[None]
        xp = array_module(gd)
        with on_device(gd):
            share = self._share(xp, gd)
            gx = xp.zeros(self.xpad_shape, dtype=gd.dtype)
            for j, (_, sl) in enumerate(self.slices):
                gx[sl] += share(j)
            gx = crop(gx, self.pads)
            if self.unbatched:
                gx = gx[0]
        return make(xp.ascontiguousarray(gx))


class MaxPoolBackward(_WindowPoolBackward):
    __slots__ = ()

    def release(self):
        super().release()
        self.arg = None

    def _share(self, xp, gd):
        arg, zero = self.arg, gd.dtype.type(0)
        return lambda j: xp.where(arg == j, gd, zero)


def _max_pool(input, d, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name):
    x, unbatched = _batchify(input, d, name)
    kernel, stride, pad, dil, out, pads = _geometry(x, d, kernel_size, stride, padding, dilation, ceil_mode, name)
    if (d == 2 and kernel == (2, 2) and stride == (2, 2) and dil == (1, 1) and pad == (0, 0)
            and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0 and x.flags.c_contiguous and x.dtype.kind == 'f'):
        return _max_pool_2x2(input, x, unbatched, return_indices)
    xp = array_module(x)
    with on_device(x):
        fill = -np.inf if x.dtype.kind == 'f' else np.iinfo(x.dtype).min
        xpad = pad_zeros(x, pads, value=fill) if any(l or r for l, r in pads) else x
        slices = window_slices(kernel, stride, dil, out)
        best = xpad[slices[0][1]].copy()
        arg = xp.zeros(best.shape, dtype=_idx_dtype(len(slices)))
        isf = x.dtype.kind == 'f'
        for j, (_, sl) in enumerate(slices[1:], 1):
            v = xpad[sl]
            upd = v > best
            if isf:  # a NaN wins, like PyTorch
                upd |= v != v
            xp.copyto(best, v, where=upd)
            xp.copyto(arg, arg.dtype.type(j), where=upd)
        indices = None
        if return_indices:
            offs = np.array([o for o, _ in slices], dtype=np.int64).reshape(len(slices), d)
            offs = xp.asarray(offs)
            flat = None
            spatial = x.shape[2:]
            for i in range(d):
                pos_o = xp.arange(out[i], dtype=np.int64) * stride[i] - pad[i]
                shape = [1] * d
                shape[i] = out[i]
                pos = pos_o.reshape(shape) + offs[:, i][arg.astype(np.int64)] * dil[i]
                flat = pos if flat is None else flat * spatial[i] + pos
            indices = flat
        res = best[0] if unbatched else best
    if recording(input):
        node = MaxPoolBackward((input,))
        node.arg = arg
        node.slices = slices
        node.xpad_shape = xpad.shape
        node.pads = pads
        node.unbatched = unbatched
        r = make(res, node)
    else:
        r = make(res)
    if return_indices:
        return r, make(indices[0] if unbatched else indices)
    return r


class MaxPool2x2Backward(Node):
    __slots__ = ()

    def release(self):
        super().release()
        self.iw = self.ih = None

    def backward(self, g):
        if self.released:
            _raise_released()
        gd = g._data
        xp = array_module(gd)
        n, c, h, w = self.shape
        with on_device(gd):
            g2 = gd.reshape(-1, w // 2)                                  # (M, Ow), M = N*C*Oh
            gmw = xp.empty((g2.shape[0], 2, w // 2), dtype=gd.dtype)   # gradient of the row-pair maxima
            xp.multiply(g2, self.ih, out=gmw[:, 1, :])
            xp.subtract(g2, gmw[:, 1, :], out=gmw[:, 0, :])
            gf = gmw.reshape(-1)
            gx = xp.empty((gf.shape[0], 2), dtype=gd.dtype)
            xp.multiply(gf, self.iw, out=gx[:, 1])
            xp.subtract(gf, gx[:, 1], out=gx[:, 0])
        return make(gx.reshape(self.in_shape))


def _winners_nan(xp, a, b, n, c, h, w):
    iw = (b > a) | (b != b)
    mw = xp.where(iw, b, a).reshape(-1, 2, w // 2)
    top, bot = mw[:, 0, :], mw[:, 1, :]
    ih = (bot > top) | (bot != bot)
    best = xp.where(ih, bot, top).reshape(n, c, h // 2, w // 2)
    return iw, ih, best


def _max_pool_2x2(input, x, unbatched, return_indices):
    """2x2/stride-2 max pooling as two pairwise passes (along W over the flat array, then along H), so every
    elementwise op runs long inner loops; the backward is the same two passes reversed (no scatter)."""
    xp = array_module(x)
    n, c, h, w = x.shape
    with on_device(x):
        xf = x.reshape(-1, 2)
        a, b = xf[:, 0], xf[:, 1]
        if xp is np:
            iw = b > a                                                   # W-pair winner (ties: first)
            mw = xp.maximum(a, b).reshape(-1, 2, w // 2)                 # (N*C*Oh, 2, Ow)
            top, bot = mw[:, 0, :], mw[:, 1, :]
            ih = bot > top                                               # H-pair winner (ties: first)
            best = xp.maximum(top, bot).reshape(n, c, h // 2, w // 2)
            if bool(xp.isnan(best).any()):  # NaN wins, like PyTorch: redo the winners NaN-aware
                iw, ih, best = _winners_nan(xp, a, b, n, c, h, w)
        else:  # no host round-trip on the GPU: always NaN-aware
            iw, ih, best = _winners_nan(xp, a, b, n, c, h, w)
        indices = None
        if return_indices:
            iwr = iw.reshape(-1, 2, w // 2)
            col = xp.where(ih, iwr[:, 1, :], iwr[:, 0, :]).astype(np.int64)
            oh = xp.arange(h // 2, dtype=np.int64).reshape(1, -1, 1)
            ow = xp.arange(w // 2, dtype=np.int64).reshape(1, 1, -1)
            row = ih.astype(np.int64).reshape(n * c, h // 2, w // 2) + 2 * oh
            indices = (row * w + 2 * ow + col.reshape(n * c, h // 2, w // 2)).reshape(n, c, h // 2, w // 2)
        res = best[0] if unbatched else best
    if recording(input):
        node = MaxPool2x2Backward((input,))
        node.iw, node.ih = iw, ih.reshape(-1, w // 2)
        node.shape = (n, c, h, w)
        node.in_shape = tuple(input._data.shape)
        r = make(res, node)
    else:
        r = make(res)
    if return_indices:
        return r, make(indices[0] if unbatched else indices)
    return r


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True, 'max_pool1d')


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True, 'max_pool2d')


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True, 'max_pool3d')


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over ``(N, C, L)``; ``return_indices`` also gives flat argmax positions."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 'max_pool1d')


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over ``(N, C, H, W)``; ``return_indices`` also gives flat argmax positions."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 'max_pool2d')


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over ``(N, C, D, H, W)``."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 'max_pool3d')


# ---------------------------------------------------------------------------------------------------------
# average pooling


class AvgPoolBackward(_WindowPoolBackward):
    __slots__ = ()
    saves = False

    def _share(self, xp, gd):
        gg = gd / self.divisor if not isinstance(self.divisor, (int, float)) else gd * (1.0 / self.divisor)
        gg = gg.astype(gd.dtype, copy=False)
        return lambda j: gg


def _avg_divisor(xp, spatial, kernel, stride, pad, out, count_include_pad, dtype):
    div = None
    d = len(kernel)
    for i in range(d):
        L, k, s, p, o = spatial[i], kernel[i], stride[i], pad[i], out[i]
        start = np.arange(o) * s - p
        end = np.minimum(start + k, L + p)
        size = end - start
        if not count_include_pad:
            size = np.minimum(end, L) - np.maximum(start, 0)
        shape = [1] * d
        shape[i] = o
        size = size.reshape(shape)
        div = size if div is None else div * size
    if np.all(div == div.flat[0]):
        return float(div.flat[0])
    return xp.asarray(div.astype(dtype))


def _avg_pool(input, d, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, name):
    x, unbatched = _batchify(input, d, name)
    kernel, stride, pad, dil, out, pads = _geometry(x, d, kernel_size, stride, padding, 1, ceil_mode, name, avg=True)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    xp = array_module(x)
    with on_device(x):
        xpad = pad_zeros(x, pads)
        slices = window_slices(kernel, stride, dil, out)
        acc = xpad[slices[0][1]].copy()
        for _, sl in slices[1:]:
            acc += xpad[sl]
        if divisor_override is not None:
            divisor = float(divisor_override)
        else:
            divisor = _avg_divisor(xp, x.shape[2:], kernel, stride, pad, out, count_include_pad, x.dtype)
        if isinstance(divisor, float):
            acc *= x.dtype.type(1.0 / divisor)
        else:
            acc /= divisor
        res = acc[0] if unbatched else acc
    if recording(input):
        node = AvgPoolBackward((input,))
        node.divisor = divisor
        node.slices = slices
        node.xpad_shape = xpad.shape
        node.pads = pads
        node.unbatched = unbatched
        return make(res, node)
    return make(res)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over ``(N, C, L)``."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 'avg_pool1d')


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over ``(N, C, H, W)``."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     'avg_pool2d')


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling over ``(N, C, D, H, W)``."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     'avg_pool3d')


# ---------------------------------------------------------------------------------------------------------
# separable linear maps over trailing dims (adaptive average pooling; reused by interpolate)


class SeparableLinearBackward(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        xp = array_module(gd)
        d = len(self.mats)
        with on_device(gd):
            for i in reversed(range(d)):
                A = self.mats[i]
                if A is None:
                    continue
                ax = gd.ndim - d + i
                gd = xp.moveaxis(xp.moveaxis(gd, ax, -1) @ A, -1, ax)
        return make(xp.ascontiguousarray(gd))


def separable_linear(input, mats):
    """Apply ``mats[i]`` (``(O_i, L_i)`` arrays, or None for identity) along the i-th of the trailing
    ``len(mats)`` dims of ``input``: one matmul per dim, one autograd node."""
    x = input._data
    xp = array_module(x)
    d = len(mats)
    with on_device(x):
        mats = [None if A is None else xp.asarray(A, dtype=x.dtype) for A in mats]
        y = x
        for i in range(d):
            A = mats[i]
            if A is None:
                continue
            ax = y.ndim - d + i
            y = xp.moveaxis(xp.moveaxis(y, ax, -1) @ A.T, -1, ax)
        y = xp.ascontiguousarray(y)
    if recording(input):
        node = SeparableLinearBackward((input,))
        node.mats = mats
        return make(y, node)
    return make(y)


def _adaptive_ranges(L, O):
    o = np.arange(O)
    start = (o * L) // O
    end = -((-(o + 1) * L) // O)
    return start, end


def _adaptive_avg_matrix(L, O):
    start, end = _adaptive_ranges(L, O)
    j = np.arange(L)
    m = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return m / (end - start)[:, None]


def _out_size(output_size, d, spatial):
    if output_size is None or isinstance(output_size, numbers.Integral):
        output_size = (output_size,) * d
    output_size = tuple(output_size)
    if len(output_size) != d:
        raise ValueError(f"output_size must be an int or a tuple of {d} ints")
    return tuple(int(L if o is None else o) for o, L in zip(output_size, spatial))


def _check_adaptive(x, d, name):
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got {list(x.shape)}")
    for i in range(x.ndim - d, x.ndim):
        if x.shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but "
                               f"input has sizes {list(x.shape)} with dimension {i} being empty")


def _adaptive_avg(input, output_size, d, name):
    x = input._data
    _check_adaptive(x, d, name)
    spatial = x.shape[-d:]
    out = _out_size(output_size, d, spatial)
    mats = [None if o == L else _adaptive_avg_matrix(L, o) for L, o in zip(spatial, out)]
    return separable_linear(input, mats)


def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pooling to length ``output_size``."""
    return _adaptive_avg(input, output_size, 1, 'adaptive_avg_pool1d')


def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pooling to ``output_size`` (int or (H, W), None keeps that size)."""
    return _adaptive_avg(input, output_size, 2, 'adaptive_avg_pool2d')


def adaptive_avg_pool3d(input, output_size):
    """Adaptive average pooling to ``output_size`` (int or (D, H, W))."""
    return _adaptive_avg(input, output_size, 3, 'adaptive_avg_pool3d')


# ---------------------------------------------------------------------------------------------------------
# gathered-window max (adaptive max, fractional max)


class GatherMaxBackward(Node):
    __slots__ = ()
    saves = False

    def release(self):
        super().release()
        self.idx = None

    def backward(self, g):
        if self.released:
            _raise_released()
        gd = g._data
        rows = math.prod(self.lead)
        with on_device(gd):
            gx = scatter_add_rows(self.n_in, self.idx.reshape(rows, -1), gd.reshape(rows, -1))
        return make(gx.reshape(self.in_shape))


def _gather_max(input, x, win_idx, spatial):
    """Max over gathered windows. ``win_idx`` is a tuple of d integer index arrays that broadcast to
    ``(N or 1, C or 1, *out, *kernel)``; returns (values, flat indices into the spatial dims)."""
    xp = array_module(x)
    d = len(spatial)
    n, c = x.shape[:2]
    nidx = xp.arange(n).reshape((n,) + (1,) * (2 * d + 1))
    cidx = xp.arange(c).reshape((1, c) + (1,) * (2 * d))
    win = x[(nidx, cidx) + tuple(win_idx)]  # (N, C, *O, *K)
    out_shape = win.shape[2:2 + d]
    kn = math.prod(win.shape[2 + d:])
    win = win.reshape(win.shape[:2 + d] + (kn,))
    j = xp.argmax(win, axis=-1)
    vals = xp.take_along_axis(win, j[..., None], axis=-1)[..., 0]
    if win.dtype.kind == 'f':  # a NaN wins (the last one in scan order), like PyTorch
        isn = xp.isnan(win)
        nan = isn.any(axis=-1)
        if xp is not np or bool(nan.any()):
            j = xp.where(nan, kn - 1 - xp.argmax(isn[..., ::-1], axis=-1), j)
            vals = xp.where(nan, win.dtype.type(np.nan), vals)
    kshape = tuple(max(a.shape[2 + d + t] for a in win_idx) for t in range(d))
    flat = None
    for i in range(d):
        a = xp.broadcast_to(win_idx[i], (n, c) + tuple(out_shape) + kshape).reshape((n, c) + tuple(out_shape) + (kn,))
        pos = xp.take_along_axis(a, j[..., None], axis=-1)[..., 0]
        flat = pos if flat is None else flat * spatial[i] + pos
    return vals, flat.astype(np.int64, copy=False)


def _finish_gather_max(input, unbatched, vals, flat, return_indices):
    x_shape = input._data.shape
    d_in = x_shape if not unbatched else (1,) + tuple(x_shape)
    if recording(input):
        node = GatherMaxBackward((input,))
        node.idx = flat
        node.lead = d_in[:2]
        node.n_in = math.prod(d_in[2:])
        node.in_shape = tuple(x_shape)
        r = make(vals[0] if unbatched else vals, node)
    else:
        r = make(vals[0] if unbatched else vals)
    if return_indices:
        return r, make(flat[0] if unbatched else flat)
    return r


def _adaptive_max(input, output_size, d, return_indices, name):
    x = input._data
    _check_adaptive(x, d, name)
    unbatched = x.ndim == d + 1
    if unbatched:
        x = x[None]
    spatial = x.shape[2:]
    out = _out_size(output_size, d, spatial)
    xp = array_module(x)
    if all(L % o == 0 for L, o in zip(spatial, out)):
        k = tuple(L // o for L, o in zip(spatial, out))
        return _max_pool(input, d, k, k, 0, 1, False, return_indices, name)
    with on_device(x):
        idxs = []
        for i, (L, o) in enumerate(zip(spatial, out)):
            start, end = _adaptive_ranges(L, o)
            kmax = int((end - start).max())
            ii = np.minimum(start[:, None] + np.arange(kmax)[None, :], (end - 1)[:, None])  # (o, kmax)
            shape = [1] * (2 + 2 * d)
            shape[2 + i] = o
            shape[2 + d + i] = kmax
            idxs.append(xp.asarray(ii.reshape(shape)))
        vals, flat = _gather_max(input, x, idxs, spatial)
    return _finish_gather_max(input, unbatched, vals, flat, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, 1, True, 'adaptive_max_pool1d')


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, 2, True, 'adaptive_max_pool2d')


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max(input, output_size, 3, True, 'adaptive_max_pool3d')


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive max pooling to length ``output_size``."""
    return _adaptive_max(input, output_size, 1, return_indices, 'adaptive_max_pool1d')


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive max pooling to ``output_size`` (int or (H, W))."""
    return _adaptive_max(input, output_size, 2, return_indices, 'adaptive_max_pool2d')


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive max pooling to ``output_size`` (int or (D, H, W))."""
    return _adaptive_max(input, output_size, 3, return_indices, 'adaptive_max_pool3d')


# ---------------------------------------------------------------------------------------------------------
# LP pooling


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, d):
    kernel = _tuple(kernel_size, d, 'kernel_size')
    if d == 1:
        out = avg_pool1d(input.pow(norm_type), kernel, stride if stride is not None else None, 0, ceil_mode)
    elif d == 2:
        out = avg_pool2d(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    else:
        out = avg_pool3d(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum x^p)^(1/p)`` over each window."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


# ---------------------------------------------------------------------------------------------------------
# fractional max pooling


def _intervals(xp, u, L, O, k):
    """Window starts (``(N, C, O)``) from samples ``u`` (``(N, C)``), in the input's float precision."""
    dt = u.dtype
    if O == 1:
        return xp.full(u.shape + (1,), L - k, dtype=np.int64)
    alpha = dt.type(L - k) / dt.type(O - 1)
    i = xp.arange(O - 1, dtype=dt)
    seq = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    last = xp.full(u.shape + (1,), L - k, dtype=np.int64)
    return xp.concatenate([seq, last], axis=-1)


def _fractional(input, d, kernel_size, output_size, output_ratio, return_indices, _random_samples, name):
    x = input._data
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got: {list(x.shape)}")
    unbatched = x.ndim == d + 1
    if unbatched:
        x = x[None]
    kernel = _tuple(kernel_size, d, 'kernel_size')
    spatial = x.shape[2:]
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
        ratio = _ratio(output_ratio, d)
        output_size = tuple(int(L * r) for L, r in zip(spatial, ratio))
    out = _tuple(output_size, d, 'output_size')
    dims = ['time', 'height', 'width'][-d:] if d == 3 else ['height', 'width']
    for L, o, k, nm in zip(spatial, out, kernel, dims):
        if o + k - 1 > L:
            raise RuntimeError(f"{name}_out(): pool {nm} {k} too large relative to input {nm} {L}")
    xp = array_module(x)
    n, c = x.shape[:2]
    with on_device(x):
        if _random_samples is None:
            from ...creation import rand
            samples = rand(n, c, d, dtype=input.dtype, device=input.device)._data
        else:
            samples = _random_samples._data
            if samples.ndim != 3 or samples.shape[0] != n or samples.shape[1] != c or samples.shape[2] != d:
                raise RuntimeError(f"Expect _random_samples to have shape ({n}, {c}, {d}) but got "
                                   f"{list(samples.shape)}")
        samples = samples.astype(x.dtype, copy=False)
        order = [1, 0] if d == 2 else [0, 1, 2]  # 2-d: sample 0 drives the width, sample 1 the height
        idxs = []
        for i in range(d):
            starts = _intervals(xp, samples[:, :, order[i]], spatial[i], out[i], kernel[i])  # (N, C, O)
            w = starts[..., None] + xp.arange(kernel[i])  # (N, C, O, k)
            shape = [n, c] + [1] * (2 * d)
            shape[2 + i] = out[i]
            shape[2 + d + i] = kernel[i]
            idxs.append(w.reshape(shape))
        vals, flat = _gather_max(input, x, idxs, spatial)
    return _finish_gather_max(input, unbatched, vals, flat, return_indices)


def _ratio(r, d):
    if isinstance(r, numbers.Number):
        r = (float(r),) * d
    r = tuple(float(v) for v in r)
    if len(r) == 1:
        r = r * d
    for v in r:
        if not 0 < v < 1:
            raise ValueError(f"output_ratio must be between 0 and 1 (got {r})")
    return r


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(input, 2, kernel_size, output_size, output_ratio, True, _random_samples,
                       'fractional_max_pool2d')


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(input, 3, kernel_size, output_size, output_ratio, True, _random_samples,
                       'fractional_max_pool3d')


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling (Graham, 2014) to ``output_size`` or ``output_ratio`` of the input size."""
    return _fractional(input, 2, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                       'fractional_max_pool2d')


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-D fractional max pooling."""
    return _fractional(input, 3, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                       'fractional_max_pool3d')


# ---------------------------------------------------------------------------------------------------------
# max unpooling


class MaxUnpoolBackward(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        xp = array_module(gd)
        rows = self.idx.shape[0]
        with on_device(gd):
            gx = xp.take_along_axis(gd.reshape(rows, -1), self.idx, axis=1)
        return make(gx.reshape(self.in_shape)), None


def _max_unpool(input, indices, d, kernel_size, stride, padding, output_size, name):
    x = input._data
    idx = indices._data
    if idx.dtype.kind not in 'iu':
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    if x.shape != idx.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(x.shape)}) "
                           f"but got indices tensor with shape: {list(idx.shape)}")
    if x.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{name}: Expected {d + 1}D or {d + 2}D tensor, but got: {list(x.shape)}")
    kernel = _tuple(kernel_size, d, 'kernel_size')
    stride = kernel if stride is None else _tuple(stride, d, 'stride')
    pad = _tuple(padding, d, 'padding')
    spatial = x.shape[-d:]
    default = tuple((L - 1) * s - 2 * p + k for L, s, p, k in zip(spatial, stride, pad, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == d + 2 or (len(out) == d + 1 and x.ndim == d + 1):
            out = out[-d:]
        if len(out) != d:
            raise ValueError(f"output_size should be a sequence containing {d} or {d + 2} elements, but it has "
                             f"a length of '{len(out)}'")
        for o, df, s in zip(out, default, stride):
            if o < df - s or o > df + s:
                raise ValueError(f"invalid output_size \"{list(out)}\" (dim {d} must be between {df - s} and "
                                 f"{df + s})")
    xp = array_module(x)
    lead = x.shape[:-d]
    rows = math.prod(lead)
    n_out = math.prod(out)
    with on_device(x):
        i2 = idx.reshape(rows, -1).astype(np.int64, copy=False)
        if i2.size and (bool((i2 < 0).any()) or bool((i2 >= n_out).any())):
            bad = int(i2[(i2 < 0) | (i2 >= n_out)][0])
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(str(o) for o in out)}")
        y = xp.zeros((rows, n_out), dtype=x.dtype)
        xp.put_along_axis(y, i2, x.reshape(rows, -1), axis=1) if hasattr(xp, 'put_along_axis') else \
            y.__setitem__((xp.arange(rows)[:, None], i2), x.reshape(rows, -1))
        y = y.reshape(tuple(lead) + out)
    if recording(input):
        node = MaxUnpoolBackward((input, None))
        node.idx = i2
        node.in_shape = x.shape
        return make(y, node)
    return make(y)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: put values at ``indices`` in a zero output."""
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size, 'max_unpool1d')


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d."""
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size, 'max_unpool2d')


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size, 'max_unpool3d')
