"""``npnn.linalg``: linear algebra with gradients."""
__all__ = []
