"""Argument parsing shared by the functional ops."""
import numbers


def int_tuple(v, d, name, message):
    """``v`` (an int, or a sequence of one or ``d`` ints) as a ``d``-tuple of ints. Any other length raises
    RuntimeError with ``message`` formatted with ``name``, ``d`` and ``v`` (the values as a list)."""
    if isinstance(v, numbers.Integral):
        return (int(v),) * d
    v = tuple(int(i) for i in v)
    if len(v) == 1:
        return v * d
    if len(v) != d:
        raise RuntimeError(message.format(name=name, d=d, v=list(v)))
    return v
