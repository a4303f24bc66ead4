"""Top-level helpers that are not ops: type queries and small utilities."""
from .tensor import Tensor
from .backend import dtypes

__all__ = ['is_tensor', 'is_storage', 'is_floating_point', 'is_complex', 'numel', 'typename', 'result_type',
           'promote_types', 'can_cast', 'is_nonzero', 'rsub', 'resolve_conj', 'resolve_neg', 'is_conj', 'is_neg']


def is_tensor(obj):
    """True if ``obj`` is an npnn Tensor."""
    return isinstance(obj, Tensor)


def is_storage(obj):
    """Always False: npnn has no storages."""
    return False


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def numel(input):
    return input.numel()


def typename(obj):
    """The type name of a tensor (``'npnn.FloatTensor'``) or of any object."""
    if isinstance(obj, Tensor):
        return obj.type()
    t = type(obj)
    return t.__name__ if t.__module__ == 'builtins' else f'{t.__module__}.{t.__qualname__}'


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op between the two would give."""
    from .autograd.ops._util import binary_arrays
    from .creation import tensor
    a = tensor1 if isinstance(tensor1, Tensor) else tensor(tensor1)
    ad, bd, _ = binary_arrays(a, tensor2)
    import numpy as np
    return dtypes.from_numpy_dtype(np.result_type(ad, bd) if hasattr(bd, 'dtype') else ad.dtype)


def promote_types(type1, type2):
    """PyTorch's promotion: across categories the higher one's dtype wins (int64 with float32 is float32)."""
    return dtypes.from_numpy_dtype(dtypes.promote_np(dtypes.to_dtype(type1).np, dtypes.to_dtype(type2).np))


def can_cast(from_, to):
    import numpy as np
    return bool(np.can_cast(dtypes.to_dtype(from_).np, dtypes.to_dtype(to).np, 'same_kind'))


def rsub(input, other, *, alpha=1):
    from .autograd.ops.elementwise import rsub as _r
    return _r(input, other, alpha=alpha)


def resolve_conj(input):
    """``input``: npnn keeps no lazy conjugate bit, so there is nothing to resolve."""
    return input.resolve_conj()


def resolve_neg(input):
    """``input``: npnn keeps no lazy negative bit."""
    return input.resolve_neg()


def is_conj(input):
    return input.is_conj()


def is_neg(input):
    return input.is_neg()
