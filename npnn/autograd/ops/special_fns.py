"""``torch.special``'s Bessel, error-function and zeta family: values from scipy.special (cupyx.scipy.special
for CuPy arrays, or scipy on a host copy where cupyx lacks the function), derivatives where PyTorch has them."""
import math

import numpy as np
import scipy.special as _sp

from .elementwise import _unary, _binary_op, _kernel_error, _no_complex_kernel, where

__all__ = ['i0e', 'i1', 'i1e', 'log_ndtr', 'ndtri', 'erfcx', 'zeta', 'bessel_j0', 'bessel_j1', 'bessel_y0',
           'bessel_y1', 'modified_bessel_i0', 'modified_bessel_i1', 'modified_bessel_k0', 'modified_bessel_k1',
           'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1', 'spherical_bessel_j0', 'airy_ai',
           'gammainc', 'gammaincc']


def _scipy_fn(xp, name):
    """scipy.special's ``name`` for NumPy; cupyx's for CuPy, or scipy through a host copy."""
    if xp is np:
        return getattr(_sp, name)
    try:
        import cupyx.scipy.special as cs
        return getattr(cs, name)
    except (ImportError, AttributeError):
        host = getattr(_sp, name)

        def on_host(*args):
            r = host(*(xp.asnumpy(a) if isinstance(a, xp.ndarray) else a for a in args))
            return tuple(xp.asarray(p) for p in r) if isinstance(r, tuple) else xp.asarray(r)
        return on_host


_LOG_FLT_MAX = math.log(float(np.finfo(np.float32).max))


def _fwd(name, kernel, half_ok=False, pick=None, f32_exp_overflow=None):
    """``xp, a -> name(a)`` in ``a``'s dtype; PyTorch's "not implemented for 'Half'" where it has no Half kernel.

    ``f32_exp_overflow`` ('even' or 'odd'): PyTorch's float32 kernel forms exp(|x|) in float32, so the result
    is +-inf once that overflows even where the true value is still finite; do the same.
    """
    def f(xp, a):
        if a.dtype == np.float16 and not half_ok:
            _no_complex_kernel(kernel, a)
        with np.errstate(over='ignore', invalid='ignore', divide='ignore'):
            r = _scipy_fn(xp, name)(a)
            if pick is not None:
                r = r[pick]
            r = xp.asarray(r).astype(a.dtype, copy=False)
        if f32_exp_overflow is not None and a.dtype == np.float32:
            inf = xp.copysign(a.dtype.type(np.inf), a) if f32_exp_overflow == 'odd' else a.dtype.type(np.inf)
            r = xp.where((xp.abs(a) > _LOG_FLT_MAX) & xp.isfinite(a), inf, r)
        return r
    f.__name__ = '_' + name
    return f


def _op(torch_name, name, rule=None, half_ok=False, pick=None, use_input=True, use_output=False, doc=None,
        f32_exp_overflow=None):
    kernel = torch_name + '_cpu'
    node = 'Special' + ''.join(p.capitalize() for p in torch_name.split('_')).replace('I0e', 'I0E') \
        .replace('I1e', 'I1E') + 'Backward0'
    fn = _unary(node, _fwd(name, kernel, half_ok, pick, f32_exp_overflow), rule, use_input, use_output,
                complex_error=_kernel_error(kernel))
    fn.__name__ = torch_name
    fn.__qualname__ = torch_name
    fn.__doc__ = doc
    return fn


def _sgn(x):
    return (x > 0)._cast(x._data.dtype) - (x < 0)._cast(x._data.dtype)


def _nonzero(x):
    """``x`` with its zeros replaced by 1 (keeps divisions by x finite where a where() discards them)."""
    return where(x == 0, 1.0, x)


# d/dx i1(x) = i0(x) - i1(x)/x (1/2 at 0); d/dx i1e(x) = i0e(x) - i1e(x) (sgn(x) + 1/x) (1/2 at 0)
i1 = _op('i1', 'i1', lambda g, x, y: g * where(x == 0, 0.5, _i0(x) - y / _nonzero(x)), half_ok=True,
         use_output=True, f32_exp_overflow='odd', doc="The modified Bessel function of the first kind of order 1.")
i1e = _op('i1e', 'i1e', lambda g, x, y: g * where(x == 0, 0.5, i0e(x) - y * (_sgn(x) + 1.0 / _nonzero(x))),
          half_ok=True, use_output=True,
          doc="The exponentially scaled modified Bessel function of the first kind of order 1: "
              "``exp(-|x|) * i1(x)``.")
i0e = _op('i0e', 'i0e', lambda g, x, y: g * (i1e(x) - _sgn(x) * y), half_ok=True, use_output=True,
          doc="The exponentially scaled modified Bessel function of the first kind of order 0: "
              "``exp(-|x|) * i0(x)``.")
# i0 again, with a derivative (i1) that is itself differentiable, for i1's double backward
_i0 = _unary('I0Backward0', _fwd('i0', 'i0_cpu', True, f32_exp_overflow='even'), lambda g, x, y: g * i1(x))

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
log_ndtr = _op('log_ndtr', 'log_ndtr', lambda g, x, y: g * (-(y + x * x * 0.5)).exp() * _INV_SQRT_2PI,
               use_output=True, doc="The log of the standard normal CDF, accurate far into the left tail.")
ndtri = _op('ndtri', 'ndtri', lambda g, x, y: g * (y * y * 0.5).exp() * math.sqrt(2.0 * math.pi),
            use_input=False, use_output=True, doc="The inverse of the standard normal CDF (the probit).")
erfcx = _op('erfcx', 'erfcx', lambda g, x, y: g * (x * y * 2.0 - 2.0 / math.sqrt(math.pi)), use_output=True,
            doc="The scaled complementary error function ``exp(x**2) * erfc(x)``.")

# PyTorch gives these no derivative: their outputs never require grad
bessel_j0 = _op('bessel_j0', 'j0', doc="The Bessel function of the first kind of order 0.")
bessel_j1 = _op('bessel_j1', 'j1', doc="The Bessel function of the first kind of order 1.")
bessel_y0 = _op('bessel_y0', 'y0', doc="The Bessel function of the second kind of order 0.")
bessel_y1 = _op('bessel_y1', 'y1', doc="The Bessel function of the second kind of order 1.")
modified_bessel_i0 = _op('modified_bessel_i0', 'i0', f32_exp_overflow='even',
                         doc="The modified Bessel function of the first kind of order 0.")
modified_bessel_i1 = _op('modified_bessel_i1', 'i1', f32_exp_overflow='odd',
                         doc="The modified Bessel function of the first kind of order 1.")
modified_bessel_k0 = _op('modified_bessel_k0', 'k0',
                         doc="The modified Bessel function of the second kind of order 0.")
modified_bessel_k1 = _op('modified_bessel_k1', 'k1',
                         doc="The modified Bessel function of the second kind of order 1.")
scaled_modified_bessel_k0 = _op('scaled_modified_bessel_k0', 'k0e',
                                doc="``exp(x) * modified_bessel_k0(x)``.")
scaled_modified_bessel_k1 = _op('scaled_modified_bessel_k1', 'k1e',
                                doc="``exp(x) * modified_bessel_k1(x)``.")
airy_ai = _op('airy_ai', 'airy', pick=0, doc="The Airy function Ai.")


def _sph_j0(xp, a):
    if a.dtype == np.float16:
        _no_complex_kernel('spherical_bessel_j0_cpu', a)
    with np.errstate(invalid='ignore', divide='ignore'):
        safe = xp.where(a == 0, a.dtype.type(1), a)
        r = xp.sin(safe) / safe
    # 1 at 0; 0 at +-inf (sin(inf) is nan); nan stays nan
    r = xp.where(a == 0, a.dtype.type(1), r)
    return xp.where(xp.isinf(a), a.dtype.type(0), r).astype(a.dtype, copy=False)


spherical_bessel_j0 = _unary('SpecialSphericalBesselJ0Backward0', _sph_j0, None,
                             complex_error=_kernel_error('spherical_bessel_j0_cpu'))
spherical_bessel_j0.__name__ = 'spherical_bessel_j0'
spherical_bessel_j0.__doc__ = "The spherical Bessel function of the first kind of order 0: ``sin(x) / x``."


def _binary_fwd(name, fix=None):
    def f(xp, a, b):
        b = xp.asarray(b, dtype=a.dtype)
        with np.errstate(over='ignore', invalid='ignore', divide='ignore'):
            r = xp.asarray(_scipy_fn(xp, name)(a, b))
        if fix is not None:
            r = fix(xp, a, b, r)
        return r.astype(a.dtype, copy=False)
    return f


def _zeta_fix(xp, x, q, r):
    # PyTorch's zeta is nan at q = +inf (scipy's is 0), but inf at x == 1 first
    return xp.where(xp.isposinf(q) & (x != 1), xp.nan, r)


def _igamma_fix(lower):
    def fix(xp, a, x, r):
        # PyTorch settles these nan-argument cases by its order of checks: x == 0 first, then an infinite a,
        # then an infinite x
        nan_a = xp.isnan(a)
        p = xp.where(nan_a & (x == 0), 0.0, xp.nan)
        p = xp.where(xp.isposinf(a) & xp.isnan(x), 0.0, p)
        p = xp.where(nan_a & xp.isposinf(x), 1.0, p)
        return xp.where(xp.isnan(p), r, p if lower else 1.0 - p)
    return fix


def _zeta_rule(g, x, q, n):
    if n.next[0] is not None:
        raise RuntimeError("the derivative for 'zeta' is not implemented.")
    return None, g * -x * zeta(x + 1.0, q)


def _igamma_rule(label):
    def rule(g, a, x, n):
        if n.next[0] is not None:
            raise RuntimeError(f"the derivative for '{label}: input' is not implemented.")
        # d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a); Q = 1 - P
        from .elementwise import lgamma
        d = ((a - 1.0) * x.log() - x - lgamma(a)).exp()
        return None, (g * d if label == 'igamma' else -g * d)
    return rule


def _with_doc(fn, name, doc):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


zeta = _with_doc(_binary_op('SpecialZetaBackward0', _binary_fwd('zeta', _zeta_fix), _zeta_rule, float_only=True,
                            complex_error=_kernel_error('zeta_cpu')), 'zeta',
                 "The Hurwitz zeta function ``sum_k (k + other) ** -input``.")


def _tensors_only(fn, torch_name, kernel):
    """PyTorch's gammainc/gammaincc take no Python numbers (TypeError naming the argument) and have no
    integer kernel: two integer tensors raise rather than promote to a float."""
    def op(input, other, *, out=None):
        from ._util import Tensor, binary_arrays
        T = Tensor()
        for pos, (arg, val) in enumerate((('input', input), ('other', other)), 1):
            if not isinstance(val, T):
                raise TypeError(f"{torch_name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                                f"{type(val).__name__}")
        a = binary_arrays(input, other)[0]
        if a.dtype.kind in 'biu':
            _no_complex_kernel(kernel, a)
        return fn(input, other, out=out)
    return op


_gammainc = _binary_op('IgammaBackward0', _binary_fwd('gammainc', _igamma_fix(True)), _igamma_rule('igamma'),
                       float_only=True, complex_error=_kernel_error('igamma_cpu'))
_gammaincc = _binary_op('IgammacBackward0', _binary_fwd('gammaincc', _igamma_fix(False)), _igamma_rule('igammac'),
                        float_only=True, complex_error=_kernel_error('igammac_cpu'))
gammainc = _with_doc(_tensors_only(_gammainc, 'special_gammainc', 'igamma_cpu'), 'gammainc',
                     "The regularized lower incomplete gamma function P(input, other).")
gammaincc = _with_doc(_tensors_only(_gammaincc, 'special_gammaincc', 'igammac_cpu'), 'gammaincc',
                      "The regularized upper incomplete gamma function Q(input, other).")
