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
    st['full'] = batch_sizes is None
    n.st = st
    y = T._make(Y.reshape(y_shape), n, 0)
    h = T._make(hN, n, 1)
    c = T._make(cN, n, 2) if cN is not None else None
    return y, h, c


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
    serial = K.serial_blas(xp, B, batch_sizes is None)
    if serial.shares == 1:
        XG = X @ WihT                                 # all steps' input projections: one product
        if bias is not None:
            XG += bias                                # one pass over XG
    else:                                             # made by each share for its rows (in steps)
        XG = xp.empty((N, G * H), dtype=dt)
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

    def steps(k, n):
        """The time loop over share ``k`` of ``n`` of the batch rows (the rows of a batch never interact)."""
        rows = K.share(B, k, n)
        r0, r1 = rows.start, rows.stop
        whole = n == 1
        if not whole:  # this share's input projections, all steps in one (batched) product
            xg = XG.reshape(-1, B, G * H)[:, rows]
            xp.matmul(X.reshape(-1, B, I)[:, rows], WihT, out=xg)
            if bias is not None:
                xg += bias
        prev = None
        for t in order:
            off, bs = blocks[t]
            e = min(bs, r1)
            sl = slice(off + r0, off + e)
            if prev is None:
                hp = H0[r0:e]
                cp = C0[r0:e] if lstm else None
            else:
                poff, pbs = prev
                hp = Y[poff + r0:poff + min(e, pbs)]
                if lstm:
                    cp = C[poff + r0:poff + min(e, pbs)]
                if e > pbs:  # reverse direction over packed data: sequences starting here take h0
                    hp = xp.concatenate([hp, H0[pbs:e]])
                    if lstm:
                        cp = xp.concatenate([cp, C0[pbs:e]])
            if whole:
                hprevs[t] = hp
                if lstm:
                    cprevs[t] = cp
            gh = tmp[r0:e]
            xp.matmul(hp, WhhT, out=gh)
            if lstm:
                gates = XG[sl]
                gates += gh
                K.lstm_fwd_step(gates, cp, C[sl], TC[sl], HR[sl])
                if Whr is not None:
                    xp.matmul(HR[sl], WhrT, out=Y[sl])
            elif mode == 'GRU':
                if bhh is not None:
                    gh += bhh
                K.gru_fwd_step(XG[sl], gh, hp, Y[sl], GHN[sl])
            else:
                pre = XG[sl]
                pre += gh
                if relu:
                    xp.maximum(pre, 0, out=Y[sl])
                else:
                    xp.tanh(pre, out=Y[sl])
            prev = (off, bs)

    with serial:
        serial.run(steps)
    if serial.shares > 1:  # every step's rows are full blocks: the previous states are whole-block views
        prev = None
        for t in order:
            off, bs = blocks[t]
            hprevs[t] = H0 if prev is None else Y[prev:prev + B]
            if lstm:
                cprevs[t] = C0 if prev is None else C[prev:prev + B]
            prev = off
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
    serial = K.serial_blas(xp, B, st['full'])
    lstm = mode == 'LSTM'
    dWhr = None
    if lstm:
        CP = xp.concatenate(st['cprevs']) if len(blocks) > 1 else st['cprevs'][0]
        shared = serial.shares > 1
        if shared:  # made by each share for its rows (in steps)
            Kf, K1 = xp.empty_like(XG), xp.empty((N, H), dtype=dt)
        else:
            Kf, K1 = K.lstm_bwd_prepare(XG, CP, st['TC'])
        dc_carry = gcn._data.astype(dt, copy=True) if gcn is not None else xp.zeros((B, H), dtype=dt)
        dG = xp.empty((N, 4 * H), dtype=dt)
        tmp = xp.empty((B, H), dtype=dt)
        F = XG[:, H:2 * H]
        proj = w_hr is not None
        if proj:
            Whr = w_hr._data
            DHP = xp.empty((N, Hout), dtype=dt)
            dhr = xp.empty((B, H), dtype=dt)

        def steps(r0, r1):
            if shared:
                def rows(a):
                    return a.reshape(-1, B, a.shape[1])[:, r0:r1]
                K.lstm_bwd_prepare(rows(XG), rows(CP), rows(st['TC']), out=(rows(Kf), rows(K1)))
            for t in order:
                off, bs = blocks[t]
                e = min(bs, r1)
                sl = slice(off + r0, off + e)
                if proj:
                    dh = DHP[sl]
                    xp.add(dY[sl], dh_carry[r0:e], out=dh)
                    xp.matmul(dh, Whr, out=dhr[r0:e])
                    dh = dhr[r0:e]
                else:
                    dh = dhbuf[r0:e]
                    xp.add(dY[sl], dh_carry[r0:e], out=dh)
                K.lstm_bwd_step(dh, dc_carry[r0:e], Kf[sl], K1[sl], F[sl], dG[sl], tmp[r0:e])
                xp.matmul(dG[sl], Whh, out=dh_carry[r0:e])
    elif mode == 'GRU':
        Kx, Kh = K.gru_bwd_prepare(XG, st['GHN'], HP)
        Z = XG[:, H:2 * H]
        dXG = xp.empty((N, 3 * H), dtype=dt)
        dGH = xp.empty((N, 3 * H), dtype=dt)

        def steps(r0, r1):
            for t in order:
                off, bs = blocks[t]
                e = min(bs, r1)
                sl = slice(off + r0, off + e)
                dh = dhbuf[r0:e]
                xp.add(dY[sl], dh_carry[r0:e], out=dh)
                d3 = dh.reshape(e - r0, 1, H)
                xp.multiply(d3, Kx[sl].reshape(e - r0, 3, H), out=dXG[sl].reshape(e - r0, 3, H))
                xp.multiply(d3, Kh[sl].reshape(e - r0, 3, H), out=dGH[sl].reshape(e - r0, 3, H))
                dc = dh_carry[r0:e]
                xp.matmul(dGH[sl], Whh, out=dc)
                dh *= Z[sl]
                dc += dh
    else:
        if mode == 'RNN_RELU':
            Kd = (Y > 0).astype(dt)
        else:
            Kd = Y * Y
            Kd *= -1
            Kd += 1
        dXG = dGH = xp.empty((N, H), dtype=dt)

        def steps(r0, r1):
            for t in order:
                off, bs = blocks[t]
                e = min(bs, r1)
                sl = slice(off + r0, off + e)
                dh = dhbuf[r0:e]
                xp.add(dY[sl], dh_carry[r0:e], out=dh)
                xp.multiply(dh, Kd[sl], out=dXG[sl])
                xp.matmul(dXG[sl], Whh, out=dh_carry[r0:e])
    if lstm:
        dXG = dGH = dG
    with serial:
        serial.run(lambda k, n: steps(B * k // n, B * (k + 1) // n))
    if serial.shares == 1:
        dx = dXG @ Wih if nxt[0] is not None else None
        dWih = dXG.T @ X if nxt[3] is not None else None
        dWhh = dGH.T @ HP if nxt[4] is not None else None
        dbih = dXG.sum(0) if nxt[5] is not None else None
        if lstm and proj and nxt[7] is not None:
            dWhr = DHP.T @ st['HR']
    else:  # the sequence-wide products too, shared by rows (dx) and by gate columns (the rest)
        with serial:
            GH = dXG.shape[1]
            dx = xp.empty((N, Wih.shape[1]), dtype=dt) if nxt[0] is not None else None
            dWih = xp.empty(Wih.shape, dtype=dt) if nxt[3] is not None else None
            dWhh = xp.empty(Whh.shape, dtype=dt) if nxt[4] is not None else None
            dbih = xp.empty(GH, dtype=dt) if nxt[5] is not None else None
            if lstm and proj and nxt[7] is not None:
                dWhr = xp.empty(w_hr._data.shape, dtype=dt)

            def products(k, n):
                if dx is not None:
                    r = K.share(N, k, n)
                    xp.matmul(dXG[r], Wih, out=dx[r])
                c = K.share(GH, k, n)
                if dWih is not None:
                    xp.matmul(dXG[:, c].T, X, out=dWih[c])
                if dWhh is not None:
                    xp.matmul(dGH[:, c].T, HP, out=dWhh[c])
                if dbih is not None:
                    dXG[:, c].sum(0, out=dbih[c])
                if dWhr is not None:
                    c = K.share(Hout, k, n)
                    xp.matmul(DHP[:, c].T, st['HR'], out=dWhr[c])
            serial.run(products)
    dc0 = dc_carry if lstm else None
    if dx is not None:
        dx = dx.reshape(st['x_shape'])
    dh0 = dh_carry if nxt[1] is not None else None
    dc0 = dc0 if nxt[2] is not None else None
    if nxt[6] is None:
        dbhh = None
    elif dGH is dXG and dbih is not None:
        dbhh = dbih.copy()
    else:
        dbhh = dGH.sum(0)
    return dx, dh0, dc0, dWih, dWhh, dbih, dbhh, dWhr
