"""``nn.utils``: gradient clipping, parameter/vector conversion, rnn helpers."""
from .clip_grad import clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm, clip_grads_with_norm_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .weight_norm import weight_norm, remove_weight_norm
from .spectral_norm import spectral_norm, remove_spectral_norm
from . import clip_grad, convert_parameters, parametrize, parametrizations, stateless  # noqa: F401

try:  # the packed-sequence helpers live in their own module
    from . import rnn  # noqa: F401
except ImportError:  # pragma: no cover - until that module exists
    pass

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'get_total_norm', 'clip_grads_with_norm_',
           'parameters_to_vector', 'vector_to_parameters', 'weight_norm', 'remove_weight_norm', 'spectral_norm',
           'remove_spectral_norm']
