"""Argument helpers shared by the layer classes."""


def _ntuple(v, n):
    """``v`` as a tuple: a sequence is kept as given, a single value is repeated ``n`` times."""
    if isinstance(v, (tuple, list)):
        return tuple(v)
    return (v,) * n
