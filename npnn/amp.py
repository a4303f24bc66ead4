"""``npnn.amp``: PyTorch's mixed-precision API, accepted so that AMP training scripts run unchanged.

npnn computes in the dtypes the tensors have: ``autocast`` changes no dtype (an autocast region runs in
float32, as PyTorch does where autocast is disabled). ``GradScaler`` does scale as PyTorch's does: the loss
is multiplied by the scale, ``step`` unscales the gradients and skips the optimizer step when any of them
is inf or nan, and ``update`` backs the scale off or grows it. With float32 training that costs a multiply
per gradient and changes no result (the scale is a power of two), but it protects float16 training.
"""
import contextlib
import warnings
from collections import abc

import numpy as np

from .backend import dtypes
from .backend.device import array_module, on_device
from .tensor import Tensor
from .autograd.grad_mode import no_grad

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


_READY, _UNSCALED, _STEPPED = 0, 1, 2
_FIX = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."


def _fresh_state():
    return {'stage': _READY, 'found_inf_per_device': {}}


class GradScaler:
    """Dynamic loss scaling, as ``torch.amp.GradScaler``.

    ``scale(loss)`` multiplies by the current scale; ``unscale_(opt)`` divides ``opt``'s gradients by it and
    records whether any is inf/nan; ``step(opt)`` unscales if not done and skips ``opt.step()`` on inf/nan;
    ``update()`` multiplies the scale by ``backoff_factor`` after a skipped step, or by ``growth_factor``
    after ``growth_interval`` clean steps in a row. With ``enabled=False`` (or ``device='cuda'`` without a
    GPU, with a warning) every method passes through.
    """

    def __init__(self, device='cuda', init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == 'cuda' and enabled:
            from . import cuda
            if not cuda.is_available():
                warnings.warn("npnn.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                              stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            # Created by the first scale(), as in PyTorch: until then get_scale() reports init_scale.
            self._scale = None
            self._growth_tracker = None
            self._per_optimizer_states = {}

    def _opt_state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def _check_scale(self, funcname):
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + _FIX)

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of tensors) times the scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            # A float32 value (PyTorch keeps the scale in a float32 tensor); growth tracker an int.
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = int(self._init_growth_tracker)

        def apply(val):
            if isinstance(val, Tensor):
                return val * float(self._scale)
            if isinstance(val, abc.Iterable):
                scaled = map(apply, val)
                return type(val)(scaled) if isinstance(val, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def _unscale_grads(self, optimizer, inv_scale, allow_fp16):
        found = {}
        with no_grad():
            for group in optimizer.param_groups:
                for param in group['params']:
                    g = param.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype == dtypes.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    arr = g._data
                    with on_device(arr):
                        bad = array_module(arr).logical_not(array_module(arr).isfinite(arr)).any()
                        dev = g.device
                        found[dev] = bad if dev not in found else (found[dev] | bad)
                    if inv_scale != 1.0:
                        # Unscaled even when non-finite: PyTorch does the same, the step is skipped anyway.
                        g.mul_(inv_scale)
        return found

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale (once per step), recording infs/nans."""
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._opt_state(optimizer)
        if state['stage'] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state['stage'] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # The reciprocal is taken in float64 and rounded to float32, as PyTorch does.
        inv_scale = float(np.float32(1.0 / float(self._scale)))
        state['found_inf_per_device'] = self._unscale_grads(optimizer, inv_scale, False)
        state['stage'] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` unless the gradients hold inf/nan (then None)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if 'closure' in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        state = self._opt_state(optimizer)
        if state['stage'] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state['stage'] == _READY:
            self.unscale_(optimizer)
        if len(state['found_inf_per_device']) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not any(bool(v) for v in state['found_inf_per_device'].values()):
            retval = optimizer.step(*args, **kwargs)
        state['stage'] = _STEPPED
        return retval

    def update(self, new_scale=None):
        """Back the scale off if any step this iteration saw inf/nan, else count a clean step and grow the
        scale every ``growth_interval`` of them; or set it to ``new_scale``."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale = np.float32(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if not isinstance(new_scale, Tensor) or new_scale.device.type != self._device \
                        or new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(reason)
                self._scale = np.float32(new_scale.item())
        else:
            found = [v for st in self._per_optimizer_states.values() for v in st['found_inf_per_device'].values()]
            if len(found) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(bool(v) for v in found):
                self._scale = np.float32(float(self._scale) * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = np.float32(float(self._scale) * self._growth_factor)
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer_states = {}

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale) if self._scale is None else float(self._scale)

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``, ``_growth_tracker``; ``{}``
        when disabled."""
        if not self._enabled:
            return {}
        return {'scale': self.get_scale(), 'growth_factor': self._growth_factor,
                'backoff_factor': self._backoff_factor, 'growth_interval': self._growth_interval,
                '_growth_tracker': self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict['scale']
        if self._scale is not None:
            self._scale = np.float32(state_dict['scale'])
        self._growth_factor = state_dict['growth_factor']
        self._backoff_factor = state_dict['backoff_factor']
        self._growth_interval = state_dict['growth_interval']
        self._init_growth_tracker = state_dict['_growth_tracker']
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict['_growth_tracker'])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning "
                                     "of an iteration, or at the end after scaler.update().")
            state['_init_scale'] = self.get_scale()
            state['_init_growth_tracker'] = self._get_growth_tracker()
            state['_scale'] = None
            state['_growth_tracker'] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
