"""Lazy modules: ``LazyModuleMixin`` and the lazy convolution and normalisation layers.

A lazy module holds ``UninitializedParameter``/``UninitializedBuffer`` placeholders until its first call,
which infers the missing size (in_features, in_channels, num_features) from the input, materializes the
placeholders, initialises them as the regular layer would, and turns the module into that layer's class
(``cls_to_become``). The placeholders are the same objects before and after, so an optimizer built on them
before the first call keeps working.
"""
import itertools
from collections import OrderedDict

from ...tensor import Tensor
from ...autograd.grad_mode import no_grad
from ... import creation
from ...backend import dtypes
from ..parameter import UninitializedParameter, UninitializedBuffer, is_lazy, _placeholder_array
from .module import _load_state, _EXTRA_STATE_KEY_SUFFIX
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
                            _BatchNorm, _InstanceNorm, _NormBase)

__all__ = ['LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
           'LazyConvTranspose2d', 'LazyConvTranspose3d', 'LazyBatchNorm1d', 'LazyBatchNorm2d', 'LazyBatchNorm3d',
           'LazyInstanceNorm1d', 'LazyInstanceNorm2d', 'LazyInstanceNorm3d']


class _HookHandle:
    """Removes one hook from its module's hook dicts. It holds the dicts themselves (not weak references),
    so it pickles and deep-copies together with its module and keeps pointing at the copy's dicts."""

    def __init__(self, dicts, hook_id):
        self.dicts = dicts
        self.id = hook_id

    def remove(self):
        for d in self.dicts:
            d.pop(self.id, None)


class LazyModuleMixin:
    """Mixin for modules whose parameter shapes come from their first input.

    Until the first call the module holds ``UninitializedParameter``/``UninitializedBuffer`` objects (see
    ``has_uninitialized_params``). The first call runs ``initialize_parameters(*args, **kwargs)`` (from a
    forward pre-hook, before any hook registered later) and then changes the module's class to
    ``cls_to_become``. Convert dtype/device before that call: the placeholders follow ``to``/``cuda``/``double``.
    ``load_state_dict`` with initialized tensors materializes the placeholders with the checkpoint's shapes;
    ``state_dict`` shows placeholders as they are.
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        h = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._load_hook = _HookHandle([self._load_state_dict_pre_hooks], h.id)
        h = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)
        self._initialize_hook = _HookHandle([self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs], h.id)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # placeholders go in as they are (detaching one is not allowed)
        local = OrderedDict()
        super()._save_to_state_dict(local, prefix, True)
        extra = prefix + _EXTRA_STATE_KEY_SUFFIX
        for k, v in local.items():
            if not keep_vars and k != extra and isinstance(v, Tensor) and not is_lazy(v):
                v = v.detach()
            destination[k] = v

    def _apply(self, fn, recurse=True):
        # a conversion that builds new tensors from a placeholder (to_empty's empty_like) must leave a placeholder
        lazy_buffers = [k for k, b in self._buffers.items() if b is not None and is_lazy(b)]
        super()._apply(fn, recurse)
        for k in lazy_buffers:
            b = self._buffers[k]
            if not is_lazy(b):
                self._buffers[k] = UninitializedBuffer(b.requires_grad, b.device, b.dtype)
        for p in self._parameters.values():
            if p is not None and is_lazy(p):
                p._data = _placeholder_array(type(p).__name__, p.device, p._data.dtype)
        return self

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                        error_msgs):
        """Load pre-hook: give each placeholder the shape of the initialized tensor it is about to receive."""
        if getattr(_load_state, 'dry_run', False):
            return  # the validating pass must change nothing
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if t is not None and key in state_dict and is_lazy(t):
                src = state_dict[key]
                if isinstance(src, Tensor) and not is_lazy(src):
                    with no_grad():
                        t.materialize(src.shape)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # a placeholder loaded from a placeholder (a checkpoint of an uninitialized module) stays as it is
        both = {prefix + name for name, t in itertools.chain(self._parameters.items(), self._buffers.items())
                if t is not None and is_lazy(t) and is_lazy(state_dict.get(prefix + name))}
        if not both:
            return super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                                 unexpected_keys, error_msgs)
        rest = {k: v for k, v in state_dict.items() if k not in both}
        n = len(missing_keys)
        super()._load_from_state_dict(rest, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        missing_keys[n:] = [k for k in missing_keys[n:] if k not in both]

    def initialize_parameters(self, *args, **kwargs):
        """Materialize and initialise the placeholders from the forward arguments (each lazy layer defines it)."""
        raise NotImplementedError(f'initialize_parameters is not implemented for {type(self).__name__}')

    def has_uninitialized_params(self):
        """True while any parameter or buffer of this module is still a placeholder."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """Forward pre-hook of the first call: initialise, drop the lazy hooks, become ``cls_to_become``."""
        if '_initialize_hook' not in module.__dict__:
            return  # done by an earlier call that a later pre-hook aborted; the hook's removal is pending
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f'module {self._get_name()} has not been fully initialized')
        d = module.__dict__
        init_hook, load_hook = d.pop('_initialize_hook', None), d.pop('_load_hook', None)
        if load_hook is not None:
            load_hook.remove()
        if init_hook is not None:
            _remove_before_forward(module, init_hook)
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. Run a dummy "
                           "forward pass to correctly initialize the modules")


def _remove_before_forward(module, handle):
    """Remove the initializing pre-hook once the pre-hooks have run: ``Module.__call__`` is iterating over them
    now, so the dict must not change size yet. An instance-level ``forward`` does it and then steps aside."""
    d = module.__dict__
    own = d.get('forward')  # a forward the user set on the instance is put back

    def forward(*args, **kwargs):
        handle.remove()
        if own is None:
            d.pop('forward', None)
        else:
            d['forward'] = own
        return module.forward(*args, **kwargs)

    d['forward'] = forward


# --- convolutions ------------------------------------------------------------------------------------------------

class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` comes from the input's channel dim (dim 1, or dim 0 for an unbatched input)."""

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError('in_channels must be divisible by groups')
            with no_grad():
                if self.transposed:
                    self.weight.materialize((self.in_channels, self.out_channels // self.groups,
                                             *self.kernel_size))
                else:
                    self.weight.materialize((self.out_channels, self.in_channels // self.groups,
                                             *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _get_in_channels(self, input):
        unbatched = self._get_num_spatial_dims() + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {input.shape}")
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]

    def _get_num_spatial_dims(self):
        return self._dims


def _lazy_conv_init(self, out_channels, bias, device, dtype):
    """Replace the (empty) weight built by the regular constructor with placeholders."""
    self.weight = UninitializedParameter(device=device, dtype=dtype)
    self.out_channels = out_channels
    if bias:
        self.bias = UninitializedParameter(device=device, dtype=dtype)


class _LazyConv(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode='zeros', device=None, dtype=None):
        # in/out channels 0 and no bias: nothing real is allocated before the placeholders replace it
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        _lazy_conv_init(self, out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode='zeros', device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode)
        _lazy_conv_init(self, out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """A ``Conv1d`` whose ``in_channels`` is inferred from the first input; it then becomes a ``Conv1d``."""
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A ``Conv2d`` whose ``in_channels`` is inferred from the first input; it then becomes a ``Conv2d``."""
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A ``Conv3d`` whose ``in_channels`` is inferred from the first input; it then becomes a ``Conv3d``."""
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A ``ConvTranspose1d`` whose ``in_channels`` is inferred from the first input."""
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A ``ConvTranspose2d`` whose ``in_channels`` is inferred from the first input."""
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A ``ConvTranspose3d`` whose ``in_channels`` is inferred from the first input."""
    cls_to_become = ConvTranspose3d


# --- normalisation -----------------------------------------------------------------------------------------------

class _LazyNormBase(LazyModuleMixin, _NormBase):
    """``num_features`` comes from the input's dim 1. As in PyTorch, the lazy instance norms default to
    ``affine=True, track_running_stats=True`` like the batch norms."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):
        # affine/track_running_stats off here so the regular constructor allocates nothing
        super().__init__(0, eps, momentum, False, False, device=device, dtype=dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.tensor(0, dtype=dtypes.int64, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
                self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """A ``BatchNorm1d`` whose ``num_features`` is inferred from the first input."""
    _input_dims = BatchNorm1d._input_dims
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """A ``BatchNorm2d`` whose ``num_features`` is inferred from the first input."""
    _input_dims = BatchNorm2d._input_dims
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """A ``BatchNorm3d`` whose ``num_features`` is inferred from the first input."""
    _input_dims = BatchNorm3d._input_dims
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """An ``InstanceNorm1d`` whose ``num_features`` is inferred from the first input (its dim 1)."""
    _nd = 1
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """An ``InstanceNorm2d`` whose ``num_features`` is inferred from the first input (its dim 1)."""
    _nd = 2
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):
    """An ``InstanceNorm3d`` whose ``num_features`` is inferred from the first input (its dim 1)."""
    _nd = 3
    cls_to_become = InstanceNorm3d
