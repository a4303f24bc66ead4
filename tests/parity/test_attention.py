"""Scaled dot-product attention and MultiheadAttention against PyTorch."""
import numpy as np
import pytest

import npnn
from tests.helpers import compare, to_numpy

torch = pytest.importorskip('torch')


def _r(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize('mask', [None, 'bool', 'float', 'causal'])
def test_sdpa(device, mask):
    q, k, v = _r(2, 3, 4, 8, seed=1), _r(2, 3, 5, 8, seed=2), _r(2, 3, 5, 6, seed=3)
    L, S = 4, 5
    if mask == 'causal':
        k, v, S = k[:, :, :4], v[:, :, :4], 4
    bm = np.random.default_rng(4).random((L, S)) > 0.3
    bm[:, 0] = True
    fm = _r(L, S, seed=5)

    def fn(lib, q, k, v):
        F = lib.nn.functional
        if mask == 'bool':
            return F.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(bm, device=q.device))
        if mask == 'float':
            return F.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(fm, device=q.device), scale=0.3)
        return F.scaled_dot_product_attention(q, k, v, is_causal=mask == 'causal')
    compare(fn, q, k, v, device=device)


def test_sdpa_gqa_and_dropout():
    q, k, v = _r(1, 4, 3, 8, seed=1), _r(1, 2, 5, 8, seed=2), _r(1, 2, 5, 8, seed=3)

    def fn(lib, q, k, v):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    compare(fn, q, k, v)
    out = npnn.nn.functional.scaled_dot_product_attention(npnn.tensor(q), npnn.tensor(q), npnn.tensor(q),
                                                          dropout_p=0.5)
    assert out.shape == (1, 4, 3, 8)


def _mha_pair(*args, **kwargs):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(*args, **kwargs)
    n = npnn.nn.MultiheadAttention(*args, **kwargs)
    assert [(a, tuple(p.shape)) for a, p in t.named_parameters()] == \
        [(a, tuple(p.shape)) for a, p in n.named_parameters()]
    n.load_state_dict({k: npnn.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, n


def _run(t, n, inputs, kw_fn, rtol=1e-4, atol=1e-5):
    outs = {}
    for lib, m in ((npnn, n), (torch, t)):
        ts = [(npnn.tensor(a) if lib is npnn else torch.tensor(a)).requires_grad_(True) for a in inputs]
        o, w = m(*ts, **kw_fn(lib))
        g = np.random.default_rng(9).standard_normal(tuple(o.shape)).astype(np.float32)
        loss = (o * (npnn.tensor(g) if lib is npnn else torch.tensor(g))).sum()
        if w is not None:
            loss = loss + (w * w).sum()
        loss.backward()
        outs[lib] = (o, w, ts, m)
    a, b = outs[npnn], outs[torch]
    np.testing.assert_allclose(to_numpy(a[0]), to_numpy(b[0]), rtol=rtol, atol=atol)
    assert (a[1] is None) == (b[1] is None)
    if a[1] is not None:
        np.testing.assert_allclose(to_numpy(a[1]), to_numpy(b[1]), rtol=rtol, atol=atol)
    for x, y in zip(a[2], b[2]):
        np.testing.assert_allclose(to_numpy(x.grad), y.grad.numpy(), rtol=rtol, atol=atol)
    tp = dict(b[3].named_parameters())
    for name, p in a[3].named_parameters():
        np.testing.assert_allclose(to_numpy(p.grad), tp[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('masks', ['none', 'bool', 'float'])
def test_mha_masks(batch_first, masks):
    E, H, L, S, N = 8, 2, 4, 5, 3
    t, n = _mha_pair(E, H, batch_first=batch_first)
    shp = (N, L, E) if batch_first else (L, N, E)
    kshp = (N, S, E) if batch_first else (S, N, E)
    q, k, v = _r(*shp, seed=1), _r(*kshp, seed=2), _r(*kshp, seed=3)
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    am = np.random.default_rng(4).random((L, S)) > 0.7
    am[:, 0] = False

    def kw(lib):
        if masks == 'none':
            return {}
        if masks == 'bool':
            return dict(key_padding_mask=lib.tensor(kpm), attn_mask=lib.tensor(am))
        return dict(key_padding_mask=lib.tensor(np.where(kpm, -1e4, 0).astype(np.float32)),
                    attn_mask=lib.tensor(_r(L, S, seed=6)))
    _run(t, n, [q, k, v], kw)


def test_mha_options():
    E, H, L, S, N = 8, 4, 3, 4, 2
    t, n = _mha_pair(E, H, bias=True, add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=6)
    q, k, v = _r(L, N, E, seed=1), _r(S, N, 5, seed=2), _r(S, N, 6, seed=3)
    am3 = _r(N * H, L, S, seed=7)
    _run(t, n, [q, k, v], lambda lib: dict(attn_mask=lib.tensor(am3), average_attn_weights=False))


def test_mha_no_weights_unbatched_no_bias():
    E, H, L = 6, 3, 4
    t, n = _mha_pair(E, H, bias=False)
    x = _r(L, E, seed=1)
    causal = np.triu(np.ones((L, L), bool), 1)
    _run(t, n, [x, x, x], lambda lib: dict(need_weights=False, attn_mask=lib.tensor(causal), is_causal=True))


def test_mha_init_and_errors():
    m = npnn.nn.MultiheadAttention(16, 4)
    assert np.all(to_numpy(m.in_proj_bias) == 0) and np.all(to_numpy(m.out_proj.bias) == 0)
    bound = np.sqrt(6 / (16 + 48))
    w = to_numpy(m.in_proj_weight)
    assert np.abs(w).max() <= bound and w.std() > bound / 3
    with pytest.raises(AssertionError, match='divisible'):
        npnn.nn.MultiheadAttention(10, 3)
    x = npnn.randn(3, 2, 16)
    with pytest.raises(RuntimeError, match='2D attn_mask'):
        m(x, x, x, attn_mask=npnn.zeros(2, 2))
    with pytest.raises(RuntimeError, match='Need attn_mask'):
        m(x, x, x, is_causal=True)
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
