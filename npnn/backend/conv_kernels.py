"""Window kernels for convolution and pooling: padding, im2col, col2im, scatter-add.

Every function takes NumPy or CuPy arrays and works on either (the array module comes from the input);
the spatial dims are always the trailing ``d`` dims of an ``(N, C, *spatial)`` array.
"""

import numpy as np

from .device import array_module
from .parallel import n_threads as _n_threads, row_ranges, run_parallel as _parallel

# ---------------------------------------------------------------------------------------------------------
# NumPy releases the GIL while it copies, so the per-offset copies of large window arrays are split over a
# few threads (as many as the BLAS uses); small arrays and CuPy arrays run inline.

_PARALLEL_MIN = 1 << 20  # elements


def _split(n, size, xp):
    """Split ``range(n)`` into contiguous chunks, one per thread, when the work is large enough."""
    return row_ranges(n, size, xp, _PARALLEL_MIN)


# ---------------------------------------------------------------------------------------------------------
# A small cache of large NumPy work buffers (window columns and their gradients). Fresh multi-megabyte arrays
# each step cost page faults (the kernel zero-fills every new page); reusing a few same-shaped buffers avoids
# that. Bounded in bytes; CuPy arrays are left to CuPy's own memory pool.

_FREE = {}
_FREE_BYTES = [0]
_FREE_LIMIT = 256 << 20
_MIN_BYTES = 1 << 18


def take(shape, dtype, xp=np):
    """An uninitialised array of ``shape``: a cached one when available."""
    if xp is not np:
        return xp.empty(shape, dtype=dtype)
    shape = tuple(int(s) for s in shape)
    lst = _FREE.get((shape, np.dtype(dtype).str))
    if lst:
        try:
            a = lst.pop()
            _FREE_BYTES[0] -= a.nbytes
            return a
        except IndexError:  # another thread took it
            pass
    return np.empty(shape, dtype=dtype)


def give(a):
    """Return a buffer obtained from ``take`` (no views) for reuse; the caller must not use it again."""
    if type(a) is not np.ndarray or a.base is not None or a.nbytes < _MIN_BYTES:
        return
    if _FREE_BYTES[0] + a.nbytes > _FREE_LIMIT:
        _FREE.clear()
        _FREE_BYTES[0] = 0
    lst = _FREE.setdefault((a.shape, a.dtype.str), [])
    if len(lst) < 2:
        lst.append(a)
        _FREE_BYTES[0] += a.nbytes


def pad_zeros(x, pads, value=0):
    """Pad the trailing dims of ``x`` with a constant; ``pads`` is ``[(left, right), ...]`` per spatial dim
    (non-negative). One allocation and one copy."""
    if not any(l or r for l, r in pads):
        return x
    xp = array_module(x)
    d = len(pads)
    lead = x.shape[:x.ndim - d]
    shape = lead + tuple(s + l + r for s, (l, r) in zip(x.shape[x.ndim - d:], pads))
    if value == 0:
        out = xp.zeros(shape, dtype=x.dtype)
    else:
        out = xp.full(shape, value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(l, l + s) for s, (l, _) in zip(x.shape[x.ndim - d:], pads))] = x
    return out


def crop(a, pads):
    """The inverse of ``pad_zeros``: a view of ``a`` without ``pads`` (``[(left, right), ...]``)."""
    if not any(l or r for l, r in pads):
        return a
    d = len(pads)
    sp = a.shape[-d:]
    return a[(Ellipsis,) + tuple(slice(l, s - r) for s, (l, r) in zip(sp, pads))]


def windows(x, kernel, stride, dilation, out_shape):
    """A strided view ``(N, C, *out, *kernel)`` of ``x`` (``(N, C, *spatial)``, already padded): element
    ``[n, c, o..., k...]`` is ``x[n, c, o*stride + k*dilation ...]``. No copy."""
    xp = array_module(x)
    d = len(kernel)
    st = x.strides
    sp = st[-d:]
    shape = x.shape[:-d] + tuple(out_shape) + tuple(kernel)
    strides = st[:-d] + tuple(s * t for s, t in zip(sp, stride)) + tuple(s * t for s, t in zip(sp, dilation))
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def im2col(x, kernel, stride, dilation, out_shape):
    """Columns ``(C, *kernel, N, *out)`` (contiguous) of a padded ``(N, C, *spatial)`` array: the layout one
    GEMM ``W(Cout, C*K) @ cols(C*K, N*O)`` wants. Built as one copy per kernel offset, so each copy moves
    rows that are contiguous in the output dim."""
    xp = array_module(x)
    n, c = x.shape[:2]
    d = len(kernel)
    cols = take((c,) + tuple(kernel) + (n,) + tuple(out_shape), x.dtype, xp)
    xt = x.transpose((1, 0) + tuple(range(2, 2 + d)))  # (C, N, *spatial) view
    for off in np.ndindex(*kernel):
        sl = tuple(slice(k * dl, k * dl + s * (o - 1) + 1, s)
                   for k, dl, s, o in zip(off, dilation, stride, out_shape))
        cols[(slice(None),) + off] = xt[(Ellipsis,) + sl]
    return cols


def col2im(cols, x_shape, kernel, stride, dilation, out_shape):
    """The adjoint of ``im2col``: sum columns ``(C, *kernel, N, *out)`` back into a zero ``(N, C, *spatial)``
    array, one strided slice-add per kernel offset (no scatter)."""
    xp = array_module(cols)
    d = len(kernel)
    gx = xp.zeros(x_shape, dtype=cols.dtype)
    gt = gx.transpose((1, 0) + tuple(range(2, 2 + d)))  # (C, N, *spatial) view of gx
    for off in np.ndindex(*kernel):
        sl = tuple(slice(k * dl, k * dl + s * (o - 1) + 1, s)
                   for k, dl, s, o in zip(off, dilation, stride, out_shape))
        gt[(Ellipsis,) + sl] += cols[(slice(None),) + off]
    return gx


def window_slices(kernel, stride, dilation, out_shape):
    """For each kernel offset: (offset tuple, slices over the spatial dims selecting that offset's inputs)."""
    res = []
    for off in np.ndindex(*kernel):
        sl = tuple(slice(k * dl, k * dl + s * (o - 1) + 1, s)
                   for k, dl, s, o in zip(off, dilation, stride, out_shape))
        res.append((off, (Ellipsis,) + sl))
    return res


def scatter_add_rows(n_cols, idx, vals):
    """``out[r, idx[r, j]] += vals[r, j]`` into a zero ``(R, n_cols)`` array (duplicates accumulate)."""
    xp = array_module(vals)
    r = idx.shape[0]
    flat = (idx.reshape(r, -1) + (xp.arange(r, dtype=idx.dtype) * n_cols)[:, None]).ravel()
    v = vals.reshape(-1)
    if xp is np:
        out = np.bincount(flat, weights=v, minlength=r * n_cols).astype(vals.dtype, copy=False)
        return out.reshape(r, n_cols)
    import cupyx
    out = xp.zeros(r * n_cols, dtype=vals.dtype)
    cupyx.scatter_add(out, flat, v)
    return out.reshape(r, n_cols)


# ---------------------------------------------------------------------------------------------------------
# "wide" windows for stride-1 convolutions: with the padded input laid out as (C, N, flat spatial), the inputs
# of one kernel offset for every output position form ONE contiguous run per (c, n), if the output grid keeps
# the padded extent in all but the first spatial dim. The copies are then long memcpy-like runs instead of
# short rows; the extra (cropped) grid columns cost a little more GEMM work.

def wide_offsets(padded, kernel, dilation):
    """Flat offsets of each kernel offset in a padded spatial block (row-major)."""
    d = len(padded)
    pstride = [1] * d
    for i in range(d - 2, -1, -1):
        pstride[i] = pstride[i + 1] * padded[i + 1]
    return [sum(k * dl * ps for k, dl, ps in zip(off, dilation, pstride)) for off in np.ndindex(*kernel)]


def im2col_wide(xflat, offsets, length):
    """Columns ``(C, K, N, length)`` from ``xflat`` ``(C, N, total)``: ``cols[c, k, n, j] = xflat[c, n,
    offsets[k] + j]`` (zero past the end)."""
    xp = array_module(xflat)
    c, n, total = xflat.shape
    cols = take((c, len(offsets), n, length), xflat.dtype, xp)

    def run(part):
        for k in range(*part):
            off = offsets[k]
            m = min(length, total - off)
            cols[:, k, :, :m] = xflat[:, :, off:off + m]
            if m < length:
                cols[:, k, :, m:] = 0
    _parallel(run, _split(len(offsets), cols.size, xp))
    return cols


def col2im_wide(cols, total, offsets):
    """Adjoint of ``im2col_wide``: ``(C, K, N, length)`` columns summed into a zero ``(C, N, total)``."""
    xp = array_module(cols)
    c, _, n, length = cols.shape
    out = take((c, n, total), cols.dtype, xp)
    out.fill(0)
    by_channel = c >= n or c >= _n_threads()

    def run(part):
        sl = slice(*part)
        for k, off in enumerate(offsets):
            m = min(length, total - off)
            if by_channel:
                out[sl, :, off:off + m] += cols[sl, k, :, :m]
            else:
                out[:, sl, off:off + m] += cols[:, k, sl, :m]
    _parallel(run, _split(c if by_channel else n, cols.size, xp))
    return out
