"""npnn.distributions against torch.distributions for the less common families and transforms:
statistics with parameter gradients, validation errors, expand, sampling and KL divergences."""
import math

import numpy as np
import pytest

from tests.helpers import compare, torch_or_skip
from tests.parity.test_distributions_parity import STATS, _stat  # the statistic names and their evaluation

torch = torch_or_skip()

_rng = np.random.default_rng(4321)


def _u(lo, hi, shape=(2, 3)):
    return _rng.uniform(lo, hi, size=shape).astype(np.float64)


def _ints(lo, hi, shape=(2, 3)):
    return _rng.integers(lo, hi + 1, size=shape).astype(np.float64)


# name -> (constructor(D, *params), params, value for log_prob/cdf, whether the value is differentiable)
CASES = {
    'Weibull': (lambda D, s, c: D.Weibull(s, c), [_u(0.5, 2), _u(0.5, 3)], _u(0.1, 3), True),
    'Weibull_mode': (lambda D, s, c: D.Weibull(s, c), [_u(0.5, 2), _u(1.2, 3)], _u(0.1, 3), True),
    'Pareto': (lambda D, s, a: D.Pareto(s, a), [_u(0.5, 1), _u(0.5, 4)], _u(1.1, 3), True),
    'HalfCauchy': (lambda D, s: D.HalfCauchy(s), [_u(0.5, 2)], _u(0.1, 3), True),
    'NegativeBinomial': (lambda D, n, p: D.NegativeBinomial(n, probs=p), [_u(0.5, 6), _u(0.1, 0.9)],
                         _ints(0, 8), False),
    'NegativeBinomial_logits': (lambda D, n, l: D.NegativeBinomial(n, logits=l), [_u(1.5, 6), _u(-2, 2)],
                                _ints(0, 8), False),
    'Kumaraswamy': (lambda D, a, b: D.Kumaraswamy(a, b), [_u(0.5, 3), _u(0.5, 3)], _u(0.1, 0.9), True),
    'Kumaraswamy_mode': (lambda D, a, b: D.Kumaraswamy(a, b), [_u(1.1, 3), np.array([[0.2, 0.5, 0.9]] * 2)],
                         _u(0.1, 0.9), True),
}



def _torch_has(name, stat):
    ctor, params, value, _ = CASES[name]
    v = torch.tensor(np.full(value.shape, 0.5) if stat == 'icdf' else value)
    try:
        _stat(torch.distributions, ctor, [torch.tensor(p) for p in params], v, stat)
    except NotImplementedError:
        return False
    return True


_PRESENT = [(n, s) for n in sorted(CASES) for s in STATS if _torch_has(n, s)]
_ABSENT = [(n, s) for n in sorted(CASES) for s in STATS if not _torch_has(n, s)]


def test_case_table_covers_the_expected_statistics():
    present = set(_PRESENT)
    assert {('Weibull', 'cdf'), ('Weibull', 'icdf'), ('Pareto', 'icdf'), ('HalfCauchy', 'icdf'),
            ('Kumaraswamy', 'cdf'), ('Kumaraswamy', 'entropy')} <= present
    assert ('NegativeBinomial', 'cdf') in set(_ABSENT)


@pytest.mark.parametrize('name,stat', _ABSENT)
def test_statistic_missing_like_torch(name, stat):
    import npnn
    ctor, params, value, _ = CASES[name]
    with pytest.raises(NotImplementedError):
        _stat(npnn.distributions, ctor, [npnn.tensor(p) for p in params], npnn.tensor(value), stat)


@pytest.mark.filterwarnings('ignore:invalid value encountered')  # inf * (+-g) summed in the helper's loss
@pytest.mark.parametrize('name,stat', _PRESENT)
def test_statistic_matches_torch(name, stat, device):
    ctor, params, value, value_grad = CASES[name]
    if stat == 'icdf':
        value = np.random.default_rng(7).uniform(0.1, 0.9, value.shape)
    n = len(params)
    grad_inputs = list(range(n)) + ([n] if value_grad and stat in ('log_prob', 'cdf', 'icdf') else [])
    compare(lambda lib, *a: _stat(lib.distributions, ctor, a[:n], a[n], stat), *params, value,
            grad_inputs=grad_inputs, rtol=1e-6, atol=1e-8, device=device)


@pytest.mark.parametrize('name', sorted(CASES))
def test_log_prob_gradcheck(name):
    import npnn
    ctor, params, value, value_grad = CASES[name]
    n = len(params)
    inputs = [npnn.tensor(p, dtype=npnn.float64, requires_grad=True) for p in params]
    if value_grad:
        inputs.append(npnn.tensor(value, dtype=npnn.float64, requires_grad=True))
    v = npnn.tensor(value, dtype=npnn.float64)

    def f(*a):
        return ctor(npnn.distributions, *a[:n]).log_prob(a[n] if value_grad else v)

    assert npnn.autograd.gradcheck(f, tuple(inputs), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize('name', sorted(CASES))
def test_expand_matches_torch(name):
    import npnn
    ctor, params, value, _ = CASES[name]
    p1 = [p[:1, :] for p in params]  # batch (1, 3), expanded to (4, 3)
    d = ctor(npnn.distributions, *[npnn.tensor(p) for p in p1]).expand((4, 3))
    t = ctor(torch.distributions, *[torch.tensor(p) for p in p1]).expand((4, 3))
    assert type(d).__name__ == type(t).__name__
    assert tuple(d.batch_shape) == tuple(t.batch_shape) == (4, 3)
    v = np.concatenate([value, value])[:4]
    np.testing.assert_allclose(d.log_prob(npnn.tensor(v)).numpy(), t.log_prob(torch.tensor(v)).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(d.mean.numpy(), t.mean.numpy(), rtol=1e-6)
    assert d.sample((2,)).shape == (2, 4, 3)


# --- validation messages ------------------------------------------------------------------------------------

@pytest.mark.parametrize('bad', [
    lambda D, T: D.Weibull(T([1.0]), T([-1.0])),
    lambda D, T: D.Weibull(T([0.0]), T([1.0])),
    lambda D, T: D.Pareto(T([1.0]), T([0.0])),
    lambda D, T: D.HalfCauchy(T([-2.0])),
    lambda D, T: D.NegativeBinomial(T([-1.0]), probs=T([0.5])),
    lambda D, T: D.NegativeBinomial(T([2.0]), probs=T([1.0])),
    lambda D, T: D.Kumaraswamy(T([1.0]), T([-0.5])),
])
def test_invalid_parameter_message_matches_torch(bad):
    import npnn
    with pytest.raises(ValueError) as t_err:
        bad(torch.distributions, torch.tensor)
    with pytest.raises(ValueError) as n_err:
        bad(npnn.distributions, npnn.tensor)
    head = lambda e: str(e.value).split(' of distribution')[0]  # noqa: E731
    tail = lambda e: str(e.value).split('to satisfy')[1].split(', but found')[0]  # noqa: E731
    assert head(n_err) == head(t_err)
    assert tail(n_err) == tail(t_err)


def test_negative_binomial_needs_exactly_one_parameterisation():
    import npnn
    for lib in (torch, npnn):
        with pytest.raises(ValueError, match='Either `probs` or `logits`'):
            lib.distributions.NegativeBinomial(lib.tensor([2.0]))
        with pytest.raises(ValueError, match='Either `probs` or `logits`'):
            lib.distributions.NegativeBinomial(lib.tensor([2.0]), probs=lib.tensor([0.5]),
                                               logits=lib.tensor([0.0]))


@pytest.mark.parametrize('make,value', [
    (lambda D, T: D.Weibull(T([1.0]), T([2.0])), [-1.0]),
    (lambda D, T: D.Pareto(T([2.0]), T([2.0])), [1.0]),
    (lambda D, T: D.HalfCauchy(T([1.0])), [-0.5]),
    (lambda D, T: D.NegativeBinomial(T([3.0]), probs=T([0.4])), [1.5]),
    (lambda D, T: D.Kumaraswamy(T([2.0]), T([2.0])), [1.5]),
])
def test_out_of_support_message_matches_torch(make, value):
    import npnn
    with pytest.raises(ValueError) as t_err:
        make(torch.distributions, torch.tensor).log_prob(torch.tensor(value))
    with pytest.raises(ValueError) as n_err:
        make(npnn.distributions, npnn.tensor).log_prob(npnn.tensor(value))
    part = lambda e: str(e.value).split(' of the distribution')[0]  # noqa: E731
    assert part(n_err) == part(t_err)


def test_support_and_constraints_match_torch():
    import npnn
    D, T = npnn.distributions, torch.distributions
    for name in ('Weibull', 'Pareto', 'HalfCauchy', 'NegativeBinomial', 'Kumaraswamy'):
        assert sorted(getattr(D, name).arg_constraints) == sorted(getattr(T, name).arg_constraints)
    p = D.Pareto(npnn.tensor([2.0, 3.0]), npnn.tensor([1.0, 1.0]))
    assert p.support.check(npnn.tensor([2.0, 2.5])).tolist() == [True, False]
    assert D.Kumaraswamy(2.0, 3.0).has_rsample and D.Weibull(1.0, 2.0).has_rsample
    assert not D.NegativeBinomial(2.0, probs=0.5).has_rsample


# --- sampling -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name,ctor,params', [
    ('Weibull', lambda D, T: D.Weibull(T(1.5), T(2.0)), None),
    ('Pareto', lambda D, T: D.Pareto(T(1.0), T(5.0)), None),
    ('Kumaraswamy', lambda D, T: D.Kumaraswamy(T(2.0), T(3.0)), None),
    ('NegativeBinomial', lambda D, T: D.NegativeBinomial(T(4.0), probs=T(0.3)), None),
    ('HalfCauchy', lambda D, T: D.HalfCauchy(T(1.0)), None),
])
def test_sample_statistics_match_torch(name, ctor, params):
    import npnn
    npnn.manual_seed(0)
    torch.manual_seed(0)
    d = ctor(npnn.distributions, lambda v: npnn.tensor(v, dtype=npnn.float64))
    t = ctor(torch.distributions, lambda v: torch.tensor(v, dtype=torch.float64))
    xs = d.sample((200000,)).numpy()
    assert xs.shape == (200000,)
    ts = t.sample((200000,)).numpy()
    assert bool(t.support.check(torch.tensor(xs)).all())
    if name == 'HalfCauchy':  # no moments: compare quartiles
        np.testing.assert_allclose(np.quantile(xs, [0.25, 0.5, 0.75]), np.quantile(ts, [0.25, 0.5, 0.75]),
                                   rtol=0.03)
        return
    np.testing.assert_allclose(xs.mean(), t.mean.item(), rtol=0.02)
    np.testing.assert_allclose(xs.var(), t.variance.item(), rtol=0.05)
    np.testing.assert_allclose(np.quantile(xs, [0.1, 0.5, 0.9]), np.quantile(ts, [0.1, 0.5, 0.9]),
                               rtol=0.03, atol=0.02 if name == 'NegativeBinomial' else 0)


@pytest.mark.parametrize('name', ['Weibull', 'Pareto', 'Kumaraswamy', 'HalfCauchy'])
def test_rsample_shape_and_gradients_flow(name, device):
    import npnn
    ctor, params, _, _ = CASES[name]
    ps = [npnn.tensor(p, dtype=npnn.float64, device=device, requires_grad=True) for p in params]
    x = ctor(npnn.distributions, *ps).rsample((5,))
    assert tuple(x.shape) == (5, 2, 3)
    x.sum().backward()
    for p in ps:
        assert p.grad is not None and np.all(np.isfinite(p.grad.cpu().numpy()))
        assert np.any(p.grad.cpu().numpy() != 0)


@pytest.mark.parametrize('name', ['Weibull', 'Pareto', 'Kumaraswamy', 'HalfCauchy'])
def test_reparameterised_sample_is_icdf_of_uniform(name):
    """rsample pushes uniforms through the quantile function: its values and gradients, as a function of the
    parameters at fixed uniforms, equal torch's icdf."""
    ctor, params, _, _ = CASES[name]
    u = np.random.default_rng(3).uniform(0.05, 0.95, (2, 3))
    compare(lambda lib, *a: ctor(lib.distributions, *a[:-1]).icdf(a[-1]), *params, u, rtol=1e-6, atol=1e-8)


# --- KL divergences ------------------------------------------------------------------------------------------

KL_PAIRS = {
    'Pareto-Pareto': ('Pareto', 'Pareto', [_u(0.5, 1), _u(1, 3)], [np.array([[0.4, 0.6, 2.0]] * 2), _u(1, 3)]),
    'Pareto-Exponential': ('Pareto', 'Exponential', [_u(0.5, 1), np.array([[0.5, 1.5, 3.0]] * 2)], [_u(0.5, 2)]),
    'Pareto-Gamma': ('Pareto', 'Gamma', [_u(0.5, 1), np.array([[0.5, 1.5, 3.0]] * 2)], [_u(1, 3), _u(0.5, 2)]),
    'Pareto-Normal': ('Pareto', 'Normal', [_u(0.5, 1), np.array([[1.5, 2.5, 4.0]] * 2)], [_u(-1, 1), _u(0.5, 2)]),
    'Pareto-Uniform': ('Pareto', 'Uniform', [_u(0.5, 1), _u(1, 3)], [_u(-1, 0), _u(1, 2)]),
    'Pareto-Beta': ('Pareto', 'Beta', [_u(0.5, 1), _u(1, 3)], [_u(1, 3), _u(1, 3)]),
    'Uniform-Pareto': ('Uniform', 'Pareto', [np.array([[0.3, 1.2, 2.0]] * 2), _u(2.5, 3)],
                       [np.array([[0.5, 1.0, 1.0]] * 2), _u(1, 3)]),
    'Exponential-Pareto': ('Exponential', 'Pareto', [_u(0.5, 2)], [_u(0.5, 1), _u(1, 3)]),
    'Gamma-Pareto': ('Gamma', 'Pareto', [_u(1, 3), _u(0.5, 2)], [_u(0.5, 1), _u(1, 3)]),
    'Normal-Pareto': ('Normal', 'Pareto', [_u(-1, 1), _u(0.5, 2)], [_u(0.5, 1), _u(1, 3)]),
    'Laplace-Pareto': ('Laplace', 'Pareto', [_u(-1, 1), _u(0.5, 2)], [_u(0.5, 1), _u(1, 3)]),
    'Gumbel-Pareto': ('Gumbel', 'Pareto', [_u(-1, 1), _u(0.5, 2)], [_u(0.5, 1), _u(1, 3)]),
    'Beta-Pareto': ('Beta', 'Pareto', [_u(1, 3), _u(1, 3)], [_u(0.5, 1), _u(1, 3)]),
}


@pytest.mark.filterwarnings('ignore:invalid value encountered')  # inf * (+-g) summed in the helper's loss
@pytest.mark.parametrize('pair', sorted(KL_PAIRS))
def test_kl_divergence_matches_torch(pair, device):
    p_name, q_name, p_params, q_params = KL_PAIRS[pair]
    k = len(p_params)

    def fn(lib, *a):
        D = lib.distributions
        return D.kl_divergence(getattr(D, p_name)(*a[:k]), getattr(D, q_name)(*a[k:]))

    compare(fn, *p_params, *q_params, rtol=1e-6, atol=1e-8, device=device)


def test_kl_pareto_cases_are_infinite_where_torch_says_so():
    import npnn
    got = npnn.distributions.kl_divergence(npnn.distributions.Pareto(npnn.tensor([1.0, 1.0]), npnn.tensor([0.8, 3.0])),
                                           npnn.distributions.Exponential(npnn.tensor([1.0, 1.0])))
    assert math.isinf(got[0].item()) and math.isfinite(got[1].item())


# --- transforms -----------------------------------------------------------------------------------------------

def _transform_pair(name):
    import npnn
    TN, TT = npnn.distributions.transforms, torch.distributions.transforms
    if name == 'Power':
        e = np.array([0.5, 2.5, -1.5])
        return TN.PowerTransform(npnn.tensor(e)), TT.PowerTransform(torch.tensor(e)), _u(0.2, 3)
    return getattr(TN, name + 'Transform')(), getattr(TT, name + 'Transform')(), _u(-2, 2)


@pytest.mark.parametrize('name', ['Power', 'StickBreaking', 'Softmax', 'Sigmoid', 'Tanh'])
def test_transform_forward_inverse_and_jacobian_match_torch(name):
    import npnn
    tn, tt, x = _transform_pair(name)
    compare(lambda lib, a: (tn if lib is npnn else tt)(a), x, rtol=1e-6, atol=1e-8)
    y = tt(torch.tensor(x)).numpy()
    compare(lambda lib, a: (tn if lib is npnn else tt).inv(a), y, rtol=1e-6, atol=1e-8)
    assert tuple(tn.forward_shape((2, 3))) == tuple(tt.forward_shape((2, 3)))
    assert tuple(tn.inverse_shape((2, 3))) == tuple(tt.inverse_shape((2, 3)))
    assert tn.event_dim == tt.event_dim and tn.bijective == tt.bijective
    if name == 'Softmax':
        with pytest.raises(NotImplementedError):
            tn.log_abs_det_jacobian(npnn.tensor(x), npnn.tensor(y))
        return
    compare(lambda lib, a: (tn if lib is npnn else tt).log_abs_det_jacobian(a, (tn if lib is npnn else tt)(a)),
            x, rtol=1e-6, atol=1e-8)


def test_stick_breaking_log_det_matches_autograd_jacobian():
    """Against the log-determinant of the Jacobian of the first K-1 outputs, computed by torch autograd."""
    import npnn
    x = _u(-1.5, 1.5, (4,))
    jac = torch.autograd.functional.jacobian(lambda a: torch.distributions.transforms.StickBreakingTransform()(a)[:-1],
                                             torch.tensor(x))
    expected = torch.linalg.slogdet(jac)[1].item()
    t = npnn.distributions.transforms.StickBreakingTransform()
    xn = npnn.tensor(x)
    assert abs(t.log_abs_det_jacobian(xn, t(xn)).item() - expected) < 1e-10


def test_power_transform_sign_and_gradcheck():
    import npnn
    t = npnn.distributions.transforms.PowerTransform(npnn.tensor([2.0, -0.5]))
    assert t.sign.tolist() == [1.0, -1.0]
    assert npnn.distributions.transforms.PowerTransform(-2.0).sign == -1
    e = npnn.tensor([0.7, 2.5], dtype=npnn.float64, requires_grad=True)
    x = npnn.tensor([0.4, 1.7], dtype=npnn.float64, requires_grad=True)
    assert npnn.autograd.gradcheck(lambda e, x: npnn.distributions.transforms.PowerTransform(e)(x), (e, x))


# --- VonMises ---------------------------------------------------------------------------------------------------
# torch evaluates log I_0 and log I_1 by polynomial approximation (about 3e-7 absolute error); npnn uses the
# exact scaled Bessel functions, so comparisons with torch are at 1e-6 and exactness is checked against SciPy.

_VM_PARAMS = [np.linspace(-3, 3, 6).reshape(2, 3), np.array([[0.01, 0.5, 2.0], [3.7, 3.8, 40.0]])]
_VM_VALUE = np.linspace(-2, 5, 6).reshape(2, 3)


@pytest.mark.parametrize('stat', ['mean', 'mode', 'variance', 'stddev', 'log_prob'])
def test_von_mises_statistic_matches_torch(stat, device):
    compare(lambda lib, l, k, v: _stat(lib.distributions, lambda D, a, b: D.VonMises(a, b), [l, k], v, stat),
            *_VM_PARAMS, _VM_VALUE, rtol=1e-5, atol=1e-6, device=device)


@pytest.mark.parametrize('stat', ['entropy', 'cdf', 'icdf', 'rsample'])
def test_von_mises_missing_like_torch(stat):
    import npnn
    for lib in (torch, npnn):
        d = lib.distributions.VonMises(lib.tensor([0.0]), lib.tensor([1.0]))
        with pytest.raises(NotImplementedError):
            getattr(d, stat)() if stat in ('entropy', 'rsample') else getattr(d, stat)(lib.tensor([0.5]))


def test_von_mises_is_exact():
    import npnn
    from scipy import stats
    loc, kappa = _VM_PARAMS
    d = npnn.distributions.VonMises(npnn.tensor(loc), npnn.tensor(kappa))
    np.testing.assert_allclose(d.log_prob(npnn.tensor(_VM_VALUE)).numpy(),
                               stats.vonmises.logpdf(_VM_VALUE, kappa, loc=loc), rtol=1e-12)
    from scipy.special import i0e, i1e
    np.testing.assert_allclose(d.variance.numpy(), 1 - i1e(kappa) / i0e(kappa), rtol=1e-12)


def test_von_mises_log_prob_gradcheck():
    import npnn
    a = [npnn.tensor(p, dtype=npnn.float64, requires_grad=True) for p in _VM_PARAMS + [_VM_VALUE]]
    assert npnn.autograd.gradcheck(lambda l, k, v: npnn.distributions.VonMises(l, k).log_prob(v), tuple(a))


def test_von_mises_expand_validation_and_support():
    import npnn
    D = npnn.distributions
    d = D.VonMises(npnn.tensor([[0.5, 1.0, 2.0]]), npnn.tensor([[1.0, 2.0, 3.0]])).expand((4, 3))
    assert type(d) is D.VonMises and tuple(d.batch_shape) == (4, 3) and tuple(d.sample((2,)).shape) == (2, 4, 3)
    t = torch.distributions.VonMises(torch.tensor([[0.5, 1.0, 2.0]]), torch.tensor([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(d.variance.numpy(), t.expand((4, 3)).variance.numpy(), atol=1e-6)
    with pytest.raises(ValueError) as t_err:
        torch.distributions.VonMises(torch.tensor([0.0]), torch.tensor([0.0]))
    with pytest.raises(ValueError) as n_err:
        D.VonMises(npnn.tensor([0.0]), npnn.tensor([0.0]))
    assert str(n_err.value).split(' of distribution')[0] == str(t_err.value).split(' of distribution')[0]
    assert sorted(D.VonMises.arg_constraints) == sorted(torch.distributions.VonMises.arg_constraints)
    assert not D.VonMises.has_rsample


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_von_mises_sample_statistics_match_torch(dtype):
    """Samples lie in [-pi, pi); the mean resultant vector matches torch's samples and the closed form
    (loc, I_1/I_0), for concentrations from nearly uniform to sharply peaked."""
    import npnn
    npnn.manual_seed(0)
    torch.manual_seed(0)
    loc = np.array([3.0, -1.0, 0.5, 2.0])
    kappa = np.array([1e-6, 0.5, 4.0, 60.0])
    d = npnn.distributions.VonMises(npnn.tensor(loc, dtype=getattr(npnn, dtype)),
                                    npnn.tensor(kappa, dtype=getattr(npnn, dtype)))
    t = torch.distributions.VonMises(torch.tensor(loc), torch.tensor(kappa))
    xs = d.sample((100000,))
    assert xs.dtype == getattr(npnn, dtype)
    xs = xs.numpy().astype(np.float64)
    ts = t.sample((100000,)).numpy()
    assert xs.min() >= -math.pi and xs.max() <= math.pi
    for s in (xs, ts):
        r = np.cos(s - loc).mean(0)
        np.testing.assert_allclose(r, 1 - t.variance.numpy(), atol=0.01)
        np.testing.assert_allclose(np.sin(s - loc).mean(0), 0, atol=0.01)
    np.testing.assert_allclose(np.quantile(xs, [0.25, 0.5, 0.75], axis=0),
                               np.quantile(ts, [0.25, 0.5, 0.75], axis=0), atol=0.05)


# --- LowRankMultivariateNormal ------------------------------------------------------------------------------

_LR = {  # batch (2,), event 4, rank 2; and an unbatched one, broadcast against it in the KL tests
    'p': [_rng.standard_normal((2, 4)), _rng.standard_normal((2, 4, 2)), _u(0.5, 2, (2, 4))],
    'q': [_rng.standard_normal(4), _rng.standard_normal((4, 2)), _u(0.5, 2, (4,))],
}
_LR_VALUE = _rng.standard_normal((3, 2, 4))
_A = _rng.standard_normal((4, 4))
_MVN = [_rng.standard_normal(4), _A @ _A.T + 4 * np.eye(4)]


@pytest.mark.parametrize('stat', ['mean', 'mode', 'variance', 'stddev', 'entropy', 'log_prob', 'scale_tril',
                                  'covariance_matrix', 'precision_matrix'])
def test_lowrank_mvn_statistic_matches_torch(stat, device):
    def fn(lib, loc, W, D, v):
        d = lib.distributions.LowRankMultivariateNormal(loc, W, D)
        if stat == 'log_prob':
            return d.log_prob(v)
        return d.entropy() if stat == 'entropy' else getattr(d, stat)

    compare(fn, *_LR['p'], _LR_VALUE, rtol=1e-6, atol=1e-8, device=device)


def test_lowrank_mvn_log_prob_gradcheck():
    import npnn
    a = tuple(npnn.tensor(x, dtype=npnn.float64, requires_grad=True) for x in _LR['p'] + [_LR_VALUE])
    assert npnn.autograd.gradcheck(
        lambda l, W, D, v: npnn.distributions.LowRankMultivariateNormal(l, W, D).log_prob(v), a)


def test_lowrank_mvn_agrees_with_full_mvn():
    import npnn
    D = npnn.distributions
    p = D.LowRankMultivariateNormal(*[npnn.tensor(x) for x in _LR['p']])
    full = D.MultivariateNormal(p.loc, covariance_matrix=p.covariance_matrix)
    v = npnn.tensor(_LR_VALUE)
    np.testing.assert_allclose(p.log_prob(v).numpy(), full.log_prob(v).numpy(), rtol=1e-10)
    np.testing.assert_allclose(p.entropy().numpy(), full.entropy().numpy(), rtol=1e-10)


def test_lowrank_mvn_expand_and_rsample():
    import npnn
    D = npnn.distributions
    npnn.manual_seed(0)
    loc, W, diag = _LR['q']
    ps = [npnn.tensor(x, requires_grad=True) for x in (loc, W, diag)]
    d = D.LowRankMultivariateNormal(*ps)
    e = d.expand((3,))
    t = torch.distributions.LowRankMultivariateNormal(*[torch.tensor(x) for x in (loc, W, diag)]).expand((3,))
    assert type(e) is D.LowRankMultivariateNormal and tuple(e.batch_shape) == (3,) and tuple(e.event_shape) == (4,)
    assert tuple(e.cov_factor.shape) == tuple(t.cov_factor.shape)
    v = npnn.tensor(_LR_VALUE[:, :1].repeat(3, 1))
    np.testing.assert_allclose(e.log_prob(v).detach().numpy(), t.log_prob(torch.tensor(v.numpy())).numpy(),
                               rtol=1e-10)
    x = d.rsample((200000,))
    assert tuple(x.shape) == (200000, 4)
    xs = x.detach().numpy()
    np.testing.assert_allclose(xs.mean(0), loc, atol=0.02)
    np.testing.assert_allclose(np.cov(xs.T), d.covariance_matrix.detach().numpy(), atol=0.05)
    x.sum().backward()
    for p in ps:
        assert p.grad is not None and np.all(np.isfinite(p.grad.numpy())) and np.any(p.grad.numpy() != 0)
    np.testing.assert_allclose(ps[0].grad.numpy(), np.full(4, 200000.0))


@pytest.mark.parametrize('args', [
    ((), (4, 2), (4,)),
    ((4,), (4,), (4,)),
    ((4,), (3, 2), (4,)),
    ((4,), (4, 2), (3,)),
    ((2, 4), (3, 4, 2), (4,)),
])
def test_lowrank_mvn_shape_errors_match_torch(args):
    import npnn
    shapes = args
    with pytest.raises(ValueError) as t_err:
        torch.distributions.LowRankMultivariateNormal(*[torch.zeros(s) + 1 for s in shapes])
    with pytest.raises(ValueError) as n_err:
        npnn.distributions.LowRankMultivariateNormal(*[npnn.zeros(s) + 1 for s in shapes])
    assert str(n_err.value).replace('npnn.Size', 'torch.Size') == str(t_err.value)


def test_lowrank_mvn_invalid_diag_message_matches_torch():
    import npnn
    with pytest.raises(ValueError) as t_err:
        torch.distributions.LowRankMultivariateNormal(torch.zeros(2), torch.ones(2, 1), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError) as n_err:
        npnn.distributions.LowRankMultivariateNormal(npnn.zeros(2), npnn.ones(2, 1), npnn.tensor([1.0, -1.0]))
    head = lambda e: str(e.value).split(' of distribution')[0]  # noqa: E731
    assert head(n_err) == head(t_err)
    assert sorted(npnn.distributions.LowRankMultivariateNormal.arg_constraints) == \
        sorted(torch.distributions.LowRankMultivariateNormal.arg_constraints)


@pytest.mark.parametrize('pair', ['lowrank-lowrank', 'lowrank-lowrank-same-batch', 'mvn-lowrank', 'lowrank-mvn'])
def test_lowrank_mvn_kl_matches_torch(pair, device):
    def fn(lib, *a):
        D = lib.distributions
        p = D.LowRankMultivariateNormal(*a[:3])
        if pair == 'lowrank-lowrank':
            return D.kl_divergence(p, D.LowRankMultivariateNormal(*a[3:]))
        if pair == 'lowrank-lowrank-same-batch':
            return D.kl_divergence(p, D.LowRankMultivariateNormal(a[0] * 0.5, a[1] + 0.3, a[2] * 1.5))
        mvn = D.MultivariateNormal(a[3], covariance_matrix=a[4])
        return D.kl_divergence(mvn, p) if pair == 'mvn-lowrank' else D.kl_divergence(p, mvn)

    other = _MVN if 'mvn' in pair else _LR['q']
    compare(fn, *_LR['p'], *other, rtol=1e-6, atol=1e-8, device=device)


def test_lowrank_mvn_kl_event_shape_mismatch():
    import npnn
    D = npnn.distributions
    p = D.LowRankMultivariateNormal(npnn.zeros(2), npnn.ones(2, 1), npnn.ones(2))
    q = D.LowRankMultivariateNormal(npnn.zeros(3), npnn.ones(3, 1), npnn.ones(3))
    with pytest.raises(ValueError, match='different event shapes'):
        D.kl_divergence(p, q)


def test_cumulative_distribution_transform_matches_torch(device):
    def fn(lib, loc, scale, x):
        t = lib.distributions.transforms.CumulativeDistributionTransform(lib.distributions.Normal(loc, scale))
        y = t(x)
        return y, t.inv(y), t.log_abs_det_jacobian(x, y)

    compare(fn, _u(-1, 1), _u(0.5, 2), _u(-2, 2), rtol=1e-6, atol=1e-8, device=device)


def test_cumulative_distribution_transform_pushes_to_uniform():
    """A distribution pushed through its own CDF is Uniform(0, 1): log density 0 on the unit interval."""
    import npnn
    D = npnn.distributions
    base = D.Gumbel(npnn.tensor([0.3, -1.0]), npnn.tensor([1.5, 0.7]))
    t = D.transforms.CumulativeDistributionTransform(base)
    assert t.domain is base.support and t.codomain is D.constraints.unit_interval and t.sign == 1
    u = D.TransformedDistribution(base, [t])
    np.testing.assert_allclose(u.log_prob(npnn.tensor([0.2, 0.9])).numpy(), 0.0, atol=1e-12)


@pytest.mark.parametrize('name,args,bad', [('LogNormal', (0., 1.), -1.), ('Weibull', (1., 2.), -0.5),
                                           ('Pareto', (2., 1.5), 1.0)])
def test_transformed_families_check_the_support_in_log_prob_like_torch(name, args, bad):
    import npnn
    for L in (npnn, torch):
        d = getattr(L.distributions, name)(*[L.tensor(a) for a in args], validate_args=True)
        with pytest.raises(ValueError, match='Expected value argument'):
            d.log_prob(L.tensor(bad))
