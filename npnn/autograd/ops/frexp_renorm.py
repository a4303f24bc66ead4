"""``frexp`` (mantissa and binary exponent) and ``renorm`` (cap the norm of each slice along a dim)."""
import collections
import numbers

from ..node import Node
from ._util import make, recording, norm_dim
from ...backend.device import array_module

__all__ = ['frexp', 'renorm']

frexp_result = collections.namedtuple('frexp', ['mantissa', 'exponent'])

# PyTorch names dtypes by their C++ types in frexp's out= errors
_CPP_NAMES = {'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'float32': 'float', 'float64': 'double',
              'int8': 'signed char', 'uint8': 'unsigned char', 'int16': 'short int', 'int32': 'int',
              'int64': 'long int', 'bool': 'bool', 'complex64': 'c10::complex<float>',
              'complex128': 'c10::complex<double>'}


class FrexpBackward0(Node):
    """``grad / 2**exponent`` (the mantissa is ``input`` scaled by a constant)."""
    __slots__ = ('exponent',)

    def backward(self, g):
        xp = array_module(self.exponent)
        scale = xp.ldexp(xp.ones(self.exponent.shape), self.exponent).astype(g._data.dtype)
        return (g / make(scale),)


def frexp(input, *, out=None):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent``, ``|mantissa|`` in [0.5, 1) (or 0) and an
    int32 exponent; inf and NaN keep their value with exponent 0. The mantissa is differentiable."""
    x = input._data
    bf16 = x.dtype.name == 'bfloat16'  # ml_dtypes' type: no NumPy ufuncs, computed through float32
    if x.dtype.kind != 'f' and not bf16:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    if out is not None:
        om, oe = out
        if om._data.dtype != x.dtype:
            raise RuntimeError(f"torch.frexp() expects mantissa to have dtype {_CPP_NAMES[x.dtype.name]} but got "
                               f"{_CPP_NAMES.get(om._data.dtype.name, om._data.dtype.name)}")
        if oe._data.dtype.name != 'int32':
            raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got "
                               f"{_CPP_NAMES.get(oe._data.dtype.name, oe._data.dtype.name)}")
    xp = array_module(x)
    m, e = xp.frexp(x.astype('float32') if bf16 else x)
    m, e = m.astype(x.dtype, copy=False), e.astype('int32', copy=False)
    if recording(input):
        node = FrexpBackward0((input,))
        node.exponent = e
        res = frexp_result(make(m, node), make(e))
    else:
        res = frexp_result(make(m), make(e))
    if out is None:
        return res
    out[0]._assign_out(res.mantissa)
    out[1]._assign_out(res.exponent)
    return frexp_result(*out)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` scaled to norm ``maxnorm``
    (by ``maxnorm / (norm + 1e-7)``, as PyTorch); differentiable, including through the norm."""
    from .elementwise import where
    from .reduction import vector_norm
    nd = input.ndim
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    d = norm_dim(dim, nd)
    if not isinstance(p, numbers.Real) or p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    norms = vector_norm(input, p, [i for i in range(nd) if i != d], keepdim=True)
    xp = array_module(norms._data)
    one = make(xp.ones((), dtype=norms._data.dtype))
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), one)
    res = input * factor
    if out is not None:
        out._assign_out(res)
        return out
    return res
