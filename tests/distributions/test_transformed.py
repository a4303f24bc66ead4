"""TransformedDistribution and the elementwise transforms, against the closed forms and PyTorch."""
import math

import numpy as np
import pytest

import npnn
from npnn.distributions import LogNormal, Normal, TransformedDistribution, Uniform
from npnn.distributions import transforms as T


def test_exp_of_normal_is_lognormal():
    base = Normal(npnn.tensor([0.0, 0.5]), npnn.tensor([1.0, 2.0]))
    d = TransformedDistribution(base, T.ExpTransform())
    y = npnn.tensor([0.7, 3.0])
    np.testing.assert_allclose(d.log_prob(y).numpy(), LogNormal(base.loc, base.scale).log_prob(y).numpy(),
                               rtol=1e-5)
    assert d.sample((4,)).shape == (4, 2) and (d.sample((10,)) > 0).all()
    assert d.batch_shape == (2,) and d.event_shape == ()


def test_affine_and_sigmoid_and_inverse():
    d = TransformedDistribution(Uniform(0.0, 1.0), [T.AffineTransform(2.0, 3.0)])
    assert d.log_prob(npnn.tensor(3.5)).item() == pytest.approx(-math.log(3.0))
    assert d.cdf(npnn.tensor(3.5)).item() == pytest.approx(0.5)
    assert d.icdf(npnn.tensor(0.5)).item() == pytest.approx(3.5)
    s = T.SigmoidTransform()
    x = npnn.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(s.inv(s(x)).numpy(), x.numpy(), rtol=1e-5, atol=1e-6)
    c = T.ComposeTransform([T.AffineTransform(1.0, 2.0), T.ExpTransform()])
    np.testing.assert_allclose(c.inv(c(x)).numpy(), x.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.log_abs_det_jacobian(x, c(x)).numpy(), (math.log(2.0) + 1 + 2 * x).numpy(),
                               rtol=1e-5)
    with pytest.raises(ValueError):
        TransformedDistribution(Uniform(0.0, 1.0), 'exp')


def test_tanh_squashed_gaussian_matches_torch():
    torch = pytest.importorskip('torch')
    mu = np.array([[0.3, -1.0], [2.0, 0.1]], dtype=np.float32)
    sd = np.array([[0.5, 1.5], [0.2, 1.0]], dtype=np.float32)
    y = np.array([[0.2, -0.9], [0.99, 0.0]], dtype=np.float32)
    out = {}
    for lib in (npnn, torch):
        m = lib.tensor(mu, requires_grad=True)
        D = lib.distributions
        d = TransformedDistribution if lib is npnn else D.TransformedDistribution
        dist = d(D.Normal(m, lib.tensor(sd)), [D.transforms.TanhTransform()])
        lp = dist.log_prob(lib.tensor(y))
        lp.sum().backward()
        out[lib.__name__] = (lp.detach().numpy(), m.grad.numpy(), tuple(dist.rsample((3,)).shape))
    np.testing.assert_allclose(out['npnn'][0], out['torch'][0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out['npnn'][1], out['torch'][1], rtol=1e-4, atol=1e-5)
    assert out['npnn'][2] == out['torch'][2]
