"""``nn.utils.stateless``: the older home of ``functional_call`` (now ``npnn.func.functional_call``)."""

__all__ = ['functional_call']


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named parameters/buffers replaced; see ``npnn.func.functional_call``."""
    from ...func import functional_call as _call
    return _call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
