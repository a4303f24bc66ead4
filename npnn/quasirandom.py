"""``npnn.quasirandom``: quasi-random sequences (SobolEngine).

The unscrambled sequence is PyTorch's exactly: the Joe-Kuo direction numbers (21201 dimensions, read from
SciPy's copy of the table), 30 bits, points in Gray-code order starting with the zero point. A scrambled
engine applies the same kind of scrambling as PyTorch (a random lower-triangular binary matrix on each
dimension's direction numbers and a random digital shift), drawn from NumPy's generator, so its values are
a valid scrambled Sobol' sequence but not PyTorch's numbers for the same seed.
"""
import numpy as np

from .backend import dtypes
from .autograd.ops._util import make

__all__ = ['SobolEngine']

_TABLE = None


def _poly_vinit():
    """The Joe-Kuo primitive polynomials and initial direction numbers (loaded once)."""
    global _TABLE
    if _TABLE is None:
        try:
            from scipy.stats._sobol import get_poly_vinit
            _TABLE = (np.asarray(get_poly_vinit('poly', np.uint64), np.int64),
                      np.asarray(get_poly_vinit('vinit', np.uint64), np.int64))
        except (ImportError, AttributeError, TypeError):
            import importlib.resources
            import scipy.stats
            with importlib.resources.as_file(importlib.resources.files(scipy.stats)
                                             / '_sobol_direction_numbers.npz') as p:
                f = np.load(p)
                _TABLE = (np.asarray(f['poly'], np.int64), np.asarray(f['vinit'], np.int64))
    return _TABLE


def _direction_numbers(dimension, maxbit):
    """(dimension, maxbit) int64 direction numbers, Bratley-Fox recurrence vectorised over dimensions."""
    poly, vinit = _poly_vinit()
    poly, vinit = poly[:dimension], vinit[:dimension]
    deg = np.zeros(dimension, np.int64)
    deg[1:] = np.floor(np.log2(poly[1:].astype(np.float64))).astype(np.int64)
    v = np.zeros((dimension, maxbit), np.int64)
    v[0, :] = 1
    cols = np.arange(min(vinit.shape[1], maxbit))
    init = cols[None, :] < deg[:, None]
    v[:, cols] = np.where(init, vinit[:, cols], 0)
    v[0, :] = 1
    rows = np.arange(1, dimension)
    for j in range(1, maxbit):
        d = deg[rows]
        act = j >= d
        if not act.any():
            continue
        r = rows[act]
        m = d[act]
        newv = v[r, j - m]
        for k in range(int(m.max())):
            use = (k < m)
            bit = (poly[r] >> np.maximum(m - 1 - k, 0)) & 1
            term = (v[r, max(j - k - 1, 0)] << (k + 1)) * (use & (bit == 1) & (j - k - 1 >= 0))
            newv = newv ^ term
        v[r, j] = newv
    return v << (maxbit - 1 - np.arange(maxbit))[None, :]


class SobolEngine:
    """Draws points of a (scrambled) Sobol' low-discrepancy sequence in ``[0, 1)^dimension``."""
    MAXBIT = 30
    MAXDIM = 21201

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError("Supported range of dimensionality "
                             f"for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = _direction_numbers(dimension, self.MAXBIT)
        self.shift = np.zeros(dimension, np.int64)
        if scramble:
            self._scramble()
        self.num_generated = 0

    def _scramble(self):
        rng = np.random.default_rng(self.seed)
        d, b = self.dimension, self.MAXBIT
        self.shift = rng.integers(0, 2, (d, b)) @ (np.int64(1) << np.arange(b, dtype=np.int64))
        ltm = np.tril(rng.integers(0, 2, (d, b, b)))
        ltm[:, np.arange(b), np.arange(b)] = 1
        # bits of each direction number, most significant first: new bits = L @ bits over GF(2)
        sh = (b - 1 - np.arange(b))
        bits = (self.sobolstate[:, :, None] >> sh[None, None, :]) & 1  # (d, column j, bit i)
        newbits = np.einsum('dik,djk->dji', ltm, bits) & 1
        self.sobolstate = (newbits << sh[None, None, :]).sum(-1)

    def _points(self, start, n):
        """Integer points ``start .. start + n - 1`` (Gray-code order), shape (n, dimension)."""
        k = np.arange(start, start + n, dtype=np.int64)
        g = k ^ (k >> 1)
        q = np.broadcast_to(self.shift, (n, self.dimension)).copy()
        for b in range(int(g.max()).bit_length() if n else 0):  # one vectorised step per bit
            sel = ((g >> b) & 1).astype(bool)
            q[sel] ^= self.sobolstate[:, b]
        return q

    @property
    def quasi(self):
        """The last generated point as integers (the state PyTorch keeps)."""
        return make(self._points(max(self.num_generated - 1, 0), 1)[0])

    def draw(self, n=1, out=None, dtype=None):
        """The next ``n`` points, shape (n, dimension)."""
        d = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        q = self._points(self.num_generated, n)
        self.num_generated += n
        res = make((q * (1.0 / (1 << self.MAXBIT))).astype(d.np))
        if out is not None:
            out._data = res._data.astype(out._data.dtype)
            out._vc[0] += 1
            return out
        return res

    def draw_base2(self, m, out=None, dtype=None):
        """The next ``2 ** m`` points; the total drawn must stay a power of 2 (balance property)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require "
                             f"n to be a power of 2. {self.num_generated} points have been "
                             f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                             "If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        """Back to the first point."""
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        """Skip the next ``n`` points."""
        self.num_generated += n
        return self

    def __repr__(self):
        fmt = [f'dimension={self.dimension}']
        if self.scramble:
            fmt += ['scramble=True']
        if self.seed is not None:
            fmt += [f'seed={self.seed}']
        return self.__class__.__name__ + '(' + ', '.join(fmt) + ')'
