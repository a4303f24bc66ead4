"""Elementwise ops: arithmetic, comparison and math functions, each with its backward rule."""
import cmath
import math

import numpy as np
import scipy.special as _sp

from ...backend.device import array_module
from ...backend import fused as _fused
from ..node import Node
from ._util import binary_arrays, float_dtype_of, grad_for, make, recording, reduce_array, Tensor, SCALARS
from ..grad_mode import state as _grad_state


def _no_complex_kernel(kernel, a):
    """PyTorch's error for an op that has no kernel for complex dtypes (``a`` is the promoted array)."""
    from ._util import scalar_type_name
    raise NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(a.dtype)}\'')


def _clamp_complex(a):
    raise NotImplementedError("clamp is not supported for complex types")


# ---------------------------------------------------------------------------------------------------------
# binary arithmetic


class AddBackward0(Node):
    __slots__ = ('sa', 'sb', 'alpha')
    saves = False

    def backward(self, g):
        ga = g if self.next[0] is not None else None
        gb = None
        if self.next[1] is not None:
            gb = g if self.alpha == 1 else g * _conj_scalar(self.alpha)
        return (_fit(ga, self.sa), _fit(gb, self.sb))


class SubBackward0(AddBackward0):
    __slots__ = ()

    def backward(self, g):
        ga = g if self.next[0] is not None else None
        gb = None
        if self.next[1] is not None:
            alpha = _conj_scalar(self.alpha)
            if not _grad_state.enabled:
                gb = make(g._data * (-alpha))
            else:
                gb = -g if alpha == 1 else g * (-alpha)
        return (_fit(ga, self.sa), _fit(gb, self.sb))


def _fit(g, spec):
    """Reduce/cast gradient ``g`` to ``spec = (shape, np dtype)``."""
    if g is None:
        return None
    shape, dt = spec
    d = g._data
    if d.shape != shape:
        from ._util import sum_to
        g = sum_to(g, shape)
    if g._data.dtype != dt:
        if g._data.dtype.kind == 'c' and np.dtype(dt).kind != 'c':
            g = g.real  # a real input of a complex op gets the real part, as in PyTorch
        if g._data.dtype != dt:
            g = g._cast(dt)
    return g


def _conj_scalar(s):
    """The conjugate of a Python/NumPy scalar (the scalar itself when it is real)."""
    return s.conjugate() if isinstance(s, (complex, np.complexfloating)) else s


def _grad_for(g, t):
    """``grad_for`` that keeps only the real part of a complex gradient for a real input (PyTorch's rule)."""
    if g._data.dtype.kind == 'c' and t._data.dtype.kind != 'c':
        g = g.real
    return grad_for(g, t)


def _reduce_array(a, ref):
    if a.dtype.kind == 'c' and ref.dtype.kind != 'c':
        a = a.real
    return reduce_array(a, ref)


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting."""
    a, b, bt = binary_arrays(input, other)
    if alpha != 1:
        b = b * alpha
    r = a + b
    if recording(input, bt):
        n = AddBackward0((input, bt))
        n.sa = (input._data.shape, input._data.dtype)
        n.sb = (bt._data.shape, bt._data.dtype) if bt is not None else None
        n.alpha = alpha
        return _out(make(r, n), out)
    return _out(make(r), out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other`` with broadcasting."""
    a, b, bt = binary_arrays(input, other)
    if a.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        b = b * alpha
    r = a - b
    if recording(input, bt):
        n = SubBackward0((input, bt))
        n.sa = (input._data.shape, input._data.dtype)
        n.sb = (bt._data.shape, bt._data.dtype) if bt is not None else None
        n.alpha = alpha
        return _out(make(r, n), out)
    return _out(make(r), out)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return neg(input) * alpha + other if alpha != 1 else _rsub(input, other)


def _rsub(t, s):
    a, b, bt = binary_arrays(t, s)
    r = b - a
    if recording(t):
        n = SubBackward0((bt, t) if bt is not None else (None, t))
        n.sa = (bt._data.shape, bt._data.dtype) if bt is not None else None
        n.sb = (t._data.shape, t._data.dtype)
        n.alpha = 1
        return make(r, n)
    return make(r)


class MulBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        if g._data.dtype.kind == 'c':  # PyTorch's convention: grad_a = g * conj(b), grad_b = g * conj(a)
            return self._complex(g, a, b, na, nb)
        if not _grad_state.enabled:  # plain array math when no graph is being built
            gd = g._data
            ga = make(reduce_array(gd * b._data, a._data)) if na is not None else None
            gb = make(reduce_array(gd * a._data, b._data)) if nb is not None else None
            return ga, gb
        ga = grad_for(g * b, a) if na is not None else None
        gb = grad_for(g * a, b) if nb is not None else None
        return ga, gb

    @staticmethod
    def _complex(g, a, b, na, nb):
        if not _grad_state.enabled:
            gd = g._data
            ga = make(_reduce_array(gd * b._data.conj(), a._data)) if na is not None else None
            gb = make(_reduce_array(gd * a._data.conj(), b._data)) if nb is not None else None
            return ga, gb
        ga = _grad_for(g * b.conj(), a) if na is not None else None
        gb = _grad_for(g * a.conj(), b) if nb is not None else None
        return ga, gb


class MulBackward1(Node):  # tensor * scalar
    __slots__ = ('s', 'dt')
    saves = False

    def backward(self, g):
        r = g * self.s if g._data.dtype.kind != 'c' else g * _conj_scalar(self.s)
        if r._data.dtype == self.dt:
            return r
        if r._data.dtype.kind == 'c' and np.dtype(self.dt).kind != 'c':
            r = r.real
        return r if r._data.dtype == self.dt else r._cast(self.dt)


def mul(input, other, *, out=None):
    """Elementwise product with broadcasting."""
    a, b, bt = binary_arrays(input, other)
    r = a * b
    if recording(input, bt):
        if bt is None:
            n = MulBackward1((input,))
            n.s = b
            n.dt = input._data.dtype
        else:
            n = MulBackward0((input, bt))
            n.save(input, bt)
        return _out(make(r, n), out)
    return _out(make(r), out)


class DivBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        if g._data.dtype.kind == 'c':  # conjugate derivatives: g / conj(b), -g * conj(a / b**2)
            ga = _grad_for(g / b.conj(), a) if na is not None else None
            gb = _grad_for(-g * (a / (b * b)).conj(), b) if nb is not None else None
            return ga, gb
        ga = grad_for(g / b, a) if na is not None else None
        gb = grad_for(-g * a / (b * b), b) if nb is not None else None
        return ga, gb


def div(input, other, *, rounding_mode=None, out=None):
    """True division (``rounding_mode=None``), or 'trunc'/'floor' rounding division."""
    a, b, bt = binary_arrays(input, other)
    xp = array_module(a)
    if rounding_mode is not None:
        if rounding_mode not in ('trunc', 'floor'):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
        if a.dtype.kind == 'c':
            _no_complex_kernel(f'div_{rounding_mode}_cpu', a)
        if a.dtype.kind in 'iub' and (not isinstance(b, float)):
            r = xp.floor_divide(a, b) if rounding_mode == 'floor' else _trunc_div_int(xp, a, b)
        else:
            r = xp.floor(a / b) if rounding_mode == 'floor' else xp.trunc(a / b)
        return _out(make(r.astype(a.dtype, copy=False) if hasattr(r, 'astype') else r), out)
    if a.dtype.kind in 'iub':
        fd = float_dtype_of(a)
        a = a.astype(fd)
        if bt is not None:
            b = b.astype(fd)
        elif isinstance(b, int):
            b = float(b)
    if bt is None and b != 0:
        r = a / b
    else:  # x / 0 is inf or nan silently, as in PyTorch
        with np.errstate(divide='ignore', invalid='ignore'):
            r = a / b
    if recording(input, bt):
        if bt is None:
            n = MulBackward1((input,))
            n.s = 1.0 / b if b != 0 else math.copysign(math.inf, b)
            n.dt = input._data.dtype
        else:
            n = DivBackward0((input, bt))
            n.save(input, bt)
        return _out(make(r, n), out)
    return _out(make(r), out)


def _trunc_div_int(xp, a, b):
    q = xp.abs(a) // xp.abs(b)
    return q * xp.sign(a) * xp.sign(b)


def true_divide(input, other):
    return div(input, other)


def floor_divide(input, other):
    return div(input, other, rounding_mode='floor')


def rdiv(t, s):
    """``s / t`` for a scalar or tensor ``s``."""
    from ._util import to_tensor_like
    st = to_tensor_like(s, t)
    if st._data.dtype.kind in 'iub' and t._data.dtype.kind in 'iub':
        return div(st._cast(float_dtype_of(st._data)), t)
    if st._data.dtype != t._data.dtype and st._data.ndim == 0 and not isinstance(s, Tensor()) \
            and st._data.dtype.kind != 'c':  # a complex scalar keeps its imaginary part
        st = st._cast(float_dtype_of(t._data))
    return div(st, t)


class PowBackward0(Node):  # tensor ** scalar
    __slots__ = ('e',)

    def backward(self, g):
        (x,) = self.saved_tensors()
        if g._data.dtype.kind == 'c':  # holomorphic: conj(d/dx) = conj of the rule applied to conj(g)
            r = self._rule(g.conj(), x, self.e).conj()
            return r.real if x._data.dtype.kind != 'c' else r
        return self._rule(g, x, self.e)

    @staticmethod
    def _rule(g, x, e):
        if e == 0:
            return g * 0.0
        if e == 1:
            return g
        if e == 2:
            return g * x * 2.0
        return g * e * x ** (e - 1)


class PowBackward1(Node):  # tensor ** tensor
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors()
        na, nb = self.next
        cplx = g._data.dtype.kind == 'c'
        ga = None
        if na is not None:
            da = b * a ** (b - 1)
            ga = _grad_for(g * da.conj(), a) if cplx else grad_for(g * da, a)
        gb = None
        if nb is not None:
            # d/db a**b = a**b * log(a), taken as 0 where a == 0 and b >= 0
            y = self.output()
            la = log(where(a == 0, ones_like_val(a, 1.0), a))
            gb = _grad_for(g * (y * la).conj(), b) if cplx else grad_for(g * y * la, b)
        return ga, gb


class PowBackward2(Node):  # scalar ** tensor
    __slots__ = ('base',)

    def backward(self, g):
        y = self.output()
        base = self.base
        if g._data.dtype.kind == 'c':  # conj(d/dt base**t) = conj(base**t * log(base))
            if base == 0:
                return g * 0.0
            return g * (y * cmath.log(base)).conj()
        return g * y * math.log(base) if base > 0 else g * 0.0


def ones_like_val(t, v):
    xp = array_module(t._data)
    return make(xp.full(t._data.shape, v, dtype=t._data.dtype))


def pow(input, exponent, *, out=None):
    """``input ** exponent`` (either may be a scalar)."""
    T = Tensor()
    if not isinstance(input, T):
        return _rpow(exponent, input)
    a, b, bt = binary_arrays(input, exponent)
    xp = array_module(a)
    if bt is None:
        if a.dtype.kind in 'iu' and isinstance(b, int) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if b == 2:
            r = a * a
        elif isinstance(b, int) and b >= 0:
            r = a ** b
        else:  # 0 ** -1 is inf and (-1) ** 0.5 nan, silently as in PyTorch
            with np.errstate(divide='ignore', invalid='ignore'):
                r = xp.sqrt(a) if b == 0.5 else a ** b
        if recording(input):
            n = PowBackward0((input,))
            n.save(input)
            n.e = b
            return _out(make(r, n), out)
        return _out(make(r), out)
    with np.errstate(divide='ignore', invalid='ignore'):
        r = a ** b
    if recording(input, bt):
        n = PowBackward1((input, bt))
        n.save(input, bt)
        res = make(r, n)
        n.save_output(res)
        return _out(res, out)
    return _out(make(r), out)


def _rpow(t, base):
    """``base ** t`` for a Python scalar base."""
    a = t._data
    xp = array_module(a)
    if a.dtype.kind in 'iub' and isinstance(base, float):
        a = a.astype(float_dtype_of(a))
    r = xp.power(xp.asarray(base, dtype=a.dtype), a)
    if recording(t):
        n = PowBackward2((t,))
        n.base = base
        res = make(r, n)
        n.save_output(res)
        return res
    return make(r)


class _Binary2(Node):
    """Backward for maximum/minimum/atan2/fmod/remainder/hypot/copysign-like ops."""
    __slots__ = ('rule',)

    def backward(self, g):
        a, b = self.saved_tensors()
        ga, gb = self.rule(g, a, b, self)
        na, nb = self.next
        return (grad_for(ga, a) if na is not None and ga is not None else None,
                grad_for(gb, b) if nb is not None and gb is not None else None)


def _binary_op(name, fwd, rule, float_only=False, complex_error=None):
    """``complex_error(a)`` raises PyTorch's error for a complex (promoted) input ``a``."""
    cls = type(name, (_Binary2,), {'__slots__': ()})

    def op(input, other, *, out=None):
        from ._util import to_tensor_like
        T = Tensor()
        if not isinstance(input, T):
            input = to_tensor_like(input, other)
        a, b, bt = binary_arrays(input, other)
        if float_only and a.dtype.kind in 'biu':
            a = a.astype(float_dtype_of(a))
            b = b.astype(a.dtype) if bt is not None else float(b)
        elif complex_error is not None and a.dtype.kind == 'c':
            complex_error(a)
        r = fwd(array_module(a), a, b)
        if recording(input, bt):
            if bt is None:
                bt = make(array_module(a).asarray(b, dtype=a.dtype))
            n = cls((input, bt))
            n.save(input, bt)
            n.rule = rule
            res = make(r, n)
            if name.startswith('Atan2') or name.startswith('Hypot'):
                n.save_output(res)
            return _out(res, out)
        return _out(make(r), out)
    return op


def _max_rule(g, a, b, n):
    mask_a = (a > b)._cast(g._data.dtype) + (a == b)._cast(g._data.dtype) * 0.5
    return g * mask_a, g * (1.0 - mask_a)


def _min_rule(g, a, b, n):
    mask_a = (a < b)._cast(g._data.dtype) + (a == b)._cast(g._data.dtype) * 0.5
    return g * mask_a, g * (1.0 - mask_a)


def _atan2_rule(g, a, b, n):
    d = a * a + b * b
    return g * b / d, -g * a / d


def _fmod_rule(g, a, b, n):
    return g, -g * (a / b).trunc()


def _rem_rule(g, a, b, n):
    return g, -g * (a / b).floor()


def _hypot_rule(g, a, b, n):
    y = n.output()
    return g * a / y, g * b / y


def _not_for_complex(name):
    def err(a):
        raise RuntimeError(f"{name} not implemented for complex tensors.")
    return err


def _kernel_error(kernel):
    return lambda a: _no_complex_kernel(kernel, a)


maximum = _binary_op('MaximumBackward0', lambda xp, a, b: xp.maximum(a, b), _max_rule,
                     complex_error=_not_for_complex('maximum'))
minimum = _binary_op('MinimumBackward0', lambda xp, a, b: xp.minimum(a, b), _min_rule,
                     complex_error=_not_for_complex('minimum'))
fmax = _binary_op('FmaxBackward0', lambda xp, a, b: xp.fmax(a, b), _max_rule, complex_error=_not_for_complex('fmax'))
fmin = _binary_op('FminBackward0', lambda xp, a, b: xp.fmin(a, b), _min_rule, complex_error=_not_for_complex('fmin'))
atan2 = _binary_op('Atan2Backward0', lambda xp, a, b: xp.arctan2(a, b), _atan2_rule, True,
                   complex_error=_kernel_error('atan2_cpu'))
arctan2 = atan2
fmod = _binary_op('FmodBackward0', lambda xp, a, b: xp.fmod(a, b), _fmod_rule, complex_error=_kernel_error('fmod_cpu'))
remainder = _binary_op('RemainderBackward0', lambda xp, a, b: xp.remainder(a, b), _rem_rule,
                       complex_error=_kernel_error('remainder_cpu'))
hypot = _binary_op('HypotBackward0', lambda xp, a, b: xp.hypot(a, b), _hypot_rule, True,
                   complex_error=_kernel_error('hypot_cpu'))


def _copysign_rule(g, a, b, n):
    s = make(array_module(b._data).where(array_module(b._data).signbit(b._data), -1.0, 1.0).astype(g._data.dtype))
    return g * a.sign() * s, g * 0.0


copysign = _binary_op('CopysignBackward0', lambda xp, a, b: xp.copysign(a, b), _copysign_rule, True,
                      complex_error=_kernel_error('copysign_cpu'))


def _out(res, out):
    if out is None:
        return res
    out._assign_out(res)
    return out


# ---------------------------------------------------------------------------------------------------------
# unary math


class _Unary(Node):
    __slots__ = ()
    rule = None
    use_input = True
    use_output = False
    # ``rule(g, x, y)`` is ``g * f'(x)`` for a holomorphic f: with complex g it is applied to conj(g) and
    # conjugated, giving PyTorch's ``g * conj(f'(x))``. Rules for non-holomorphic ops handle complex g themselves.
    holomorphic = True

    array_rule = None

    def backward(self, g):
        ar = type(self).array_rule
        cplx = g._data.dtype.kind == 'c'
        if ar is not None and not _grad_state.enabled and not cplx:  # hot activations: plain array math
            x = self.saved_tensors()[0]._data if self.use_input else None
            y = self.output_array() if self.use_output else None
            return make(ar(g._data, x, y))
        x = self.saved_tensors()[0] if self.use_input else None
        y = self.output() if self.use_output else None
        if cplx and self.holomorphic:
            return type(self).rule(g.conj(), x, y).conj()
        return type(self).rule(g, x, y)


def _quiet(fwd):
    """Evaluate ``fwd`` without NumPy's divide/invalid warnings: like PyTorch, log(0) is -inf and
    sqrt(-1) is nan silently."""
    def quiet(xp, a):
        with np.errstate(divide='ignore', invalid='ignore'):
            return fwd(xp, a)
    return quiet


def _unary(name, fwd, rule, use_input=True, use_output=False, float_only=True, int_ok=False, array_rule=None,
           holomorphic=True, complex_error=None):
    cls = type(name, (_Unary,), {'__slots__': (), 'rule': staticmethod(rule) if rule else None,
                                 'use_input': use_input, 'use_output': use_output, 'holomorphic': holomorphic,
                                 'saves': use_input or use_output,
                                 'array_rule': staticmethod(array_rule) if array_rule else None})

    def op(input, *, out=None):
        a = input._data
        if float_only and a.dtype.kind in 'biu':
            a = a.astype(float_dtype_of(a))
        elif complex_error is not None and a.dtype.kind == 'c':
            complex_error(a)
        r = fwd(array_module(a), a)
        if rule is not None and recording(input):
            n = cls((input,))
            if use_input:
                n.save(input)
            res = make(r, n)
            if use_output:
                n.save_output(res)
            return _out(res, out)
        return _out(make(r), out)
    op.__name__ = name.replace('Backward0', '').lower()
    return op


def _special(name):
    """``xp, a -> name(a)`` from scipy.special (keeping ``a``'s dtype) or, for CuPy arrays, cupyx's."""
    def f(xp, a):
        if xp is np:
            return getattr(_sp, name)(a).astype(a.dtype, copy=False)
        import cupyx.scipy.special as cs
        return getattr(cs, name)(a)
    f.__name__ = '_' + name
    return f


_erfinv, _erf, _erfc = _special('erfinv'), _special('erf'), _special('erfc')


def _sigmoid_fwd(xp, a):
    if a.dtype.kind == 'c':
        with np.errstate(over='ignore', invalid='ignore', divide='ignore'):
            return 1 / (1 + xp.exp(-a))
    # 1/(1+exp(-x)) computed without overflow warnings for large |x|
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)



def _acosh_rule(g, x):
    if x._data.dtype.kind == 'c':  # 1/sqrt(z^2 - 1) would take the wrong branch off the real axis
        return g * ((x - 1.0).rsqrt() * (x + 1.0).rsqrt())
    return g * (x * x - 1.0).rsqrt()


_SQRT_PI = math.sqrt(math.pi)

exp = _unary('ExpBackward0', lambda xp, a: xp.exp(a), lambda g, x, y: g * y, False, True,
             array_rule=lambda g, x, y: g * y)
exp2 = _unary('Exp2Backward0', lambda xp, a: xp.exp2(a), lambda g, x, y: g * y * math.log(2.0), False, True)
expm1 = _unary('Expm1Backward0', lambda xp, a: xp.expm1(a), lambda g, x, y: g * (y + 1.0), False, True)
log = _unary('LogBackward0', _quiet(lambda xp, a: xp.log(a)), lambda g, x, y: g / x)
log2 = _unary('Log2Backward0', _quiet(lambda xp, a: xp.log2(a)), lambda g, x, y: g / (x * math.log(2.0)))
log10 = _unary('Log10Backward0', _quiet(lambda xp, a: xp.log10(a)), lambda g, x, y: g / (x * math.log(10.0)))
log1p = _unary('Log1PBackward0', _quiet(lambda xp, a: xp.log1p(a)), lambda g, x, y: g / (x + 1.0))
sqrt = _unary('SqrtBackward0', _quiet(lambda xp, a: xp.sqrt(a)), lambda g, x, y: g / (y * 2.0), False, True)
rsqrt = _unary('RsqrtBackward0', _quiet(lambda xp, a: 1 / xp.sqrt(a)), lambda g, x, y: g * y * y * y * -0.5, False, True)
sin = _unary('SinBackward0', lambda xp, a: xp.sin(a), lambda g, x, y: g * x.cos())
cos = _unary('CosBackward0', lambda xp, a: xp.cos(a), lambda g, x, y: -g * x.sin())
tan = _unary('TanBackward0', lambda xp, a: xp.tan(a), lambda g, x, y: g * (y * y + 1.0), False, True)
asin = _unary('AsinBackward0', _quiet(lambda xp, a: xp.arcsin(a)), lambda g, x, y: g * (1.0 - x * x).rsqrt())
acos = _unary('AcosBackward0', _quiet(lambda xp, a: xp.arccos(a)), lambda g, x, y: -g * (1.0 - x * x).rsqrt())
atan = _unary('AtanBackward0', lambda xp, a: xp.arctan(a), lambda g, x, y: g / (x * x + 1.0))
sinh = _unary('SinhBackward0', lambda xp, a: xp.sinh(a), lambda g, x, y: g * x.cosh())
cosh = _unary('CoshBackward0', lambda xp, a: xp.cosh(a), lambda g, x, y: g * x.sinh())
tanh = _unary('TanhBackward0', lambda xp, a: xp.tanh(a), lambda g, x, y: g * (1.0 - y * y), False, True,
              array_rule=lambda g, x, y: _fused.tanh_backward(g, y))
asinh = _unary('AsinhBackward0', lambda xp, a: xp.arcsinh(a), lambda g, x, y: g * (x * x + 1.0).rsqrt())
acosh = _unary('AcoshBackward0', _quiet(lambda xp, a: xp.arccosh(a)), lambda g, x, y: _acosh_rule(g, x))
atanh = _unary('AtanhBackward0', _quiet(lambda xp, a: xp.arctanh(a)), lambda g, x, y: g / (1.0 - x * x))
sigmoid = _unary('SigmoidBackward0', _sigmoid_fwd, lambda g, x, y: g * y * (1.0 - y), False, True,
                 array_rule=lambda g, x, y: _fused.sigmoid_backward(g, y))
erf = _unary('ErfBackward0', _erf, lambda g, x, y: g * (2.0 / _SQRT_PI) * (-(x * x)).exp(),
             complex_error=_kernel_error('erf_vml_cpu'))
erfc = _unary('ErfcBackward0', _erfc, lambda g, x, y: g * (-2.0 / _SQRT_PI) * (-(x * x)).exp(),
              complex_error=_kernel_error('erfc_vml_cpu'))
erfinv = _unary('ErfinvBackward0', _erfinv, lambda g, x, y: g * (_SQRT_PI / 2.0) * (y * y).exp(), False, True,
                complex_error=_kernel_error('erfinv_vml_cpu'))
reciprocal = _unary('ReciprocalBackward0', _quiet(lambda xp, a: 1 / a), lambda g, x, y: -g * y * y, False, True)


def _abs_rule(g, x, y):
    if x._data.dtype.kind != 'c':
        return g * x.sign()
    if not _grad_state.enabled:
        return g * x.sgn()
    # Under create_graph, sgn(z) = z/|z| must stay a function of z (for complex z it is not piecewise
    # constant). It is assembled from real parts, so only real arithmetic is differentiated; sgn(0) = 0.
    from ...spectral import view_as_complex
    from .shape import stack
    m = x.abs()
    zero = m == 0
    scale = where(zero, 0.0, g / where(zero, 1.0, m))
    return view_as_complex(stack([scale * x.real, scale * x.imag], -1))


abs = _unary('AbsBackward0', lambda xp, a: xp.abs(a), _abs_rule, float_only=False, holomorphic=False)
absolute = abs
neg = _unary('NegBackward0', lambda xp, a: -a, lambda g, x, y: -g, False, False, float_only=False)
negative = neg
relu = _unary('ReluBackward0', lambda xp, a: xp.maximum(a, 0).astype(a.dtype, copy=False),
              lambda g, x, y: g * (y > 0)._cast(g._data.dtype), False, True, float_only=False,
              array_rule=lambda g, x, y: _fused.relu_backward(g, y), complex_error=_clamp_complex)
_sign = _unary('SignBackward0', lambda xp, a: xp.sign(a), lambda g, x, y: g * 0.0, False, False, float_only=False)


def _sgn_rule(g, x, y):
    # sgn(z) = z/|z| is not holomorphic: only the part of g orthogonal to sgn(z) passes, scaled by 1/|z|
    # (PyTorch's (g - sgn * Re(g * conj(sgn))) / |z|, and 0 at z = 0)
    m = x.abs()
    zero = m == 0
    r = (g - y * (g * y.conj()).real) / where(zero, 1.0, m)
    return where(zero, 0.0, r)


def _sgn_complex_fwd(xp, a):
    m = xp.abs(a)
    with np.errstate(divide='ignore', invalid='ignore'):
        return xp.where(m == 0, a.dtype.type(0), a / m).astype(a.dtype, copy=False)


_sgn_complex = _unary('SgnBackward0', _sgn_complex_fwd, _sgn_rule, True, True, float_only=False, holomorphic=False)


def sign(input, *, out=None):
    """-1, 0 or 1 by the sign of each element (not for complex tensors: see ``sgn``)."""
    if input._data.dtype.kind == 'c':
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                           "torch.sgn instead.")
    return _sign(input, out=out)


def sgn(input, *, out=None):
    """``z / |z|`` (0 at 0) for complex tensors; ``sign`` for real ones."""
    if input._data.dtype.kind == 'c':
        return _sgn_complex(input, out=out)
    return _sign(input, out=out)

_zero_rule = lambda g, x, y: g * 0.0  # noqa: E731  (piecewise-constant ops)
def _rounding_complex(name):
    def err(a):
        raise NotImplementedError(f"{name} is not supported for complex inputs")
    return err


floor = _unary('FloorBackward0', lambda xp, a: xp.floor(a) if a.dtype.kind == 'f' else a.copy(), _zero_rule, False, False, float_only=False,
               complex_error=_rounding_complex('floor'))
ceil = _unary('CeilBackward0', lambda xp, a: xp.ceil(a) if a.dtype.kind == 'f' else a.copy(), _zero_rule, False, False, float_only=False,
              complex_error=_rounding_complex('ceil'))
trunc = _unary('TruncBackward0', lambda xp, a: xp.trunc(a) if a.dtype.kind == 'f' else a.copy(), _zero_rule, False, False, float_only=False,
               complex_error=_rounding_complex('trunc'))
fix = trunc
frac = _unary('FracBackward0', lambda xp, a: a - xp.trunc(a), lambda g, x, y: g, False, False,
              complex_error=_kernel_error('frac_cpu'))
square = _unary('PowBackward0', lambda xp, a: a * a, lambda g, x, y: g * x * 2.0, float_only=False)
logit_ = None


def round(input, *, decimals=0, out=None):
    """Round half to even (like PyTorch); ``decimals`` rounds to that many decimal places."""
    xp = array_module(input._data)
    if input._data.dtype.kind == 'c':
        _no_complex_kernel('round_cpu' if decimals else 'round_vml_cpu', input._data)
    r = xp.round(input._data, decimals) if decimals else xp.rint(input._data) if input._data.dtype.kind == 'f' \
        else input._data.copy()
    if recording(input):
        n = _unary_zero((input,))
        return _out(make(r, n), out)
    return _out(make(r), out)


class RoundBackward0(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        return g * 0.0


_unary_zero = RoundBackward0


def positive(input):
    return input


# ---------------------------------------------------------------------------------------------------------
# clamp, lerp, where, nan_to_num and friends


class ClampBackward1(Node):
    __slots__ = ('lo', 'hi')

    def backward(self, g):
        (x,) = self.saved_tensors()
        xd = x._data
        xp = array_module(xd)
        mask = xp.ones(xd.shape, dtype=bool)
        if self.lo is not None:
            mask &= xd >= (self.lo._data if isinstance(self.lo, Tensor()) else self.lo)
        if self.hi is not None:
            mask &= xd <= (self.hi._data if isinstance(self.hi, Tensor()) else self.hi)
        return where(make(mask), g, 0.0)  # 0 outside the range even where g is inf or nan, as PyTorch


def clamp(input, min=None, max=None, *, out=None):
    """Clamp into ``[min, max]`` (either may be None, a number or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    T = Tensor()
    if recording(*[b for b in (min, max) if isinstance(b, T)]):  # a bound needs its gradient
        return _out(_clamp_tensors(input, min, max), out)
    a = input._data
    xp = array_module(a)
    lo = min._data if isinstance(min, T) else min
    hi = max._data if isinstance(max, T) else max
    if a.dtype.kind == 'c':
        _clamp_complex(a)
    if isinstance(lo, float) and a.dtype.kind in 'iub' or isinstance(hi, float) and a.dtype.kind in 'iub':
        a = a.astype(float_dtype_of(a))
    r = a
    if lo is not None:
        r = xp.maximum(r, lo)
    if hi is not None:
        r = xp.minimum(r, hi)
    if r is a:
        r = a.copy()
    r = r.astype(a.dtype, copy=False) if not isinstance(lo, xp.ndarray) and not isinstance(hi, xp.ndarray) else r
    if recording(input):
        n = ClampBackward1((input,))
        n.save(input)
        n.lo, n.hi = min, max
        return _out(make(r, n), out)
    return _out(make(r), out)


clip = clamp


def _clamp_tensors(input, lo, hi):
    """clamp with bounds that need gradients: each bound gets the gradient where it was selected."""
    if input._data.dtype.kind == 'c':
        _clamp_complex(input._data)
    r = input
    if lo is not None:
        r = where(r < lo, lo, r)
    if hi is not None:
        r = where(r > hi, hi, r)
    return r


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class WhereBackward0(Node):
    __slots__ = ('cond', 'sa', 'sb')
    saves = False

    def backward(self, g):
        c = make(self.cond)
        zero = make(array_module(g._data).zeros_like(g._data))  # not g * 0: NaN/inf in g must not leak
        na, nb = self.next
        ga = _fit(where(c, g, zero), self.sa) if na is not None else None
        gb = _fit(where(c, zero, g), self.sb) if nb is not None else None
        return ga, gb


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` else of ``other``; with one argument, ``nonzero(as_tuple)``."""
    T = Tensor()
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    cd = condition._data
    if cd.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtname(cd)}")
    if not isinstance(input, T):
        if not isinstance(other, T):
            from ._util import to_tensor_like
            input = to_tensor_like(input, condition)
            if isinstance(input._data.dtype, np.dtype) and input._data.dtype == np.float64 and isinstance(input, T):
                pass
        else:
            from ._util import to_tensor_like
            input = to_tensor_like(input, other)
    a, b, bt = binary_arrays(input, other)
    xp = array_module(a)
    if cd.shape != a.shape or (bt is not None and cd.shape != b.shape):
        from ._util import check_broadcast
        check_broadcast(cd.shape, a.shape, *(() if bt is None else (b.shape,)))
    r = xp.where(cd, a, b)
    if isinstance(b, SCALARS) and r.dtype != a.dtype:
        r = r.astype(a.dtype)
    if recording(input, bt):
        n = WhereBackward0((input, bt))
        n.cond = cd
        n.sa = (input._data.shape, input._data.dtype)
        n.sb = (bt._data.shape, bt._data.dtype) if bt is not None else None
        return _out(make(r, n), out)
    return _out(make(r), out)


def _dtname(a):
    from ._util import scalar_type_name
    return scalar_type_name(a.dtype)


def lerp(input, end, weight):
    """``input + weight * (end - input)``."""
    return input + (end - input) * weight


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities with finite numbers (defaults: 0 and the dtype's extremes)."""
    xp = array_module(input._data)
    a = input._data
    if a.dtype.kind != 'f':
        return input.clone()
    fi = np.finfo(a.dtype)
    hi = fi.max if posinf is None else posinf
    lo = fi.min if neginf is None else neginf
    mask = xp.isfinite(a)
    r = xp.nan_to_num(a, nan=nan, posinf=hi, neginf=lo)
    if recording(input):
        return where(make(mask), input, make(r).detach())
    return make(r)


def _xlogy_fwd(xp, a, b):
    if not isinstance(b, xp.ndarray):  # a Python scalar operand takes the tensor's dtype
        b = xp.asarray(b, dtype=a.dtype)
    with np.errstate(divide='ignore', invalid='ignore'):
        r = a * xp.log(b)
    return xp.where((a == 0) & ~xp.isnan(b), xp.zeros((), r.dtype), r)


def _xlogy_rule(g, a, b, n):
    # PyTorch: d/da = xlogy(g, b), zeroed where a == 0 and b <= 0; d/db = g * a / b
    gl = g * log(b)
    ga = where(((g == 0) & ~b.isnan()) | ((a == 0) & (b <= 0)), 0.0, gl)
    return ga, g * a / b


xlogy = _binary_op('XlogyBackward0', _xlogy_fwd, _xlogy_rule, True, complex_error=_kernel_error('xlogy_cpu'))
xlogy.__doc__ = "``input * log(other)``, 0 where input == 0 (NaN where other is NaN)."


# ---------------------------------------------------------------------------------------------------------
# comparisons and predicates (never differentiable)


def _cmp(fn, kernel=None):
    def op(input, other, *, out=None):
        a, b, _ = binary_arrays(input, other)
        if kernel is not None and a.dtype.kind == 'c':  # ordering is not defined for complex numbers
            _no_complex_kernel(kernel, a)
        return _out(make(fn(a, b)), out)
    return op


eq = _cmp(lambda a, b: a == b)
ne = _cmp(lambda a, b: a != b)
lt = _cmp(lambda a, b: a < b, 'lt_cpu')
le = _cmp(lambda a, b: a <= b, 'le_cpu')
gt = _cmp(lambda a, b: a > b, 'gt_cpu')
ge = _cmp(lambda a, b: a >= b, 'ge_cpu')
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _pred(fn, complex_error=None):
    def op(input):
        if complex_error is not None and input._data.dtype.kind == 'c':
            raise complex_error[0](complex_error[1])
        return make(fn(array_module(input._data), input._data))
    return op


isnan = _pred(lambda xp, a: xp.isnan(a))
isinf = _pred(lambda xp, a: xp.isinf(a))
isfinite = _pred(lambda xp, a: xp.isfinite(a))
isposinf = _pred(lambda xp, a: xp.isposinf(a), (RuntimeError, "isposinf does not support complex inputs."))
isneginf = _pred(lambda xp, a: xp.isneginf(a), (RuntimeError, "isneginf does not support complex inputs."))
signbit = _pred(lambda xp, a: xp.signbit(a),
                (NotImplementedError, "signbit is not implemented for complex tensors."))
isreal = _pred(lambda xp, a: xp.isreal(a))


def _logical(fn):
    def op(input, other, *, out=None):
        a, b, _ = binary_arrays(input, other)
        return _out(make(fn(array_module(a), a, b)), out)
    return op


logical_and = _logical(lambda xp, a, b: xp.logical_and(a, b))
logical_or = _logical(lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _logical(lambda xp, a, b: xp.logical_xor(a, b))


def logical_not(input):
    return make(array_module(input._data).logical_not(input._data))


def _bitwise(fn, name):
    def op(input, other):
        a, b, _ = binary_arrays(input, other)
        if a.dtype.kind == 'f':
            raise RuntimeError(f'"{name}_cpu" not implemented for \'Float\'')
        return make(fn(a, b))
    return op


bitwise_and = _bitwise(lambda a, b: a & b, 'bitwise_and')
bitwise_or = _bitwise(lambda a, b: a | b, 'bitwise_or')
bitwise_xor = _bitwise(lambda a, b: a ^ b, 'bitwise_xor')


def bitwise_not(input):
    a = input._data
    if a.dtype.kind == 'f':
        raise RuntimeError('"bitwise_not_cpu" not implemented for \'Float\'')
    return make(~a)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b, _ = binary_arrays(input, other)
    return make(array_module(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


# ---------------------------------------------------------------------------------------------------------
# special functions and composite math


def _special(xp, name):
    if xp is np:
        return getattr(_sp, name)
    import cupyx.scipy.special as cs
    return getattr(cs, name)


def _sp_fwd(name):
    def f(xp, a):
        return _special(xp, name)(a).astype(a.dtype, copy=False)
    return f


def _polygamma_arr(n, a):
    xp = array_module(a)
    if n == 0:
        return _special(xp, 'digamma')(a).astype(a.dtype, copy=False)
    if xp is np:
        return _sp.polygamma(n, a).astype(a.dtype, copy=False)
    # psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x), from the array module's Hurwitz zeta
    zeta = _special(xp, 'zeta')
    c = (-1.0) ** (n + 1) * math.factorial(n)
    return (c * zeta(xp.full(a.shape, n + 1.0, dtype=a.dtype), a)).astype(a.dtype, copy=False)


class PolygammaBackward0(Node):
    __slots__ = ('n',)

    def backward(self, g):
        (x,) = self.saved_tensors()
        return g * polygamma(self.n + 1, x)


def polygamma(n, input):
    """The ``n``-th derivative of the digamma function."""
    a = input._data
    if a.dtype.kind in 'biu':
        a = a.astype(float_dtype_of(a))
    r = _polygamma_arr(int(n), a)
    if recording(input):
        node = PolygammaBackward0((input,))
        node.save(input)
        node.n = int(n)
        return make(r, node)
    return make(r)


lgamma = _unary('LgammaBackward0', _sp_fwd('gammaln'), lambda g, x, y: g * polygamma(0, x),
                complex_error=_kernel_error('lgamma_vml_cpu'))
digamma = _unary('DigammaBackward0', _sp_fwd('digamma'), lambda g, x, y: g * polygamma(1, x),
                 complex_error=_kernel_error('digamma'))


def _i0_rule(g, x, y):
    from .special_fns import i1  # differentiable, so i0 has second derivatives
    return g * i1(x)


i0 = _unary('I0Backward0', _sp_fwd('i0'), _i0_rule)
special_i0 = i0


def _sinc_rule(g, x, y):
    zero = x == 0
    safe = where(zero, ones_like_val(x, 1.0), x)
    d = ((safe * math.pi).cos() - where(zero, ones_like_val(x, 1.0), y)) / safe
    return g * where(zero, x * 0.0, d)


def _sinc_fwd(xp, a):
    pa = a * a.dtype.type(math.pi)
    with np.errstate(invalid='ignore', divide='ignore'):
        r = xp.sin(pa) / pa
    return xp.where(a == 0, a.dtype.type(1), r).astype(a.dtype, copy=False)


sinc = _unary('SincBackward0', _sinc_fwd, _sinc_rule, True, True)


def _angle_units_complex(input, name):
    if input._data.dtype.kind == 'c':
        raise RuntimeError(f"{name} is not supported for complex tensors.")


def deg2rad(input):
    _angle_units_complex(input, 'deg2rad')
    x = input if input._data.dtype.kind == 'f' else input._cast(float_dtype_of(input._data))
    return x * (math.pi / 180.0)


def rad2deg(input):
    _angle_units_complex(input, 'rad2deg')
    x = input if input._data.dtype.kind == 'f' else input._cast(float_dtype_of(input._data))
    return x * (180.0 / math.pi)


def logit(input, eps=None):
    """``log(x / (1 - x))``; with ``eps`` the input is clamped to ``[eps, 1 - eps]`` first."""
    if input._data.dtype.kind == 'c':
        _no_complex_kernel('logit_cpu', input._data)
    x = input if input._data.dtype.kind == 'f' else input._cast(float_dtype_of(input._data))
    if eps is not None:
        x = clamp(x, eps, 1.0 - eps)
    return log(x) - log1p(-x)


def angle(input):
    """The argument of each element: 0 for non-negative reals, pi for negative ones (NaN stays NaN)."""
    a = input._data
    xp = array_module(a)
    if a.dtype.kind in 'biu':
        a = a.astype(float_dtype_of(a))
    r = xp.where(a < 0, a.dtype.type(math.pi), a.dtype.type(0))
    r = xp.where(xp.isnan(a), a, r)
    if recording(input):
        return make(r, RoundBackward0((input,)))
    return make(r)


def logaddexp(input, other):
    """``log(exp(a) + exp(b))`` computed stably."""
    from ._util import to_tensor_like
    if not isinstance(other, Tensor()):
        other = to_tensor_like(other, input)
    if input._data.dtype.kind == 'c' or other._data.dtype.kind == 'c':
        a, b, _ = binary_arrays(input, other)  # m is only a shift: NumPy's ordering of complex values will do
        m = make(array_module(a).maximum(a, b))
    else:
        m = maximum(input, other).detach()
    m = where(isfinite(m), m, m * 0.0)
    return m + log(exp(input - m) + exp(other - m))


def logaddexp2(input, other):
    """``log2(2**a + 2**b)`` computed stably."""
    ln2 = math.log(2.0)
    return logaddexp(input * ln2, other * ln2) / ln2


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (complex128 when either is complex)."""
    T = Tensor()

    def wide(t):
        return t._cast(np.complex128 if t._data.dtype.kind == 'c' else np.float64)

    def num(v):
        return v if isinstance(v, (complex, np.complexfloating)) else float(v)
    if not isinstance(input, T):
        return pow(num(input), wide(exponent))
    x = wide(input)
    e = wide(exponent) if isinstance(exponent, T) else num(exponent)
    if isinstance(e, complex) or isinstance(e, T) and e._data.dtype.kind == 'c':
        x = x._cast(np.complex128)
    return pow(x, e)


class _MethodForm:
    """An op whose Tensor method takes its arguments in another order than the function
    (``x.where(cond, y)`` is ``where(cond, x, y)``)."""

    def __init__(self, fn, method):
        self.fn = fn
        self.method = method
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        import functools
        return functools.partial(self.method, obj)


_where_fn = where
where = _MethodForm(_where_fn, lambda self, condition, other: _where_fn(condition, self, other))
_polygamma_fn = polygamma
polygamma = _MethodForm(_polygamma_fn, lambda self, n: _polygamma_fn(n, self))


# ---------------------------------------------------------------------------------------------------------
# aliases and small composites


arccos, arcsin, arctan = acos, asin, atan
arccosh, arcsinh, arctanh = acosh, asinh, atanh
multiply, subtract, divide = mul, sub, div


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    p = tensor1 * tensor2
    return input + (p * value if value != 1 else p)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    q = tensor1 / tensor2
    return input + (q * value if value != 1 else q)


def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, ``values`` where input == 0 (not differentiable)."""
    a, b, _ = binary_arrays(input, values)
    if a.dtype.kind == 'c':
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    xp = array_module(a)
    return make(xp.where(a == 0, b, (a > 0)).astype(a.dtype, copy=False))


def _int_binary(fn, name):
    def op(input, other):
        a, b, _ = binary_arrays(input, other)
        if a.dtype.kind not in 'iub':
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{_dtname(a)}\'')
        return make(fn(array_module(a), a, b))
    op.__name__ = name
    return op


gcd = _int_binary(lambda xp, a, b: xp.gcd(a, b), 'gcd')
lcm = _int_binary(lambda xp, a, b: xp.lcm(a, b), 'lcm')


def ldexp(input, other):
    """``input * 2 ** other``."""
    x = input if input._data.dtype.kind == 'f' else input._cast(float_dtype_of(input._data))
    if isinstance(other, Tensor()):
        e = other if other._data.dtype.kind == 'f' else other._cast(x._data.dtype)
        return x * _rpow(e, 2.0)
    return x * (2.0 ** other)
