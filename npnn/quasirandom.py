"""``npnn.quasirandom``: quasi-random sequences (SobolEngine)."""
__all__ = []
