"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters."""
import math

import numpy as np
import pytest

import npnn
from npnn import nn
from npnn.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def _params(arrays, grads, device='cpu'):
    ps = []
    for a, g in zip(arrays, grads):
        p = nn.Parameter(npnn.tensor(a, device=device))
        if g is not None:
            p.grad = npnn.tensor(g, device=device)
        ps.append(p)
    return ps


GRADS = [np.array([[3.0, -4.0], [1.0, 2.0]], np.float32), np.array([-12.0, 0.5, 0.0], np.float32)]


@pytest.mark.parametrize('norm_type', [2.0, 1, 3.5, math.inf, 'inf'])
def test_clip_grad_norm_values(norm_type, device):
    nt = float(norm_type)
    ps = _params([np.zeros_like(g) for g in GRADS], GRADS, device)
    flat = np.concatenate([g.ravel() for g in GRADS]).astype(np.float64)
    expected = np.abs(flat).max() if nt == math.inf else (np.abs(flat) ** nt).sum() ** (1 / nt)
    total = clip_grad_norm_(ps, max_norm=2.0, norm_type=norm_type)
    assert isinstance(total, npnn.Tensor) and total.shape == () and total.device.type == device
    assert float(total) == pytest.approx(expected, rel=1e-5)
    coef = min(1.0, 2.0 / (expected + 1e-6))
    for p, g in zip(ps, GRADS):
        assert np.allclose(p.grad.cpu().numpy(), g * coef, rtol=1e-5)


def test_clip_grad_norm_no_clipping_below_max_and_single_tensor_and_none_grads():
    ps = _params([np.zeros(2, np.float32), np.zeros(2, np.float32)], [np.array([0.3, 0.4], np.float32), None])
    total = clip_grad_norm_(ps, 10.0)
    assert float(total) == pytest.approx(0.5) and np.allclose(ps[0].grad.numpy(), [0.3, 0.4], rtol=1e-6)
    assert ps[1].grad is None
    single = _params([np.zeros(2, np.float32)], [np.array([3.0, 4.0], np.float32)])[0]
    assert float(clip_grad_norm_(single, 1.0)) == pytest.approx(5.0)
    assert np.allclose(single.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert float(clip_grad_norm_([], 1.0)) == 0.0


def test_clip_grad_norm_nonfinite():
    ps = _params([np.zeros(2, np.float32)], [np.array([np.inf, 1.0], np.float32)])
    with pytest.raises(RuntimeError, match='is non-finite, so it cannot be clipped'):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert math.isinf(float(clip_grad_norm_(ps, 1.0)))


def test_clip_grad_value(device):
    ps = _params([np.zeros_like(g) for g in GRADS], GRADS, device)
    assert clip_grad_value_(ps, 1.5) is None
    for p, g in zip(ps, GRADS):
        assert np.array_equal(p.grad.cpu().numpy(), np.clip(g, -1.5, 1.5))


def test_parameters_to_vector_and_back():
    a = nn.Parameter(npnn.arange(6.0).reshape(2, 3))
    b = nn.Parameter(npnn.tensor([10.0, 11.0]))
    v = parameters_to_vector([a, b])
    assert v.shape == (8,) and np.array_equal(v.detach().numpy(), [0, 1, 2, 3, 4, 5, 10, 11])
    (v * npnn.arange(8.0)).sum().backward()  # differentiable
    assert np.array_equal(a.grad.numpy(), np.arange(6.0).reshape(2, 3))
    new = npnn.arange(100.0, 108.0)
    vector_to_parameters(new, [a, b])
    assert np.array_equal(a.detach().numpy(), np.arange(100.0, 106.0).reshape(2, 3))
    assert np.array_equal(b.detach().numpy(), [106.0, 107.0]) and a.shape == (2, 3)
    with pytest.raises(TypeError, match='expected torch.Tensor'):
        vector_to_parameters([1.0], [a])


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4, 5), (5,), (3, 2, 2)]]
    for nt in [2.0, 1.0, 0.5, math.inf]:
        ours = _params([np.zeros_like(a) for a in arrays], arrays)
        theirs = [torch.nn.Parameter(torch.zeros(a.shape)) for a in arrays]
        for p, a in zip(theirs, arrays):
            p.grad = torch.tensor(a)
        t1 = clip_grad_norm_(ours, 0.7, nt)
        t2 = torch.nn.utils.clip_grad_norm_(theirs, 0.7, nt)
        assert float(t1) == pytest.approx(float(t2), rel=1e-5)
        for p, q in zip(ours, theirs):
            assert np.allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
