"""Module: the base class of every layer, with PyTorch's registration, hooks, state dicts and conversions."""
import functools
import itertools
import threading
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ...tensor import Tensor
from ...autograd.grad_mode import state as _grad_state, no_grad
from ...autograd.node import Node
from ..parameter import Parameter, Buffer, UninitializedTensorMixin
from ...utils.hooks import RemovableHandle, _add_hook

__all__ = ['Module', 'RemovableHandle', 'register_module_forward_pre_hook', 'register_module_forward_hook',
           'register_module_full_backward_hook', 'register_module_full_backward_pre_hook']

_EXTRA_STATE_KEY_SUFFIX = '_extra_state'


def _typename(obj):
    """PyTorch's ``typename``: ``'npnn.FloatTensor'`` for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    t = type(obj)
    mod = t.__module__ or ''
    return t.__qualname__ if mod in ('', 'builtins') else f'{mod}.{t.__qualname__}'


def _addindent(text, spaces):
    lines = text.split('\n')
    if len(lines) == 1:
        return text
    return lines[0] + '\n' + '\n'.join(' ' * spaces + ln for ln in lines[1:])


_IncompatibleKeysBase = namedtuple('IncompatibleKeys', ['missing_keys', 'unexpected_keys'])


class _IncompatibleKeys(_IncompatibleKeysBase):
    """What ``load_state_dict`` returns: the missing and unexpected keys."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return '<All keys matched successfully>'
        return super().__repr__()

    __str__ = __repr__


# hooks that apply to every module
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()


def register_module_forward_pre_hook(hook):
    """A forward pre-hook ``hook(module, args)`` run for every module (before its own)."""
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, always_call=False):
    """A forward hook ``hook(module, args, output)`` run for every module (before its own)."""
    h = _add_hook(_global_forward_hooks, hook, extra_dict=_global_forward_hooks_always_called)
    if always_call:
        _global_forward_hooks_always_called[h.id] = True
    return h


def register_module_full_backward_hook(hook):
    """A full backward hook ``hook(module, grad_input, grad_output)`` for every module."""
    return _add_hook(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    """A backward pre-hook ``hook(module, grad_output)`` for every module."""
    return _add_hook(_global_backward_pre_hooks, hook)


# --- full backward hooks: identity nodes around a call's inputs and outputs ---------------------------------

class _HookIdentity(Node):
    """An identity op over several tensors; its backward hands the gradients to a ``_BackwardHook``."""

    saves = False

    def __init__(self, tensors, owner, is_output):
        Node.__init__(self, tensors)
        self.n_outputs = len(tensors)
        self._owner = owner
        self._is_output = is_output

    def name(self):
        return 'BackwardHookFunctionBackward'

    def backward(self, grads):
        single = self.n_outputs == 1
        gl = [grads] if single else list(grads)
        gl = self._owner._on_output(gl) if self._is_output else self._owner._on_input(gl)
        return gl[0] if single else tuple(gl)


class _BackwardHook:
    """State shared by the input and output identity nodes of one module call.

    As in PyTorch, ``grad_input`` has one entry per positional argument (None for non-tensors, zeros for
    tensors that need no gradient when another input does) and ``grad_output`` one per output element (None
    where no gradient flows).
    """

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_output = None
        self.n_inputs = 0
        self.input_pos = []     # positions of the arguments that flow through the input node
        self.input_zeros = {}   # position -> (shape, dtype, array module) of tensors needing no gradient
        self.output_pos = []
        self.n_outputs = 0

    @staticmethod
    def _wrap(values, owner, is_output):
        """Route the tensors that require grad in ``values`` (a tensor or a tuple/list) through one node;
        returns (new values, number of entries, positions routed)."""
        single = isinstance(values, Tensor)
        seq = [values] if single else list(values)
        pos = [i for i, v in enumerate(seq) if isinstance(v, Tensor) and v._rg] if _grad_state.enabled else []
        if pos:
            node = _HookIdentity([seq[i] for i in pos], owner, is_output)
            for k, i in enumerate(pos):
                t = Tensor._make(seq[i]._data, node, k if len(pos) > 1 else 0)
                t._vc = seq[i]._vc
                seq[i] = t
        if single:
            out = seq[0]
        elif hasattr(values, '_fields'):
            out = type(values)(*seq)
        else:
            out = type(values)(seq)
        return out, len(seq), pos

    def setup_input_hook(self, args):
        args, self.n_inputs, self.input_pos = self._wrap(args, self, False)
        if self.input_pos:
            from ...backend.device import array_module
            self.input_zeros = {i: (a._data.shape, a._data.dtype, array_module(a._data))
                                for i, a in enumerate(args) if isinstance(a, Tensor) and i not in self.input_pos}
        return args

    def setup_output_hook(self, result):
        if isinstance(result, Tensor) or (isinstance(result, (tuple, list)) and not hasattr(result, '_fields')):
            result, self.n_outputs, self.output_pos = self._wrap(result, self, True)
        return result

    @staticmethod
    def _run_hooks(hooks, full, call, who, what):
        """Run ``call(hook, full)`` per hook; a result that is not None (a tensor or a sequence as long as
        ``full``) replaces ``full``."""
        for hook in hooks:
            r = call(hook, full)
            if r is None:
                continue
            r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
            if len(r) != len(full):
                raise RuntimeError(f"{who} returned an invalid number of {what}, got {len(r)}, but expected "
                                   f"{len(full)}")
            full = r
        return full

    def _on_output(self, grads):
        full = [None] * self.n_outputs
        for k, p in enumerate(self.output_pos):
            full[p] = grads[k]
        full = self._run_hooks(self.pre_hooks, tuple(full), lambda hook, f: hook(self.module, f),
                               'Backward pre hook', 'grad_output')
        self.grad_output = full
        if not self.input_pos and self.hooks:
            # no input needs a gradient: the hooks run now, with grad_input all None
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients.", stacklevel=2)
            gi = (None,) * self.n_inputs
            for hook in self.hooks:
                r = hook(self.module, gi, full)
                if r is not None and not all(x is None for x in (r if isinstance(r, (tuple, list)) else (r,))):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
        return [full[p] for p in self.output_pos]

    def _on_input(self, grads):
        full = [None] * self.n_inputs
        for k, p in enumerate(self.input_pos):
            full[p] = grads[k]
        for p, (shape, dt, xp) in self.input_zeros.items():
            full[p] = Tensor._make(xp.zeros(shape, dtype=dt))
        go = self.grad_output if self.grad_output is not None else (None,) * max(self.n_outputs, 1)
        full = self._run_hooks(self.hooks, tuple(full), lambda hook, f: hook(self.module, f, go),
                               'Backward hook', 'grad_input')
        return [full[p] for p in self.input_pos]


_load_state = threading.local()  # .dry_run: validating a load_state_dict without writing


def _has_user_load_hooks(root):
    """Whether any module under ``root`` has load_state_dict pre/post hooks other than the lazy modules'
    own (which know about the validating pass)."""
    for m in root.modules():
        if m._load_state_dict_post_hooks:
            return True
        for h in m._load_state_dict_pre_hooks.values():
            fn = h.func if isinstance(h, functools.partial) else h
            if getattr(fn, '__name__', '') != '_lazy_load_hook':
                return True
    return False


class Module:
    """Base class for all neural network modules; subclasses define ``forward`` and register parameters,
    buffers and submodules as attributes."""

    dump_patches = False
    _version = 1
    call_super_init = False
    training: bool

    def __init__(self, *args, **kwargs):
        if not self.call_super_init and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if not self.call_super_init and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} "
                            "were given")
        s = object.__setattr__
        s(self, 'training', True)
        s(self, '_parameters', {})
        s(self, '_buffers', {})
        s(self, '_non_persistent_buffers_set', set())
        s(self, '_backward_pre_hooks', OrderedDict())
        s(self, '_backward_hooks', OrderedDict())
        s(self, '_is_full_backward_hook', None)
        s(self, '_forward_hooks', OrderedDict())
        s(self, '_forward_hooks_with_kwargs', OrderedDict())
        s(self, '_forward_hooks_always_called', OrderedDict())
        s(self, '_forward_pre_hooks', OrderedDict())
        s(self, '_forward_pre_hooks_with_kwargs', OrderedDict())
        s(self, '_state_dict_hooks', OrderedDict())
        s(self, '_state_dict_pre_hooks', OrderedDict())
        s(self, '_load_state_dict_pre_hooks', OrderedDict())
        s(self, '_load_state_dict_post_hooks', OrderedDict())
        s(self, '_modules', {})
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    def forward(self, *input):
        """Define the computation; call the module (``m(x)``) rather than this, so hooks run."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # --- registration -----------------------------------------------------------------------------------
    def _check_register(self, kind, table, name):
        """Validate ``name`` for ``register_buffer``/``register_parameter`` (``kind``: 'buffer'/'parameter')."""
        if table not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if '.' in name:
            raise KeyError(f"{kind} name can't contain \".\"")
        if name == '':
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in self.__dict__[table]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer (state that is not a parameter); non-persistent buffers stay out of ``state_dict``."""
        self._check_register('buffer', '_buffers', name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (torch Tensor or None "
                            "required)")
        if isinstance(tensor, Buffer):
            tensor.__dict__.pop('_is_buffer', None)
            tensor.__dict__.pop('_buffer_persistent', None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Add a parameter (a ``Parameter`` or None) under ``name``."""
        self._check_register('parameter', '_parameters', name)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' (torch.nn.Parameter "
                            "or None required)")
        if param._node is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             f"created explicitly. To express '{name}' as a function of another Tensor, compute "
                             "the value in the forward() method.")
        self._parameters[name] = param

    def add_module(self, name, module):
        """Add a child module (or None) under ``name``."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if '.' in name:
            raise KeyError(f"module name can't contain \".\", got: {name}")
        if name == '':
            raise KeyError("module name can't be empty string \"\"")
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias of ``add_module``."""
        self.add_module(name, module)

    def get_submodule(self, target):
        """The submodule at a dotted path (``'net.0'``); '' is this module."""
        if target == '':
            return self
        mod = self
        for item in target.split('.'):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + ' has no attribute `' + item + '`')
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError('`' + item + '` is not an nn.Module')
        return mod

    def set_submodule(self, target, module, strict=False):
        """Replace (or, unless ``strict``, add) the submodule at a dotted path."""
        if target == '':
            raise ValueError("Cannot set the submodule without a target name!")
        path, _, name = target.rpartition('.')
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + ' has no attribute `' + name + '`')
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError('`' + name + '` is not an nn.Module')
        setattr(parent, name, module)

    def _attr_at_path(self, target):
        """``(owner, name, value)`` for the attribute at a dotted path."""
        path, _, name = target.rpartition('.')
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + ' has no attribute `' + name + '`')
        return mod, name, getattr(mod, name)

    def get_parameter(self, target):
        """The parameter at a dotted path (``'net.0.weight'``)."""
        _, name, p = self._attr_at_path(target)
        if not isinstance(p, Parameter):
            raise AttributeError('`' + name + '` is not an nn.Parameter')
        return p

    def get_buffer(self, target):
        """The buffer at a dotted path (``'bn.running_mean'``)."""
        mod, name, b = self._attr_at_path(target)
        if name not in mod._buffers:
            raise AttributeError('`' + name + '` is not a buffer')
        return b

    def get_extra_state(self):
        """Extra state to put in ``state_dict`` (override together with ``set_extra_state``)."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called. Please "
                           "file an issue to report this bug.")

    def set_extra_state(self, state):
        """Restore the extra state from ``state_dict`` (override together with ``get_extra_state``)."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called. Please "
                           "file an issue to report this bug.")

    # --- attribute protocol -----------------------------------------------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        if '_parameters' in d:
            p = d['_parameters']
            if name in p:
                return p[name]
        if '_buffers' in d:
            b = d['_buffers']
            if name in b:
                return b[name]
        if '_modules' in d:
            m = d['_modules']
            if name in m:
                return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__

        def remove_from(*containers):
            for c in containers:
                if name in c:
                    if isinstance(c, dict):
                        del c[name]
                    else:
                        c.discard(name)

        params = d.get('_parameters')
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' (torch.nn.Parameter or "
                                "None expected)")
            self.register_parameter(name, value)
            return
        modules = d.get('_modules')
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' (torch.nn.Module or "
                                "None expected)")
            modules[name] = value
            return
        buffers = d.get('_buffers')
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' (torch.nn.Buffer, "
                                "torch.Tensor or None expected)")
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            if isinstance(value, Buffer):
                persistent = value.__dict__.get('_buffer_persistent', True)
                remove_from(d, self._parameters, self._modules)
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = dir(type(self)) + list(self.__dict__) + list(self._parameters) + list(self._modules) + \
            list(self._buffers)
        return sorted(k for k in keys if not k[0].isdigit())

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ('_forward_pre_hooks', '_forward_pre_hooks_with_kwargs', '_forward_hooks',
                     '_forward_hooks_with_kwargs', '_forward_hooks_always_called', '_state_dict_hooks',
                     '_state_dict_pre_hooks', '_load_state_dict_pre_hooks', '_load_state_dict_post_hooks',
                     '_backward_pre_hooks', '_backward_hooks'):
            if name not in self.__dict__:
                object.__setattr__(self, name, OrderedDict())
        if '_non_persistent_buffers_set' not in self.__dict__:
            object.__setattr__(self, '_non_persistent_buffers_set', set())
        if '_is_full_backward_hook' not in self.__dict__:
            object.__setattr__(self, '_is_full_backward_hook', None)

    # --- calling and hooks ------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Run ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``) before forward;
        a returned value replaces the arguments."""
        h = _add_hook(self._forward_pre_hooks, hook, prepend=prepend, extra_dict=self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[h.id] = True
        return h

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Run ``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``) after forward; a
        returned value replaces the output. ``always_call`` runs it even when forward raises."""
        h = _add_hook(self._forward_hooks, hook, prepend=prepend,
                      extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        if with_kwargs:
            self._forward_hooks_with_kwargs[h.id] = True
        if always_call:
            self._forward_hooks_always_called[h.id] = True
        return h

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Run ``hook(module, grad_output)`` when the gradients of the outputs are known; it may return new
        ``grad_output``."""
        return _add_hook(self._backward_pre_hooks, hook, prepend=prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """Run ``hook(module, grad_input, grad_output)`` when the gradients of the inputs are computed; it may
        return new ``grad_input``."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single Module. "
                               "Please use only one of them.")
        self._is_full_backward_hook = True
        return _add_hook(self._backward_hooks, hook, prepend=prepend)

    def register_backward_hook(self, hook):
        """Deprecated form of ``register_full_backward_hook`` (runs as a full backward hook here)."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single Module. "
                               "Please use only one of them.")
        self._is_full_backward_hook = False
        return _add_hook(self._backward_hooks, hook)

    def _call_impl(self, *args, **kwargs):
        d = self.__dict__
        if not (d['_forward_pre_hooks'] or d['_forward_hooks'] or d['_backward_hooks'] or d['_backward_pre_hooks']
                or _global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks or
                _global_backward_pre_hooks):
            return self.forward(*args, **kwargs)
        called = set()
        try:
            # copies: a hook may remove itself (or others) while the hooks run, as PyTorch allows
            for hid, hook in list(itertools.chain(_global_forward_pre_hooks.items(), self._forward_pre_hooks.items())):
                if hid in self._forward_pre_hooks_with_kwargs:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {res}.")
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            bw = None
            hooks = list(_global_backward_hooks.values()) + list(self._backward_hooks.values())
            pre = list(_global_backward_pre_hooks.values()) + list(self._backward_pre_hooks.values())
            if hooks or pre:
                bw = _BackwardHook(self, hooks, pre)
                args = bw.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hid, hook in list(itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items())):
                called.add(hid)
                if hid in self._forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
            if bw is not None:
                result = bw.setup_output_hook(result)
            return result
        except Exception:
            for hid, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
                if hid in called:
                    continue
                if hid in self._forward_hooks_always_called or hid in _global_forward_hooks_always_called:
                    try:
                        if hid in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:
                        pass
            raise

    __call__ = _call_impl

    # --- iteration ----------------------------------------------------------------------------------------
    def _named_members(self, get_members, prefix='', recurse=True, remove_duplicate=True):
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen = set()
        for mprefix, mod in mods:
            for k, v in get_members(mod):
                if v is None:
                    continue
                if remove_duplicate:
                    if id(v) in seen:
                        continue
                    seen.add(id(v))
                yield (mprefix + ('.' if mprefix else '') + k, v)

    def parameters(self, recurse=True):
        """Iterate over the parameters (of this module and, with ``recurse``, its submodules)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        """Iterate over ``(dotted_name, parameter)``; shared parameters appear once unless
        ``remove_duplicate=False``."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Iterate over the buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        """Iterate over ``(dotted_name, buffer)``."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self):
        """Iterate over the direct submodules."""
        for _, m in self.named_children():
            yield m

    def named_children(self):
        """Iterate over ``(name, module)`` of the direct submodules (each once)."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def modules(self):
        """Iterate over all modules of the tree, this one first."""
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        """Iterate over ``(dotted_name, module)`` of the tree, this one first (name ``prefix``)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ('.' if prefix else '') + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    # --- modes and gradients ------------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (affects Dropout, BatchNorm ...) here and in all submodules; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """Set evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter (freeze with False); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the parameters' gradients: to None (default) or to zeros."""
        for p in self.parameters():
            g = p._grad
            if g is None:
                continue
            if set_to_none:
                p._grad = None
            else:
                if g._node is not None:
                    g.detach_()
                else:
                    g._rg = False
                g._data[...] = 0
                g._vc[0] += 1

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and then on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # --- conversions --------------------------------------------------------------------------------------
    def _apply(self, fn, recurse=True):
        """Convert every parameter and buffer with ``fn``; parameters keep their identity (their array is
        replaced in place, and so is their gradient's)."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        for p in self._parameters.values():
            if p is None:
                continue
            with no_grad():
                new = fn(p)
            p._data = new._data
            g = p._grad
            if g is not None:
                with no_grad():
                    g._data = fn(g)._data
        for k, b in self._buffers.items():
            if b is not None:
                with no_grad():
                    self._buffers[k] = fn(b)
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(tensor)``; only floating point values change dtype. Returns self."""
        from ...tensor import _parse_to
        kwargs = {k: v for k, v in kwargs.items() if k not in ('non_blocking', 'memory_format')}
        dev, dt, _ = _parse_to(args, kwargs)
        if dt is not None and not (dt.is_floating_point or dt.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dt}")

        def convert(t):
            r = t
            if dev is not None and r.device != dev:
                r = r.to(dev)
            if dt is not None and (r.is_floating_point() or r.is_complex()) and r.dtype != dt:
                if r.is_complex() and not dt.is_complex:
                    return r
                r = r.to(dt)
            return r
        return self._apply(convert)

    def cuda(self, device=None):
        """Move everything to a GPU; returns self."""
        return self._apply(lambda t: t.cuda(device))

    def cpu(self):
        """Move everything to the CPU; returns self."""
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        """Cast every parameter and buffer to ``dst_type``; returns self."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        """Cast floating point parameters and buffers to float32; returns self."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        """Cast floating point parameters and buffers to float64; returns self."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        """Cast floating point parameters and buffers to float16; returns self."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self):
        """Cast floating point parameters and buffers to bfloat16; returns self."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def to_empty(self, *, device=None, recurse=True):
        """Move to ``device`` without copying values (uninitialized storage); returns self."""
        from ...creation import empty_like
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def compile(self, *args, **kwargs):
        """``model.compile(...)``: accepted and ignored, like ``npnn.compile`` (npnn runs eagerly)."""
        return None

    def share_memory(self):
        """Kept for compatibility (arrays are shared with worker processes by the data loader); returns self."""
        return self._apply(lambda t: t.share_memory_())

    # --- state dict ---------------------------------------------------------------------------------------
    def _register_state_dict_hook(self, hook):
        return _add_hook(self._state_dict_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """Run ``hook(module, state_dict, prefix, local_metadata)`` after this module's part is saved."""
        return self._register_state_dict_hook(hook)

    def register_state_dict_pre_hook(self, hook):
        """Run ``hook(module, prefix, keep_vars)`` before this module's part is saved."""
        return _add_hook(self._state_dict_pre_hooks, hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        return _add_hook(self._load_state_dict_pre_hooks, functools.partial(hook, self) if with_module else hook)

    def register_load_state_dict_pre_hook(self, hook):
        """Run ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` before this module's part is loaded."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook):
        """Run ``hook(module, incompatible_keys)`` after ``load_state_dict``; it may edit the key lists."""
        return _add_hook(self._load_state_dict_post_hooks, hook)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Put this module's own parameters and persistent buffers (not its children's) in ``destination``."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix='', keep_vars=False):
        """An ``OrderedDict`` of every parameter and persistent buffer by dotted name, in PyTorch's order
        (own parameters, own buffers, then each child's); tensors are detached unless ``keep_vars``."""
        if args:
            destination = args[0] if len(args) > 0 else destination
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        meta = dict(version=self._version)
        if hasattr(destination, '_metadata'):
            destination._metadata[prefix[:-1]] = meta
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + '.', keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            r = hook(self, destination, prefix, meta)
            if r is not None:
                destination = r
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Load this module's own parameters and persistent buffers from ``state_dict`` (keys with ``prefix``),
        reporting into ``missing_keys``, ``unexpected_keys`` and ``error_msgs``. Subclasses override it to
        adapt old checkpoints and call ``super()``."""
        dry = getattr(_load_state, 'dry_run', False)
        assign = getattr(_load_state, 'assign', False)
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items()) if v is not None}
        for name, param in local.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            inp = state_dict[key]
            if not isinstance(inp, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or '
                                  f'Tensor-like object from checkpoint but received {type(inp)}')
                continue
            lazy = isinstance(param, UninitializedTensorMixin)
            if not lazy and param.ndim == 0 and inp.ndim == 1 and inp.shape[0] == 1:
                inp = inp.reshape(())
            if not lazy and inp.shape != param.shape:
                error_msgs.append(f'size mismatch for {key}: copying a param with shape {inp.shape} from '
                                  f'checkpoint, the shape in current model is {param.shape}.')
                continue
            if dry:
                continue
            try:
                with no_grad():
                    if lazy:
                        param.materialize(inp.shape, device=param.device, dtype=param.dtype)
                    if assign:
                        if isinstance(param, Parameter):
                            new = inp if isinstance(inp, Parameter) else Parameter(inp, param.requires_grad)
                            new.requires_grad_(param.requires_grad)
                            setattr(self, name, new)
                        else:
                            setattr(self, name, inp)
                    else:
                        param.copy_(inp)
            except Exception as e:
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model are '
                                  f'{param.shape} and whose dimensions in the checkpoint are {inp.shape}, an '
                                  f'exception occurred : {e.args}.')
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                if not dry:
                    self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix) and key != extra_key:
                    parts = key[len(prefix):].split('.', 1)
                    if len(parts) > 1:
                        if parts[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif parts[0] not in local:
                        unexpected_keys.append(key)

    def _load_pass(self, state_dict, strict, dry):
        """One walk of the tree calling ``_load_from_state_dict``; returns (missing, unexpected, errors)."""
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, '_metadata', None)
        sd = OrderedDict(state_dict)
        if metadata is not None:
            sd._metadata = metadata
        _load_state.dry_run = dry
        try:
            def load(module, local_sd, prefix=''):
                meta = {} if metadata is None else metadata.get(prefix[:-1], {})
                module._load_from_state_dict(local_sd, prefix, meta, True, missing, unexpected, errors)
                for name, child in module._modules.items():
                    if child is not None:
                        child_prefix = prefix + name + '.'
                        child_sd = {k: v for k, v in local_sd.items() if k.startswith(child_prefix)}
                        load(child, child_sd, child_prefix)
                if module._load_state_dict_post_hooks:
                    # post hooks may edit the key lists in place before they are reported
                    keys = _IncompatibleKeys(missing, unexpected)
                    for hook in module._load_state_dict_post_hooks.values():
                        r = hook(module, keys)
                        if r is not None:
                            raise RuntimeError("Hooks registered with ``register_load_state_dict_post_hook`` are "
                                               "not expected to return new values, if incompatible_keys need to "
                                               "be modified, it should be done inplace.")
            load(self, sd)
        finally:
            _load_state.dry_run = False
        return missing, unexpected, errors

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict``. With ``strict`` every key must match; shapes must
        always match. Everything is checked before anything is written: on error nothing changes.
        ``assign=True`` puts the checkpoint's tensors in place of the module's. When the tree has load
        pre/post hooks they run once, as in PyTorch, and (like PyTorch) an error is raised after the writes.
        Returns ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")

        def report(missing, unexpected, errors):
            errors = list(errors)
            if strict:
                if unexpected:
                    errors.insert(0, 'Unexpected key(s) in state_dict: {}. '.format(
                        ', '.join(f'"{k}"' for k in unexpected)))
                if missing:
                    errors.insert(0, 'Missing key(s) in state_dict: {}. '.format(
                        ', '.join(f'"{k}"' for k in missing)))
            if errors:
                raise RuntimeError('Error(s) in loading state_dict for {}:\n\t{}'.format(
                    type(self).__name__, '\n\t'.join(errors)))

        if not _has_user_load_hooks(self):
            report(*self._load_pass(state_dict, strict, dry=True))
        # else: user hooks run exactly once, as in PyTorch, so there is no validating pass: one pass writes,
        # then errors are raised
        _load_state.assign = assign
        try:
            missing, unexpected, errors = self._load_pass(state_dict, strict, dry=False)
        finally:
            _load_state.assign = False
        report(missing, unexpected, errors)
        return _IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module-specific part of the repr (override it); '' by default."""
        return ''

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split('\n') if extra else []
        child_lines = ['(' + k + '): ' + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + '('
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += '\n  ' + '\n  '.join(lines) + '\n'
        return s + ')'

    # --- data parallel support ----------------------------------------------------------------------------
    def _replicate_for_data_parallel(self):
        replica = self.__new__(type(self))
        replica.__dict__ = self.__dict__.copy()
        replica.__dict__['_parameters'] = {}
        replica.__dict__['_buffers'] = replica._buffers.copy()
        replica.__dict__['_modules'] = replica._modules.copy()
        replica.__dict__['_is_replica'] = True
        return replica
