"""Kernels that need a per-backend body (NumPy here, CuPy where it pays)."""
import numpy as np

from .device import array_module


def index_add_at(target, index, values):
    """``target[index] += values`` with repeated indices accumulating (unbuffered), in place."""
    xp = array_module(target)
    if xp is np:
        if isinstance(index, np.ndarray) and index.ndim == 1 and target.ndim >= 1 and index.dtype.kind in 'iu':
            # one index array on dim 0: sort-free accumulation through bincount per column block
            _add_rows(target, index, values)
        else:
            np.add.at(target, index, values)
    else:
        if target.dtype.kind == 'b':
            tmp = target.astype(np.int32)
            xp.add.at(tmp, index, values)
            target[...] = tmp.astype(bool)
        else:
            xp.add.at(target, index, values)
    return target


def _add_rows(target, index, values):
    n = target.shape[0]
    idx = np.where(index < 0, index + n, index)
    vals = np.broadcast_to(values, idx.shape + target.shape[1:])
    if target.ndim == 1:
        target += np.bincount(idx, weights=vals, minlength=n).astype(target.dtype, copy=False)
        return
    if target.dtype.kind != 'f' or idx.size < 64:
        np.add.at(target, idx, vals)
        return
    # rows: a (n_unique x len(idx)) 0/1 matrix product is one BLAS call and exact for sums
    flat = vals.reshape(idx.shape[0], -1)
    order = np.argsort(idx, kind='stable')
    sidx = idx[order]
    starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]])
    sums = np.add.reduceat(flat[order], starts, axis=0)
    target.reshape(n, -1)[sidx[starts]] += sums.astype(target.dtype, copy=False)
