"""``Variable``: the pre-0.4 PyTorch wrapper. Tensors are Variables now; ``Variable(t, requires_grad)``
returns a new leaf sharing ``t``'s data, and ``isinstance(x, Variable)`` holds for every tensor."""


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ..tensor import Tensor
        return isinstance(obj, Tensor)

    def __call__(cls, data=None, requires_grad=False, volatile=False):
        from ..tensor import Tensor
        from .. import creation
        if data is None:
            data = creation.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


class Variable(metaclass=_VariableMeta):
    pass
