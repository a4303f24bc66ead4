"""nn.utils.weight_norm / spectral_norm: parameters, state dict keys, values and gradients against PyTorch."""
import numpy as np
import pytest

import npnn
from npnn import nn


class Lin(nn.Module):
    def __init__(self, i=3, o=4):
        super().__init__()
        self.weight = nn.Parameter(npnn.randn(o, i))
        self.bias = nn.Parameter(npnn.zeros(o))

    def forward(self, x):
        return x @ self.weight.T + self.bias


def test_weight_norm_reparameterises_and_removes():
    m = nn.utils.weight_norm(Lin())
    assert list(m.state_dict()) == ['bias', 'weight_g', 'weight_v'] and 'weight' not in m._parameters
    assert m.weight_g.shape == (4, 1)
    w = m.weight_v.detach().numpy()
    g = np.linalg.norm(w, axis=1, keepdims=True)
    assert np.allclose(m.weight_g.detach().numpy(), g, rtol=1e-6)
    with npnn.no_grad():
        m.weight_g.mul_(2)
    m(npnn.ones(1, 3))  # the pre-hook recomputes the weight
    assert np.allclose(m.weight.detach().numpy(), 2 * w, rtol=1e-5)
    with pytest.raises(RuntimeError, match='Cannot register two weight_norm hooks'):
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    assert isinstance(m.weight, nn.Parameter) and list(m.state_dict()) == ['bias', 'weight']
    assert np.allclose(m.weight.detach().numpy(), 2 * w, rtol=1e-5) and not m._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)
    whole = nn.utils.weight_norm(Lin(), dim=None)
    assert whole.weight_g.shape == ()


def test_spectral_norm_state_and_largest_singular_value():
    m = nn.utils.spectral_norm(Lin(6, 5), n_power_iterations=3)
    assert list(m.state_dict()) == ['bias', 'weight_orig', 'weight_u', 'weight_v']
    for _ in range(30):
        m(npnn.ones(1, 6))  # power iterations converge in training mode
    s = np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)
    assert s[0] == pytest.approx(1.0, rel=1e-3)
    u = m.weight_u.clone()
    m.eval()
    m(npnn.ones(1, 6))
    assert np.array_equal(m.weight_u.numpy(), u.numpy())  # no iteration in eval mode
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ['bias', 'weight'] and isinstance(m.weight, nn.Parameter)
    with pytest.raises(ValueError, match='Expected n_power_iterations to be positive'):
        nn.utils.spectral_norm(Lin(), n_power_iterations=0)


def test_weight_and_spectral_norm_match_pytorch():
    torch = pytest.importorskip('torch')
    import warnings
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    ours = nn.utils.weight_norm(Lin())
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        theirs = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4))
    s_ours = nn.utils.spectral_norm(Lin())
    s_theirs = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4))
    with torch.no_grad():
        for m, t, keys in [(ours, theirs, ['weight_g', 'weight_v']),
                           (s_ours, s_theirs, ['weight_orig', 'weight_u', 'weight_v'])]:
            for k in keys:
                getattr(t, k).copy_(torch.tensor(getattr(m, k).detach().numpy()))
            t.bias.zero_()
    for m, t, keys in [(ours, theirs, ['weight_g', 'weight_v']), (s_ours, s_theirs, ['weight_orig'])]:
        for _ in range(2):
            a, b = m(npnn.tensor(x)), t(torch.tensor(x))
        assert np.allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6)
        (a * a).sum().backward()
        (b * b).sum().backward()
        for k in keys:
            assert np.allclose(getattr(m, k).grad.numpy(), getattr(t, k).grad.numpy(), atol=1e-5)
    assert np.allclose(s_ours.weight_u.numpy(), s_theirs.weight_u.numpy(), atol=1e-6)
