"""Depthwise convolution (``groups == C_in``: each output channel reads only its own input channel).

A matmul per channel over window columns of the whole batch is memory-bound (the columns are kernel-size
times the input, and each column is read once), so two cheaper formulations are used instead, both on NumPy
and CuPy arrays (the module comes from the input):

- taps (CuPy): every kernel offset is one broadcast multiply-add over the (N, C, *out) block, read through a
  strided view of the input; offsets near the border only touch the outputs whose window stays inside the
  input, so nothing is padded. A few full-bandwidth kernels per offset.
- columns (NumPy): per cache-sized block of samples and channels, the windows are copied into a small column
  array (at stride 1 one contiguous run per channel and offset) and contracted with one batched matmul over
  channels. The forward uses it; so does the backward, as the forward convolution of the padded output
  gradient with the flipped kernel (strided convolutions split by phase into stride-1 convolutions with
  sub-kernels), whose columns dotted with the input also give the weight gradient. Per-offset ufunc calls
  would run inner loops only one output row long.

On NumPy the blocks are spread over a few threads.
"""
import math

import numpy as np

from .conv_kernels import _n_threads, _parallel, _PARALLEL_MIN, give, take
from .device import array_module

_BLOCK = 1 << 17  # elements of the largest per-block array in the per-offset loops (cache-sized)
_COLS_BLOCK = 1 << 18  # elements of the per-block window columns
_TAPS_ON_NUMPY = False  # tests set it to run the CuPy formulation on NumPy


def taps(spatial, out_shape, kernel, pads, stride, dilation):
    """For each kernel offset whose window overlaps the input: ``(t, out_sl, in_sl, out_full, in_full)``
    with ``t`` the flat tap index, ``out_sl``/``in_sl`` the spatial slices of the output positions it
    reaches and of the input elements they read (equal shapes), and whether either covers its whole array.
    ``pads`` are the ``(left, right)`` zero pads of the convolution."""
    res = []
    for t, off in enumerate(np.ndindex(*kernel)):
        out_sl, in_sl = [], []
        out_full = in_full = True
        for k, s, o, (pl, _), st, dl in zip(off, spatial, out_shape, pads, stride, dilation):
            shift = k * dl - pl
            lo = max(0, -(shift // st))  # first output whose input index o*st + shift is >= 0
            hi = min(o, (s - 1 - shift) // st + 1)
            if hi <= lo:
                break
            i0 = lo * st + shift
            out_sl.append(slice(lo, hi))
            in_sl.append(slice(i0, i0 + st * (hi - lo - 1) + 1, st))
            out_full = out_full and lo == 0 and hi == o
            in_full = in_full and i0 == 0 and hi - lo == s and (st == 1 or s == 1)
        else:
            res.append((t, tuple(out_sl), tuple(in_sl), out_full, in_full))
    return res


def _blocks(n, c, per_channel, xp, size=None):
    """(sample slice, channel slice) blocks covering ``(n, c)``, each about ``size`` elements, grouped
    into one list per worker thread."""
    if xp is not np:
        return [[(slice(0, n), slice(0, c))]]
    size = size or _BLOCK
    if c * per_channel <= size:
        nb = max(1, size // (c * per_channel))
        blocks = [(slice(i, min(i + nb, n)), slice(0, c)) for i in range(0, n, nb)]
    else:
        cb = max(1, size // per_channel)
        blocks = [(slice(i, i + 1), slice(j, min(j + cb, c))) for i in range(n) for j in range(0, c, cb)]
    k = _n_threads() if n * c * per_channel >= _PARALLEL_MIN else 1
    k = max(1, min(k, len(blocks)))
    bounds = [len(blocks) * i // k for i in range(k + 1)]
    return [blocks[bounds[i]:bounds[i + 1]] for i in range(k)]


def _full(sl):
    return (slice(None),) * 2 + sl


def _full3(sl):
    return (slice(None),) * 3 + sl


def _pad_or_crop(a, pads):
    """``a`` with its trailing dims zero-padded by ``pads`` (``(left, right)`` each; a negative side crops)."""
    xp = array_module(a)
    d = len(pads)
    if all(l >= 0 and r >= 0 for l, r in pads):
        if not any(l or r for l, r in pads):
            return a
        sp = a.shape[-d:]
        out = xp.zeros(a.shape[:-d] + tuple(s + l + r for s, (l, r) in zip(sp, pads)), dtype=a.dtype)
        out[(Ellipsis,) + tuple(slice(l, l + s) for s, (l, _) in zip(sp, pads))] = a
        return out
    crop = tuple(slice(max(0, -l), s - max(0, -r)) for s, (l, r) in zip(a.shape[-d:], pads))
    return _pad_or_crop(a[(Ellipsis,) + crop], [(max(0, l), max(0, r)) for l, r in pads])


def _cols_conv(a, w, pads, stride, dilation, out_shape, m_in, m_out, dot=None, need_out=True):
    """The columns formulation (NumPy): ``out[n, c, mo, o] = sum_(mi, k) w[c, mo, mi, k] * apad[n, c, mi, o*stride
    + k*dilation]`` for ``a (N, C*m_in, *S)`` and ``w (C, m_out, m_in, *K)``; returns ``(N, C*m_out, *O)``.
    Per block of samples, the windows are copied into ``(c, m_in*K, n*O)`` columns (one row-contiguous copy per
    offset) and contracted with one batched matmul over channels; blocks stay cache-sized.

    With ``dot (N, C, *O)`` it also returns ``sum_(n, o) dot[n, c, o] * apad[n, c, mi, o*stride + k*dilation]``
    as ``(C, m_in, *K)`` (from the same columns: the weight gradient when ``a`` is the output gradient)."""
    d = len(out_shape)
    kernel = tuple(w.shape[3:])
    kt = math.prod(kernel)
    n = a.shape[0]
    c = w.shape[0]
    out_shape = tuple(out_shape)
    if all(s == 1 for s in stride):
        # "wide" windows: in the flattened padded block, one offset's inputs for all outputs are ONE contiguous
        # run per channel if the output grid keeps the padded extent in all but the first dim (the extra
        # columns are computed and dropped); long copies instead of one short row per output row
        sp = tuple(s + l + r for s, (l, r) in zip(a.shape[2:], pads))
        grid = (out_shape[0],) + sp[1:]
        offs = [sum(k * dl * math.prod(sp[i + 1:]) for i, (k, dl) in enumerate(zip(off, dilation)))
                for off in np.ndindex(*kernel)]
        total = math.prod(sp)
        flat = take((n, c, m_in, max(total, offs[-1] + math.prod(grid))), a.dtype)  # reused: no page faults
        flat.fill(0)
        inner = tuple(slice(max(l, 0), max(l, 0) + s) for s, (l, _) in zip(a.shape[2:], pads))
        crop = tuple(slice(max(0, -l), s - max(0, -r)) for s, (l, r) in zip(a.shape[2:], pads))
        inner = tuple(slice(i.start, i.start + (cr.stop - cr.start)) for i, cr in zip(inner, crop))
        flat[..., :total].reshape((n, c, m_in) + sp)[(Ellipsis,) + inner] = \
            a.reshape((n, c, m_in) + a.shape[2:])[(Ellipsis,) + crop]
        length = math.prod(grid)
        src_of = [(t, (slice(o, o + length),)) for t, o in enumerate(offs)]
        keep = (Ellipsis,) + tuple(slice(0, o) for o in out_shape)
        apad = flat
    else:
        apad = _pad_or_crop(a, pads)
        apad = apad.reshape((n, c, m_in) + apad.shape[2:])
        grid = out_shape
        src_of = [(t, tuple(slice(k * dl, k * dl + s * (o - 1) + 1, s)
                            for k, dl, s, o in zip(off, dilation, stride, out_shape)))
                  for t, off in enumerate(np.ndindex(*kernel))]
        keep = None
    out = np.empty((n, c, m_out) + out_shape, dtype=a.dtype) if need_out else None
    p = math.prod(grid)
    w3 = np.ascontiguousarray(w.reshape(c, m_out, m_in * kt))
    parts = _blocks(n, c, m_in * kt * p, np, _COLS_BLOCK)
    partial = [None] * len(parts)

    def run(idx):
        buf = None
        acc = np.zeros((c, m_in * kt), dtype=a.dtype) if dot is not None else None
        for ns, cs in parts[idx]:
            src = apad[ns, cs]  # (nb, cb, m_in, *Sp) or (nb, cb, m_in, flat)
            nb, cb = src.shape[:2]
            if buf is None or buf.size < cb * m_in * kt * nb * p:
                buf = np.empty(cb * m_in * kt * nb * p, dtype=a.dtype)
            cols = buf[:cb * m_in * kt * nb * p].reshape((cb, m_in, kt, nb) + grid)
            for mi in range(m_in):
                for t, sl in src_of:
                    dst = cols[:, mi, t] if keep is None else cols[:, mi, t].reshape(cb, nb, p)
                    np.copyto(dst, src[(slice(None), slice(None), mi) + sl].swapaxes(0, 1))
            cols2 = cols.reshape(cb, m_in * kt, nb * p)
            if need_out:
                r = np.matmul(w3[cs], cols2).reshape((cb, m_out, nb) + grid)  # (cb, m_out, nb, *grid)
                if keep is not None:
                    r = r[keep]
                np.copyto(out[ns, cs], r.transpose((2, 0, 1) + tuple(range(3, 3 + d))))
            if dot is not None:
                v = dot[ns, cs].swapaxes(0, 1)  # (cb, nb, *out)
                if keep is not None:
                    vw = np.zeros((cb, nb) + grid, dtype=a.dtype)
                    vw[keep] = v
                    v = vw
                v = v.reshape(cb, nb * p) if nb == 1 or keep is not None else \
                    np.ascontiguousarray(v).reshape(cb, nb * p)
                acc[cs] += np.matmul(cols2, v[:, :, None])[:, :, 0]
        partial[idx] = acc
    _parallel(run, list(range(len(parts))))
    if keep is not None:
        give(flat)
    res = out.reshape((n, c * m_out) + tuple(out_shape)) if need_out else None
    if dot is None:
        return res
    acc = partial[0]
    for q in partial[1:]:
        acc += q
    return res, acc.reshape((c, m_in) + kernel)


def _grads_by_phase(g, x, w, spatial, pads, stride, dilation, m, need_x, need_w):
    """Input and weight gradients of a depthwise conv (NumPy) for ``g (N, C*m, *O)``, ``w (C, m, *K)``.

    Split by input phase: the inputs ``i`` with ``i % stride == r`` receive only the kernel offsets ``k`` with
    ``(r + pad - k*dilation) % stride == 0``, and for them the input gradient is a stride-1 convolution of the
    (padded or cropped) ``g`` with that sub-kernel, flipped (its dilation divided by the factor it shares with
    the stride). One phase at stride 1; one forward-sized conv per phase otherwise, not a scatter per offset.
    The same window columns of ``g``, dotted with that phase of ``x``, give the weight gradient of those
    offsets. Returns ``(gx (N, C, *spatial) or None, gw (C, m, *K) or None)``."""
    n, c = g.shape[0], w.shape[0]
    d = len(spatial)
    kernel = tuple(w.shape[2:])
    out_shape = tuple(g.shape[2:])
    one = all(s == 1 for s in stride)
    gx = np.empty((n, c) + tuple(spatial), dtype=g.dtype) if (need_x and not one) else None
    gw = np.zeros((c, m) + kernel, dtype=g.dtype) if need_w else None
    for phase in np.ndindex(*stride):
        ksl, gpads, dils, qs = [], [], [], []
        for r, s, k, dl, (pl, _), size, o in zip(phase, stride, kernel, dilation, pads, spatial, out_shape):
            q = -(-(size - r) // s)  # inputs in this phase
            ks = [kk for kk in range(k) if (r + pl - kk * dl) % s == 0]
            if not ks or q <= 0:
                break
            step = ks[1] - ks[0] if len(ks) > 1 else 1
            e_min = (r + pl - ks[-1] * dl) // s  # offsets into g, increasing along the flipped sub-kernel
            dl2 = step * dl // s
            ksl.append(slice(ks[-1], ks[0] - 1 if ks[0] else None, -step))
            gpads.append((-e_min, q + dl2 * (len(ks) - 1) - o + e_min))
            dils.append(dl2)
            qs.append(q)
        else:
            psl = (slice(None), slice(None)) + tuple(slice(r, None, s) for r, s in zip(phase, stride))
            sub = w[(slice(None), slice(None)) + tuple(ksl)]  # (C, m, *K'), flipped
            res = _cols_conv(g, sub[:, None], gpads, (1,) * d, dils, qs, m, 1,
                             dot=x[psl] if need_w else None, need_out=need_x)
            part, gwp = res if need_w else (res, None)
            if need_w:
                gw[(slice(None), slice(None)) + tuple(ksl)] = gwp
            if need_x:
                if one:
                    gx = part
                else:
                    gx[psl] = part
            continue
        if need_x and not one:
            gx[(slice(None), slice(None)) + tuple(slice(r, None, s) for r, s in zip(phase, stride))] = 0
    return gx, gw


def forward(x, w, b, pads, stride, dilation, out_shape):
    """``conv(x, w, b, groups=C)`` for ``x (N, C, *S)`` and ``w (C*M, 1, *K)`` with ``pads`` the
    ``(left, right)`` zero pads per spatial dim; returns ``(N, C*M, *out_shape)``."""
    xp = array_module(x)
    n, c = x.shape[:2]
    d = len(out_shape)
    cout, kernel = w.shape[0], tuple(w.shape[2:])
    m = cout // c
    out_shape = tuple(out_shape)
    if xp is np and not _TAPS_ON_NUMPY:
        out = _cols_conv(x, w.reshape((c, m, 1) + kernel), pads, stride, dilation, out_shape, 1, m)
        if b is not None:
            out += b.reshape((cout,) + (1,) * d)
        return out
    out = xp.empty((n, cout) + out_shape, dtype=x.dtype)
    o5 = out.reshape((n, c, m) + out_shape)
    wt = w.reshape(c, m, -1)
    tl = taps(x.shape[2:], out_shape, kernel, pads, stride, dilation)
    first = next((i for i, tp in enumerate(tl) if tp[3]), None)
    b5 = b.reshape((c, m) + (1,) * d) if b is not None else None
    per_channel = max(m * math.prod(out_shape), math.prod(x.shape[2:]))
    parts = _blocks(n, c, per_channel, xp)

    def run(part):
        tmp = None
        for ns, cs in part:
            o = o5[ns, cs]
            xs = x[ns, cs][:, :, None]  # (nb, cb, 1, *S): broadcasts over the multiplier
            if tmp is None or tmp.shape != o.shape:
                tmp = xp.empty(o.shape, dtype=o.dtype)
            ws = wt[cs]
            if first is None:
                o.fill(0)
            else:
                t, _, in_sl, _, _ = tl[first]
                xp.multiply(xs[_full3(in_sl)], ws[:, :, t].reshape(ws.shape[:2] + (1,) * d), out=o)
            for i, (t, out_sl, in_sl, _, _) in enumerate(tl):
                if i == first:
                    continue
                tv = tmp[_full3(out_sl)]
                xp.multiply(xs[_full3(in_sl)], ws[:, :, t].reshape(ws.shape[:2] + (1,) * d), out=tv)
                dst = o[_full3(out_sl)]
                xp.add(dst, tv, out=dst)
            if b5 is not None:
                o += b5[cs]
    _parallel(run, parts)
    return out


def backward(g, x_shape, x, w, pads, stride, dilation, need_x, need_w):
    """Input and weight gradients of ``forward`` for the upstream gradient ``g (N, C*M, *O)``; either is
    None when not needed (``x`` may be None when the weight gradient is not)."""
    xp = array_module(g)
    n, c = x_shape[:2]
    d = g.ndim - 2
    cout, kernel = w.shape[0], tuple(w.shape[2:])
    m = cout // c
    out_shape = tuple(g.shape[2:])
    spatial = tuple(x_shape[2:])
    g5 = g.reshape((n, c, m) + out_shape)
    wt = w.reshape(c, m, -1)
    if xp is np and not _TAPS_ON_NUMPY:
        gx, gw = _grads_by_phase(g, x, w.reshape((c, m) + kernel), spatial, pads, stride, dilation, m,
                                 need_x, need_w)
        return gx, (gw.reshape(w.shape) if gw is not None else None)
    gx = None
    tl = taps(spatial, out_shape, kernel, pads, stride, dilation)
    if need_x:
        gx = xp.empty(x_shape, dtype=g.dtype)
    first = next((i for i, tp in enumerate(tl) if tp[4]), None) if (m == 1 and need_x) else None
    if first is not None:  # the tap that covers all of gx writes it first, the others add to it
        tl.insert(0, tl.pop(first))
        first = 0
    letters = 'hwzyv'[:d]
    sub = f'nc{letters},nc{letters}->c'
    per_channel = max(m * math.prod(out_shape), math.prod(spatial))
    parts = _blocks(n, c, per_channel, xp)
    partial = [None] * len(parts)

    def run(idx):
        part = parts[idx]
        tmp = None
        acc = xp.zeros((c, m, wt.shape[2]), dtype=g.dtype) if need_w else None
        for ns, cs in part:
            gs = g5[ns, cs]
            xs = x[ns, cs] if need_w else None
            ws = wt[cs]
            cb = ws.shape[0]
            if need_x:
                gxs = gx[ns, cs]
                if tmp is None or tmp.shape != gxs.shape:
                    tmp = xp.empty(gxs.shape, dtype=gxs.dtype)
                if first is None:
                    gxs.fill(0)
            for i, (t, out_sl, in_sl, _, _) in enumerate(tl):
                if need_x:
                    for j in range(m):
                        wk = ws[:, j, t].reshape((cb,) + (1,) * d)
                        src = gs[:, :, j][_full(out_sl)]
                        if i == first:
                            xp.multiply(src, wk, out=gxs)
                            continue
                        tv = tmp[_full(in_sl)]
                        xp.multiply(src, wk, out=tv)
                        dst = gxs[_full(in_sl)]
                        xp.add(dst, tv, out=dst)
                if need_w:
                    xw = xs[_full(in_sl)]
                    for j in range(m):
                        acc[cs, j, t] += xp.einsum(sub, gs[:, :, j][_full(out_sl)], xw)
        partial[idx] = acc
    _parallel(run, list(range(len(parts))))
    gw = None
    if need_w:
        gw = partial[0]
        for p in partial[1:]:
            gw += p
        gw = gw.reshape(w.shape)
    return gx, gw
