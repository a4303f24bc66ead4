"""Matrix products: matmul and its family."""
import numpy as np

from ...backend.device import array_module
from ..node import Node
from ._util import check_same_device, grad_for, make, recording


def _shape_err(name, a, b):
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                        f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


def _matmul_error(a, b):
    """PyTorch's message for operands whose inner dims differ (it names both shapes as the kernel sees them)."""
    if a.ndim == 1 and b.ndim == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                            f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                            "respectively")
    if b.ndim == 1:
        rows = int(np.prod(a.shape[:-1], dtype=np.int64))
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{a.shape[-1]}), vec ({b.shape[0]})")
    if b.ndim == 2:  # a (1-D, 2-D or batched) folds into one matrix
        rows = int(np.prod(a.shape[:-1], dtype=np.int64)) if a.ndim > 1 else 1
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a.shape[-1]} and "
                            f"{b.shape[0]}x{b.shape[1]})")
    batch = int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), dtype=np.int64))
    return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {a.shape[-1]}] "
                        f"but got: [{batch}, {b.shape[-2]}].")


class MmBackward0(Node):
    """Backward of a matrix product of 2-D (or batched) operands."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        if g._data.dtype.kind == 'c':  # PyTorch's convention: g @ b^H and a^H @ g
            a, b = a.conj(), b.conj()
        ga = g.matmul(b.mT) if na is not None else None
        gb = a.mT.matmul(g) if nb is not None else None
        return ga, gb


class MatmulBackward0(Node):
    """Backward of general matmul (1-D operands promoted, batch dims broadcast)."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        if g._data.dtype.kind == 'c':  # PyTorch's convention: conjugate the other operand
            a, b = a.conj(), b.conj()
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (g * b if na is not None else None), (g * a if nb is not None else None)
        if a.ndim > 2 and b.ndim == 2:  # batch @ matrix: the batch folds into the rows, one product each
            ga = g.matmul(b.mT) if na is not None else None
            gb = a.reshape(-1, a.shape[-1]).mT.matmul(g.reshape(-1, g.shape[-1])) if nb is not None else None
            return ga, gb
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if na is not None:
            ga = g2.matmul(b2.mT)
            if a.ndim == 1:
                ga = ga.squeeze(-2)
            ga = grad_for(ga, a)
        if nb is not None:
            gb = a2.mT.matmul(g2)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
            gb = grad_for(gb, b)
        return ga, gb


def _prep(a, b):
    ad, bd = a._data, b._data
    check_same_device(ad, bd)
    if ad.dtype != bd.dtype:
        from ._util import scalar_type_name
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{scalar_type_name(ad.dtype).lower()} != {scalar_type_name(bd.dtype).lower()}")
    return ad, bd


def fold_matmul(xp, a, b):
    """``a @ b``; a contiguous batched ``a`` times a matrix ``b`` is ONE product with the batch folded into
    the rows (NumPy would run one small product per batch entry)."""
    if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:
        return xp.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    return xp.matmul(a, b)


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting rules (1-D operands promoted)."""
    ad, bd = _prep(input, other)
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {ad.ndim}D and {bd.ndim}D")
    ka = ad.shape[-1]
    kb = bd.shape[-2] if bd.ndim > 1 else bd.shape[0]
    if ka != kb:
        raise _matmul_error(ad, bd)
    if ad.ndim > 2 or bd.ndim > 2:
        from ._util import check_broadcast
        check_broadcast(ad.shape[:-2], bd.shape[:-2] if bd.ndim > 1 else ())
    xp = array_module(ad)
    r = fold_matmul(xp, ad, bd)
    if not isinstance(r, xp.ndarray):
        r = xp.asarray(r)
    if recording(input, other):
        n = (MmBackward0 if ad.ndim >= 2 and bd.ndim >= 2 and ad.shape[:-2] == bd.shape[:-2]
             else MatmulBackward0)((input, other))
        n.save(input, other)
        res = make(r, n)
    else:
        res = make(r)
    if out is not None:
        out._assign_out(res)
        return out
    return res


def mm(input, mat2, *, out=None):
    """Product of two 2-D matrices."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input._data.shape[1] != mat2._data.shape[0]:
        raise _shape_err('mm', input._data, mat2._data)
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    """Batched product of 3-D tensors ``(b, n, m) @ (b, m, p)``."""
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return matmul(input, mat2, out=out)


def mv(input, vec):
    """Matrix-vector product."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec._data.ndim}, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat ({input._data.shape[0]}x"
                           f"{input._data.shape[1]}), vec ({vec._data.shape[0]})")
    return matmul(input, vec)


def dot(input, other):
    """Dot product of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    return matmul(input, other)


inner_1d = dot


def vdot(input, other):
    return dot(input.conj() if input.is_complex() else input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    p = mm(mat1, mat2)
    return _axpby(input, p, beta, alpha)


def _axpby(input, p, beta, alpha):
    if alpha != 1:
        p = p * alpha
    if beta == 0:  # input is ignored (NaNs in it do not propagate) but gets a zero gradient, as in PyTorch
        if recording(input):
            from .elementwise import where
            never = make(array_module(input._data).zeros(input._data.shape, dtype=bool))
            return where(never, input, 0.0) + p
        return p if p._data.shape == np.broadcast_shapes(p._data.shape, input._data.shape) else p + input * 0
    return (input * beta if beta != 1 else input) + p


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _axpby(input, mv(mat, vec), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _axpby(input, bmm(batch1, batch2).sum(0), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _axpby(input, bmm(batch1, batch2), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    return _axpby(input, outer(vec1, vec2), beta, alpha)


# ---------------------------------------------------------------------------------------------------------
# contractions: tensordot, einsum, chain_matmul, kron


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` (a count of trailing/leading dims, or two lists of dims) of ``a`` and ``b``.

    Runs as one matrix product: both operands are permuted and reshaped to 2-D.
    """
    from ._util import norm_dim
    T = type(a)
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, T):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > na or dims > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [norm_dim(d, na) for d in da]
    db = [norm_dim(d, nb) for d in db]
    for x, y in zip(da, db):
        if a._data.shape[x] != b._data.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._data.shape[x]} in dim "
                               f"{x} and second has size {b._data.shape[y]} in dim {y}")
    fa = [d for d in range(na) if d not in da]
    fb = [d for d in range(nb) if d not in db]
    sa = [a._data.shape[d] for d in fa]
    sb = [b._data.shape[d] for d in fb]
    k = int(np.prod([a._data.shape[d] for d in da], dtype=np.int64))
    m = int(np.prod(sa, dtype=np.int64))
    n = int(np.prod(sb, dtype=np.int64))
    a2 = a.permute(fa + da).reshape(m, k)
    b2 = b.permute(db + fb).reshape(k, n)
    r = matmul(a2, b2).reshape(tuple(sa + sb))
    if out is not None:
        out._assign_out(r)
        return out
    return r


def inner(input, other):
    """Sum product over the last dims (``a @ b`` for vectors)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


def _einsum_terms(equation, operands):
    eq = equation.replace(' ', '')
    if '->' in eq:
        lhs, rhs = eq.split('->')
    else:
        lhs, rhs = eq, None
    terms = lhs.split(',')
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' if c not in used]
    ell_n = 0
    for t, op in zip(terms, operands):
        if '...' in t:
            ell_n = max(ell_n, op._data.ndim - (len(t) - 3))
    ell = ''.join(spare[:ell_n])
    out_terms = []
    for t, op in zip(terms, operands):
        if '...' in t:
            k = op._data.ndim - (len(t) - 3)
            t = t.replace('...', ell[ell_n - k:] if k else '')
        if len(t) != op._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                               f"number of dimensions ({op._data.ndim}) for operand {len(out_terms)}"
                               + ("" if '...' in equation else " and no ellipsis was given"))
        out_terms.append(t)
    if rhs is None:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + ''.join(sorted(c for c, v in counts.items() if v == 1 and c not in ell))
    else:
        rhs = rhs.replace('...', ell)
    return out_terms, rhs


def _einsum_prepare(op, term, needed):
    """Take diagonals for repeated letters and sum letters nobody else needs."""
    while len(set(term)) != len(term):
        for c in term:
            if term.count(c) > 1:
                i = term.index(c)
                j = term.index(c, i + 1)
                op = op.diagonal(0, i, j)  # the diagonal goes last
                term = term[:i] + term[i + 1:j] + term[j + 1:] + c
                break
    drop = [i for i, c in enumerate(term) if c not in needed]
    if drop:
        op = op.sum(tuple(drop))
        term = ''.join(c for c in term if c in needed)
    return op, term


def _einsum_pair(a, ta, b, tb, keep):
    """Contract two operands; letters in ``keep`` survive (batch if in both), the rest shared are summed."""
    batch = [c for c in ta if c in tb and c in keep]
    contr = [c for c in ta if c in tb and c not in keep]
    fa = [c for c in ta if c not in tb]
    fb = [c for c in tb if c not in ta]
    size = {}
    for t, op in ((ta, a), (tb, b)):
        for c, s in zip(t, op._data.shape):
            size[c] = max(size.get(c, 1), s)
    a = a.permute([ta.index(c) for c in batch + fa + contr])
    b = b.permute([tb.index(c) for c in batch + contr + fb])
    bsh = tuple(size[c] for c in batch)
    a = a.expand(bsh + tuple(a._data.shape[len(batch):])) if a._data.shape[:len(batch)] != bsh else a
    b = b.expand(bsh + tuple(b._data.shape[len(batch):])) if b._data.shape[:len(batch)] != bsh else b
    nb_ = int(np.prod(bsh, dtype=np.int64))
    ma = int(np.prod([size[c] for c in fa], dtype=np.int64))
    k = int(np.prod([size[c] for c in contr], dtype=np.int64))
    nn = int(np.prod([size[c] for c in fb], dtype=np.int64))
    ka = int(np.prod(a._data.shape[len(batch) + len(fa):], dtype=np.int64))
    kb = int(np.prod(b._data.shape[len(batch):len(batch) + len(contr)], dtype=np.int64))
    if ka != kb:  # a contracted dim broadcasts (size 1 against n): sum it out on the size-1 side first
        k = 1
        a = a.sum(tuple(range(len(batch) + len(fa), a._data.ndim)), keepdim=False) if contr else a
        b = b.sum(tuple(range(len(batch), len(batch) + len(contr)))) if contr else b
    r = matmul(a.reshape(nb_, ma, k), b.reshape(nb_, k, nn))
    return r.reshape(bsh + tuple(size[c] for c in fa) + tuple(size[c] for c in fb)), ''.join(batch + fa + fb)


def einsum(equation, *operands):
    """Einstein summation; the pairwise order comes from opt_einsum, each pair runs as one (batched) matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    terms, rhs = _einsum_terms(equation, operands)
    ops = list(operands)
    for i in range(len(ops)):
        needed = set(rhs)
        for j, t in enumerate(terms):
            if j != i:
                needed.update(t)
        ops[i], terms[i] = _einsum_prepare(ops[i], terms[i], needed)
    if len(ops) > 2:
        import opt_einsum
        path, _ = opt_einsum.contract_path(','.join(terms) + '->' + rhs, *[tuple(o._data.shape) for o in ops],
                                           shapes=True, optimize='auto')
    else:
        path = [tuple(range(len(ops)))]
    for step in path:
        if len(step) == 1:
            continue
        step = sorted(step, reverse=True)
        picked = [(ops.pop(i), terms.pop(i)) for i in step]
        (b, tb), (a, ta) = picked[0], picked[1]
        keep = set(rhs)
        for t in terms:
            keep.update(t)
        for o, t in picked[2:]:  # more than two at once: fold them pairwise
            a, ta = _einsum_pair(a, ta, o, t, keep | set(tb))
        r, tr = _einsum_pair(a, ta, b, tb, keep)
        ops.append(r)
        terms.append(tr)
    (r,), (tr,) = ops, terms
    r, tr = _einsum_prepare(r, tr, set(rhs))
    if tr != rhs:
        r = r.permute([tr.index(c) for c in rhs])
    return r


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices, left to right."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    r = matrices[0]
    if len(matrices) == 1:
        return r.clone()
    for m in matrices[1:]:
        r = mm(r, m)
    return r


def kron(input, other):
    """Kronecker product."""
    na, nb = input._data.ndim, other._data.ndim
    nd = max(na, nb)
    a = input.reshape((1,) * (nd - na) + input._data.shape)
    b = other.reshape((1,) * (nd - nb) + other._data.shape)
    sa, sb = a._data.shape, b._data.shape
    va, vb = [], []
    for x, y in zip(sa, sb):
        va += [x, 1]
        vb += [1, y]
    r = a.reshape(tuple(va)) * b.reshape(tuple(vb))
    return r.reshape(tuple(x * y for x, y in zip(sa, sb)))


# ---------------------------------------------------------------------------------------------------------
# diagonals and triangles


def _diag_view(arr, offset, d1, d2):
    """A writable strided view of the ``offset`` diagonal of dims ``d1, d2`` (diagonal last)."""
    xp = array_module(arr)
    n1, n2 = arr.shape[d1], arr.shape[d2]
    i0, j0 = max(-offset, 0), max(offset, 0)
    length = max(min(n1 - i0, n2 - j0), 0)
    idx = [slice(None)] * arr.ndim
    idx[d1] = slice(min(i0, n1), None)
    idx[d2] = slice(min(j0, n2), None)
    sub = arr[tuple(idx)]
    keep = [k for k in range(arr.ndim) if k not in (d1, d2)]
    shape = tuple(arr.shape[k] for k in keep) + (length,)
    strides = tuple(sub.strides[k] for k in keep) + (sub.strides[d1] + sub.strides[d2],)
    return xp.lib.stride_tricks.as_strided(sub, shape, strides)


class DiagonalBackward0(Node):
    __slots__ = ('shape', 'offset', 'd1', 'd2')
    saves = False

    def backward(self, g):
        return _diag_scatter(g, self.shape, self.offset, self.d1, self.d2)


class DiagEmbedBackward0(Node):
    __slots__ = ('offset', 'd1', 'd2')
    saves = False

    def backward(self, g):
        return diagonal(g, self.offset, self.d1, self.d2)


def _diag_scatter(g, shape, offset, d1, d2):
    """Zeros of ``shape`` with ``g`` (diagonal last) written on the ``offset`` diagonal of ``d1, d2``."""
    gd = g._data
    xp = array_module(gd)
    z = xp.zeros(shape, dtype=gd.dtype)
    _diag_view(z, offset, d1, d2)[...] = gd
    if recording(g):
        n = DiagEmbedBackward0((g,))
        n.offset, n.d1, n.d2 = offset, d1, d2
        return make(z, n)
    return make(z)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal over ``dim1, dim2`` as the last dim (a view)."""
    from ._util import norm_dim
    from .shape import _view_of
    a = input._data
    d1, d2 = norm_dim(dim1, a.ndim), norm_dim(dim2, a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    r = _diag_view(a, offset, d1, d2)
    if recording(input):
        n = DiagonalBackward0((input,))
        n.shape, n.offset, n.d1, n.d2 = a.shape, offset, d1, d2
        return _view_of(r, input, n)
    return _view_of(r, input)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose ``offset`` diagonals over ``dim1, dim2`` are the last dim of ``input``."""
    from ._util import norm_dim
    a = input._data
    nd = a.ndim + 1
    d1, d2 = norm_dim(dim1, nd), norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = a.shape[-1] + abs(offset)
    rest = list(a.shape[:-1])
    shape = []
    for k in range(nd):
        shape.append(m if k in (d1, d2) else rest.pop(0))
    return _diag_scatter(input, tuple(shape), offset, d1, d2)


def diag(input, diagonal=0):
    """1-D: a square matrix with ``input`` on the ``diagonal``; 2-D: that diagonal (a copy)."""
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:
        return globals()['diagonal'](input, diagonal, 0, 1).clone()
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{nd}D")


def diagflat(input, offset=0):
    return diag_embed(input.reshape(-1), offset, 0, 1)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    if input._data.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input._data.ndim))
    d = diagonal(input, 0, 0, 1)
    return d.sum()


class TrilBackward0(Node):
    __slots__ = ('mask',)
    saves = False

    def backward(self, g):
        from .elementwise import where
        return where(make(self.mask), g, g * 0.0)


def _tri(input, k, lower):
    a = input._data
    if a.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions")
    xp = array_module(a)
    n, m = a.shape[-2:]
    mask = xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)
    r = xp.where(mask, a, xp.zeros((), dtype=a.dtype))
    if recording(input):
        node = TrilBackward0((input,))
        node.mask = mask
        if not lower:
            node.__class__ = TriuBackward0
        return make(r, node)
    return make(r)


class TriuBackward0(TrilBackward0):
    __slots__ = ()


def tril(input, diagonal=0):
    """The lower triangle (on and below the ``diagonal``) of the last two dims; zeros elsewhere."""
    return _tri(input, diagonal, True)


def triu(input, diagonal=0):
    """The upper triangle (on and above the ``diagonal``) of the last two dims; zeros elsewhere."""
    return _tri(input, diagonal, False)


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3), with broadcasting."""
    from ._util import norm_dim
    from .shape import broadcast_tensors
    a, b = broadcast_tensors(input, other)
    if dim is None:
        sizes = [i for i, s in enumerate(a._data.shape) if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        d = sizes[0]
    else:
        d = norm_dim(dim, a._data.ndim)
    if a._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a._data.shape[d]} and "
                           f"{b._data.shape[d]}")
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of 1-D ``x``: columns ``x**(N-1) ... x**0`` (or ascending powers)."""
    from .shape import cat
    from .reduction import cumprod
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0]
    N = n if N is None else N
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in 'biu':
        x = x.long()
    if N == 0:
        return x.new_empty((n, 0))
    ones = x.new_ones((n, 1))
    cols = cat([ones, cumprod(x.unsqueeze(-1).expand(n, N - 1), -1)], -1) if N > 1 else ones
    return cols if increasing else cols.flip(-1)
