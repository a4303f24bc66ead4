"""Fused elementwise kernels: one NumPy expression, and on CuPy one compiled kernel instead of a chain."""
import numpy as np

from .device import cupy_if_loaded


class FusedElementwise:
    """``f(*arrays)``: NumPy arrays run ``numpy_fn``; CuPy arrays run one ``ElementwiseKernel`` built from
    ``params``/``cuda_body`` (compiled once per device and dtype by CuPy, cached here per kernel)."""

    def __init__(self, name, numpy_fn, in_params, out_params, cuda_body):
        self.name = name
        self.numpy_fn = numpy_fn
        self.in_params = in_params
        self.out_params = out_params
        self.body = cuda_body
        self._kernel = None

    def __call__(self, *arrays):
        a0 = arrays[0]
        if isinstance(a0, np.ndarray):
            return self.numpy_fn(*arrays)
        cp = cupy_if_loaded()
        if self._kernel is None:
            self._kernel = cp.ElementwiseKernel(self.in_params, self.out_params, self.body, self.name)
        return self._kernel(*arrays)


# backward rules of the common activations: g is the upstream gradient, y the saved output or x the input
tanh_backward = FusedElementwise('npnn_tanh_bwd', lambda g, y: g * (1.0 - y * y),
                                 'T g, T y', 'T out', 'out = g * (T(1) - y * y)')
sigmoid_backward = FusedElementwise('npnn_sigmoid_bwd', lambda g, y: g * y * (1.0 - y),
                                    'T g, T y', 'T out', 'out = g * y * (T(1) - y)')
relu_backward = FusedElementwise('npnn_relu_bwd', lambda g, y: g * (y > 0),
                                 'T g, T y', 'T out', 'out = y > T(0) ? g : T(0)')
