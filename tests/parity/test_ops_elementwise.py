"""Parity with PyTorch for elementwise math, arithmetic operators and type promotion."""
import numpy as np
import pytest

import npnn
from tests.helpers import compare, randn, torch_or_skip

A = randn(3, 4, seed=1)
B = randn(3, 4, seed=2)
ROW = randn(4, seed=3)
POS = randn(3, 4, seed=4, low=0.2, high=2.0)
UNIT = randn(3, 4, seed=5, low=-0.9, high=0.9)
GT1 = randn(3, 4, seed=6, low=1.1, high=3.0)

UNARY = [
    ('abs', A), ('neg', A), ('exp', A), ('expm1', A), ('log', POS), ('log1p', POS), ('log2', POS),
    ('log10', POS), ('sqrt', POS), ('rsqrt', POS), ('sin', A), ('cos', A), ('tan', UNIT), ('asin', UNIT),
    ('acos', UNIT), ('atan', A), ('sinh', A), ('cosh', A), ('tanh', A), ('asinh', A), ('acosh', GT1),
    ('atanh', UNIT), ('sigmoid', A), ('relu', A), ('sign', A), ('floor', A * 3), ('ceil', A * 3),
    ('round', A * 3), ('trunc', A * 3), ('frac', A * 3), ('reciprocal', POS), ('erf', A), ('erfc', A),
    ('erfinv', UNIT), ('square', A), ('exp2', A), ('sgn', A), ('fix', A * 3), ('negative', A),
    ('absolute', A), ('logit', randn(3, 4, seed=7, low=0.1, high=0.9)), ('sinc', A), ('deg2rad', A),
    ('rad2deg', A), ('lgamma', POS), ('digamma', POS), ('i0', A), ('signbit', A), ('isnan', A),
    ('isfinite', A), ('isinf', A), ('nan_to_num', A), ('positive', A), ('angle', A),
]


@pytest.mark.parametrize('name,x', UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, x, device):
    grad = name not in ('sgn',)  # torch's sgn gradient is a ZeroTensor
    compare(lambda lib, t: getattr(lib, name)(t), x, device=device, rtol=1e-4, atol=1e-5, grad=grad)
    compare(lambda lib, t: getattr(t, name)(), x, device=device, rtol=1e-4, atol=1e-5, grad=grad)


INPLACE = ['abs', 'neg', 'exp', 'sin', 'sigmoid', 'relu', 'floor', 'tanh', 'sqrt', 'clamp_min']


@pytest.mark.parametrize('name', INPLACE)
def test_unary_inplace(name, device):
    args = (0.1,) if name == 'clamp_min' else ()
    compare(lambda lib, t: getattr(t * 1, name + '_')(*args), POS, device=device)


BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'fmax', 'fmin', 'atan2', 'fmod', 'remainder',
          'hypot', 'true_divide', 'xlogy', 'logaddexp', 'logaddexp2', 'copysign', 'float_power']


@pytest.mark.parametrize('name', BINARY)
@pytest.mark.parametrize('shapes', ['same', 'row', 'scalar_t'])
def test_binary(name, shapes, device):
    a = POS if name in ('pow', 'float_power') else A
    b = {'same': B, 'row': ROW, 'scalar_t': np.array(1.7, dtype=np.float32)}[shapes]
    if name in ('fmod', 'remainder', 'div', 'true_divide', 'xlogy'):
        b = np.abs(b) + 0.5
    compare(lambda lib, x, y: getattr(lib, name)(x, y), a, b, device=device, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('op', ['+', '-', '*', '/', '**', '%', '//'])
@pytest.mark.parametrize('scalar', [2, 0.5, -1.5])
def test_operators_scalar(op, scalar, device):
    x = POS
    fwd = {'+': lambda a, s: a + s, '-': lambda a, s: a - s, '*': lambda a, s: a * s, '/': lambda a, s: a / s,
           '**': lambda a, s: a ** s, '%': lambda a, s: a % s, '//': lambda a, s: a // s}[op]
    rev = {'+': lambda a, s: s + a, '-': lambda a, s: s - a, '*': lambda a, s: s * a, '/': lambda a, s: s / a,
           '**': lambda a, s: abs(s) ** a, '%': lambda a, s: s % a, '//': lambda a, s: s // a}[op]
    grad = op not in ('%', '//')
    compare(lambda lib, a: fwd(a, scalar), x, device=device, grad=grad)
    compare(lambda lib, a: rev(a, scalar), x, device=device, grad=grad)


@pytest.mark.parametrize('op', ['+', '-', '*', '/', '**', '@'])
def test_operators_tensor(op, device):
    f = {'+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b, '/': lambda a, b: a / b,
         '**': lambda a, b: a ** b, '@': lambda a, b: a @ b.T}[op]
    compare(lambda lib, a, b: f(a, b), POS, B, device=device)


@pytest.mark.parametrize('op', ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor',
                                'isclose'])
def test_compare(op, device):
    b = B.copy()
    b[0] = A[0]
    compare(lambda lib, x, y: getattr(lib, op)(x, y), A, b, device=device, grad=False)
    if op not in ('logical_and', 'logical_or', 'logical_xor', 'isclose'):
        compare(lambda lib, x: getattr(lib, op)(x, 0.5), A, device=device, grad=False)


def test_bitwise(device):
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    b = np.array([[3, 1, 0], [7, 5, 2]], dtype=np.int64)
    for op in ['bitwise_and', 'bitwise_or', 'bitwise_xor']:
        compare(lambda lib, x, y: getattr(lib, op)(x, y), a, b, device=device, grad=False)
    compare(lambda lib, x: lib.bitwise_not(x), a, device=device, grad=False)
    compare(lambda lib, x, y: (x & y, x | y, x ^ y, ~x), a, b, device=device, grad=False)
    m = np.array([True, False, True])
    compare(lambda lib, x, y: (x & y, x | y, x ^ y, ~x, lib.logical_not(x)), m, ~m, device=device, grad=False)


@pytest.mark.parametrize('lo,hi', [(-0.5, 0.5), (None, 0.2), (-0.2, None)])
def test_clamp(lo, hi, device):
    compare(lambda lib, x: lib.clamp(x, lo, hi), A, device=device)
    compare(lambda lib, x: x.clip(min=lo, max=hi), A, device=device)
    compare(lambda lib, x: x.clone().clamp_(lo, hi), A, device=device)


def test_clamp_tensor_bounds(device):
    lo = np.full((4,), -0.3, dtype=np.float32)
    hi = np.full((3, 1), 0.4, dtype=np.float32)
    compare(lambda lib, x, l, h: lib.clamp(x, l, h), A, lo, hi, device=device, grad_inputs=[0])


def test_clamp_int(device):
    a = np.arange(-5, 5, dtype=np.int64)
    compare(lambda lib, x: lib.clamp(x, -2, 3), a, device=device, grad=False)
    compare(lambda lib, x: lib.clamp(x, -2.5, 3.0), a, device=device, grad=False)


def test_where(device):
    c = A > 0
    compare(lambda lib, c, x, y: lib.where(c, x, y), c, A, B, device=device)
    compare(lambda lib, c, x, y: lib.where(c, x, y), c, A, ROW, device=device)
    compare(lambda lib, c, x: lib.where(c, x, 0.0), c, A, device=device)
    compare(lambda lib, c, x: lib.where(c, 1.0, x), c, A, device=device)
    compare(lambda lib, c, x: x.where(c, -x), c, A, device=device)
    compare(lambda lib, c: lib.where(c), c, device=device, grad=False)


def test_lerp(device):
    compare(lambda lib, a, b: lib.lerp(a, b, 0.3), A, B, device=device)
    w = randn(3, 4, seed=9, low=0, high=1)
    compare(lambda lib, a, b, w: lib.lerp(a, b, w), A, B, w, device=device)


def test_nan_to_num(device):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0], dtype=np.float32)
    compare(lambda lib, t: lib.nan_to_num(t), x, device=device, grad=False)
    compare(lambda lib, t: lib.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-3.0), x, device=device)
    compare(lambda lib, t: (lib.isnan(t), lib.isinf(t), lib.isfinite(t), lib.isposinf(t), lib.isneginf(t)), x,
            device=device, grad=False)


def test_maximum_ties_grad(device):
    a = np.array([1., 2., 3.], dtype=np.float32)
    compare(lambda lib, x, y: lib.maximum(x, y), a, a.copy(), device=device)
    compare(lambda lib, x, y: lib.minimum(x, y), a, a.copy(), device=device)


def test_pow_special(device):
    x = np.array([0.0, 1.0, 2.0, -1.5], dtype=np.float32)
    compare(lambda lib, t: t ** 2, x, device=device)
    compare(lambda lib, t: t ** 0, x, device=device)
    compare(lambda lib, t: t ** 3, x, device=device)
    e = np.array([2.0, 0.5, 1.0, 3.0], dtype=np.float32)
    compare(lambda lib, b, ex: b.abs() ** ex, x, e, device=device)
    compare(lambda lib, t: 2.0 ** t, x, device=device)
    i = np.array([1, 2, 3], dtype=np.int64)
    compare(lambda lib, t: (t ** 2, 2 ** t, t ** 0.5), i, device=device, grad=False)


def test_div_rounding(device):
    a = np.array([-7.5, 7.5, -3.0, 3.2], dtype=np.float32)
    b = np.array([2.0, -2.0, 2.0, 1.5], dtype=np.float32)
    for m in ['trunc', 'floor']:
        compare(lambda lib, x, y: lib.div(x, y, rounding_mode=m), a, b, device=device, grad=False)
    ia = np.array([-7, 7, -3, 3], dtype=np.int64)
    ib = np.array([2, -2, 2, 2], dtype=np.int64)
    for m in ['trunc', 'floor', None]:
        compare(lambda lib, x, y: lib.div(x, y, rounding_mode=m), ia, ib, device=device, grad=False)
    compare(lambda lib, x, y: (x // y, x % y, lib.fmod(x, y), lib.remainder(x, y)), ia, ib, device=device,
            grad=False)


# --- type promotion --------------------------------------------------------------------------------------

def _dt(t):
    return str(t.dtype).split('.')[-1]


PROMO = [
    ('f32*pyfloat', lambda lib: lib.ones(2) * 2.5),
    ('f32+pyint', lambda lib: lib.ones(2) + 3),
    ('i64+pyfloat', lambda lib: lib.arange(3) + 1.5),
    ('i64*pyint', lambda lib: lib.arange(3) * 2),
    ('i64/i64', lambda lib: lib.arange(3) / lib.arange(1, 4)),
    ('i64/pyint', lambda lib: lib.arange(3) / 2),
    ('i32+i64', lambda lib: lib.arange(3, dtype=lib.int32) + lib.arange(3)),
    ('u8+i8', lambda lib: lib.ones(2, dtype=lib.uint8) + lib.ones(2, dtype=lib.int8)),
    ('bool+bool', lambda lib: lib.ones(2, dtype=lib.bool) + lib.ones(2, dtype=lib.bool)),
    ('bool+pyint', lambda lib: lib.ones(2, dtype=lib.bool) + 1),
    ('bool*pyfloat', lambda lib: lib.ones(2, dtype=lib.bool) * 1.5),
    ('f32+f64_0dim', lambda lib: lib.ones(2) + lib.tensor(1.0, dtype=lib.float64)),
    ('f32_0dim+f64', lambda lib: lib.tensor(1.0) + lib.ones(2, dtype=lib.float64)),
    ('i64+f64_0dim', lambda lib: lib.arange(3) + lib.tensor(1.0, dtype=lib.float64)),
    ('i32+i64_0dim', lambda lib: lib.arange(3, dtype=lib.int32) + lib.tensor(5)),
    ('f16+f32_0dim', lambda lib: lib.ones(2, dtype=lib.float16) + lib.tensor(1.0)),
    ('0dim+0dim', lambda lib: lib.tensor(1.0) + lib.tensor(2.0, dtype=lib.float64)),
    ('f32+f64', lambda lib: lib.ones(2) + lib.ones(2, dtype=lib.float64)),
    ('i64**pyfloat', lambda lib: lib.arange(3) ** 0.5),
    ('pyfloat**i64', lambda lib: 2.0 ** lib.arange(3)),
    ('i64.exp', lambda lib: lib.arange(3).exp()),
    ('i64.sqrt', lambda lib: lib.arange(3).sqrt()),
    ('i64.sum', lambda lib: lib.arange(3).sum()),
    ('bool.sum', lambda lib: (lib.arange(3) > 0).sum()),
    ('i32.sum', lambda lib: lib.arange(3, dtype=lib.int32).sum()),
    ('i32.cumsum', lambda lib: lib.arange(3, dtype=lib.int32).cumsum(0)),
    ('i64.abs', lambda lib: lib.arange(-2, 3).abs()),
    ('i64.neg', lambda lib: -lib.arange(3)),
    ('i64.floor', lambda lib: lib.arange(3).floor()),
    ('f32.mean', lambda lib: lib.ones(3).mean()),
    ('i64.where_float', lambda lib: lib.where(lib.arange(3) > 0, lib.arange(3), 0.5)),
    ('i64.clamp_float', lambda lib: lib.arange(3).clamp(0.5, 1.5)),
    ('f64*pyfloat', lambda lib: lib.ones(2, dtype=lib.float64) * 0.1),
    ('f32_0dim*pyfloat', lambda lib: lib.tensor(2.0) * 0.1),
    ('i64_0dim*pyfloat', lambda lib: lib.tensor(2) * 0.1),
    ('i64_0dim+f32', lambda lib: lib.tensor(2) + lib.ones(2)),
    ('maximum_mixed', lambda lib: lib.maximum(lib.arange(3), lib.ones(3))),
    ('atan2_int', lambda lib: lib.atan2(lib.arange(3), lib.arange(3))),
]


@pytest.mark.parametrize('name,fn', PROMO, ids=[p[0] for p in PROMO])
def test_promotion(name, fn):
    torch = torch_or_skip()
    r = fn(npnn)
    e = fn(torch)
    assert _dt(r) == _dt(e), f'{name}: {r.dtype} vs torch {e.dtype}'
    np.testing.assert_allclose(r.numpy().astype(np.float64), e.numpy().astype(np.float64), rtol=1e-3)


def test_inplace_promotion_errors():
    x = npnn.arange(3)
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += 1.5
    y = npnn.ones(3)
    y += npnn.arange(3)
    assert y.dtype == npnn.float32


def test_float64_no_upcast(device):
    x = npnn.ones(3, device=device)
    for r in [x * 0.1, x + 1e-3, x / 3, 1.0 - x, x ** 2.0, x.exp() * np.float64(2.0)]:
        assert r.dtype == npnn.float32


EXTRA_BIN = [
    ('multiply', lambda lib, a, b: lib.multiply(a, b)), ('subtract', lambda lib, a, b: lib.subtract(a, b)),
    ('divide', lambda lib, a, b: lib.divide(a, b.abs() + 0.5)),
    ('addcmul', lambda lib, a, b: lib.addcmul(a, b, a, value=0.5)),
    ('addcdiv', lambda lib, a, b: lib.addcdiv(a, b, a.abs() + 0.5, value=-2)),
    ('ldexp', lambda lib, a, b: lib.ldexp(a, lib.tensor([1, 2, 3, 0], device=a.device))),
    ('heaviside', lambda lib, a, b: lib.heaviside(a.detach().round(), b.detach())),
    ('arc', lambda lib, a, b: (lib.arccos(a.tanh()), lib.arcsin(a.tanh()), lib.arctan(a), lib.arcsinh(b),
                               lib.arctanh(a.tanh() * 0.5), lib.arccosh(b.abs() + 1.5))),
]


@pytest.mark.parametrize('name,fn', EXTRA_BIN, ids=[e[0] for e in EXTRA_BIN])
def test_extra_binary(name, fn, device):
    compare(fn, A, B, device=device)


def test_gcd_lcm(device):
    a = np.array([12, -18, 7, 0], dtype=np.int64)
    b = np.array([8, 24, 3, 5], dtype=np.int64)
    compare(lambda lib, x, y: (lib.gcd(x, y), lib.lcm(x, y)), a, b, device=device)


@pytest.mark.parametrize('name', ['absolute', 'negative', 'fix', 'exp2', 'erfc', 'square', 'sinh', 'arctan',
                                  'deg2rad', 'logit', 'xlogy'])
def test_more_inplace(name, device):
    args = (np.float32(0.5),) if name == 'xlogy' else ()
    x = randn(3, 4, seed=8, low=0.1, high=0.9)
    compare(lambda lib, t: getattr(t * 1, name + '_')(*[float(a) for a in args]), x, device=device)
