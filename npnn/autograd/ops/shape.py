"""Shape ops: views, permutations, joining and splitting, repetition."""
import builtins
import numbers

import numpy as np

from ...backend.device import array_module
from ..grad_mode import state
from ..node import Node
from ._util import check_same_device, make, norm_dim, recording, Tensor
from ...backend import dtypes


def _view_of(r, base, node=None):
    """A result sharing ``base``'s memory also shares its version counter."""
    t = make(r, node)
    if r.base is not None or r is base._data:
        t._vc = base._vc
        if node is not None or state.enabled:
            _track_view(t, base)
    return t


def _track_view(t, base):
    """Remember the root of a differentiable view (so in-place writes through it reach the root)."""
    t._view_root = base._view_root if base._view_root is not None else base
    t._view_ver = base._vc[0]


def _kw_arg(fname, args, value, name):
    """Varargs, or the one PyTorch keyword naming them (``x.flip(dims=...)``, ``x.view(size=...)``)."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{fname}() got multiple values for argument '{name}'")
    return (value,)


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer(shape, numel, src_shape):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = list(shape)
        shape[neg[0]] = numel // known
        return tuple(shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    __slots__ = ('shape',)
    saves = False

    def backward(self, g):
        return g.reshape(self.shape)


def reshape(input, *args, shape=None):
    """Same data with a new shape (a view when possible); one dim may be -1."""
    shape = _infer(_shape_arg(_kw_arg('reshape', args, shape, 'shape')), input._data.size, input._data.shape)
    a = input._data
    if shape == a.shape:
        r = a.view()
    else:
        r = a.reshape(shape)
    if recording(input):
        n = ViewBackward0((input,))
        n.shape = a.shape
        return _view_of(r, input, n)
    return _view_of(r, input)


def view(input, *shape, size=None, dtype=None):
    """A view with a new shape; a dtype argument reinterprets the bytes."""
    shape = _kw_arg('view', _kw_arg('view', shape, dtype, 'dtype'), size, 'size')
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, str, type)) and not isinstance(shape[0], tuple):
        d = dtypes.to_dtype(shape[0])
        return _view_of(input._data.view(d.np), input)
    s = _infer(_shape_arg(shape), input._data.size, input._data.shape)
    a = input._data
    if not a.flags.c_contiguous and a.size > 1 and s != a.shape:
        try:
            r = a.view()
            r.shape = s  # raises if it cannot be done without a copy
        except (AttributeError, ValueError):
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return reshape(input, s)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Flatten dims ``start_dim..end_dim`` into one."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = norm_dim(start_dim, nd)
    e = norm_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    sh = input._data.shape
    new = sh[:s] + (int(np.prod(sh[s:e + 1], dtype=np.int64)),) + sh[e + 1:]
    return reshape(input, new)


def unflatten(input, dim, sizes):
    """Expand one dim into ``sizes``."""
    d = norm_dim(dim, input._data.ndim)
    sh = input._data.shape
    sizes = tuple(sizes)
    if -1 in sizes:
        sizes = _infer(sizes, sh[d], None)
    elif int(np.prod(sizes)) != sh[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({sh[d]}) in the input tensor")
    return reshape(input, sh[:d] + sizes + sh[d + 1:])


class PermuteBackward0(Node):
    __slots__ = ('inv',)
    saves = False

    def backward(self, g):
        return g.permute(self.inv)


def permute(input, *args, dims=None):
    """Reorder dims (a view)."""
    dims = _shape_arg(_kw_arg('permute', args, dims, 'dims'))
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(norm_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    r = input._data.transpose(dims)
    if recording(input):
        n = PermuteBackward0((input,))
        n.inv = tuple(np.argsort(dims).tolist())
        return _view_of(r, input, n)
    return _view_of(r, input)


class TransposeBackward0(Node):
    __slots__ = ('d0', 'd1')
    saves = False

    def backward(self, g):
        return g.transpose(self.d0, self.d1)


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    nd = input._data.ndim
    if nd == 0:
        d0 = norm_dim(dim0, 0)
        d1 = norm_dim(dim1, 0)
        return _view_of(input._data.view(), input, None) if not recording(input) else reshape(input, ())
    d0, d1 = norm_dim(dim0, nd), norm_dim(dim1, nd)
    r = input._data.swapaxes(d0, d1)
    if recording(input):
        n = TransposeBackward0((input,))
        n.d0, n.d1 = d0, d1
        return _view_of(r, input, n)
    return _view_of(r, input)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    if input._data.ndim < 2:
        return reshape(input, input._data.shape)
    return transpose(input, 0, 1)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, numbers.Integral) else list(source)
    dst = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    src = [norm_dim(s, nd) for s in src]
    dst = [norm_dim(d, nd) for d in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


class SqueezeBackward0(Node):
    __slots__ = ('shape',)
    saves = False

    def backward(self, g):
        return g.reshape(self.shape)


def squeeze(input, dim=None):
    """Remove dims of size 1 (all, or those in ``dim``)."""
    sh = input._data.shape
    if dim is None:
        new = tuple(s for s in sh if s != 1)
    else:
        dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
        dims = {norm_dim(d, len(sh)) for d in dims} if sh else set()
        new = tuple(s for i, s in enumerate(sh) if not (i in dims and s == 1))
    return reshape(input, new)


def unsqueeze(input, dim):
    """Insert a dim of size 1 at ``dim``."""
    sh = input._data.shape
    d = norm_dim(dim, len(sh) + 1)
    return reshape(input, sh[:d] + (1,) + sh[d:])


class ExpandBackward0(Node):
    __slots__ = ('shape',)
    saves = False

    def backward(self, g):
        from ._util import sum_to
        return sum_to(g, self.shape)


def expand(input, *sizes, size=None):
    """Broadcast to a larger size (a read-only view); -1 keeps a dim."""
    sizes = _shape_arg(_kw_arg('expand', sizes, size, 'size'))
    sh = input._data.shape
    if len(sizes) < len(sh):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(sh)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(sh)})")
    lead = len(sizes) - len(sh)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            target.append(s)
        else:
            cur = sh[i - lead]
            if s == -1:
                target.append(cur)
            elif cur != 1 and s != cur:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                                   f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(sh)}")
            else:
                target.append(s)
    target = tuple(target)
    if target == sh:
        r = input._data.view()
    else:
        r = array_module(input._data).broadcast_to(input._data, target)
    if recording(input):
        n = ExpandBackward0((input,))
        n.shape = sh
        return _view_of(r, input, n)
    return _view_of(r, input)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, size):
    return expand(input, tuple(size))


def broadcast_shapes(*shapes):
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: {shapes}") from None


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


class CatBackward0(Node):
    __slots__ = ('dim', 'sizes')
    saves = False

    def backward(self, g):
        out = []
        off = 0
        for e, s in zip(self.next, self.sizes):
            out.append(g.narrow(self.dim, off, s) if e is not None else None)
            off += s
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    """Concatenate along an existing dim."""
    T = Tensor()
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, T):
            raise TypeError(f"expected Tensor as element {tensors.index(t)} in argument 0, but got "
                            f"{type(t).__name__}")
    # legacy: 1-D empty tensors are skipped
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = parts[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = norm_dim(dim, ref.ndim)
    dt = ref.dtype
    for i, t in enumerate(parts):
        a = t._data
        check_same_device(ref, a)
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {a.shape[k]} for tensor number {i} in the list.")
        if a.dtype != dt:
            dt = dtypes.promote_np(dt, a.dtype)
    xp = array_module(ref)
    arrays = [t._data if t._data.dtype == dt else t._data.astype(dt) for t in parts]
    r = xp.concatenate(arrays, axis=d)
    if recording(*parts):
        n = CatBackward0(parts)
        n.dim = d
        n.sizes = [t._data.shape[d] for t in parts]
        return _assign(make(r, n), out)
    return _assign(make(r), out)


def _assign(res, out):
    if out is None:
        return res
    out._assign_out(res)
    return out


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join tensors of equal shape along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    sh = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != sh:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(sh)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = norm_dim(dim, len(sh) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return hstack([t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors])


def atleast_1d(t):
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def atleast_2d(t):
    nd = t._data.ndim
    return reshape(t, (1,) * (2 - nd) + t._data.shape) if nd < 2 else t


def atleast_3d(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1, 1))
    if nd == 1:
        return reshape(t, (1, t._data.shape[0], 1))
    if nd == 2:
        return unsqueeze(t, 2)
    return t


def narrow(input, dim, start, length):
    """A view of ``length`` elements of ``dim`` from ``start``."""
    a = input._data
    d = norm_dim(dim, a.ndim)
    if isinstance(start, Tensor()):
        start = int(start.item())
    if start < 0:
        start += a.shape[d]
    if start < 0 or start + length > a.shape[d] or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({a.shape[d]}).")
    idx = [slice(None)] * a.ndim
    idx[d] = slice(start, start + length)
    r = a[tuple(idx)]
    if recording(input):
        n = _SliceBackward((input,))
        n.shape, n.index = a.shape, tuple(idx)
        return _view_of(r, input, n)
    return _view_of(r, input)


class _SliceBackward(Node):
    """Backward of a basic-index view: the gradient placed into zeros of the input's shape."""
    __slots__ = ('shape', 'index')
    saves = False

    def backward(self, g):
        from .indexing import index_into_zeros
        return index_into_zeros(g, self.shape, self.index)


_SliceBackward.__name__ = 'SliceBackward0'


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (last may be smaller) or into the given ``sections``."""
    a = tensor._data
    d = norm_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        s = int(split_size_or_sections)
        if s <= 0 and n > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s > 0 else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
    out, off = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, off, s))
        off += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` nearly equal pieces (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input._data.shape[norm_dim(dim, input._data.ndim)]
    size = -(-n // chunks) if n else 1
    return split(input, builtins.max(size, 1), dim) if n else tuple(split(input, [0] * 1, dim))


def tensor_split(input, indices_or_sections, dim=0):
    """Split at indices, or into ``sections`` pieces whose sizes differ by at most one."""
    d = norm_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
    else:
        idx = [int(i) for i in indices_or_sections]
        bounds = [0] + [builtins.min(builtins.max(i, 0), n) for i in idx] + [n]
        sizes = [builtins.max(bounds[i + 1] - bounds[i], 0) for i in range(len(bounds) - 1)]
    out, off = [], 0
    for s in sizes:
        out.append(narrow(input, d, builtins.min(off, n), s))
        off += s
    return tuple(out)


def unbind(input, dim=0):
    """Remove a dim, returning each slice."""
    d = norm_dim(dim, input._data.ndim)
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def select(input, dim, index):
    """The slice at ``index`` of ``dim`` (the dim removed)."""
    a = input._data
    d = norm_dim(dim, a.ndim)
    size = a.shape[d]
    if index < -size or index >= size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(a.shape)} at dimension {d}")
    idx = [slice(None)] * a.ndim
    idx[d] = index % size
    r = a[tuple(idx)]
    if not isinstance(r, array_module(a).ndarray):
        r = array_module(a).asarray(r)
    if recording(input):
        n = _SliceBackward((input,))
        n.shape, n.index = a.shape, tuple(idx)
        n.__class__ = _SelectBackward
        return _view_of(r, input, n)
    return _view_of(r, input)


class _SelectBackward(_SliceBackward):
    __slots__ = ()


_SelectBackward.__name__ = 'SelectBackward0'


class FlipBackward0(Node):
    __slots__ = ('dims',)
    saves = False

    def backward(self, g):
        return g.flip(self.dims)


def flip(input, *args, dims=None):
    """Reverse the order along ``dims`` (copies, like PyTorch)."""
    dims = _kw_arg('flip', args, dims, 'dims')
    dims = _shape_arg(dims) if dims else ()
    nd = input._data.ndim
    dims = tuple(norm_dim(d, nd) for d in dims)
    if nd == 0:
        dims = ()
    r = array_module(input._data).flip(input._data, dims).copy() if dims else input._data.copy()
    if recording(input):
        n = FlipBackward0((input,))
        n.dims = dims
        return make(r, n)
    return make(r)


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


class RollBackward0(Node):
    __slots__ = ('shifts', 'dims')
    saves = False

    def backward(self, g):
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return g.roll(neg, self.dims)


def roll(input, shifts, dims=None):
    """Roll elements along ``dims`` (flattened when None)."""
    xp = array_module(input._data)
    if isinstance(shifts, (list, tuple)):
        shifts = tuple(shifts)
    if isinstance(dims, list):
        dims = tuple(dims)
    r = xp.roll(input._data, shifts, dims)
    if recording(input):
        n = RollBackward0((input,))
        n.shifts, n.dims = shifts, dims
        return make(r, n)
    return make(r)


def rot90(input, k=1, dims=(0, 1)):
    k = k % 4
    d0, d1 = dims
    if k == 0:
        return input.clone()
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    return flip(input.transpose(d0, d1), d1)


class RepeatBackward0(Node):
    __slots__ = ('reps', 'shape')
    saves = False

    def backward(self, g):
        # view the repeated gradient as (rep0, s0, rep1, s1, ...) and sum the repeat axes
        sh = self.shape
        lead = len(self.reps) - len(sh)
        full = (1,) * lead + sh
        inter = []
        for r, s in zip(self.reps, full):
            inter += [r, s]
        g = g.reshape(tuple(inter)).sum(tuple(range(0, 2 * len(full), 2)))
        return g.reshape(sh)


def repeat(input, *sizes, repeats=None):
    """Tile the tensor ``sizes`` times along each dim."""
    sizes = _shape_arg(_kw_arg('repeat', sizes, repeats, 'repeats'))
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    r = array_module(input._data).tile(input._data, sizes)
    if recording(input):
        n = RepeatBackward0((input,))
        n.reps, n.shape = sizes, input._data.shape
        return make(r, n)
    return make(r)


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (a number or a tensor of counts) along ``dim``."""
    from .indexing import index_select
    T = Tensor()
    xp = array_module(input._data)
    if repeats is None:  # repeat_interleave(repeats_tensor) -> indices
        reps = input._data
        return make(xp.repeat(xp.arange(reps.shape[0]), reps))
    x = input
    if dim is None:
        x = reshape(input, (-1,))
        dim = 0
    d = norm_dim(dim, x._data.ndim)
    n = x._data.shape[d]
    reps = repeats._data if isinstance(repeats, T) else repeats
    if isinstance(reps, numbers.Integral) or (hasattr(reps, 'ndim') and reps.ndim == 0):
        reps = int(reps)
        idx = xp.repeat(xp.arange(n), reps)
    else:
        reps = xp.asarray(reps)
        if reps.shape[0] != n:
            raise RuntimeError("repeats must have the same size as input along dim")
        idx = xp.repeat(xp.arange(n), reps)
    return index_select(x, d, make(idx.astype(np.int64)))


def contiguous(input, memory_format=None):
    a = input._data
    if a.flags.c_contiguous:
        return input
    return clone(input)


class CloneBackward0(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        return g


def clone(input, *, memory_format=None):
    """A copy of the data, differentiable."""
    r = input._data.copy()
    if recording(input):
        return make(r, CloneBackward0((input,)))
    return make(r)


class ToCopyBackward0(Node):
    __slots__ = ('dt', 'dev')
    saves = False

    def backward(self, g):
        from ...backend.device import array_to
        d = g._data
        if self.dev is not None:
            res = make(array_to(d, self.dev))
            return res if not g._rg else g._to_device_diff(self.dev)
        if g._data.dtype.kind == 'c' and np.dtype(self.dt).kind != 'c':  # complex -> real input: real part
            from ...spectral import real
            g = real(g)
        return g._cast(self.dt)


def cast(input, np_dtype):
    """Convert to a NumPy dtype (differentiable between floating types)."""
    a = input._data
    if a.dtype == np_dtype:
        return input
    r = a.astype(np_dtype)
    if recording(input) and np.dtype(np_dtype).kind in 'fc':
        n = ToCopyBackward0((input,))
        n.dt, n.dev = a.dtype, None
        return make(r, n)
    return make(r)


def _tensor_list(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors; ``indexing='ij'`` (matrix, the default) or ``'xy'`` (Cartesian)."""
    ts = _tensor_list(tensors)
    if indexing is None:
        indexing = 'ij'
    if indexing not in ('ij', 'xy'):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    ts = [atleast_1d(t) for t in ts]
    shape = [t._data.shape[0] for t in ts]
    pos = list(range(len(ts)))
    if indexing == 'xy' and len(ts) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
        pos[0], pos[1] = 1, 0
    out = []
    for t, p in zip(ts, pos):
        view = [1] * len(ts)
        view[p] = -1
        out.append(expand(reshape(t, tuple(view)), tuple(shape)))
    return tuple(out)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors as rows of a 2-D tensor (1-D input: returned as is)."""
    ts = _tensor_list(tensors)
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing='ij')
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of a 1-D tensor's elements, as rows."""
    import itertools
    from .indexing import getitem
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = input._data.shape[0]
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(range(n), r)), dtype=np.int64).reshape(-1, r)
    if r == 0 or idx.shape[0] == 0:
        return make(array_module(input._data).empty((0,), dtype=input._data.dtype))
    xp = array_module(input._data)
    return getitem(input, make(xp.asarray(idx)))


def block_diag(*tensors):
    """A block-diagonal matrix of the given (0-D, 1-D or 2-D) tensors."""
    ts = []
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if nd > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{nd} dimensions")
        ts.append(reshape(t, (1, -1) if nd == 1 else (1, 1)) if nd < 2 else t)
    if not ts:
        return make(np.zeros((1, 0), dtype=dtypes.get_default_dtype().np))
    dt = ts[0]._data.dtype
    for t in ts[1:]:
        dt = dtypes.promote_np(dt, t._data.dtype)
    xp = array_module(ts[0]._data)
    total = builtins.sum(t._data.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        r, c = t._data.shape
        parts = []
        if left:
            parts.append(make(xp.zeros((r, left), dtype=dt)))
        parts.append(t)
        if total - left - c:
            parts.append(make(xp.zeros((r, total - left - c), dtype=dt)))
        rows.append(cat(parts, 1) if len(parts) > 1 else t)
        left += c
    return cat(rows, 0)


def ravel(input):
    """The flattened tensor (a view when possible)."""
    return reshape(input, (-1,))


def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


def _dir_split(input, sections, dim, name, min_dim):
    if input._data.ndim < min_dim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor "
                           f"with {input._data.ndim} dimensions!")
    if isinstance(sections, numbers.Integral):
        n = input._data.shape[dim]
        if sections == 0 or n % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {n} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    return _dir_split(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 'hsplit', 1)


def vsplit(input, indices_or_sections):
    return _dir_split(input, indices_or_sections, 0, 'vsplit', 2)


def dsplit(input, indices_or_sections):
    return _dir_split(input, indices_or_sections, 2, 'dsplit', 3)


class UnfoldBackward0(Node):
    __slots__ = ('shape', 'dim', 'size', 'step')
    saves = False

    def backward(self, g):
        return _fold_windows(g, self.shape, self.dim, self.size, self.step)


class _FoldWindowsBackward(Node):
    __slots__ = ('dim', 'size', 'step')
    saves = False

    def backward(self, g):
        return unfold(g, self.dim, self.size, self.step)


def _fold_windows(g, shape, d, size, step):
    """Adjoint of unfold: sum each window (last dim of ``g``) back into a tensor of ``shape``."""
    gd = g._data
    xp = array_module(gd)
    z = xp.zeros(shape, dtype=gd.dtype)
    nwin = gd.shape[d]
    zm = xp.moveaxis(z, d, -1)  # a view: windows run along the last axis
    gm = xp.moveaxis(gd, d, -2)  # (..., nwin, size)
    for k in range(size):  # a loop over the window length, not over elements
        zm[..., k:k + step * (nwin - 1) + 1:step] += gm[..., k]
    if recording(g):
        n = _FoldWindowsBackward((g,))
        n.dim, n.size, n.step = d, size, step
        return make(z, n)
    return make(z)


def unfold(input, dimension, size, step):
    """All windows of ``size`` along ``dimension``, ``step`` apart, as a new last dim (a view)."""
    a = input._data
    d = norm_dim(dimension, a.ndim) if a.ndim else 0
    n = a.shape[d] if a.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    xp = array_module(a)
    src = a if a.ndim else a.reshape(1)
    nwin = (src.shape[d] - size) // step + 1
    shape = src.shape[:d] + (nwin,) + src.shape[d + 1:] + (size,)
    strides = src.strides[:d] + (src.strides[d] * step,) + src.strides[d + 1:] + (src.strides[d],)
    r = xp.lib.stride_tricks.as_strided(src, shape, strides)
    if not a.ndim:
        r = r.reshape(size)
    if recording(input):
        node = UnfoldBackward0((input,))
        node.shape, node.dim, node.size, node.step = a.shape, d, size, step
        t = make(r, node)
    else:
        t = make(r)
    t._vc = input._vc
    return t


def sum_to_size(input, *size):
    """Sum broadcast dims so the result has ``size``."""
    from ._util import sum_to
    return sum_to(input, _shape_arg(size))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``src`` written into the slice ``start:end:step`` of ``dim`` (out of place)."""
    from .indexing import setitem
    d = norm_dim(dim, input._data.ndim)
    out = clone(input)
    setitem(out, (slice(None),) * d + (slice(start, end, step),), src)
    return out


def select_scatter(input, src, dim, index):
    """``input`` with ``src`` written at ``index`` of ``dim`` (out of place)."""
    from .indexing import setitem
    d = norm_dim(dim, input._data.ndim)
    out = clone(input)
    setitem(out, (slice(None),) * d + (index,), src)
    return out


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``src`` written on its ``offset`` diagonal over ``dim1, dim2`` (out of place)."""
    from .matrix import _diag_scatter, _diag_view
    from .elementwise import where
    a = input._data
    d1, d2 = norm_dim(dim1, a.ndim), norm_dim(dim2, a.ndim)
    xp = array_module(a)
    mask = xp.zeros(a.shape, dtype=bool)
    _diag_view(mask, offset, d1, d2)[...] = True
    if src._data.dtype != a.dtype:
        src = cast(src, a.dtype)
    return where(make(mask), _diag_scatter(src, a.shape, offset, d1, d2), input)
