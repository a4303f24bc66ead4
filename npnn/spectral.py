"""Spectral helpers at the top level: stft, istft and window functions."""
__all__ = []
