"""Attention: scaled dot-product attention and the multi-head attention forward."""
import math

import numpy as np

from ... import creation
from ...autograd import ops
from ...backend.device import array_module
from .activation import softmax
from .dropout import dropout
from .linear import linear

__all__ = ['scaled_dot_product_attention', 'multi_head_attention_forward']


def _T():
    from ...tensor import Tensor
    return Tensor


def _neg_inf_mask(mask, dtype):
    """A bool 'masked out' tensor as an additive float mask (-inf where True)."""
    m = mask._data
    xp = array_module(m)
    dt = dtype.np if hasattr(dtype, 'np') else np.dtype(dtype)
    return _T()._make(xp.where(m, xp.asarray(-np.inf, dtype=dt), xp.asarray(0, dtype=dt)))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(Q K^T * scale + mask) V`` over the last two dims.

    A bool ``attn_mask`` marks the positions that may be attended (True = keep); a float mask is added.
    ``is_causal`` applies a lower-triangular mask; ``enable_gqa`` repeats key/value heads to the query's.
    """
    L, S = query.shape[-2], key.shape[-2]
    E = query.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(E)
    if enable_gqa:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq != hk:
            key = ops.repeat_interleave(key, hq // hk, -3)
            value = ops.repeat_interleave(value, hq // hk, -3)
    scores = ops.matmul(query * scale, key.transpose(-2, -1))
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        keep = creation.ones((L, S), dtype=_bool(), device=query.device).tril()
        scores = ops.masked_fill(scores, keep.logical_not(), float('-inf'))
    if attn_mask is not None:
        if attn_mask.dtype == _bool():
            scores = ops.masked_fill(scores, attn_mask.logical_not(), float('-inf'))
        else:
            scores = scores + attn_mask
    w = softmax(scores, -1)
    if dropout_p > 0.0:
        w = dropout(w, dropout_p, True)
    return ops.matmul(w, value)


def _bool():
    from ...backend import dtypes
    return dtypes.bool_


def _canonical(mask, name, dtype):
    """None, or a float additive mask (bool masks: True = masked out, as MultiheadAttention defines)."""
    if mask is None:
        return None
    if mask.dtype == _bool():
        return _neg_inf_mask(mask, dtype)
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _pad_last(mask):
    """Append one zero column (a key position nobody masks)."""
    z = creation.zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype, device=mask.device)
    return ops.cat([mask, z], -1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on time-major ``(L, N, E)`` (or unbatched ``(L, E)``) inputs.

    Returns ``(attn_output, attn_weights)``; weights are averaged over heads when ``average_attn_weights``,
    and None when ``need_weights`` is False. Bool masks mark positions NOT allowed to attend.
    """
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, E = query.shape
    src_len = key.shape[0]
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    dt = query.dtype
    key_padding_mask = _canonical(key_padding_mask, 'key_padding_mask', dt)
    attn_mask = _canonical(attn_mask, 'attn_mask', dt)
    # input projections
    if not use_separate_proj_weight:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    else:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    q = linear(query, w_q, b_q)
    k = linear(key, w_k, b_k) if static_k is None else None
    v = linear(value, w_v, b_v) if static_v is None else None
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        k = ops.cat([k, bias_k.repeat(1, bsz, 1)])
        v = ops.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v)
    if add_zero_attn:
        z = creation.zeros((bsz * num_heads, 1, head_dim), dtype=dt, device=q.device)
        k = ops.cat([k, z], 1)
        v = ops.cat([v, z], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    scores = ops.bmm(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores + attn_mask
    w = softmax(scores, -1)
    if dropout_p > 0.0:
        w = dropout(w, dropout_p, True)
    out = ops.bmm(w, v)                                                  # (bsz*H, L, hd)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, E)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    w = w.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        w = w.mean(1)
    if not batched:
        w = w.squeeze(0)
    return out, w
