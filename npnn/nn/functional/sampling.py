"""Resampling: ``interpolate``, ``grid_sample``, ``affine_grid``, ``pixel_shuffle``/``pixel_unshuffle``,
``channel_shuffle``.

``interpolate`` is separable: each spatial dim is resampled by one small ``(out, in)`` weight matrix (nearest,
linear and cubic taps, PyTorch's source-index rules; antialiased filters stretched by the downsampling ratio),
so forward and backward are one matmul per dim; integer nearest upsampling uses a repeat and a reshape-sum
instead.
"""
import math

import numpy as np

from ...autograd.node import Node, _raise_released
from ...autograd.ops._util import make, recording, check_same_device
from ...backend.device import array_module, on_device
from ...backend.conv_kernels import scatter_add_rows
from .pooling import separable_linear, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ['interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear', 'grid_sample', 'affine_grid',
           'pixel_shuffle', 'pixel_unshuffle', 'channel_shuffle']

_LINEAR = {'linear': 1, 'bilinear': 2, 'bicubic': 2, 'trilinear': 3}


def _scale(L, O, align_corners, sf):
    f32 = np.float32
    if align_corners:
        return f32((L - 1) / (O - 1)) if O > 1 else f32(0)
    if sf is not None and sf > 0:
        return f32(1.0 / sf)
    return f32(L) / f32(O)


def _nearest_matrix(L, O, sf, exact):
    if O == L:
        return None, np.arange(O)
    if O == 2 * L and not exact:
        idx = np.arange(O) >> 1
    else:
        s = _scale(L, O, False, sf)
        dst = np.arange(O, dtype=np.float32)
        if exact:
            dst = dst + np.float32(0.5)
        idx = np.minimum(np.floor(dst * s).astype(np.int64), L - 1)
    return True, idx


def _linear_matrix(L, O, align_corners, sf):
    s = _scale(L, O, align_corners, sf)
    dst = np.arange(O, dtype=np.float32)
    if align_corners:
        src = s * dst
    else:
        src = np.maximum(s * (dst + np.float32(0.5)) - np.float32(0.5), np.float32(0))
    i0 = np.floor(src).astype(np.int64)
    i0 = np.minimum(i0, L - 1)
    i1 = np.minimum(i0 + 1, L - 1)
    l1 = (src - i0).astype(np.float32)
    l0 = np.float32(1) - l1
    m = np.zeros((O, L), dtype=np.float64)
    r = np.arange(O)
    m[r, i0] += l0
    m[r, i1] += l1
    return m


def _cubic_matrix(L, O, align_corners, sf):
    s = _scale(L, O, align_corners, sf)
    dst = np.arange(O, dtype=np.float32)
    src = s * dst if align_corners else s * (dst + np.float32(0.5)) - np.float32(0.5)
    i = np.floor(src).astype(np.int64)
    t = (src - i).astype(np.float32)
    A = np.float32(-0.75)
    ws = (_keys_far(t + 1, A), _keys_near(t, A), _keys_near(1 - t, A), _keys_far(2 - t, A))
    m = np.zeros((O, L), dtype=np.float64)
    r = np.arange(O)
    for k, w in enumerate(ws):
        m[r, np.clip(i - 1 + k, 0, L - 1)] += w
    return m


def _keys_near(x, A):
    """Keys cubic-convolution kernel on |x| <= 1."""
    return ((A + 2) * x - (A + 3)) * x * x + 1


def _keys_far(x, A):
    """Keys cubic-convolution kernel on 1 < |x| < 2."""
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A


def _keys_near_grad(x, A):
    return (3 * (A + 2) * x - 2 * (A + 3)) * x


def _keys_far_grad(x, A):
    return (3 * A * x - 10 * A) * x + 8 * A


def _aa_triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0).astype(x.dtype, copy=False)


def _aa_cubic(x):
    # the antialiased bicubic filter uses A = -0.5 (Keys' choice, as PIL), not the -0.75 of plain bicubic
    x = np.abs(x)
    A = x.dtype.type(-0.5)
    return np.where(x < 1, _keys_near(x, A), np.where(x < 2, _keys_far(x, A), 0)).astype(x.dtype, copy=False)


def _aa_lanczos(x):
    # Lanczos-3 windowed sinc: sinc(x) * sinc(x / 3) on |x| < 3
    x = np.abs(x)
    nz = np.where(x == 0, 1, x)
    v = np.where(x == 0, 1, 3 * np.sin(np.pi * nz) * np.sin(np.pi * nz / 3) / (np.pi * np.pi * nz * nz))
    return np.where(x < 3, v, 0).astype(x.dtype, copy=False)


_AA_FILTERS = {'bilinear': (2, _aa_triangle), 'bicubic': (4, _aa_cubic), 'lanczos': (6, _aa_lanczos)}


def _antialias_matrix(L, O, align_corners, sf, mode, dtype, skip_same=True):
    """(O, L) weights of PyTorch's antialiased resampling along one dim: the filter is stretched by the
    downsampling ratio, truncated to its support and renormalised per output. With ``skip_same`` a dim whose
    size does not change is the identity (None), as in PyTorch's forward even when a scale factor is given."""
    if L == O and skip_same:
        return None
    dt = np.dtype(np.float64 if dtype == np.float64 else np.float32).type  # PyTorch's opmath type
    if align_corners:
        scale = dt(dt(L - 1) / dt(O - 1)) if O > 1 else dt(0)
    elif sf is not None and sf > 0:
        scale = dt(1.0 / sf)
    else:
        scale = dt(dt(L) / dt(O))
    taps, filt = _AA_FILTERS[mode]
    support = dt(taps * 0.5 * scale) if scale >= 1 else dt(taps * 0.5)
    width = int(math.ceil(support)) * 2 + 1
    inv = dt(1.0 / scale) if scale >= 1 else dt(1)
    center = scale * (np.arange(O, dtype=dt) + dt(0.5))
    lo = np.maximum((center - support + dt(0.5)).astype(np.int64), 0)  # C++ truncation, then clamp
    n = np.clip(np.minimum((center + support + dt(0.5)).astype(np.int64), L) - lo, 0, width)
    j = np.arange(width)
    pos = lo[:, None] + j
    w = filt(((pos - center[:, None]).astype(dt) + dt(0.5)) * inv)
    w = np.where(j < n[:, None], w, dt(0))
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, dt(1)), w)
    m = np.zeros((O, L), dtype=np.float64)
    np.add.at(m, (np.repeat(np.arange(O), width), np.minimum(pos, L - 1).ravel()), w.ravel())
    return m


class RepeatNearestBackward(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        d = len(self.factors)
        with on_device(gd):
            lead = gd.shape[:gd.ndim - d]
            shape = list(lead)
            for L, f in zip(self.in_sp, self.factors):
                shape += [L, f]
            gd = gd.reshape(shape).sum(axis=tuple(len(lead) + 2 * i + 1 for i in range(d)))
        return make(gd)


def _repeat_nearest(input, factors):
    x = input._data
    xp = array_module(x)
    d = len(factors)
    lead = x.shape[:x.ndim - d]
    in_sp = x.shape[x.ndim - d:]
    with on_device(x):
        shape, bshape = list(lead), list(lead)
        for L, f in zip(in_sp, factors):
            shape += [L, 1]
            bshape += [L, f]
        y = xp.broadcast_to(x.reshape(shape), bshape).reshape(tuple(lead) + tuple(L * f for L, f in zip(in_sp, factors)))
        y = xp.ascontiguousarray(y)
    if recording(input):
        node = RepeatNearestBackward((input,))
        node.factors, node.in_sp = factors, in_sp
        return make(y, node)
    return make(y)


def _nearest(input, out, sfs, exact):
    x = input._data
    d = len(out)
    in_sp = x.shape[-d:]
    idxs = [_nearest_matrix(L, O, sf, exact)[1] for L, O, sf in zip(in_sp, out, sfs)]
    factors = []
    for L, O, idx in zip(in_sp, out, idxs):
        f = O // L if L else 0
        if f >= 1 and O == f * L and np.array_equal(idx, np.arange(O) // f):
            factors.append(f)
        else:
            factors = None
            break
    if factors is not None:
        return _repeat_nearest(input, tuple(factors))
    mats = []
    for L, O, idx in zip(in_sp, out, idxs):
        if O == L and np.array_equal(idx, np.arange(L)):
            mats.append(None)
        else:
            m = np.zeros((O, L))
            m[np.arange(O), idx] = 1
            mats.append(m)
    return separable_linear(input, mats)


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``(N, C, *spatial)`` input to ``size`` or by ``scale_factor`` with
    ``mode`` in nearest | nearest-exact | linear | bilinear | bicubic | trilinear | area | lanczos; ``antialias``
    (bilinear, bicubic and lanczos on 4-D input; lanczos requires it) widens the filter when downsampling, as
    PyTorch and PIL do."""
    d = input.dim() - 2
    unsupported = NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                      f"for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | "
                                      f"area | nearest-exact (got {mode})")
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif mode in _LINEAR or mode == 'lanczos':
        if align_corners is None:
            align_corners = False
    else:
        raise unsupported
    if antialias and not (mode in _AA_FILTERS and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if d < 1 or d > 3 or (mode == 'lanczos' and d != 2):
        raise unsupported
    if mode == 'lanczos':
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if mode in _LINEAR and _LINEAR[mode] != d:
        need = {1: '3D', 2: '4D', 3: '5D'}[_LINEAR[mode]]
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need} input")
    spatial = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != d:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(spatial)} and output size of {list(size)}. "
                                 f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 f"(o1, o2, ...,oK) format.")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * d
        sfs = (None,) * d
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != d:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                                 f"{list(scale_factor)}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 f"format and scale_factor in (s1, s2, ...,sK) format.")
            sfs = tuple(float(s) for s in scale_factor)
        else:
            sfs = (float(scale_factor),) * d
        out = tuple(int(math.floor(float(L) * s)) for L, s in zip(spatial, sfs))
        if recompute_scale_factor:
            sfs = (None,) * d
    else:
        raise ValueError("either size or scale_factor should be defined")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, spatial))}) and output ({', '.join(map(str, out))})")
    if mode == 'area':
        return [adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d][d - 1](input, out)
    if mode in ('nearest', 'nearest-exact'):
        return _nearest(input, out, sfs, mode == 'nearest-exact')
    if antialias:
        return _antialiased(input, out, sfs, mode, align_corners)
    if mode == 'bicubic':
        mats = [_cubic_matrix(L, O, align_corners, sf) for L, O, sf in zip(spatial, out, sfs)]
    else:
        mats = [None if (L == O and (sf is None or sf == 1)) else _linear_matrix(L, O, align_corners, sf)
                for L, O, sf in zip(spatial, out, sfs)]
    return separable_linear(input, mats)


def _antialiased(input, out, sfs, mode, align_corners):
    x = input._data
    args = [(L, O, align_corners, sf, mode, x.dtype) for L, O, sf in zip(x.shape[2:], out, sfs)]
    y = separable_linear(input, [_antialias_matrix(*a) for a in args])
    if y._node is not None and any(L == O and sf is not None for L, O, sf in zip(x.shape[2:], out, sfs)):
        # PyTorch's backward does not skip an unchanged dim: it applies the scale factor's weights there, so
        # the input gradient is not the adjoint of the (identity) forward; follow it for parity.
        xp = array_module(x)
        with on_device(x):
            y._node.mats = [None if A is None else xp.asarray(A, dtype=x.dtype)
                            for A in (_antialias_matrix(*a, skip_same=False) for a in args)]
    return y


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)


# ---------------------------------------------------------------------------------------------------------
# grid_sample / affine_grid


def _source_coord(xp, coord, size, padding_mode, align_corners):
    """Grid coordinate -> pixel coordinate and its derivative (PyTorch's unnormalize, clip, reflect)."""
    dt = coord.dtype
    if align_corners:
        c = (coord + 1) / 2 * (size - 1)
        mult = xp.full(coord.shape, (size - 1) / 2, dtype=dt)
    else:
        c = ((coord + 1) * size - 1) / 2
        mult = xp.full(coord.shape, size / 2, dtype=dt)
    if padding_mode == 'border':
        inside = (c > 0) & (c < size - 1)
        c = xp.clip(c, 0, size - 1)
        mult = xp.where(inside, mult, dt.type(0))
    elif padding_mode == 'reflection':
        lo, hi = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if lo == hi:
            c = xp.zeros_like(c)
            mult = xp.zeros_like(mult)
        else:
            mn = lo / 2
            span = (hi - lo) / 2
            v = c - mn
            sign = xp.where(v < 0, dt.type(-1), dt.type(1))
            v = xp.abs(v)
            extra = xp.fmod(v, span)
            flips = xp.floor(v / span)
            even = (flips % 2) == 0
            c = xp.where(even, extra + mn, span - extra + mn)
            mult = mult * xp.where(even, sign, -sign)
        inside = (c > 0) & (c < size - 1)
        c = xp.clip(c, 0, size - 1)
        mult = xp.where(inside, mult, dt.type(0))
    return c.astype(dt, copy=False), mult.astype(dt, copy=False)


def _tap_index(xp, q, size, padding_mode, align_corners):
    """Integer tap positions ``q`` -> in-range indices and a validity mask (None: all valid). Bicubic pads each
    tap, not the sampling point: border clamps, reflection mirrors about the edge pixels' centres
    (align_corners) or outer edges, zeros marks the outside taps invalid."""
    if padding_mode == 'border':
        return xp.clip(q, 0, size - 1), None
    if padding_mode == 'reflection':
        if align_corners:
            if size == 1:
                return xp.zeros_like(q), None
            period = 2 * (size - 1)
            r = xp.abs(q) % period
            return xp.where(r >= size, period - r, r), None
        period = 2 * size
        r = q % period  # floor modulo: non-negative
        return xp.where(r >= size, period - 1 - r, r), None
    return xp.clip(q, 0, size - 1), (q >= 0) & (q < size)


def _bicubic_taps(xp, coord, size, padding_mode, align_corners):
    """One grid component (N, P) -> its 4 tap indices (N, 4, P), validity (or None), cubic weights and their
    derivatives w.r.t. the grid coordinate (N, 4, P each)."""
    dt = coord.dtype.type
    half = dt((size - 1) / 2) if align_corners else dt(size / 2)
    c = (coord + 1) * half if align_corners else coord * half + (half - dt(0.5))
    base = xp.floor(c)
    t = c - base
    u = 1 - t
    A = dt(-0.75)
    w = xp.stack([_keys_far(t + 1, A), _keys_near(t, A), _keys_near(u, A), _keys_far(u + 1, A)], axis=1)
    dw = xp.stack([_keys_far_grad(t + 1, A), _keys_near_grad(t, A), -_keys_near_grad(u, A),
                   -_keys_far_grad(u + 1, A)], axis=1) * half
    q = base.astype(np.int64)[:, None, :] + xp.arange(-1, 3)[None, :, None]
    idx, valid = _tap_index(xp, q, size, padding_mode, align_corners)
    return idx, valid, w.astype(coord.dtype, copy=False), dw.astype(coord.dtype, copy=False)


def _bicubic_sample(xp, x, gr, padding_mode, align_corners):
    """Bicubic grid_sample forward on (N, C, H, W): output (N, C, P), the 16 (index, weight) taps for the
    input gradient and what the grid gradient needs."""
    n, ch, h, w = x.shape
    p = math.prod(gr.shape[1:-1])
    cx, vx, wx, dwx = _bicubic_taps(xp, gr[..., 0].reshape(n, p), w, padding_mode, align_corners)
    cy, vy, wy, dwy = _bicubic_taps(xp, gr[..., 1].reshape(n, p), h, padding_mode, align_corners)
    flat = (cy[:, :, None, :] * w + cx[:, None, :, :]).reshape(n, 16, p)  # (row tap, column tap) pairs
    # gather whole channel vectors from a channels-last copy: far cheaper than a 3-index fancy gather
    rows_cl = xp.ascontiguousarray(x.reshape(n, ch, h * w).transpose(0, 2, 1)).reshape(n * h * w, ch)
    vals = rows_cl.take((flat + (xp.arange(n) * (h * w))[:, None, None]).reshape(-1), axis=0)
    vals = vals.reshape(n, 16 * p, ch).transpose(0, 2, 1).reshape(n, ch, 4, 4, p)
    wt = wy[:, :, None, :] * wx[:, None, :, :]
    if vx is not None:
        valid = vy[:, :, None, :] & vx[:, None, :, :]
        vals = vals * valid[:, None]
        wt = wt * valid
    rows = (vals * wy[:, None, :, None, :]).sum(axis=2)  # (N, C, 4 column taps, P)
    out = (rows * wx[:, None]).sum(axis=2)
    wt = wt.reshape(n, 16, p)
    taps = tuple((flat[:, k], wt[:, k]) for k in range(16))
    return out, taps, {'vals': vals, 'w': (wx, wy), 'dw': (dwx, dwy)}


class GridSamplerBackward(Node):
    __slots__ = ()

    def name(self):
        return 'GridSampler2DBackward0' if len(self.ctx['sizes']) == 2 else 'GridSampler3DBackward0'

    def release(self):
        super().release()
        self.ctx = None

    def backward(self, g):
        if self.released:
            _raise_released()
        gd = g._data
        xp = array_module(gd)
        c = self.ctx
        n, ch = c['shape'][:2]
        nin = math.prod(c['sizes'])
        p = math.prod(gd.shape[2:])
        g3 = gd.reshape(n, ch, p)
        gx = gg = None
        with on_device(gd):
            if self.next[0] is not None:
                idx = xp.concatenate([t[0] for t in c['taps']], axis=1)  # (N, T*P)
                vals = xp.concatenate([g3 * t[1][:, None, :] for t in c['taps']], axis=2)  # (N, C, T*P)
                idx = xp.broadcast_to(idx[:, None, :], vals.shape).reshape(n * ch, -1)
                gx = make(scatter_add_rows(nin, idx, vals.reshape(n * ch, -1)).reshape(c['shape']))
            if self.next[1] is not None:
                d = len(c['sizes'])
                if c['mode'] == 'bilinear':
                    comps = []
                    for i in range(d):  # d out / d coordinate i, grid order (x = last spatial dim first)
                        acc = None
                        for (corner, v) in zip(c['corners'], c['vals']):
                            wprod = None
                            for j in range(d):
                                if j == i:
                                    continue
                                wj = c['w'][j][corner[j]]
                                wprod = wj if wprod is None else wprod * wj
                            term = v if wprod is None else v * wprod[:, None]
                            term = term if corner[i] else -term
                            acc = term if acc is None else acc + term
                        comps.append((g3 * acc).sum(axis=1) * c['mult'][i])
                    gg = make(xp.stack(comps, axis=-1).reshape(c['grid_shape']))
                elif c['mode'] == 'bicubic':
                    (wx, wy), (dwx, dwy), v = c['w'], c['dw'], c['vals']
                    gxc = ((v * wy[:, None, :, None, :]).sum(axis=2) * dwx[:, None]).sum(axis=2)
                    gyc = ((v * wx[:, None, None, :, :]).sum(axis=3) * dwy[:, None]).sum(axis=2)
                    gg = make(xp.stack([(g3 * gxc).sum(axis=1), (g3 * gyc).sum(axis=1)],
                                       axis=-1).reshape(c['grid_shape']))
                else:
                    gg = make(xp.zeros(c['grid_shape'], dtype=gd.dtype))
        return gx, gg


def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalised ``grid`` locations
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), coordinates (x, y[, z]) in [-1, 1]; ``mode``
    'bilinear' (trilinear for 5-D), 'nearest' or 'bicubic' (4-D only), ``padding_mode`` 'zeros' | 'border' |
    'reflection'."""
    if mode not in ('bilinear', 'nearest', 'bicubic'):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ('zeros', 'border', 'reflection'):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        align_corners = False
    x = input._data
    gr = grid._data
    check_same_device(x, gr)
    if x.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(x.shape)} and grid with sizes {list(gr.shape)}")
    d = x.ndim - 2
    if gr.ndim != x.ndim or gr.shape[-1] != d or gr.shape[0] != x.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {d} in last dimension and the same batch "
                           f"size as input, but got grid with sizes {list(gr.shape)}")
    if x.dtype != gr.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if mode == 'bicubic' and d != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    xp = array_module(x)
    n, ch = x.shape[:2]
    sizes = x.shape[2:]  # spatial sizes, first to last; grid coordinate i drives spatial dim d-1-i
    out_sp = gr.shape[1:-1]
    p = math.prod(out_sp)
    dt = x.dtype
    if mode == 'bicubic':
        with on_device(x):
            out, taps, ctx = _bicubic_sample(xp, x, gr, padding_mode, align_corners)
            out = xp.ascontiguousarray(out.reshape((n, ch) + tuple(out_sp))).astype(dt, copy=False)
        ctx.update(shape=x.shape, sizes=sizes, mode=mode, grid_shape=gr.shape, taps=taps)
        if recording(input, grid):
            node = GridSamplerBackward((input, grid))
            node.ctx = ctx
            return make(out, node)
        return make(out)
    with on_device(x):
        coords, mults = [], []
        for j in range(d):  # spatial dim j <- grid component d-1-j
            cj, mj = _source_coord(xp, gr[..., d - 1 - j].reshape(n, p), sizes[j], padding_mode, align_corners)
            coords.append(cj)
            mults.append(mj)
        xf = x.reshape(n, ch, -1)
        nidx = xp.arange(n)[:, None, None]
        cidx = xp.arange(ch)[None, :, None]

        def tap(pos, wt):
            valid = None
            flat = None
            for j, q in enumerate(pos):
                ok = (q >= 0) & (q < sizes[j])
                valid = ok if valid is None else valid & ok
                qc = xp.clip(q, 0, sizes[j] - 1)
                flat = qc if flat is None else flat * sizes[j] + qc
            flat = xp.where(valid, flat, 0)
            wt = xp.where(valid, wt, dt.type(0)).astype(dt, copy=False)
            v = xf[nidx, cidx, flat[:, None, :]] * valid[:, None, :]
            return flat, wt, v

        ctx = {'shape': x.shape, 'sizes': sizes, 'mode': mode, 'grid_shape': gr.shape}
        if mode == 'bilinear':
            lo = [xp.floor(cj).astype(np.int64) for cj in coords]
            w1 = [(cj - l).astype(dt) for cj, l in zip(coords, lo)]
            ws = [(1 - a, a) for a in w1]
            corners = list(np.ndindex(*([2] * d)))
            taps, vals = [], []
            for corner in corners:
                wt = None
                for j in range(d):
                    wj = ws[j][corner[j]]
                    wt = wj if wt is None else wt * wj
                t = tap([lo[j] + corner[j] for j in range(d)], wt)
                taps.append(t)
                vals.append(t[2])
            out = sum(t[2] * t[1][:, None, :] for t in taps)
            ctx['corners'] = corners
            ctx['vals'] = vals
            ctx['w'] = ws
            ctx['mult'] = mults[::-1]  # grid component order (x first)
            # d out / d grid component i (x first) uses spatial dim d-1-i
            ctx['corners'] = [tuple(cn[::-1]) for cn in corners]
            ctx['w'] = ws[::-1]
        else:
            t = tap([xp.rint(cj).astype(np.int64) for cj in coords], xp.ones_like(coords[0]))
            taps = [t]
            out = t[2]
        ctx['taps'] = tuple((t[0], t[1]) for t in taps)
        out = xp.ascontiguousarray(out.reshape((n, ch) + tuple(out_sp))).astype(dt, copy=False)
    if recording(input, grid):
        node = GridSamplerBackward((input, grid))
        node.ctx = ctx
        return make(out, node)
    return make(out)


def _linspace(xp, steps, align_corners, dt):
    if steps <= 1:
        return xp.zeros(max(steps, 1), dtype=dt)
    v = np.linspace(-1, 1, steps)
    if not align_corners:
        v = v * (steps - 1) / steps
    return xp.asarray(v.astype(dt))


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) for ``grid_sample`` from affine matrices ``theta``
    (N, 2, 3) (or (N, 3, 4)) and the output ``size``."""
    if align_corners is None:
        align_corners = False
    size = tuple(int(s) for s in size)
    th = theta._data
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    xp = array_module(th)
    dt = th.dtype
    if len(size) == 4:
        if th.ndim != 3 or th.shape[-2:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {list(th.shape)}.")
        n, _, h, w = size
        with on_device(th):
            xs = _linspace(xp, w, align_corners, dt)
            ys = _linspace(xp, h, align_corners, dt)
            base = xp.empty((h, w, 3), dtype=dt)
            base[..., 0] = xs[None, :]
            base[..., 1] = ys[:, None]
            base[..., 2] = 1
        pts = h * w
        shape = (n, h, w, 2)
    elif len(size) == 5:
        if th.ndim != 3 or th.shape[-2:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {list(th.shape)}.")
        n, _, dd, h, w = size
        with on_device(th):
            xs = _linspace(xp, w, align_corners, dt)
            ys = _linspace(xp, h, align_corners, dt)
            zs = _linspace(xp, dd, align_corners, dt)
            base = xp.empty((dd, h, w, 4), dtype=dt)
            base[..., 0] = xs[None, None, :]
            base[..., 1] = ys[None, :, None]
            base[..., 2] = zs[:, None, None]
            base[..., 3] = 1
        pts = dd * h * w
        shape = (n, dd, h, w, 3)
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {list(size)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    if th.shape[0] != n:
        raise ValueError(f"Expected theta batch {th.shape[0]} to match size batch {n}")
    b = make(base.reshape(1, pts, base.shape[-1]))
    return (b @ theta.transpose(1, 2)).reshape(shape)


# ---------------------------------------------------------------------------------------------------------
# pixel / channel shuffles (views and one permute; autograd through the shape ops)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r) != 0:
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)"
                           f"={h} is not divisible by {r}")
    if w % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)"
                           f"={w} is not divisible by {r}")
    k = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """Split the channels (dim 1) into ``groups`` and interleave them."""
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    n, c = input.shape[:2]
    if c % g != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    rest = tuple(input.shape[2:])
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)
