"""The differentiable ops. Each module holds ops of one family: forward on arrays plus backward rule."""
from ._util import norm_dim, norm_dims, to_tensor_like, check_same_device, sum_to  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .elementwise import _rsub, _rpow  # noqa: F401
from . import elementwise  # noqa: F401
from .reduction import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .matrix import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .sets import *  # noqa: F401,F403
from .frexp_renorm import *  # noqa: F401,F403

def _accept_numpy_names(fn):
    """Let ``fn`` take NumPy's keyword names, as PyTorch's ops do: ``axis`` for ``dim``, ``keepdims`` for
    ``keepdim`` (``x.sum(axis=1, keepdims=True)``)."""
    import functools

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if kwargs:
            if 'axis' in kwargs:
                if 'dim' in kwargs:
                    raise TypeError(f"{fn.__name__}() got both 'dim' and its alias 'axis'")
                kwargs['dim'] = kwargs.pop('axis')
            if 'keepdims' in kwargs:
                if 'keepdim' in kwargs:
                    raise TypeError(f"{fn.__name__}() got both 'keepdim' and its alias 'keepdims'")
                kwargs['keepdim'] = kwargs.pop('keepdims')
        return fn(*args, **kwargs)
    return op


for _name in ('sum mean std var max min argmax argmin prod amax amin all any cumsum cumprod logsumexp median '
              'nanmedian nansum nanmean count_nonzero softmax log_softmax squeeze unsqueeze cat concat '
              'concatenate stack sort argsort std_mean var_mean').split():
    globals()[_name] = _accept_numpy_names(globals()[_name])
del _name

# ops that are also Tensor methods (x.op(...) == npnn.op(x, ...))
TENSOR_METHODS = '''
add sub mul div true_divide floor_divide pow maximum minimum fmax fmin atan2 arctan2 fmod remainder hypot
exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh sigmoid
erf erfc erfinv reciprocal abs absolute neg negative relu sign sgn floor ceil trunc fix frac square round
clamp clip clamp_min clamp_max where lerp nan_to_num xlogy positive
eq ne lt le gt ge greater greater_equal less less_equal not_equal isnan isinf isfinite isposinf isneginf signbit
logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not isclose allclose equal
sum mean prod max min amax amin aminmax argmax argmin var std logsumexp cumsum cumprod cummax cummin logcumsumexp
all any count_nonzero norm nansum nanmean var_mean std_mean
reshape view view_as reshape_as flatten unflatten permute transpose swapaxes swapdims t movedim moveaxis squeeze
unsqueeze expand expand_as broadcast_to narrow split chunk tensor_split unbind select flip fliplr flipud roll rot90
repeat tile repeat_interleave contiguous clone
as_strided index_select index_add index_add_ index_copy index_copy_ index_fill index_fill_ index_put index_put_ masked_fill
masked_fill_ masked_select masked_scatter nonzero argwhere take put_ put gather take_along_dim scatter scatter_
scatter_add scatter_add_ scatter_reduce scatter_reduce_
matmul mm bmm mv dot vdot outer ger addmm addmv addbmm baddbmm addr
arccos arcsin arctan arccosh arcsinh arctanh multiply subtract divide addcmul addcdiv heaviside gcd lcm ldexp
diff dist cov corrcoef quantile nanquantile ravel split_with_sizes hsplit vsplit dsplit unfold sum_to_size
slice_scatter select_scatter diagonal_scatter
sort argsort msort topk kthvalue median nanmedian mode softmax log_softmax
tensordot inner kron trace diag diag_embed diagonal diagflat tril triu cross
logit sinc deg2rad rad2deg lgamma digamma polygamma i0 angle logaddexp logaddexp2 copysign float_power
unique unique_consecutive bincount histc histogram
frexp renorm
'''.split()

# out-of-place ops that get a generic in-place twin (x.exp_() ...)
INPLACE_METHODS = '''
pow exp expm1 log log2 log10 log1p sqrt rsqrt sin cos tan asin acos atan sinh cosh tanh sigmoid erf erfinv
reciprocal abs neg relu sign floor ceil trunc frac round clamp clip clamp_min clamp_max lerp nan_to_num fmod remainder
atan2 maximum minimum square masked_scatter eq ne lt le gt ge logical_not logical_and logical_or cumsum
addmm addmv addbmm baddbmm addr hypot tril triu
logit sinc deg2rad rad2deg lgamma digamma polygamma i0 logaddexp copysign float_power xlogy
arccos arcsin arctan arccosh arcsinh arctanh multiply subtract divide addcmul addcdiv heaviside gcd lcm ldexp
absolute negative fix sgn exp2 erfc square asinh atanh acosh true_divide floor_divide cumprod logical_xor
bitwise_and bitwise_or bitwise_xor bitwise_not greater greater_equal less less_equal not_equal
renorm
'''.split()

# what ``from npnn.autograd.ops import *`` (the top-level namespace) exports: the op functions only,
# not helpers or the modules the op files import
_HELPERS = {'make', 'recording', 'binary_arrays', 'grad_for', 'float_dtype_of', 'array_module', 'sum_to',
            'norm_dim', 'norm_dims', 'to_tensor_like', 'check_same_device', 'ones_like_val', 'cat_', 'max_',
            'scatter_into_zeros', 'index_into_zeros', 'cast', 'inner_1d', 'Tensor'}


def _public():
    import types as _types
    g = globals()
    return [n for n, v in g.items() if not n.startswith('_') and n not in _HELPERS and n.isidentifier()
            and isinstance(v, (_types.FunctionType, elementwise._MethodForm))]


__all__ = _public()
