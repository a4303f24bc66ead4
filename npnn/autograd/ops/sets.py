"""Set and counting ops: unique, unique_consecutive, bincount, histc, searchsorted, bucketize."""
__all__ = []
