"""Distances: pairwise_distance, cosine_similarity, pdist, cdist."""
import numpy as np

from ...autograd import ops as _ops
from ...backend.device import array_module
from .misc import const

__all__ = ['pairwise_distance', 'cosine_similarity', 'pdist', 'cdist']


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim (broadcasting)."""
    nd = max(x1.dim(), x2.dim())
    d = x1 - x2 + eps
    return _ops.vector_norm(d, p, -1 if nd > 0 else None, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim``."""
    n1 = _ops.vector_norm(x1, 2, dim, keepdim=True).clamp_min(eps)
    n2 = _ops.vector_norm(x2, 2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input, p=2):
    """Distances between all row pairs ``i < j`` of an (N, M) input, as a flat vector."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    xp = array_module(input._data)
    i, j = np.triu_indices(n, 1)
    if xp is not np:
        i, j = xp.asarray(i), xp.asarray(j)
    d = input[const(i)] - input[const(j)]
    return _ops.vector_norm(d, p, -1)


def cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'):
    """Distances between each row of ``x1`` (.., P, M) and each row of ``x2`` (.., R, M): (.., P, R)."""
    if x1.dim() < 2 or x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D" if x1.dim() < 2 else
                           f"cdist only supports at least 2D tensors, X2 got: {x2.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    P, R = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == 'use_mm_for_euclid_dist' or
                         (compute_mode == 'use_mm_for_euclid_dist_if_necessary' and (P > 25 or R > 25)))
    if use_mm:
        s1 = (x1 * x1).sum(-1, keepdim=True)
        s2 = (x2 * x2).sum(-1, keepdim=True)
        d2 = s1 - 2.0 * x1.matmul(x2.transpose(-1, -2)) + s2.transpose(-1, -2)
        d2 = d2.clamp_min(0.0)
        # sqrt with a zero subgradient at 0
        zero = const(d2._data == 0)
        return _ops.where(zero, d2 * 0.0, _ops.where(zero, d2 + 1.0, d2).sqrt())
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _ops.vector_norm(d, p, -1)
