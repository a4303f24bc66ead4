"""Flatten parameters into one vector and back."""
from ...tensor import Tensor

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def _check_same_device(param, previous):
    dev = param.get_device()
    if previous is not None and dev != previous:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return dev


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened and concatenated (differentiable)."""
    from ...autograd import ops
    dev = None
    parts = []
    for p in parameters:
        dev = _check_same_device(p, dev)
        parts.append(p.reshape(-1))
    return ops.cat(parts)


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the matching slice of ``vec`` (a view of it, shaped like the parameter)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    dev = None
    pos = 0
    a = vec._data
    for p in parameters:
        dev = _check_same_device(p, dev)
        n = p.numel()
        p._data = a[pos:pos + n].reshape(p._data.shape)
        pos += n
