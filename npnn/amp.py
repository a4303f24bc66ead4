"""``npnn.amp``: PyTorch's mixed-precision API, accepted so that AMP training scripts run unchanged.

npnn computes in the dtypes the tensors have: ``autocast`` changes no dtype (an autocast region runs in
float32, as PyTorch does where autocast is disabled), and ``GradScaler`` leaves losses and gradients
unscaled; float32 gradients do not underflow, so no scaling is needed.
"""
import contextlib

from .backend import dtypes

__all__ = ['autocast', 'GradScaler', 'is_autocast_available', 'is_autocast_enabled', 'get_autocast_dtype']

_DEVICE_TYPES = ('cpu', 'cuda')


def is_autocast_available(device_type):
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type=None):
    """Always False: inside an npnn ``autocast`` region ops keep their inputs' dtypes, which is what code
    that asks this question should then assume."""
    return False


def get_autocast_dtype(device_type):
    """The lower-precision dtype PyTorch's autocast would pick for ``device_type`` (bfloat16 on cpu when
    available, else float16)."""
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {device_type}")
    return dtypes.bfloat16 if device_type == 'cpu' and dtypes.bfloat16 is not None else dtypes.float16


class autocast(contextlib.ContextDecorator):
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`` — a region in which
    npnn keeps every op in its inputs' dtype."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = dtypes.to_dtype(dtype) if dtype is not None else (
            dtypes.bfloat16 if device_type == 'cpu' and dtypes.bfloat16 is not None else dtypes.float16)
        self._enabled = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class GradScaler:
    """Loss scaling as a pass-through: ``scale(loss)`` returns ``loss``, ``step(optimizer)`` steps it,
    ``unscale_`` and ``update`` do nothing. ``is_enabled()`` is False, as for a disabled PyTorch scaler."""

    def __init__(self, device='cuda', init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._init_scale = init_scale
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        pass

    def get_scale(self):
        return 1.0

    def is_enabled(self):
        return False

    def get_growth_factor(self):
        return self._growth_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def get_growth_interval(self):
        return self._growth_interval

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        pass
