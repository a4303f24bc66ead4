"""Connectionist temporal classification loss: forward-backward in log space, vectorised over the batch."""
import numpy as np

from ...autograd.node import Node, _raise_released
from ...autograd.ops._util import recording
from ...backend.device import array_module, on_device
from ...backend.kernels import index_add_at

__all__ = ['ctc_loss']


def _T():
    from ...tensor import Tensor
    return Tensor


class CtcLossBackward0(Node):
    """Gradient of the per-sample losses w.r.t. ``log_probs`` (PyTorch's form, which assumes the inputs are
    log-softmax outputs: ``exp(log_probs) - occupation``); computed on arrays (no double backward)."""
    __slots__ = ()

    def release(self):
        Node.release(self)
        self.G = None

    def backward(self, g):
        if self.G is None:
            _raise_released()
        gd = g._data
        if self.unbatched:
            r = self.G[:, 0] * gd
        else:
            r = self.G * gd[None, :, None]
        return _T()._make(r.astype(self.G.dtype, copy=False))


def _lengths(x, xp, name, n):
    T = _T()
    if isinstance(x, T):
        a = x._data
    else:
        a = np.asarray(x)
    a = np.asarray(a.get() if hasattr(a, 'get') else a).astype(np.int64).reshape(-1)
    if a.shape[0] != n:
        raise RuntimeError(f"{name} must be of size batch_size")
    return a


def _lse3(xp, a, b, c):
    m = xp.maximum(xp.maximum(a, b), c)
    ms = xp.where(m == -xp.inf, 0, m)
    return xp.log(xp.exp(a - ms) + xp.exp(b - ms) + xp.exp(c - ms)) + ms


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False):
    """CTC loss of ``log_probs`` (T, N, C) (or (T, C)) against ``targets`` (padded (N, S) or concatenated 1-D).

    ``reduction='mean'`` divides each loss by its target length, then averages over the batch; with
    ``zero_infinity`` infeasible alignments (infinite loss) give 0 loss and 0 gradient.
    """
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    T_ = _T()
    lp = log_probs._data
    xp = array_module(lp)
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp[:, None, :]
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, got {lp.ndim}-D")
    Tn, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    il = _lengths(input_lengths, xp, 'input_lengths', N)
    tl = _lengths(target_lengths, xp, 'target_lengths', N)
    if il.size and il.max() > Tn:
        raise RuntimeError(f"Expected input_lengths to have value at most {Tn}, but got value {int(il.max())} "
                           f"(while checking arguments for ctc_loss_cpu)")
    tg = targets._data if isinstance(targets, T_) else xp.asarray(targets)
    if array_module(tg) is not xp:  # CPU targets with GPU log-probs, as PyTorch allows
        tg = xp.asarray(tg)
    if unbatched and tg.ndim == 1 and tg.shape[0] >= int(tl[0]) and tl.size == 1:
        tg = tg[None, :]
    S = int(tl.max()) if tl.size else 0
    if tg.ndim == 2:
        if tg.shape[1] < S:
            raise RuntimeError(f"Expected tensor to have size at least {S} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for "
                               f"ctc_loss_cpu)")
        padded = tg[:, :S].astype(np.int64)
    else:  # concatenated targets
        starts = np.cumsum(tl) - tl
        pos = np.arange(S)[None, :]
        src = np.where(pos < tl[:, None], starts[:, None] + pos, 0)
        src = np.minimum(src, max(tg.shape[0] - 1, 0))
        padded = tg[xp.asarray(src)].astype(np.int64) if tg.shape[0] else xp.zeros((N, S), np.int64)
    with on_device(lp), np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        nll, G = _ctc(xp, lp, padded, il, tl, blank, S, recording(log_probs))
        if zero_infinity:
            inf = xp.isinf(nll)
            nll = xp.where(inf, 0, nll).astype(lp.dtype)
            if G is not None:
                G = xp.where(inf[None, :, None], 0, G)
    if G is not None:
        n = CtcLossBackward0((log_probs,))
        n.G, n.unbatched = G, unbatched
        loss = T_._make(nll[0] if unbatched else nll, n)
    else:
        loss = T_._make(nll[0] if unbatched else nll)
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    denom = T_._make(xp.asarray(np.maximum(tl, 1).astype(lp.dtype)))
    if unbatched:
        return loss / denom[0]
    return (loss / denom).mean()


def _ctc(xp, lp, padded, il_np, tl_np, blank, S, need_grad):
    Tn, N, C = lp.shape
    dt = lp.dtype
    Lp = 2 * S + 1
    il = xp.asarray(il_np)
    tl = xp.asarray(tl_np)
    ext = xp.full((N, Lp), blank, dtype=np.int64)
    if S:
        ext[:, 1::2] = padded
    s_idx = xp.arange(Lp)[None, :]
    valid = s_idx < (2 * tl + 1)[:, None]
    # a label may be reached from two positions back unless it repeats the previous label
    skip = xp.zeros((N, Lp), dtype=bool)
    if Lp > 2:
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    lpl = lp[:, xp.arange(N)[:, None], ext]                       # (T, N, L') emissions along the labels
    ninf = xp.asarray(-np.inf, dtype=dt)
    alpha = xp.full((Tn, N, Lp), -np.inf, dtype=dt)
    a0 = xp.full((N, Lp), -np.inf, dtype=dt)
    a0[:, 0] = lpl[0, :, 0]
    if Lp > 1:
        a0[:, 1] = xp.where(tl > 0, lpl[0, :, 1], ninf)
    a0 = xp.where(valid & (il > 0)[:, None], a0, ninf)
    alpha[0] = a0
    pad1 = xp.full((N, 1), -np.inf, dtype=dt)
    pad2 = xp.full((N, 2), -np.inf, dtype=dt)
    for t in range(1, Tn):
        a = alpha[t - 1]
        a1 = xp.concatenate([pad1, a[:, :-1]], axis=1)
        a2 = xp.where(skip, xp.concatenate([pad2, a[:, :-2]], axis=1), ninf)
        new = _lse3(xp, a, a1, a2) + lpl[t]
        new = xp.where(valid, new, ninf)
        alpha[t] = xp.where((t < il)[:, None], new, a)             # frozen after the sequence ends
    last = alpha[Tn - 1] if Tn else xp.full((N, Lp), -np.inf, dtype=dt)
    n_ar = xp.arange(N)
    end = last[n_ar, 2 * tl]
    end1 = xp.where(tl > 0, last[n_ar, xp.maximum(2 * tl - 1, 0)], ninf)
    m = xp.maximum(end, end1)
    ms = xp.where(m == -xp.inf, 0, m)
    ll = xp.log(xp.exp(end - ms) + xp.exp(end1 - ms)) + ms
    ll = xp.where(il > 0, ll, xp.where(tl == 0, 0, ninf)).astype(dt)
    nll = (-ll).astype(dt)
    if not need_grad:
        return nll, None
    # beta, backwards in time
    lab = xp.empty((Tn, N, Lp), dtype=dt)
    init = xp.full((N, Lp), -np.inf, dtype=dt)
    skip_next = xp.zeros((N, Lp), dtype=bool)                     # may position s jump to s + 2
    if Lp > 2:
        skip_next[:, :-2] = skip[:, 2:]
    b = xp.full((N, Lp), -np.inf, dtype=dt)
    for t in range(Tn - 1, -1, -1):
        b1 = xp.concatenate([b[:, 1:], pad1], axis=1)
        b2 = xp.where(skip_next, xp.concatenate([b[:, 2:], pad2], axis=1), ninf)
        new = xp.where(valid, _lse3(xp, b, b1, b2) + lpl[t], ninf)
        first = (2 * tl)[:, None] == s_idx
        first |= ((2 * tl - 1)[:, None] == s_idx) & (tl > 0)[:, None]
        init = xp.where(first, lpl[t], ninf)
        b = xp.where((t == il - 1)[:, None], init, xp.where((t < il - 1)[:, None], new, ninf))
        lab[t] = b
    lab += alpha
    # occupation of each label position, summed per class: exp(alpha + beta - emission + nll)
    occ = xp.exp(lab - lpl + nll[None, :, None])
    G = xp.zeros(Tn * N * C, dtype=dt)
    flat = (xp.arange(Tn)[:, None, None] * (N * C) + n_ar[None, :, None] * C + ext[None]).reshape(-1)
    index_add_at(G, flat, occ.reshape(-1))
    G = G.reshape(Tn, N, C)
    G = xp.exp(lp) - G
    G *= (xp.arange(Tn)[:, None] < il[None, :])[:, :, None].astype(dt)
    return nll, G
