"""npnn dtypes: PyTorch's names over NumPy dtypes, and PyTorch's type-promotion rules."""
import numpy as np


class dtype:
    """A tensor element type (``npnn.float32`` ...); wraps a NumPy dtype."""

    __slots__ = ('name', 'np', 'is_floating_point', 'is_complex', 'is_signed', 'itemsize')

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == 'f'
        self.is_complex = self.np.kind == 'c'
        self.is_signed = self.np.kind in 'fic'
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f'npnn.{self.name}'

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        return {complex64: float32, complex128: float64}.get(self, self)


float16 = dtype('float16', np.float16)
float32 = dtype('float32', np.float32)
float64 = dtype('float64', np.float64)
complex64 = dtype('complex64', np.complex64)
complex128 = dtype('complex128', np.complex128)
int8 = dtype('int8', np.int8)
int16 = dtype('int16', np.int16)
int32 = dtype('int32', np.int32)
int64 = dtype('int64', np.int64)
uint8 = dtype('uint8', np.uint8)
bool_ = dtype('bool', np.bool_)
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

ALL = (float16, float32, float64, complex64, complex128, int8, int16, int32, int64, uint8, bool_)
_from_np = {d.np: d for d in ALL}
_names = {d.name: d for d in ALL}
_names.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

try:  # bfloat16 only where ml_dtypes provides a NumPy type for it
    import ml_dtypes as _mld
    bfloat16 = dtype('bfloat16', _mld.bfloat16)
    bfloat16.is_floating_point = True
    _from_np[bfloat16.np] = bfloat16
    _names['bfloat16'] = bfloat16
except ImportError:  # pragma: no cover - depends on the environment
    bfloat16 = None


def _by_name(name):
    return _names[name]


_default_float = [float32]


def get_default_dtype():
    """The default floating point dtype (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(d):
    """Set the default floating point dtype (float32 or float64 ...)."""
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def from_numpy_dtype(npd):
    """The npnn dtype of a NumPy dtype."""
    try:
        return _from_np[npd]
    except KeyError:
        d = _from_np.get(np.dtype(npd))
        if d is None:
            raise TypeError(f"can't convert np.ndarray of type {np.dtype(npd)}. The only supported types are: "
                            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")
        return d


def to_dtype(d):
    """Accept an npnn dtype, a NumPy dtype/type, a Python type or a name; return the npnn dtype."""
    if d is None or type(d) is dtype:
        return d
    if d is builtins_float:
        return float64
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    if isinstance(d, str):
        try:
            return _names[d.replace('torch.', '').replace('npnn.', '')]
        except KeyError:
            raise TypeError(f"invalid dtype {d!r}") from None
    return from_numpy_dtype(np.dtype(d))


import builtins as _b  # noqa: E402
builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool

# --- promotion ---------------------------------------------------------------------------------------------

_CAT = {'b': 0, 'u': 1, 'i': 1, 'f': 2, 'c': 3}


def category(npd):
    return _CAT[npd.kind]


def promote_np(a, b):
    """PyTorch's promotion of two NumPy dtypes (differs from NumPy for uint8 with int8 → int16 alike)."""
    if a == b:
        return a
    return _promote(a, b)


def result_np_dtype(x, y, x_dim0, y_dim0):
    """Result dtype of two tensors' NumPy dtypes, with PyTorch's rule that a 0-dim tensor does not raise a
    dimensioned tensor of the same category."""
    if x == y:
        return x
    cx, cy = _CAT[x.kind], _CAT[y.kind]
    if x_dim0 != y_dim0:
        if x_dim0 and cx <= cy:
            return y
        if y_dim0 and cy <= cx:
            return x
    return _promote(x, y)


def _promote(x, y):
    """Across categories the higher category's dtype wins (int64 + float32 -> float32), unlike NumPy."""
    cx, cy = _CAT[x.kind], _CAT[y.kind]
    if cx != cy:
        return x if cx > cy else y
    return np.promote_types(x, y)


def scalar_np_dtype(t, s):
    """Result dtype of a tensor of NumPy dtype ``t`` with a Python scalar ``s``."""
    k = t.kind
    if isinstance(s, _b.bool):
        return t
    if isinstance(s, _b.int):
        return np.dtype(np.int64) if k == 'b' else t
    if isinstance(s, _b.float):
        return get_default_dtype().np if k in 'biu' else t
    if isinstance(s, _b.complex):
        if k == 'c':
            return t
        return np.dtype(np.complex128) if t == np.float64 else np.dtype(np.complex64)
    return t
