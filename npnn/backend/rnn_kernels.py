"""Fused gate kernels of the recurrent layers: one call per time step.

Each function has a NumPy body and a CuPy ``ElementwiseKernel`` body (compiled once, cached per device).
Arrays of one step are row blocks ``(bs, k*H)`` of contiguous sequence-long buffers; activated gates are
written back over the pre-activations so backward can use them.
"""
import contextlib

import numpy as np

from .device import array_module
from .parallel import split_rows

_cache = {}
_SPLIT_MIN = 1 << 18  # elements of a whole-sequence pass worth splitting over threads


def _kernel(name, in_params, out_params, body):
    """An ElementwiseKernel built once per (name, device)."""
    import cupy
    key = (name, cupy.cuda.runtime.getDevice())
    k = _cache.get(key)
    if k is None:
        k = _cache[key] = cupy.ElementwiseKernel(in_params, out_params, body, 'npnn_' + name)
    return k


_LSTM_FWD = '''
    const int b = i / H, j = i % H;
    const int base = b * 4 * H + j;
    T ig = (T)1 / ((T)1 + exp(-gates[base]));
    T fg = (T)1 / ((T)1 + exp(-gates[base + H]));
    T gg = tanh(gates[base + 2 * H]);
    T og = (T)1 / ((T)1 + exp(-gates[base + 3 * H]));
    gates[base] = ig; gates[base + H] = fg; gates[base + 2 * H] = gg; gates[base + 3 * H] = og;
    T cn = fg * cprev + ig * gg;
    T t = tanh(cn);
    c = cn; tc = t; h = og * t;
'''


def lstm_fwd_weights(wihT, bias, whhT):
    """The input/hidden weights (transposed, ``(in, 4H)``) and summed bias the step kernel expects.

    The NumPy body folds a per-column scale into them (-1 for i, f, o; -2 for g), so the pre-activations
    come out negated and one ``exp`` over the whole gate block serves all four gates
    (``sigmoid(x) = 1 / (1 + exp(-x))``, ``tanh(x) = 2 sigmoid(2x) - 1``); this costs no extra pass over the
    sequence. The CuPy kernel takes them unchanged.
    """
    xp = array_module(wihT)
    if xp is not np:
        return wihT, bias, whhT
    H = wihT.shape[1] // 4
    s = np.full(4 * H, -1, dtype=wihT.dtype)
    s[2 * H:3 * H] = -2
    return wihT * s, (bias * s if bias is not None else None), whhT * s


def _np_lstm_fwd(gates, cprev, c, tc, h):
    H = c.shape[1]
    np.exp(gates, out=gates)
    gates += 1
    np.reciprocal(gates, out=gates)
    g = gates[:, 2 * H:3 * H]
    g *= 2
    g -= 1
    np.multiply(gates[:, H:2 * H], cprev, out=c)
    np.multiply(gates[:, :H], g, out=tc)
    c += tc
    np.tanh(c, out=tc)
    np.multiply(gates[:, 3 * H:], tc, out=h)


def _cp_lstm_fwd(gates, cprev, c, tc, h):
    k = _kernel('lstm_fwd', 'T cprev, int32 H', 'raw T gates, T c, T tc, T h', _LSTM_FWD)
    k(cprev, np.int32(c.shape[1]), gates, c, tc, h)


def lstm_bwd_prepare(acts, cprev, tc):
    """Per-element factors of the LSTM backward for a whole sequence (one vectorised pass, split by rows over
    threads on the CPU).

    Returns ``K (N, 4H)`` with the i, f, g factors (to multiply by the cell gradient) and the o factor
    (to multiply by the hidden gradient), and ``K1 (N, H)`` = d c / d h through ``o * tanh(c)``.
    """
    xp = array_module(acts)
    K = xp.empty_like(acts)
    K1 = xp.empty_like(tc)

    split_rows(lambda *parts: _lstm_factors(*parts, xp), (acts, cprev, tc, K, K1), xp, _SPLIT_MIN)
    return K, K1


def _lstm_factors(acts, cprev, tc, K, K1, xp):
    H = tc.shape[1]
    i, f, g, o = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:3 * H], acts[:, 3 * H:]
    Ki, Kf, Kg, Ko = K[:, :H], K[:, H:2 * H], K[:, 2 * H:3 * H], K[:, 3 * H:]
    # Ki = g * i * (1 - i); Kf = cprev * f * (1 - f); Kg = i * (1 - g^2); Ko = tanh(c) * o * (1 - o)
    xp.subtract(1, i, out=Ki)
    Ki *= i
    Ki *= g
    xp.subtract(1, f, out=Kf)
    Kf *= f
    Kf *= cprev
    xp.multiply(g, g, out=Kg)
    xp.subtract(1, Kg, out=Kg)
    Kg *= i
    xp.subtract(1, o, out=Ko)
    Ko *= o
    Ko *= tc
    xp.multiply(tc, tc, out=K1)
    xp.subtract(1, K1, out=K1)
    K1 *= o


_LSTM_BWD = '''
    const int b = i / H, j = i % H;
    const int base = b * 4 * H + j;
    T d = dc + dh * k1;
    dg[base] = d * K[base];
    dg[base + H] = d * K[base + H];
    dg[base + 2 * H] = d * K[base + 2 * H];
    dg[base + 3 * H] = dh * K[base + 3 * H];
    dc = d * f;
'''


def _np_lstm_bwd(dh, dc, K, K1, f, dg, tmp):
    H = dh.shape[1]
    np.multiply(dh, K1, out=tmp)
    tmp += dc
    bs = dh.shape[0]
    np.multiply(tmp[:, None, :], K.reshape(bs, 4, H)[:, :3], out=dg.reshape(bs, 4, H)[:, :3])
    np.multiply(dh, K[:, 3 * H:], out=dg[:, 3 * H:])
    np.multiply(tmp, f, out=dc)


def _cp_lstm_bwd(dh, dc, K, K1, f, dg, tmp):
    k = _kernel('lstm_bwd', 'T dh, T k1, T f, raw T K, int32 H', 'raw T dg, T dc', _LSTM_BWD)
    k(dh, K1, f, K, np.int32(dh.shape[1]), dg, dc)


_GRU_FWD = '''
    const int b = i / H, j = i % H;
    const int base = b * 3 * H + j;
    T r = (T)1 / ((T)1 + exp(-(xg[base] + gh[base])));
    T z = (T)1 / ((T)1 + exp(-(xg[base + H] + gh[base + H])));
    T hn = gh[base + 2 * H];
    T n = tanh(xg[base + 2 * H] + r * hn);
    xg[base] = r; xg[base + H] = z; xg[base + 2 * H] = n;
    ghn = hn;
    h = n + z * (hprev - n);
'''


def _np_gru_fwd(xg, gh, hprev, h, ghn):
    H = h.shape[1]
    rz = xg[:, :2 * H]
    rz += gh[:, :2 * H]
    np.negative(rz, out=rz)            # sigmoid as 1 / (1 + exp(-x)): NumPy's exp is much faster than expit
    np.exp(rz, out=rz)
    rz += 1
    np.reciprocal(rz, out=rz)
    n = xg[:, 2 * H:]
    ghn[...] = gh[:, 2 * H:]
    np.multiply(xg[:, :H], ghn, out=h)
    n += h
    np.tanh(n, out=n)
    np.subtract(hprev, n, out=h)
    h *= xg[:, H:2 * H]
    h += n


def _cp_gru_fwd(xg, gh, hprev, h, ghn):
    k = _kernel('gru_fwd', 'T hprev, raw T gh, int32 H', 'raw T xg, T h, T ghn', _GRU_FWD)
    k(hprev, gh, np.int32(h.shape[1]), xg, h, ghn)


class _Steps:
    """The per-step kernels for one array module (looked up once per sequence, not once per step)."""
    __slots__ = ('lstm_fwd', 'lstm_bwd', 'gru_fwd', 'quiet')

    def __init__(self, lstm_fwd, lstm_bwd, gru_fwd, quiet):
        self.lstm_fwd, self.lstm_bwd, self.gru_fwd, self.quiet = lstm_fwd, lstm_bwd, gru_fwd, quiet


_NP_STEPS = _Steps(_np_lstm_fwd, _np_lstm_bwd, _np_gru_fwd, lambda: np.errstate(over='ignore'))
_CP_STEPS = _Steps(_cp_lstm_fwd, _cp_lstm_bwd, _cp_gru_fwd, contextlib.nullcontext)


def steps(xp):
    """Step kernels for arrays of ``xp``, with their fields:

    - ``lstm_fwd(gates, cprev, c, tc, h)``: LSTM gates (i, f, g, o) of one step: activate ``gates`` (made
      with the weights of ``lstm_fwd_weights``) in place, write ``c``, ``tanh(c)`` and ``h``;
    - ``lstm_bwd(dh, dc, K, K1, f, dg, tmp)``: gate gradients into ``dg`` (bs, 4H); the cell gradient for
      the previous step replaces ``dc`` in place. ``f`` is the forget gate block, ``tmp`` (bs, H) scratch;
    - ``gru_fwd(xg, gh, hprev, h, ghn)``: GRU gates (r, z, n): ``xg`` holds the input projections
      (activated in place), ``gh`` the hidden projections with bias; writes ``h`` and saves the hidden
      n-part ``ghn`` for backward;
    - ``quiet()``: the context to run a sequence of steps in (the NumPy bodies let ``exp`` overflow to inf).
    """
    return _NP_STEPS if xp is np else _CP_STEPS


def gru_bwd_prepare(acts, ghn, hprev):
    """Factors of the GRU backward for a whole sequence: ``Kx (N, 3H)`` maps dh to the input-projection
    gradients, ``Kh (N, 3H)`` to the hidden-projection gradients (split by rows over threads on the CPU)."""
    xp = array_module(acts)
    Kx = xp.empty_like(acts)
    Kh = xp.empty_like(acts)

    split_rows(lambda *parts: _gru_factors(*parts, xp), (acts, ghn, hprev, Kx, Kh), xp, _SPLIT_MIN)
    return Kx, Kh


def _gru_factors(acts, ghn, hprev, Kx, Kh, xp):
    H = ghn.shape[1]
    r, z, n = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:]
    kn = Kx[:, 2 * H:]
    xp.multiply(n, n, out=kn)
    kn *= -1
    kn += 1
    kn *= 1 - z                      # (1 - z)(1 - n^2)
    kr = Kx[:, :H]
    xp.multiply(kn, ghn, out=kr)
    kr *= r
    kr *= 1 - r
    kz = Kx[:, H:2 * H]
    xp.subtract(hprev, n, out=kz)
    kz *= z
    kz *= 1 - z
    Kh[...] = Kx
    Kh[:, 2 * H:] *= r
