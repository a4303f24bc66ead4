"""Weight normalization (``weight = g * v / ||v||``) as a forward pre-hook, like ``torch.nn.utils.weight_norm``."""
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter, UninitializedParameter

__all__ = ['WeightNorm', 'weight_norm', 'remove_weight_norm']


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (kept with size 1 elsewhere); all dims when -1."""
    if dim == -1:
        return v.norm(pow)
    dims = tuple(d for d in range(v.dim()) if d != dim % v.dim())
    return v.norm(pow, dim=dims, keepdim=True) if dims else v.abs() if pow else v


def _hook_key(module, cls, name):
    """The key of ``module``'s forward pre-hook of type ``cls`` reparameterising ``name``, or None."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, cls) and hook.name == name:
            return k
    return None


def _remove_hook(module, cls, name, what):
    """Undo the ``cls`` reparameterisation of ``name``: ValueError naming ``what`` when there is none."""
    k = _hook_key(module, cls, name)
    if k is None:
        raise ValueError(f"{what} of '{name}' not found in {module}")
    module._forward_pre_hooks[k].remove(module)
    del module._forward_pre_hooks[k]
    return module


class WeightNorm:
    """The pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v`` before each forward."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + '_g')
        v = getattr(module, self.name + '_v')
        return v * (g / norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module, name, dim):
        if _hook_key(module, WeightNorm, name) is not None:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. Make sure to "
                             "run the dummy forward before applying weight normalization")
        del module._parameters[name]
        with no_grad():
            g = norm_except_dim(weight, 2, fn.dim).detach().clone()
        module.register_parameter(name + '_g', Parameter(g))
        module.register_parameter(name + '_v', Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + '_g']
        del module._parameters[self.name + '_v']
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name='weight', dim=0):
    """Reparameterise ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but ``dim``; ``dim=None``:
    the whole tensor), with parameters ``<name>_g`` and ``<name>_v``. Returns the module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name='weight'):
    """Undo ``weight_norm``: ``module.<name>`` becomes a plain Parameter again. Returns the module."""
    return _remove_hook(module, WeightNorm, name, 'weight_norm')
