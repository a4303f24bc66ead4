"""Autograd: the tape-ordered engine, grad modes, custom Functions, gradcheck and functional transforms."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, detect_anomaly, set_detect_anomaly)
from .functions import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .node import Node
from .variable import Variable
from . import grad_mode


def __getattr__(name):
    # gradcheck and functional import tensor-level code; load them on first use
    if name in ('gradcheck', 'gradgradcheck'):
        from . import _gradcheck as _gc
        return getattr(_gc, name)
    if name in ('functional', 'profiler'):
        import importlib
        return importlib.import_module('.' + name, __name__)
    raise AttributeError(f"module 'npnn.autograd' has no attribute '{name}'")
