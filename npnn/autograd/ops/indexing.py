"""Indexing: __getitem__/__setitem__, gather/scatter, index_* ops, masks and nonzero."""
import numbers

import numpy as np

from ...backend.device import array_module
from ...backend.kernels import index_add_at
from ..grad_mode import state
from ..node import Node
from ._util import check_same_device, make, norm_dim, recording, Tensor


def _convert_key(key, data):
    """Turn an index (with tensors, lists, slices ...) into one the array module accepts."""
    T = Tensor()
    xp = array_module(data)
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    advanced = False
    for k in key:
        if isinstance(k, T):
            a = k._data
            if a.dtype.kind == 'f' or a.dtype.kind == 'c':
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if xp is np and not isinstance(a, np.ndarray):
                raise RuntimeError("indices should be either on cpu or on the same device as the indexed tensor "
                                   "(cpu)")
            if a.ndim == 0 and a.dtype.kind in 'iu':
                out.append(int(a))
                continue
            if a.dtype == np.uint8:
                a = a.astype(bool)
            out.append(a if xp is np or not isinstance(a, np.ndarray) else xp.asarray(a))
            advanced = True
        elif isinstance(k, (list, np.ndarray)) or (xp is not np and isinstance(k, xp.ndarray)):
            a = xp.asarray(k) if not isinstance(k, list) or len(k) else xp.asarray(k, dtype=np.int64)
            if a.dtype.kind == 'f':
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            advanced = True
        elif isinstance(k, (bool, np.bool_)):
            out.append(bool(k))
            advanced = True
        elif isinstance(k, numbers.Integral):
            out.append(int(k))
        elif k is None or k is Ellipsis or isinstance(k, slice):
            if isinstance(k, slice) and k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            if isinstance(k, slice) and any(isinstance(v, T) for v in (k.start, k.stop, k.step)):
                k = slice(*[int(v.item()) if isinstance(v, T) else v for v in (k.start, k.stop, k.step)])
            out.append(k)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             "valid indices (got " + type(k).__name__ + ")")
    _check_bounds(out, data.shape)
    return tuple(out), advanced


def _check_bounds(key, shape):
    """PyTorch's IndexError for an integer index out of range (checked up to any Ellipsis)."""
    dim = 0
    for k in key:
        if k is Ellipsis:
            return
        if k is None:
            continue
        if isinstance(k, int) and not isinstance(k, bool):
            if dim >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if k < -shape[dim] or k >= shape[dim]:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {shape[dim]}")
            dim += 1
        elif hasattr(k, 'dtype') and k.dtype == np.bool_:
            for i, n in enumerate(k.shape):
                if dim + i < len(shape) and n != shape[dim + i]:
                    raise IndexError(f"The shape of the mask {list(k.shape)} at index {i} does not match the shape "
                                     f"of the indexed tensor {list(shape)} at index {dim + i}")
            dim += k.ndim
        else:
            dim += 1


class IndexBackward0(Node):
    __slots__ = ('shape', 'key', 'advanced', 'dt')
    saves = False

    def backward(self, g):
        return index_into_zeros(g, self.shape, self.key, self.advanced)


def getitem(input, key):
    """``input[key]`` with basic and advanced indexing; differentiable."""
    a = input._data
    if type(key) is int and a.ndim:  # fast path: x[i]
        n = a.shape[0]
        if key < -n or key >= n:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        k, adv = (key,), False
    else:
        k, adv = _convert_key(key, a)
    r = a[k] if k else a.view()
    xp = array_module(a)
    if not isinstance(r, xp.ndarray):
        # a full integer index gives a scalar copy; with a trailing Ellipsis it is a 0-d view, so writes
        # through x[i] reach x as in PyTorch
        r = a[tuple(k) + (Ellipsis,)] if not adv and Ellipsis not in k else xp.asarray(r)
    if adv and r.base is not None and r.base is a:
        r = r.copy()
    if recording(input):
        n = IndexBackward0((input,))
        n.shape, n.key, n.advanced = a.shape, k, adv
        return _maybe_view(make(r, n), input, adv)
    return _maybe_view(make(r), input, adv)


def _maybe_view(t, base, adv):
    if not adv:
        t._vc = base._vc
        if t._node is not None or state.enabled:
            from .shape import _track_view
            _track_view(t, base)
    return t


class _IndexIntoZeros(Node):
    """Backward of index_into_zeros: pick the indexed part of the gradient."""
    __slots__ = ('key',)
    saves = False

    def backward(self, g):
        return getitem(g, self.key)


def index_into_zeros(g, shape, key, advanced=True):
    """A zeros tensor of ``shape`` with ``g`` added at ``key`` (repeated indices accumulate)."""
    gd = g._data
    xp = array_module(gd)
    z = xp.zeros(shape, dtype=gd.dtype)
    if advanced:
        index_add_at(z, key, gd)
    else:
        z[key] = gd
    if recording(g):
        n = _IndexIntoZeros((g,))
        n.key = key
        return make(z, n)
    return make(z)


class IndexPutBackward0(Node):
    """Backward of ``x[key] = v`` rebasing ``x``: zeros at ``key`` for x, ``g[key]`` for v."""
    __slots__ = ('key', 'vshape', 'vdt', 'accumulate')
    saves = False

    def backward(self, g):
        nx, nv = self.next
        gx = gv = None
        if nx is not None:
            if self.accumulate:
                gx = g
            else:  # overwritten places get no gradient (a recorded op, so create_graph sees it)
                xp = array_module(g._data)
                keep = xp.ones(g._data.shape, dtype=bool)
                keep[self.key] = False
                from .elementwise import where
                gx = where(make(keep), g, 0.0)
        if nv is not None:
            from ._util import sum_to
            gv = sum_to(getitem(g, self.key), self.vshape)
            if gv._data.dtype != self.vdt:
                gv = gv._cast(self.vdt)
        return gx, gv


def setitem(input, key, value):
    """``input[key] = value`` in place; records a rebase of ``input``'s history when grads flow."""
    T = Tensor()
    a = input._data
    k, adv = _convert_key(key, a)
    if isinstance(value, T):
        v = value._data
        if type(v) is not type(a):
            if v.ndim and adv:
                check_same_device(a, v)
            from ...backend.device import array_to, device_of
            v = array_to(v, device_of(a))  # a copy into basic-indexed places may cross devices
    else:
        v = value
        value = None
    input._check_inplace()
    rec = recording(input, value)
    if rec:
        old = input._shallow()
    a[k] = v
    input._vc[0] += 1
    if rec:
        n = IndexPutBackward0((old, value))
        n.key = k
        n.vshape = value._data.shape if value is not None else ()
        n.vdt = value._data.dtype if value is not None else None
        n.accumulate = False
        input._rebase(n)


def index_put_(input, indices, values, accumulate=False):
    """``input[indices] = values`` (or ``+=`` with ``accumulate=True``, repeated indices summing)."""
    if not accumulate:
        setitem(input, tuple(indices), values)
        return input
    T = Tensor()
    a = input._data
    k, _ = _convert_key(tuple(indices), a)
    v = values._data if isinstance(values, T) else values
    input._check_inplace()
    rec = recording(input, values if isinstance(values, T) else None)
    if rec:
        old = input._shallow()
    index_add_at(a, k, v)
    input._vc[0] += 1
    if rec:
        n = IndexPutBackward0((old, values if isinstance(values, T) else None))
        n.key = k
        n.vshape = values._data.shape if isinstance(values, T) else ()
        n.vdt = values._data.dtype if isinstance(values, T) else None
        n.accumulate = True
        input._rebase(n)
    return input


def index_put(input, indices, values, accumulate=False):
    return index_put_(input.clone(), indices, values, accumulate)


# --- gather / scatter --------------------------------------------------------------------------------------

def _along(idx_arr, dim):
    """Full advanced-index tuple selecting ``idx_arr`` along ``dim`` (for take/put-along-axis)."""
    xp = array_module(idx_arr)
    nd = idx_arr.ndim
    key = []
    for d in range(nd):
        if d == dim:
            key.append(idx_arr)
        else:
            shape = [1] * nd
            shape[d] = idx_arr.shape[d]
            key.append(xp.arange(idx_arr.shape[d]).reshape(shape))
    return tuple(key)


def _check_index(index, name, input=None):
    if index._data.dtype.kind not in 'iu':
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if input is not None:
        check_same_device(input._data, index._data)


class GatherBackward0(Node):
    __slots__ = ('shape', 'dim', 'index')
    saves = False

    def backward(self, g):
        return scatter_into_zeros(g, self.dim, self.index, self.shape)


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0), index may be smaller than input off ``dim``."""
    _check_index(index, 'gather', input)
    a = input._data
    d = norm_dim(dim, a.ndim)
    idx = index._data
    if idx.ndim != a.ndim and not (idx.ndim <= 1 and a.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > a.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(idx.shape)} to be no "
                               f"larger than self {list(a.shape)} apart from dimension {d}")
    if idx.size and (int(idx.max()) >= a.shape[d] or int(idx.min()) < -a.shape[d]):
        raise RuntimeError(f"index {int(idx.max())} is out of bounds for dimension {d} with size {a.shape[d]}")
    r = a[_along(idx, d)]
    if recording(input):
        n = GatherBackward0((input,))
        n.shape, n.dim, n.index = a.shape, d, index
        return make(r, n)
    return make(r)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    return gather(input, dim, indices.expand(*[max(a, b) if i != norm_dim(dim, input.ndim) else b for i, (a, b)
                                                in enumerate(zip(input.shape, indices.shape))]))


class _ScatterZerosBackward(Node):
    __slots__ = ('dim', 'index')
    saves = False

    def backward(self, g):
        return gather(g, self.dim, self.index)


def scatter_into_zeros(g, dim, index, shape):
    """Zeros of ``shape`` with ``g`` scatter-added along ``dim`` at ``index`` (gather's adjoint)."""
    gd = g._data
    xp = array_module(gd)
    z = xp.zeros(shape, dtype=gd.dtype)
    index_add_at(z, _along(index._data, dim), gd)
    if recording(g):
        n = _ScatterZerosBackward((g,))
        n.dim, n.index = dim, index
        return make(z, n)
    return make(z)


class ScatterBackward0(Node):
    __slots__ = ('dim', 'index', 'src_shape', 'reduce')
    saves = False

    def backward(self, g):
        nx, ns = self.next
        gx = gs = None
        if nx is not None:
            if self.reduce == 'add':
                gx = g
            else:
                mask = make(array_module(g._data).ones(g._data.shape, dtype=bool))
                mask._data[_along(self.index._data, self.dim)] = False
                gx = g * mask._cast(g._data.dtype)
        if ns is not None:
            gs = gather(g, self.dim, self.index)
            if self.src_shape is not None and tuple(gs._data.shape) != self.src_shape:  # src larger than index
                gs = index_into_zeros(gs, self.src_shape, tuple(slice(0, n) for n in gs._data.shape), False)
        return gx, gs


def _scatter_impl(input, dim, index, src, reduce, inplace):
    _check_index(index, 'scatter', input)
    T = Tensor()
    a = input._data
    d = norm_dim(dim, a.ndim)
    idx = index._data
    if isinstance(src, T):
        s = src._data
        sl = tuple(slice(0, n) for n in idx.shape)
        s = s[sl] if s.shape != idx.shape else s
    else:
        s = src
        src = None
    if idx.size and (int(idx.max()) >= a.shape[d] or int(idx.min()) < -a.shape[d]):
        raise RuntimeError(f"index {int(idx.max())} is out of bounds for dimension {d} with size {a.shape[d]}")
    key = _along(idx, d)
    target = input if inplace else None
    if inplace:
        input._check_inplace()
        rec = recording(input, src)
        old = input._shallow() if rec else None
        out = a
    else:
        rec = recording(input, src)
        old = input
        out = a.copy()
    if reduce is None:
        out[key] = s
    elif reduce in ('add', 'sum'):
        index_add_at(out, key, s)
    elif reduce in ('multiply', 'prod'):
        _ufunc_at('multiply', out, key, s)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    if rec:
        if reduce not in (None, 'add', 'sum'):
            raise RuntimeError("scatter with reduce='multiply' does not support autograd here")
        n = ScatterBackward0((old, src))
        n.dim, n.index, n.reduce = d, index, ('add' if reduce in ('add', 'sum') else None)
        n.src_shape = tuple(src._data.shape) if src is not None else None
    if inplace:
        input._vc[0] += 1
        if rec:
            input._rebase(n)
        return target
    return make(out, n) if rec else make(out)


def _ufunc_at(ufunc_name, out, key, s):
    """``np.<ufunc>.at(out, key, s)`` on either device: GPU arrays take a host round trip (rare reductions:
    multiply/maximum/minimum with repeated indices)."""
    xp = array_module(out)
    if xp is np:
        getattr(np, ufunc_name).at(out, key, s)
        return
    host = xp.asnumpy(out)
    hkey = tuple(xp.asnumpy(k) if isinstance(k, xp.ndarray) else k for k in key)
    hs = xp.asnumpy(s) if isinstance(s, xp.ndarray) else s
    getattr(np, ufunc_name).at(host, hkey, hs)
    out[...] = xp.asarray(host)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place scatter: ``out[index[i][j]][j] = src[i][j]`` (dim 0)."""
    return _scatter_impl(input, dim, index, src if src is not None else value, reduce, False)


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    return _scatter_impl(input, dim, index, src if src is not None else value, reduce, True)


def scatter_add(input, dim, index, src):
    return _scatter_impl(input, dim, index, src, 'add', False)


def scatter_add_(input, dim, index, src):
    return _scatter_impl(input, dim, index, src, 'add', True)


class ScatterReduceBackward0(Node):
    __slots__ = ('dim', 'index', 'reduce', 'include_self', 'scattered', 'cnt')

    def backward(self, g):
        x, src = self.saved_tensors()
        nx, ns = self.next
        d, index = self.dim, self.index
        xp = array_module(g._data)
        sc = self.scattered
        keep_self = make(xp.logical_or(self.include_self, ~sc).astype(g._data.dtype))
        red = self.reduce
        if red == 'sum':
            gx = g * keep_self
            gs = gather(g, d, index)
        elif red == 'mean':
            gn = g / make(self.cnt)
            gx = gn * keep_self
            gs = gather(gn, d, index)
        elif red == 'prod':
            y = self.output()
            gx = where_(sc_t(sc, self.include_self), g * y / x, g)
            gs = gather(g * y, d, index) / src
        else:  # amax / amin: split evenly among the elements equal to the result
            y = self.output()
            eq_self = (x == y)._cast(g._data.dtype) * keep_self
            yg = gather(y, d, index)
            eq_src = (src == yg)._cast(g._data.dtype)
            cnt = eq_self.detach().scatter_add(d, index, eq_src.detach())
            gn = g / cnt.masked_fill(cnt == 0, 1.0)
            gx = gn * eq_self
            gs = gather(gn, d, index) * eq_src
        return (gx if nx is not None else None), (gs if ns is not None else None)


def sc_t(sc, include_self):
    """Positions where the result includes self's value (all, or only the non-scattered ones)."""
    xp = array_module(sc)
    return make(xp.ones(sc.shape, dtype=bool) if include_self else ~sc)


def where_(c, a, b):
    from .elementwise import where
    return where(c, a, b)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Scatter ``src`` into ``input`` at ``index`` along ``dim``, reducing with 'sum', 'prod', 'mean', 'amax'
    or 'amin' (``include_self=False`` leaves ``input``'s own values out at the scattered positions)."""
    _check_index(index, 'scatter_reduce', input)
    if reduce not in ('sum', 'prod', 'mean', 'amax', 'amin'):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    a = input._data
    d = norm_dim(dim, a.ndim)
    idx = index._data
    xp = array_module(a)
    s = src._data
    if s.shape != idx.shape:
        s = s[tuple(slice(0, n) for n in idx.shape)]
        src = src[tuple(slice(0, n) for n in idx.shape)]
    if s.dtype != a.dtype:
        s = s.astype(a.dtype)
    key = _along(idx, d)
    out = a.copy()
    sc = xp.zeros(a.shape, dtype=bool)
    sc[key] = True
    cnt = None
    if not include_self:
        if reduce in ('sum', 'mean'):
            ident = 0
        elif reduce == 'prod':
            ident = 1
        elif a.dtype.kind == 'f':
            ident = -np.inf if reduce == 'amax' else np.inf
        else:
            info = np.iinfo(a.dtype) if a.dtype.kind in 'iu' else None
            ident = (info.min if reduce == 'amax' else info.max) if info else (reduce == 'amin')
        out[sc] = ident
    if reduce in ('sum', 'mean'):
        index_add_at(out, key, s)
        if reduce == 'mean':
            cnt = xp.where(sc & (not include_self), 0, 1).astype(a.dtype)
            index_add_at(cnt, key, xp.ones(s.shape, dtype=a.dtype))
            cnt = xp.maximum(cnt, 1)
            out = out / cnt if a.dtype.kind == 'f' else out // cnt
    elif reduce == 'prod':
        _ufunc_at('multiply', out, key, s)
    else:
        _ufunc_at('maximum' if reduce == 'amax' else 'minimum', out, key, s)
    out = out.astype(a.dtype, copy=False)
    if recording(input, src) and a.dtype.kind == 'f':
        n = ScatterReduceBackward0((input, src))
        n.save(input, src)
        n.dim, n.index, n.reduce, n.include_self, n.scattered, n.cnt = d, index, reduce, include_self, sc, cnt
        res = make(out, n)
        n.save_output(res)
        return res
    return make(out)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    return input._inplace(scatter_reduce, dim, index, src, reduce, include_self=include_self)


class IndexSelectBackward0(Node):
    __slots__ = ('shape', 'dim', 'index')
    saves = False

    def backward(self, g):
        gd = g._data
        xp = array_module(gd)
        z = make(xp.zeros(self.shape, dtype=gd.dtype))
        return z.index_add(self.dim, self.index, g)


def index_select(input, dim, index):
    """Select entries of ``dim`` at a 1-D ``index``."""
    if index._data.dtype.kind not in 'iu':
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    check_same_device(input._data, index._data)
    a = input._data
    d = norm_dim(dim, a.ndim) if a.ndim else 0
    idx = index._data.reshape(-1)
    if idx.size and (int(idx.max()) >= (a.shape[d] if a.ndim else 1) or int(idx.min()) < 0):
        raise IndexError("index out of range in self")
    r = array_module(a).take(a, idx, axis=d) if a.ndim else a.reshape(1)[idx].reshape(idx.shape)
    if recording(input):
        n = IndexSelectBackward0((input,))
        n.shape, n.dim, n.index = a.shape, d, make(idx)
        return make(r, n)
    return make(r)


class IndexAddBackward0(Node):
    __slots__ = ('dim', 'index', 'alpha')
    saves = False

    def backward(self, g):
        nx, ns = self.next
        gs = index_select(g, self.dim, self.index) * self.alpha if ns is not None else None
        return (g if nx is not None else None), gs


def _index_add(input, dim, index, source, alpha, inplace):
    a = input._data
    d = norm_dim(dim, a.ndim) if a.ndim else 0
    idx = index._data.reshape(-1)
    if idx.size and (int(idx.max()) >= a.shape[d] or int(idx.min()) < 0):
        raise IndexError("index out of range in self")
    s = source._data * alpha if alpha != 1 else source._data
    if s.dtype != a.dtype:
        s = s.astype(a.dtype)
    rec = recording(input, source)
    if inplace:
        input._check_inplace()
        old = input._shallow() if rec else None
        out = a
    else:
        old = input
        out = a.copy()
    key = (slice(None),) * d + (idx,)
    if d == 0:
        index_add_at(out, idx, s)
    else:
        index_add_at(out, key, s)
    n = None
    if rec:
        n = IndexAddBackward0((old, source))
        n.dim, n.index, n.alpha = d, make(idx), alpha
    if inplace:
        input._vc[0] += 1
        if rec:
            input._rebase(n)
        return input
    return make(out, n)


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    return _index_add(input, dim, index, source, alpha, False)


def index_add_(input, dim, index, source, *, alpha=1):
    return _index_add(input, dim, index, source, alpha, True)


def index_copy(input, dim, index, source):
    """``input`` with slices of ``dim`` at ``index`` replaced by ``source``."""
    d = norm_dim(dim, input.ndim)
    key = (slice(None),) * d + (index,)
    out = input.clone()
    setitem(out, key, source)
    return out


def index_copy_(input, dim, index, source):
    d = norm_dim(dim, input.ndim)
    setitem(input, (slice(None),) * d + (index,), source)
    return input


def index_fill(input, dim, index, value):
    out = input.clone()
    return index_fill_(out, dim, index, value)


def index_fill_(input, dim, index, value):
    d = norm_dim(dim, input.ndim)
    setitem(input, (slice(None),) * d + (index,), value)
    return input


# --- masks --------------------------------------------------------------------------------------------------

class MaskedFillBackward0(Node):
    __slots__ = ('mask', 'vshape')
    saves = False

    def backward(self, g):
        nx, nv = self.next
        m = make(self.mask)
        from .elementwise import where
        gx = where(m, 0.0, g) if nx is not None else None     # 0 even where g is inf or nan, as PyTorch
        gv = where(m, g, 0.0).sum() if nv is not None else None
        return gx, gv


def _mask_arr(mask, a):
    md = mask._data
    if md.dtype != np.bool_:
        from ._util import scalar_type_name
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{scalar_type_name(md.dtype).lower()}")
    check_same_device(a, md) if md.ndim else None
    return md


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (mask broadcasts)."""
    T = Tensor()
    a = input._data
    md = _mask_arr(mask, a)
    xp = array_module(a)
    vt = value if isinstance(value, T) else None
    v = value._data if vt is not None else value
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{vt._data.ndim} dimension(s).")
    r = xp.where(md, xp.asarray(v, dtype=a.dtype), a)
    if r.shape != a.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(md.shape)} does not broadcast to {list(a.shape)}")
    if recording(input, vt):
        n = MaskedFillBackward0((input, vt))
        n.mask = xp.broadcast_to(md, a.shape)
        return make(r, n)
    return make(r)


def masked_fill_(input, mask, value):
    input._check_inplace()
    r = masked_fill(input, mask, value)
    input._inplace_from(r)
    return input


def masked_select(input, mask):
    """The 1-D tensor of elements where ``mask`` is True."""
    md = mask._data
    if md.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    from .shape import broadcast_tensors
    x, m = broadcast_tensors(input, mask)
    return getitem(x, m)


def masked_scatter(input, mask, source):
    x = input.clone()
    m = mask.expand_as(x) if mask.shape != x.shape else mask
    k = int(m._data.sum())
    setitem(x, m, source.reshape(-1)[:k])
    return x


def nonzero(input, *, as_tuple=False):
    """Indices of nonzero elements: an ``(n, ndim)`` int64 tensor, or a tuple of 1-D tensors."""
    a = input._data
    xp = array_module(a)
    idx = xp.nonzero(a) if a.ndim else xp.nonzero(a.reshape(1))
    if as_tuple:
        return tuple(make(i.astype(np.int64)) for i in idx)
    return make(xp.stack(idx, axis=1).astype(np.int64) if a.ndim else
                xp.zeros((int(bool(a)), 0), np.int64))


def argwhere(input):
    return nonzero(input)


def take(input, index):
    """Elements of the flattened input at ``index`` (result shaped like ``index``)."""
    flat = input.reshape(-1)
    n = flat._data.shape[0]
    idx = index._data
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"out of range: tried to access index {int(idx.max())} on a tensor of {n} elements.")
    return getitem(flat, make(idx % n if n else idx))


def as_strided(input, size, stride, storage_offset=None):
    """The elements at ``offset + sum(i_k * stride_k)`` of the input's row-major elements, shaped ``size``.

    npnn has no storages: offsets and strides count elements of this tensor in row-major order (its
    storage for a contiguous tensor), and the result is a differentiable copy, not a view.
    """
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    offset = 0 if storage_offset is None else int(storage_offset)
    flat = input.reshape(-1)
    n = flat._data.shape[0]
    xp = array_module(flat._data)
    idx = xp.full(size, offset, dtype=np.int64)
    for k, (sz, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[k] = sz
        idx = idx + (xp.arange(sz, dtype=np.int64) * st).reshape(shape)
    if idx.size and int(idx.max()) >= n:
        need = int(idx.max()) + 1
        item = flat._data.dtype.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {item} requiring a storage size of {need * item} are out of bounds for "
                           f"storage of size {n * item}")
    return getitem(flat, make(idx))


def put_(input, index, source, accumulate=False):
    """Write ``source`` into the flattened input at ``index`` (in place)."""
    flat_idx = index._data.reshape(-1)
    n = input._data.size
    nd_idx = array_module(flat_idx).unravel_index(flat_idx % n, input._data.shape)
    return index_put_(input, tuple(make(i) for i in nd_idx), source.reshape(-1), accumulate)


def put(input, index, source, accumulate=False):
    return put_(input.clone(), index, source, accumulate)
