"""``npnn.fft``: discrete Fourier transforms over the array module's fft."""
__all__ = []
