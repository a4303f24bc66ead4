"""``npnn.backends.mha``: the switch for the fast path of MultiheadAttention and TransformerEncoder.

With the fast path off, TransformerEncoder keeps padded positions instead of dropping them the way
PyTorch's nested-tensor path does (the padded outputs are then computed, not zero).
"""

_is_fastpath_enabled = True


def get_fastpath_enabled():
    """Whether the fast path of TransformerEncoder and MultiheadAttention is enabled (default True).

    Even when enabled it is taken only where every condition on the inputs holds."""
    return _is_fastpath_enabled


def set_fastpath_enabled(value):
    """Enable or disable the fast path (see ``get_fastpath_enabled``)."""
    global _is_fastpath_enabled
    _is_fastpath_enabled = value
