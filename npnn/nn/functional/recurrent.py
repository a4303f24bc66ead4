"""Recurrent layers as fused sequence ops.

One call of ``rnn_layer`` runs one layer (one direction) over a whole sequence and records ONE autograd node:
the input projections of all steps are one matrix product, each step is a hidden matmul plus one fused
gate kernel, and backward is hand-written BPTT whose weight gradients are single products over all steps.
Sequences are kept in the packed layout (rows of step t are a block of ``batch_sizes[t]`` rows), so padded
input (every block full) and PackedSequence data share the same code.
"""
import numpy as np

from ...autograd.node import Node
from ...autograd.ops._util import recording
from ...backend import rnn_kernels as K
from ...backend.device import array_module, on_device

__all__ = []

GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def _T():
    from ...tensor import Tensor
    return Tensor


def _blocks(batch_sizes, N, B):
    """(offset, size) of every time step's row block."""
    if batch_sizes is None:
        return [(t * B, B) for t in range(N // B)]
    out, off = [], 0
    for bs in batch_sizes:
        out.append((off, bs))
        off += bs
    return out


class RNNLayerBackward(Node):
    """Backward of one recurrent layer/direction over a whole sequence (BPTT written on arrays).

    Inputs: x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr; outputs: y, h_n, c_n. The gradients are computed on
    arrays, so ``create_graph=True`` does not build a graph through this node (double backward through a
    recurrent layer is not supported).
    """
    __slots__ = ()

    def name(self):
        return self.mode + 'Backward'

    def release(self):
        Node.release(self)
        self.st = None

    def backward(self, grads):
        self.saved_tensors()  # version checks on inputs and weights
        st = self.st
        with on_device(st['X']):
            res = _backward(self, st, grads)
        T = _T()
        return tuple(T._make(r) if r is not None else None for r in res)


def rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, batch_sizes=None, reverse=False):
    """One recurrent layer over a sequence. ``x``: (T, B, I) or packed (N, I) with ``batch_sizes`` (ints).

    Returns ``(y, h_n, c_n)`` (``c_n`` None unless LSTM); ``y`` has x's leading shape and the output size.
    """
    T = _T()
    xd = x._data
    with on_device(xd):
        arrays = _forward(mode, xd, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse,
                          rec := recording(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr))
    Y, hN, cN, st = arrays
    y_shape = xd.shape[:-1] + (Y.shape[1],)
    if not rec:
        return T._make(Y.reshape(y_shape)), T._make(hN), (T._make(cN) if cN is not None else None)
    n = RNNLayerBackward((x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr))
    n.n_outputs = 3
    n.mode = mode
    n.save(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
    st['x_shape'] = xd.shape
    st['reverse'] = reverse
    n.st = st
    y = T._make(Y.reshape(y_shape), n, 0)
    h = T._make(hN, n, 1)
    c = T._make(cN, n, 2) if cN is not None else None
    return y, h, c


def _input_projection(X, WT, bias, xp):
    """``X @ WT + bias`` as ONE product: the bias rides along as an extra input column of ones, which saves
    a separate pass over the (steps*batch, gates*H) result."""
    if bias is None:
        return X @ WT
    N, I = X.shape
    Xa = xp.empty((N, I + 1), dtype=X.dtype)
    Xa[:, :I] = X
    Xa[:, I] = 1
    return Xa @ xp.concatenate([WT, bias[None]])


def _forward(mode, xd, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, reverse, rec):
    xp = array_module(xd)
    Wih, Whh = w_ih._data, w_hh._data
    if Wih.dtype != xd.dtype:
        from ...backend.dtypes import from_numpy_dtype
        raise RuntimeError(f"input must have the type npnn.{from_numpy_dtype(Wih.dtype).name}, got type "
                           f"npnn.{from_numpy_dtype(xd.dtype).name}")
    G = GATES[mode]
    H = Whh.shape[0] // G
    Hout = Whh.shape[1]
    I = xd.shape[-1]
    X = xd.reshape(-1, I)
    N = X.shape[0]
    B = xd.shape[-2] if batch_sizes is None else batch_sizes[0]
    blocks = _blocks(batch_sizes, N, B)
    dt = xd.dtype
    lstm = mode == 'LSTM'
    WhhT = Whh.T
    if b_ih is None:
        bias = None
    else:
        bias = b_ih._data if mode == 'GRU' else b_ih._data + b_hh._data
    WihT = Wih.T
    if lstm:
        WihT, bias, WhhT = K.lstm_fwd_weights(WihT, bias, WhhT)
    XG = _input_projection(X, WihT, bias, xp)         # all steps' input projections: one product
    if WhhT.base is not None:
        WhhT = xp.ascontiguousarray(WhhT)
    H0 = h0._data if h0 is not None else xp.zeros((B, Hout), dtype=dt)
    C0 = (c0._data if c0 is not None else xp.zeros((B, H), dtype=dt)) if lstm else None
    Y = xp.empty((N, Hout), dtype=dt)
    tmp = xp.empty((B, G * H), dtype=dt)
    st = {'mode': mode, 'X': X, 'XG': XG, 'Y': Y, 'H0': H0, 'blocks': blocks, 'B': B, 'H': H}
    if lstm:
        C = xp.empty((N, H), dtype=dt)
        TC = xp.empty((N, H), dtype=dt)
        HR = xp.empty((N, H), dtype=dt) if w_hr is not None else Y
        Whr = w_hr._data if w_hr is not None else None
        WhrT = xp.ascontiguousarray(Whr.T) if Whr is not None else None
        st.update(C=C, TC=TC, HR=HR, C0=C0)
    if mode == 'GRU':
        GHN = xp.empty((N, H), dtype=dt)
        bhh = b_hh._data if b_hh is not None else None
        st['GHN'] = GHN
    relu = mode == 'RNN_RELU'
    order = range(len(blocks) - 1, -1, -1) if reverse else range(len(blocks))
    hprevs = [None] * len(blocks)
    cprevs = [None] * len(blocks) if lstm else None
    ks = K.steps(xp)
    prev = None
    with ks.quiet():
        for t in order:
            off, bs = blocks[t]
            sl = slice(off, off + bs)
            if prev is None:
                hp = H0[:bs]
                cp = C0[:bs] if lstm else None
            else:
                poff, pbs = prev
                hp = Y[poff:poff + min(bs, pbs)]
                if lstm:
                    cp = C[poff:poff + min(bs, pbs)]
                if bs > pbs:  # reverse direction over packed data: sequences starting here take h0
                    hp = xp.concatenate([hp, H0[pbs:bs]])
                    if lstm:
                        cp = xp.concatenate([cp, C0[pbs:bs]])
            hprevs[t] = hp
            gh = tmp[:bs]
            xp.matmul(hp, WhhT, out=gh)
            if lstm:
                cprevs[t] = cp
                gates = XG[sl]
                gates += gh
                ks.lstm_fwd(gates, cp, C[sl], TC[sl], HR[sl])
                if Whr is not None:
                    xp.matmul(HR[sl], WhrT, out=Y[sl])
            elif mode == 'GRU':
                if bhh is not None:
                    gh += bhh
                ks.gru_fwd(XG[sl], gh, hp, Y[sl], GHN[sl])
            else:
                pre = XG[sl]
                pre += gh
                if relu:
                    xp.maximum(pre, 0, out=Y[sl])
                else:
                    xp.tanh(pre, out=Y[sl])
            prev = (off, bs)
    # final states: the state after each sequence's last step
    if reverse or batch_sizes is None or blocks[-1][1] == B:
        last = blocks[0] if reverse else blocks[-1]
        hN = Y[last[0]:last[0] + B].copy()
        cN = C[last[0]:last[0] + B].copy() if lstm else None
    else:
        bsz = np.asarray(batch_sizes)
        lengths = (bsz[None, :] > np.arange(B)[:, None]).sum(1)
        offs = np.concatenate([[0], np.cumsum(bsz)[:-1]])
        idx = offs[lengths - 1] + np.arange(B)
        if xp is not np:
            idx = xp.asarray(idx)
        hN = Y[idx]
        cN = C[idx] if lstm else None
    if rec:
        st['hprevs'] = hprevs
        st['cprevs'] = cprevs
    return Y, hN, cN, st


def _backward(node, st, grads):
    mode, X, XG, Y = st['mode'], st['X'], st['XG'], st['Y']
    xp = array_module(X)
    blocks, B, H = st['blocks'], st['B'], st['H']
    nxt = node.next
    w_ih, w_hh, b_ih, b_hh, w_hr = node.saved[3:]
    Wih, Whh = w_ih._data, w_hh._data
    Hout = Whh.shape[1]
    N = X.shape[0]
    dt = X.dtype
    gy, ghn, gcn = (list(grads) + [None] * 3)[:3]
    dY = gy._data.reshape(N, Hout) if gy is not None else xp.zeros((N, Hout), dtype=dt)
    dh_carry = ghn._data.astype(dt, copy=True) if ghn is not None else xp.zeros((B, Hout), dtype=dt)
    order = range(len(blocks)) if st['reverse'] else range(len(blocks) - 1, -1, -1)
    HP = xp.concatenate(st['hprevs']) if len(blocks) > 1 else st['hprevs'][0]
    dhbuf = xp.empty((B, Hout), dtype=dt)
    lstm = mode == 'LSTM'
    dWhr = None
    if lstm:
        CP = xp.concatenate(st['cprevs']) if len(blocks) > 1 else st['cprevs'][0]
        Kf, K1 = K.lstm_bwd_prepare(XG, CP, st['TC'])
        dc_carry = gcn._data.astype(dt, copy=True) if gcn is not None else xp.zeros((B, H), dtype=dt)
        dG = xp.empty((N, 4 * H), dtype=dt)
        tmp = xp.empty((B, H), dtype=dt)
        F = XG[:, H:2 * H]
        lstm_bwd = K.steps(xp).lstm_bwd
        proj = w_hr is not None
        if proj:
            Whr = w_hr._data
            DHP = xp.empty((N, Hout), dtype=dt)
            dhr = xp.empty((B, H), dtype=dt)
        for t in order:
            off, bs = blocks[t]
            sl = slice(off, off + bs)
            if proj:
                dh = DHP[sl]
                xp.add(dY[sl], dh_carry[:bs], out=dh)
                xp.matmul(dh, Whr, out=dhr[:bs])
                dh = dhr[:bs]
            else:
                dh = dhbuf[:bs]
                xp.add(dY[sl], dh_carry[:bs], out=dh)
            lstm_bwd(dh, dc_carry[:bs], Kf[sl], K1[sl], F[sl], dG[sl], tmp[:bs])
            xp.matmul(dG[sl], Whh, out=dh_carry[:bs])
        if proj and nxt[7] is not None:
            dWhr = DHP.T @ st['HR']
        dXG = dGH = dG
        dc0 = dc_carry
    elif mode == 'GRU':
        Kx, Kh = K.gru_bwd_prepare(XG, st['GHN'], HP)
        Z = XG[:, H:2 * H]
        dXG = xp.empty((N, 3 * H), dtype=dt)
        dGH = xp.empty((N, 3 * H), dtype=dt)
        for t in order:
            off, bs = blocks[t]
            sl = slice(off, off + bs)
            dh = dhbuf[:bs]
            xp.add(dY[sl], dh_carry[:bs], out=dh)
            d3 = dh.reshape(bs, 1, H)
            xp.multiply(d3, Kx[sl].reshape(bs, 3, H), out=dXG[sl].reshape(bs, 3, H))
            xp.multiply(d3, Kh[sl].reshape(bs, 3, H), out=dGH[sl].reshape(bs, 3, H))
            dc = dh_carry[:bs]
            xp.matmul(dGH[sl], Whh, out=dc)
            dh *= Z[sl]
            dc += dh
        dc0 = None
    else:
        if mode == 'RNN_RELU':
            Kd = (Y > 0).astype(dt)
        else:
            Kd = Y * Y
            Kd *= -1
            Kd += 1
        dXG = dGH = xp.empty((N, H), dtype=dt)
        for t in order:
            off, bs = blocks[t]
            sl = slice(off, off + bs)
            dh = dhbuf[:bs]
            xp.add(dY[sl], dh_carry[:bs], out=dh)
            xp.multiply(dh, Kd[sl], out=dXG[sl])
            xp.matmul(dXG[sl], Whh, out=dh_carry[:bs])
        dc0 = None
    dx = (dXG @ Wih).reshape(st['x_shape']) if nxt[0] is not None else None
    dh0 = dh_carry if nxt[1] is not None else None
    dc0 = dc0 if nxt[2] is not None else None
    dWih = dXG.T @ X if nxt[3] is not None else None
    dWhh = dGH.T @ HP if nxt[4] is not None else None
    dbih = dXG.sum(0) if nxt[5] is not None else None
    if nxt[6] is None:
        dbhh = None
    elif dGH is dXG and dbih is not None:
        dbhh = dbih.copy()
    else:
        dbhh = dGH.sum(0)
    return dx, dh0, dc0, dWih, dWhh, dbih, dbhh, dWhr
