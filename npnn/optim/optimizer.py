"""Optimizer: the base class holding parameter groups, per-parameter state, hooks and state dicts."""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from ..tensor import Tensor
from ..backend.device import array_to, device_of, on_device, array_module
from ..autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from ..utils.hooks import _add_hook

__all__ = ['Optimizer', 'required', 'register_optimizer_step_pre_hook', 'register_optimizer_step_post_hook']


class _RequiredParameter:
    """Marks a hyper-parameter that every param group must give."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """A pre-hook ``hook(optimizer, args, kwargs)`` run before every optimizer's step."""
    return _add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """A post-hook ``hook(optimizer, args, kwargs)`` run after every optimizer's step."""
    return _add_hook(_global_post_hooks, hook)


def _to_scalar(x):
    """A Python number from a number or a one-element tensor."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


_HPARAM_LABELS = {'lr': 'learning rate', 'eps': 'epsilon value'}


def _check_nonnegative(**hparams):
    """Raise PyTorch's "Invalid <name> value: <v>" for the first negative hyper-parameter, in the order given.

    ``lr`` is first checked to be a number or a one-element tensor.
    """
    for name, value in hparams.items():
        if name == 'lr':
            _check_lr(value)
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_HPARAM_LABELS.get(name, name + ' value')}: {value}")


def _check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= _to_scalar(betas[i]) < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def _check_common(lr, eps, betas, weight_decay):
    """The Adam family's checks: lr, eps, betas (unless None), weight_decay."""
    _check_nonnegative(lr=lr, eps=eps)
    if betas is not None:
        _check_betas(betas)
    _check_nonnegative(weight_decay=weight_decay)


def _fused_checks(fused, foreach, differentiable):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _use_grad(step):
    """Run ``step`` with grad mode set to the optimizer's ``differentiable`` default (off normally)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        with set_grad_enabled(bool(self.defaults.get('differentiable', False))):
            return step(self, *args, **kwargs)
    return wrapper


def _with_hooks(step):
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            res = hook(self, args, kwargs)
            if res is not None:
                if isinstance(res, tuple) and len(res) == 2:
                    args, kwargs = res
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {res}.")
        out = step(self, *args, **kwargs)
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper._npnn_hooked = True
    return wrapper


def _f32_scalar(value):
    """A float32 scalar tensor on the CPU: how PyTorch keeps scalar optimizer state."""
    return Tensor._make(np.array(value, dtype=np.float32))


def _step_tensor(value=0.0):
    """The 'step' state."""
    return _f32_scalar(value)


def _zeros_like(p, fill=None):
    """A state tensor shaped like parameter ``p`` (same device and dtype), zero or ``fill``."""
    a = p._data
    xp = array_module(a)
    with on_device(a):
        arr = xp.zeros_like(a) if fill is None or fill == 0 else xp.full_like(a, fill)
    return Tensor._make(arr)


def _bump(p):
    """Record an in-place update of a parameter (autograd's saved-tensor version check)."""
    p._vc[0] += 1


def _typename(obj):
    from ..functional_api import typename
    return typename(obj)


class Optimizer:
    """Base class of all optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (param groups) whose
    keys override ``defaults`` for that group.
    """

    _zero_state = ()  # names of the per-parameter state buffers that start as zeros shaped like the parameter

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get('step')
        if step is not None and not getattr(step, '_npnn_hooked', False):
            cls.step = _with_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{'params': groups}]
        for g in groups:
            self.add_param_group(g)

    # --- pickling / repr --------------------------------------------------------------------------------------
    def __getstate__(self):
        return {'defaults': self.defaults, 'state': self.state, 'param_groups': self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for k in ('_optimizer_step_pre_hooks', '_optimizer_step_post_hooks', '_optimizer_state_dict_pre_hooks',
                  '_optimizer_state_dict_post_hooks', '_optimizer_load_state_dict_pre_hooks',
                  '_optimizer_load_state_dict_post_hooks'):
            if k not in self.__dict__:
                setattr(self, k, OrderedDict())
        self.defaults.setdefault('differentiable', False)

    def __repr__(self):
        s = self.__class__.__name__ + ' ('
        for i, group in enumerate(self.param_groups):
            s += '\n' + f'Parameter Group {i}\n'
            for key in sorted(group.keys()):
                if key != 'params':
                    s += f'    {key}: {group[key]}\n'
        s += ')'
        return s

    # --- param groups -----------------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a param group; options it leaves out take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group['params']
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        group = dict(param_group)
        group['params'] = tensors
        if names:
            group['param_names'] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not self.defaults.get('differentiable', None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g['params'])
            if ('param_names' in group) != ('param_names' in g):
                txt = 'with names' if 'param_names' in group else 'without names'
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        # write back like torch (the caller's dict becomes the group)
        param_group.clear()
        param_group.update(group)
        self.param_groups.append(param_group)

    # --- hooks ------------------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each step; may return new ``(args, kwargs)``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each step."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend=prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend=prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend=prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend=prepend)

    # --- state dict -------------------------------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as PyTorch packs it."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != 'params'}
            for i, p in enumerate(group['params'], start):
                mapping.setdefault(id(p), i)
            packed['params'] = [mapping[id(p)] for p in group['params']]
            start += len(packed['params'])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {'state': state, 'param_groups': groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            res = hook(self, sd)
            if res is not None:
                sd = res
        return sd

    @staticmethod
    def _cast_state(param, value, key, fused_or_capturable):
        """A copy of a state tensor on ``param``'s device (floating state cast to its dtype, except 'step')."""
        dev = device_of(param._data)
        arr = value._data
        if key == 'step':
            if fused_or_capturable:
                arr = array_to(arr.astype(np.float32, copy=False), dev)
            return Tensor._make(arr.copy())
        if param.is_floating_point() and arr.dtype.kind == 'f':
            arr = arr.astype(param._data.dtype, copy=False)
        with on_device(param._data):
            out = array_to(arr, dev)
            if out is arr:
                out = arr.copy()
        return Tensor._make(out)

    def load_state_dict(self, state_dict):
        """Load a state dict from ``state_dict()`` (possibly of another optimizer over a copy of the model).

        Raises ValueError, changing nothing, when the group layout differs.
        """
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            res = hook(self, state_dict)
            if res is not None:
                state_dict = res
        groups = self.param_groups
        saved_groups = deepcopy(state_dict['param_groups'])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g['params']) != len(s['params']) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(s['params'] for s in saved_groups),
                          chain.from_iterable(g['params'] for g in groups)))
        flags = {}
        for s in state_dict['param_groups']:
            f = bool(s.get('fused', False) or s.get('capturable', False))
            for i in s['params']:
                flags[i] = f

        def cast(param, value, pid, key=None):
            if isinstance(value, Tensor):
                return Optimizer._cast_state(param, value, key, flags.get(pid, False))
            if isinstance(value, dict):
                return {k: cast(param, v, pid, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, pid) for v in value)
            return deepcopy(value)

        state = defaultdict(dict)
        for k, v in state_dict['state'].items():
            if k in id_map:
                p = id_map[k]
                state[p] = cast(p, v, k)
            else:
                state[k] = v
        new_groups = []
        for g, ng in zip(groups, saved_groups):
            ng['params'] = g['params']
            if 'param_names' in g and 'param_names' not in ng:
                ng['param_names'] = g['param_names']
            new_groups.append(ng)
        self.__setstate__({'state': state, 'param_groups': new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # --- gradients and steps ----------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group['params']:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._node is not None:
                        g._node = None
                    g._rg = False
                    g._data[...] = 0
                    g._vc[0] += 1

    def step(self, closure=None):
        """Perform one optimization step (``closure`` re-evaluates the model and returns the loss)."""
        raise NotImplementedError

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _params_with_grad(self, group):
        """The group's parameters that have a gradient (frozen ones, grad None, are skipped)."""
        return [p for p in group['params'] if p._grad is not None]

    def _setdefault_groups(self, **options):
        """Give every param group the options it lacks (groups saved before those options existed)."""
        for g in self.param_groups:
            for k, v in options.items():
                g.setdefault(k, v)

    def _init_state(self, group, p, state):
        """Fill the empty per-parameter ``state`` of ``p``: a 'step' count and the ``_zero_state`` buffers."""
        state['step'] = _step_tensor()
        for name in self._zero_state:
            state[name] = _zeros_like(p)

    def _grads_and_states(self, group, sparse_error=None):
        """Yield ``(p, state)`` for each parameter of ``group`` with a gradient, creating its state first.

        With ``sparse_error``, a sparse gradient raises RuntimeError with that message.
        """
        for p in group['params']:
            if p._grad is None:
                continue
            if sparse_error is not None and p._grad.is_sparse:
                raise RuntimeError(sparse_error)
            state = self.state[p]
            if len(state) == 0:
                self._init_state(group, p, state)
            yield p, state

    def _steps(self, group, sparse_error=None):
        """Like ``_grads_and_states``, for optimizers that count steps: each parameter's ``state['step']``
        is advanced first, the loop body runs under the parameter's device, and the parameter's version is
        bumped after it. Yields ``(p, state, step)`` with the new step count as a float."""
        for p, state in self._grads_and_states(group, sparse_error):
            st = state['step']
            st._data += 1
            with on_device(p._data):
                yield p, state, float(st._data)
            _bump(p)


def _grad_array(p):
    return p._grad._data
