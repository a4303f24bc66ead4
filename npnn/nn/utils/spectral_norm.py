"""Spectral normalization (``weight / sigma_max``, sigma by power iteration) as a forward pre-hook, like
``torch.nn.utils.spectral_norm``."""
from ...autograd.grad_mode import no_grad
from ...backend.device import array_module
from ..parameter import Parameter, UninitializedParameter
from .weight_norm import _hook_key, _remove_hook

__all__ = ['SpectralNorm', 'spectral_norm', 'remove_spectral_norm']


def _normalize_into(out, x, eps):
    """Write ``x / max(||x||, eps)`` into ``out``'s array (in place, as PyTorch's ``normalize(out=...)``)."""
    a = x._data
    xp = array_module(a)
    out._data[...] = a / xp.maximum(xp.sqrt((a * a).sum()), eps)
    out._vc[0] += 1
    return out


class SpectralNorm:
    """The pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma`` before each forward, running
    ``n_power_iterations`` steps on the ``<name>_u``/``<name>_v`` buffers in training mode."""

    _version = 1

    def __init__(self, name='weight', n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        w = weight
        if self.dim != 0:
            perm = [self.dim] + [d for d in range(w.dim()) if d != self.dim]
            w = w.permute(*perm)
        return w.reshape(w.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + '_orig')
        u = getattr(module, self.name + '_u')
        v = getattr(module, self.name + '_v')
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                m = mat.detach()
                for _ in range(self.n_power_iterations):
                    _normalize_into(v, m.T @ u, self.eps)
                    _normalize_into(u, m @ v, self.eps)
                u = u.clone()
                v = v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + '_u')
        delattr(module, self.name + '_v')
        delattr(module, self.name + '_orig')
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        if _hook_key(module, SpectralNorm, name) is not None:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized parameters. Make sure "
                             "to run the dummy forward before applying spectral normalization")
        with no_grad():
            mat = fn.reshape_weight_to_matrix(weight)
            h, w = mat.shape
            u = weight.new_empty(h).normal_(0, 1)
            v = weight.new_empty(w).normal_(0, 1)
            _normalize_into(u, u, eps)
            _normalize_into(v, v, eps)
        delattr(module, name)
        module.register_parameter(name + '_orig', weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + '_u', u)
        module.register_buffer(name + '_v', v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name='weight', n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value (estimated by power iteration on buffers
    ``<name>_u``/``<name>_v``; the parameter is kept as ``<name>_orig``). ``dim`` defaults to 1 for
    ConvTranspose layers, else 0. Returns the module."""
    if dim is None:
        dim = 1 if type(module).__name__.startswith('ConvTranspose') else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name='weight'):
    """Undo ``spectral_norm``: ``module.<name>`` becomes a Parameter holding the normalised weight."""
    return _remove_hook(module, SpectralNorm, name, 'spectral_norm')
