"""``nn.utils.parametrize``: a tensor of a module computed from stored originals by parametrization modules,
with PyTorch's layout (``module.parametrizations.<name>.original`` or ``original0, original1, ...``)."""
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ['register_parametrization', 'remove_parametrizations', 'is_parametrized', 'cached',
           'ParametrizationList', 'type_before_parametrizations']


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to the originals."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, 'right_inverse'):
                    new = module.right_inverse(new)
        rg = original.requires_grad
        if isinstance(new, Tensor):
            self.is_tensor = True
            self.ntensors = 1
            if isinstance(original, Parameter):
                with no_grad():
                    original._data = new.detach()._data  # keep the Parameter object (optimizers hold it)
                self.register_parameter('original', original)
            else:
                self.register_buffer('original', new.detach())
        else:
            self.is_tensor = False
            self.ntensors = len(new)
            for i, t in enumerate(new):
                if rg:
                    self.register_parameter(f'original{i}', Parameter(t.detach().clone(), requires_grad=rg))
                else:
                    self.register_buffer(f'original{i}', t.detach().clone())

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f'original{i}') for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _inject_property(module, name):
    def get(self):
        return self.parametrizations[name]()
    setattr(module.__class__, name, property(get))


def _inject_new_class(module):
    cls = module.__class__
    module.__class__ = type(f'Parametrized{cls.__name__}', (cls,), {'_npnn_original_class': cls})


def is_parametrized(module, tensor_name=None):
    params = module.__dict__.get('_modules', {}).get('parametrizations')
    if params is None or not isinstance(params, ModuleDict):
        return False
    return len(params) > 0 if tensor_name is None else tensor_name in params


def type_before_parametrizations(module):
    return getattr(module.__class__, '_npnn_original_class', module.__class__) if is_parametrized(module) \
        else type(module)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Replace ``module.<tensor_name>`` by ``parametrization(original)``; the original moves to
    ``module.parametrizations.<tensor_name>.original``. A second call on the same name chains."""
    if not isinstance(parametrization, Module):
        raise TypeError("parametrization must be an nn.Module")
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element "
                         f"with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    if not is_parametrized(module):
        _inject_new_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization``: ``module.<tensor_name>`` becomes a plain Parameter holding the
    parametrized value (``leave_parametrized=True``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    with no_grad():
        if leave_parametrized:
            value = getattr(module, tensor_name).detach()
        elif plist.is_tensor:
            value = plist.original.detach()
        else:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                             "parametrized in terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if plist.is_tensor and isinstance(plist.original, Parameter):
        param = plist.original
        param._data = value._data if leave_parametrized else param._data
    else:
        param = Parameter(value.clone())
    module.register_parameter(tensor_name, param)
    if not is_parametrized(module):
        delattr(module, 'parametrizations')
        module.__class__ = module.__class__._npnn_original_class
    return module


class cached:
    """Accepted for compatibility: parametrized tensors are recomputed on each access."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
