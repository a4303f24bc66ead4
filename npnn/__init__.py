"""npnn: a PyTorch-compatible deep learning framework on NumPy (CPU) and CuPy (GPU).

``import npnn as torch`` runs typical PyTorch training code. This module only re-exports.
"""
__version__ = '0.1.0'
from .backend import device, Generator, manual_seed, initial_seed, seed, get_rng_state, set_rng_state
from .backend import default_generator as _default_generator
from .backend.device import get_default_device, set_default_device
from .backend.dtypes import (dtype, float16, float32, float64, bfloat16, complex64, complex128, int8, int16,
                             int32, int64, uint8, bool_ as bool, half, float, double, short, int, long, cfloat,
                             cdouble, get_default_dtype, set_default_dtype)
from .tensor import Tensor, Size
from .creation import (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, zeros_like, ones_like,
                       empty_like, full_like, eye, arange, linspace, logspace, rand, randn, randint, randperm,
                       normal, bernoulli, multinomial, poisson, rand_like, randn_like, randint_like, scalar_tensor,
                       empty_strided, complex, polar, tril_indices, triu_indices, unravel_index)
from .autograd import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, \
    is_inference_mode_enabled
from .autograd.grad_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled
from .autograd.ops import *  # noqa: F401,F403  (the op functions: npnn.exp, npnn.cat, ...)
from .autograd.ops import TENSOR_METHODS as _TM, INPLACE_METHODS as _IM
from ._tensor_str import set_printoptions
from . import autograd
from . import nn, optim, data, utils, amp, cuda, jit, multiprocessing, testing  # noqa: E402
from .amp import autocast, is_autocast_enabled, get_autocast_dtype  # noqa: E402
from . import linalg, fft, distributions, quasirandom, backends, special, func, __config__  # noqa: E402
from .func import vmap  # noqa: E402  (torch.vmap is torch.func.vmap)
from .spectral import *  # noqa: F401,F403,E402
from .linalg._toplevel import (inverse, det, logdet, slogdet, pinverse, qr, svd, lu, lu_unpack, lu_solve,  # noqa
                               cholesky, cholesky_solve, cholesky_inverse, matrix_power, matrix_exp,
                               triangular_solve)
from .tensor import _install_linalg_methods  # noqa: E402
_install_linalg_methods()  # x.inverse(), x.det(), ... (linalg builds on Tensor, so it attaches late)
from .serialization import save, load, save_safetensors, load_safetensors  # noqa: E402
from .functional_api import *  # noqa: F401,F403
from .runtime import *  # noqa: F401,F403,E402
# layer functions PyTorch also offers at the top level (torch.conv2d, torch.dropout, ...)
from .nn.functional import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,  # noqa
                            max_pool1d, max_pool2d, max_pool3d, avg_pool1d, adaptive_avg_pool1d,
                            adaptive_max_pool1d, dropout, alpha_dropout, feature_alpha_dropout, batch_norm,
                            layer_norm, group_norm, instance_norm, embedding, embedding_bag, pixel_shuffle,
                            pixel_unshuffle, channel_shuffle, pdist, cdist, cosine_similarity, pairwise_distance,
                            bilinear, ctc_loss, binary_cross_entropy_with_logits, hardshrink, selu, celu, rrelu,
                            prelu, threshold)

default_generator = _default_generator()


def _inplace_function(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``npnn.{name}(input, ...)``: ``input.{name}(...)``, in place."
    return fn


# PyTorch's top-level in-place functions (torch.relu_(x), torch.sigmoid_(x), ...) for the Tensor methods
for _name in ('abs_', 'acos_', 'acosh_', 'arccos_', 'arccosh_', 'arcsin_', 'arcsinh_', 'arctan_', 'arctanh_',
              'asin_', 'asinh_', 'atan_', 'atanh_', 'ceil_', 'clamp_', 'clamp_max_', 'clamp_min_', 'clip_', 'cos_',
              'cosh_', 'deg2rad_', 'detach_', 'erf_', 'erfc_', 'exp2_', 'exp_', 'expm1_', 'fill_', 'fix_',
              'floor_', 'frac_', 'gcd_', 'i0_', 'lcm_', 'ldexp_', 'log10_', 'log1p_', 'log2_', 'log_', 'logit_',
              'nan_to_num_', 'neg_', 'negative_', 'rad2deg_', 'reciprocal_', 'relu_', 'round_', 'rsqrt_',
              'sigmoid_', 'sin_', 'sinc_', 'sinh_', 'sqrt_', 'square_', 'tan_', 'tanh_', 'trunc_', 'xlogy_',
              'zero_'):
    if _name not in globals() and hasattr(Tensor, _name):
        globals()[_name] = _inplace_function(_name)
del _name

del _TM, _IM
