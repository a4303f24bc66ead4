"""nn.utils.parametrize and parametrizations.weight_norm: layout, values, gradients, removal; against
PyTorch when it is installed."""
import copy

import numpy as np
import pytest

import npnn
from npnn.nn.utils import parametrize


class Symmetric(npnn.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


def test_custom_parametrization_and_removal():
    m = npnn.nn.Linear(3, 3)
    w_param = m.weight
    parametrize.register_parametrization(m, 'weight', Symmetric())
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, 'weight')
    assert type(m).__name__ == 'ParametrizedLinear' and isinstance(m, npnn.nn.Linear)
    assert parametrize.type_before_parametrizations(m) is npnn.nn.Linear
    w = m.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    assert m.parametrizations.weight.original is w_param  # optimizers keep working on the same Parameter
    assert sorted(dict(m.named_parameters())) == ['bias', 'parametrizations.weight.original']
    m(npnn.ones(2, 3)).sum().backward()
    g = w_param.grad.numpy()
    assert np.abs(np.triu(g)).sum() > 0 and (np.tril(g, -1) == 0).all()  # the lower part is never read
    other = npnn.nn.Linear(3, 3)
    assert not parametrize.is_parametrized(other) and not hasattr(type(other), 'weight')
    parametrize.remove_parametrizations(m, 'weight')
    assert type(m) is npnn.nn.Linear and isinstance(m.weight, npnn.nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), w)
    assert sorted(dict(m.named_parameters())) == ['bias', 'weight']
    with pytest.raises(ValueError):
        parametrize.remove_parametrizations(m, 'weight')
    with pytest.raises(ValueError):
        parametrize.register_parametrization(m, 'nothing', Symmetric())


def test_weight_norm_parametrization_values_and_grads():
    m = npnn.nn.Linear(4, 3)
    w = m.weight.detach().numpy().copy()
    npnn.nn.utils.parametrizations.weight_norm(m)
    g = m.parametrizations.weight.original0
    v = m.parametrizations.weight.original1
    assert g.shape == (3, 1) and v.shape == (3, 4)
    np.testing.assert_allclose(g.detach().numpy()[:, 0], np.linalg.norm(w, axis=1), rtol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), w, rtol=1e-5, atol=1e-6)
    opt = npnn.optim.SGD(m.parameters(), lr=0.1)
    m(npnn.randn(5, 4)).pow(2).sum().backward()
    opt.step()
    assert g.grad is not None and v.grad is not None
    c = copy.deepcopy(m)
    np.testing.assert_array_equal(c.weight.detach().numpy(), m.weight.detach().numpy())
    m2 = npnn.nn.Linear(4, 3)
    npnn.nn.utils.parametrizations.weight_norm(m2, dim=None)
    assert m2.parametrizations.weight.original0.shape == ()


def test_weight_norm_matches_torch():
    torch = pytest.importorskip('torch')
    tm = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv2d(2, 3, 3), dim=0)
    nm = npnn.nn.utils.parametrizations.weight_norm(npnn.nn.Conv2d(2, 3, 3), dim=0)
    assert list(tm.state_dict()) == list(nm.state_dict())
    nm.load_state_dict({k: npnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.RandomState(0).randn(2, 2, 5, 5).astype(np.float32)
    to, no = tm(torch.tensor(x)), nm(npnn.tensor(x))
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-5)
    to.sum().backward()
    no.sum().backward()
    for k in ('original0', 'original1'):
        np.testing.assert_allclose(getattr(nm.parametrizations.weight, k).grad.numpy(),
                                   getattr(tm.parametrizations.weight, k).grad.numpy(), rtol=1e-4, atol=1e-5)


def test_spectral_norm_parametrization_normalises_top_singular_value():
    m = npnn.nn.utils.parametrizations.spectral_norm(npnn.nn.Linear(5, 4))
    assert list(m.state_dict()) == ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0._u',
                                    'parametrizations.weight.0._v']
    for _ in range(20):
        w = m.weight
    assert np.linalg.svd(w.detach().numpy(), compute_uv=False)[0] == pytest.approx(1.0, rel=1e-3)
    m.eval()
    u = m.parametrizations.weight[0]._u.numpy().copy()
    m(npnn.ones(1, 5)).sum().backward()
    np.testing.assert_array_equal(m.parametrizations.weight[0]._u.numpy(), u)  # eval: no power step
    assert m.parametrizations.weight.original.grad.shape == (4, 5)
    ct = npnn.nn.utils.parametrizations.spectral_norm(npnn.nn.ConvTranspose2d(3, 2, 3))
    assert ct.parametrizations.weight[0].dim == 1


def test_spectral_norm_matches_torch_with_same_vectors():
    torch = pytest.importorskip('torch')
    tm = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Conv2d(2, 3, 3))
    nm = npnn.nn.utils.parametrizations.spectral_norm(npnn.nn.Conv2d(2, 3, 3))
    assert list(tm.state_dict()) == list(nm.state_dict())
    nm.load_state_dict({k: npnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.RandomState(0).randn(2, 2, 5, 5).astype(np.float32)
    for mode in ('train', 'eval'):
        getattr(tm, mode)()
        getattr(nm, mode)()
        to, no = tm(torch.tensor(x)), nm(npnn.tensor(x))
        np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(nm.parametrizations.weight[0]._u.numpy(),
                                   tm.parametrizations.weight[0]._u.numpy(), rtol=1e-4, atol=1e-6)
    to.sum().backward()
    no.sum().backward()
    np.testing.assert_allclose(nm.parametrizations.weight.original.grad.numpy(),
                               tm.parametrizations.weight.original.grad.numpy(), rtol=1e-3, atol=1e-5)
