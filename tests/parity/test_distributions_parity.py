"""npnn.distributions against torch.distributions: values and parameter gradients of every statistic."""
import numpy as np
import pytest

from tests.helpers import compare, torch_or_skip

torch = torch_or_skip()

_rng = np.random.default_rng(1234)


def _u(lo, hi, shape=(2, 3)):
    return _rng.uniform(lo, hi, size=shape).astype(np.float64)


def _ints(lo, hi, shape=(2, 3)):
    return _rng.integers(lo, hi + 1, size=shape).astype(np.float64)


def _simplex(shape=(2, 3)):
    a = _u(0.2, 1.0, shape)
    return a / a.sum(-1, keepdims=True)


def _one_hot(shape=(2, 3)):
    return np.eye(shape[-1])[_rng.integers(0, shape[-1], size=shape[:-1])]


def _counts(n, shape=(2, 3)):
    return np.stack([np.bincount(_rng.integers(0, shape[-1], n), minlength=shape[-1])
                     for _ in range(shape[0])]).astype(np.float64)


def _pd(n=3, batch=()):
    a = _rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


_COV = _pd()


# name -> (constructor(D, *params), params, value for log_prob/cdf, whether the value is differentiable)
CASES = {
    'Normal': (lambda D, a, b: D.Normal(a, b), [_u(-2, 2), _u(0.5, 2)], _u(-3, 3), True),
    'LogNormal': (lambda D, a, b: D.LogNormal(a, b), [_u(-1, 1), _u(0.5, 1.5)], _u(0.2, 3), True),
    'HalfNormal': (lambda D, s: D.HalfNormal(s), [_u(0.5, 2)], _u(0.1, 3), True),
    'Uniform': (lambda D, a, b: D.Uniform(a, b), [_u(-2, -1), _u(1, 2)], _u(-0.9, 0.9), True),
    'Laplace': (lambda D, a, b: D.Laplace(a, b), [_u(-2, 2), _u(0.5, 2)], _u(-3, 3), True),
    'Cauchy': (lambda D, a, b: D.Cauchy(a, b), [_u(-2, 2), _u(0.5, 2)], _u(-3, 3), True),
    'Gumbel': (lambda D, a, b: D.Gumbel(a, b), [_u(-2, 2), _u(0.5, 2)], _u(-3, 3), True),
    'Exponential': (lambda D, r: D.Exponential(r), [_u(0.5, 2)], _u(0.1, 3), True),
    'Gamma': (lambda D, a, b: D.Gamma(a, b), [_u(0.5, 3), _u(0.5, 2)], _u(0.1, 3), True),
    'Chi2': (lambda D, df: D.Chi2(df), [_u(1, 5)], _u(0.1, 3), True),
    'Beta': (lambda D, a, b: D.Beta(a, b), [_u(0.5, 3), _u(0.5, 3)], _u(0.1, 0.9), True),
    'Beta_mode': (lambda D, a, b: D.Beta(a, b), [_u(1.2, 3), _u(1.2, 3)], _u(0.1, 0.9), True),
    'Dirichlet': (lambda D, c: D.Dirichlet(c), [_u(1.2, 3)], _simplex(), True),
    'StudentT': (lambda D, df, a, b: D.StudentT(df, a, b), [_u(2.5, 5), _u(-1, 1), _u(0.5, 2)], _u(-3, 3), True),
    'StudentT_heavy': (lambda D, df: D.StudentT(df), [np.array([0.5, 1.5, 3.0])], np.array([0.1, -1.0, 2.0]),
                       True),
    'Bernoulli': (lambda D, p: D.Bernoulli(probs=p), [_u(0.1, 0.9)], _ints(0, 1), False),
    'Bernoulli_logits': (lambda D, l: D.Bernoulli(logits=l), [_u(-2, 2)], _ints(0, 1), False),
    'Binomial': (lambda D, p: D.Binomial(5, probs=p), [_u(0.1, 0.9)], _ints(0, 5), False),
    'Binomial_logits': (lambda D, l: D.Binomial(4, logits=l), [_u(-2, 2)], _ints(0, 4), False),
    'Categorical': (lambda D, p: D.Categorical(probs=p), [_u(0.1, 1)], np.array([0, 2]), False),
    'Categorical_logits': (lambda D, l: D.Categorical(logits=l), [_u(-2, 2, (4, 5))], np.array([0, 4, 1, 3]),
                           False),
    'OneHotCategorical': (lambda D, p: D.OneHotCategorical(probs=p), [_u(0.1, 1)], _one_hot(), False),
    'Multinomial': (lambda D, p: D.Multinomial(6, probs=p), [_u(0.1, 1)], _counts(6), False),
    'Geometric': (lambda D, p: D.Geometric(probs=p), [_u(0.2, 0.8)], _ints(0, 6), False),
    'Geometric_logits': (lambda D, l: D.Geometric(logits=l), [_u(-2, 2)], _ints(0, 6), False),
    'Poisson': (lambda D, r: D.Poisson(r), [_u(0.5, 3)], _ints(0, 6), False),
    'Independent': (lambda D, a, b: D.Independent(D.Normal(a, b), 1), [_u(-2, 2), _u(0.5, 2)], _u(-3, 3), True),
    'MVN_cov': (lambda D, m, c: D.MultivariateNormal(m, covariance_matrix=c), [_u(-1, 1), _COV], _u(-2, 2), True),
    'MVN_prec': (lambda D, m, c: D.MultivariateNormal(m, precision_matrix=c), [_u(-1, 1), _pd(3, (2,))],
                 _u(-2, 2), True),
    'MVN_tril': (lambda D, m, c: D.MultivariateNormal(m, scale_tril=c), [_u(-1, 1, (3,)), np.linalg.cholesky(_COV)],
                 _u(-2, 2, (4, 3)), True),
}
_NEEDS_LINALG = {'MVN_cov', 'MVN_prec', 'MVN_tril', 'MVN'}


def _skip_without_linalg(name):
    import npnn
    if name in _NEEDS_LINALG and not (hasattr(npnn.linalg, 'cholesky') and hasattr(npnn.linalg, 'solve_triangular')):
        pytest.skip('npnn.linalg lacks cholesky/solve_triangular')

STATS = ['mean', 'variance', 'stddev', 'mode', 'entropy', 'log_prob', 'cdf', 'icdf']


def _stat(D, ctor, params, value, stat):
    d = ctor(D, *params)
    if stat in ('log_prob', 'cdf', 'icdf'):
        return getattr(d, stat)(value)
    if stat == 'entropy':
        return d.entropy()
    return getattr(d, stat)


def _torch_has(name, stat):
    ctor, params, value, _ = CASES[name]
    tparams = [torch.tensor(p) for p in params]
    v = torch.tensor(_u(0.1, 0.9, value.shape) if stat == 'icdf' else value)
    try:
        _stat(torch.distributions, ctor, tparams, v, stat)
    except NotImplementedError:
        return False
    return True


_PRESENT = [(n, s) for n in sorted(CASES) for s in STATS if _torch_has(n, s)]
_ABSENT = [(n, s) for n in sorted(CASES) for s in STATS if not _torch_has(n, s)]


@pytest.mark.parametrize('name,stat', _ABSENT)
def test_statistic_missing_like_torch(name, stat):
    """Where torch raises NotImplementedError (no closed form), npnn does too."""
    import npnn
    _skip_without_linalg(name)
    ctor, params, value, _ = CASES[name]
    with pytest.raises(NotImplementedError):
        _stat(npnn.distributions, ctor, [npnn.tensor(p) for p in params], npnn.tensor(value), stat)


@pytest.mark.parametrize('name,stat', _PRESENT)
def test_statistic_matches_torch(name, stat, device):
    _skip_without_linalg(name)
    if name == 'StudentT_heavy' and stat == 'stddev':
        pytest.skip('npnn.where backward turns a NaN upstream gradient into NaN in the unselected branch')
    ctor, params, value, value_grad = CASES[name]
    if stat == 'icdf':
        value = np.random.default_rng(7).uniform(0.1, 0.9, value.shape)
    n = len(params)
    grad_inputs = list(range(n)) + ([n] if value_grad and stat in ('log_prob', 'cdf', 'icdf') else [])
    if name in ('Gamma', 'Chi2') and stat == 'cdf':
        grad_inputs = [i for i in grad_inputs if i != 0]  # torch has no igamma gradient in the shape
    compare(lambda lib, *a: _stat(lib.distributions, ctor, a[:n], a[n], stat), *params, value,
            grad_inputs=grad_inputs, rtol=1e-6, atol=1e-8, device=device)


def test_gamma_cdf_concentration_gradient_by_finite_difference():
    import npnn
    a = npnn.tensor([0.7, 2.0, 4.5], dtype=npnn.float64, requires_grad=True)
    x = npnn.tensor([0.5, 1.5, 6.0], dtype=npnn.float64)
    npnn.distributions.Gamma(a, 1.0).cdf(x).sum().backward()
    h = 1e-6
    ta = torch.tensor(a.detach().numpy())
    tx = torch.tensor(x.numpy())
    fd = (torch.special.gammainc(ta + h, tx) - torch.special.gammainc(ta - h, tx)) / (2 * h)
    np.testing.assert_allclose(a.grad.numpy(), fd.numpy(), rtol=1e-5)


KL_PAIRS = {
    'Normal': ('Normal', 'Normal', [_u(-1, 1), _u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'LogNormal': ('LogNormal', 'LogNormal', [_u(-1, 1), _u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'HalfNormal': ('HalfNormal', 'HalfNormal', [_u(0.5, 2)], [_u(0.5, 2)]),
    'Bernoulli': ('Bernoulli', 'Bernoulli', [_u(0.1, 0.9)], [_u(0.1, 0.9)]),
    'Binomial': ('Binomial', 'Binomial', [5., _u(0.1, 0.9)], [5., _u(0.1, 0.9)]),
    'Categorical': ('Categorical', 'Categorical', [_u(0.1, 1)], [_u(0.1, 1)]),
    'OneHotCategorical': ('OneHotCategorical', 'OneHotCategorical', [_u(0.1, 1)], [_u(0.1, 1)]),
    'Beta': ('Beta', 'Beta', [_u(0.5, 3), _u(0.5, 3)], [_u(0.5, 3), _u(0.5, 3)]),
    'Dirichlet': ('Dirichlet', 'Dirichlet', [_u(0.5, 3)], [_u(0.5, 3)]),
    'Gamma': ('Gamma', 'Gamma', [_u(0.5, 3), _u(0.5, 2)], [_u(0.5, 3), _u(0.5, 2)]),
    'Chi2_Gamma': ('Chi2', 'Gamma', [_u(1, 4)], [_u(0.5, 3), _u(0.5, 2)]),
    'Exponential': ('Exponential', 'Exponential', [_u(0.5, 2)], [_u(0.5, 2)]),
    'Laplace': ('Laplace', 'Laplace', [_u(-1, 1), _u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'Gumbel': ('Gumbel', 'Gumbel', [_u(-1, 1), _u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'Cauchy': ('Cauchy', 'Cauchy', [_u(-1, 1), _u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'Uniform': ('Uniform', 'Uniform', [_u(-1, 0), _u(0, 1)], [_u(-3, -1), _u(1, 3)]),
    'Uniform_inf': ('Uniform', 'Uniform', [_u(-3, -2), _u(0, 1)], [_u(-1, 0), _u(1, 3)]),
    'Poisson': ('Poisson', 'Poisson', [_u(0.5, 3)], [_u(0.5, 3)]),
    'Geometric': ('Geometric', 'Geometric', [_u(0.2, 0.8)], [_u(0.2, 0.8)]),
    'Uniform_Normal': ('Uniform', 'Normal', [_u(-1, 0), _u(0, 1)], [_u(-1, 1), _u(0.5, 2)]),
    'Exponential_Gamma': ('Exponential', 'Gamma', [_u(0.5, 2)], [_u(0.5, 3), _u(0.5, 2)]),
    'Gamma_Exponential': ('Gamma', 'Exponential', [_u(0.5, 3), _u(0.5, 2)], [_u(0.5, 2)]),
    'Exponential_Normal': ('Exponential', 'Normal', [_u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'Poisson_Bernoulli': ('Poisson', 'Bernoulli', [_u(0.5, 2)], [_u(0.1, 0.9)]),
    'Independent': ('Independent', 'Independent', [_u(-1, 1), _u(0.5, 2)], [_u(-1, 1), _u(0.5, 2)]),
    'MVN': ('MultivariateNormal', 'MultivariateNormal', [_u(-1, 1), _pd(3, (2,))], [_u(-1, 1, (3,)), _COV]),
}


@pytest.mark.filterwarnings('ignore:invalid value encountered')  # inf * (+-g) summed in the helper's loss
@pytest.mark.parametrize('pair', sorted(KL_PAIRS))
def test_kl_divergence_matches_torch(pair, device):
    _skip_without_linalg(pair)
    p_name, q_name, p_params, q_params = KL_PAIRS[pair]
    k = len(p_params)

    def fn(lib, *a):
        D = lib.distributions
        if p_name == 'Independent':
            return D.kl_divergence(D.Independent(D.Normal(*a[:k]), 1), D.Independent(D.Normal(*a[k:]), 1))
        return D.kl_divergence(getattr(D, p_name)(*a[:k]), getattr(D, q_name)(*a[k:]))

    compare(fn, *p_params, *q_params, rtol=1e-6, atol=1e-8, device=device)


@pytest.mark.parametrize('bad', [
    lambda D, T: D.Normal(T([0.0]), T([-1.0])),
    lambda D, T: D.Gamma(T([1.0]), T([0.0])),
    lambda D, T: D.Bernoulli(probs=T([1.5])),
    lambda D, T: D.Categorical(probs=T([0.5, -0.1])),
    lambda D, T: D.Dirichlet(T([1.0, -1.0])),
    lambda D, T: D.Poisson(T([-1.0])),
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


@pytest.mark.parametrize('make,value', [
    (lambda D, T: D.Normal(T([0.0]), T([1.0])), [float('nan')]),
    (lambda D, T: D.Exponential(T([1.0])), [-1.0]),
    (lambda D, T: D.Bernoulli(probs=T([0.3])), [0.5]),
    (lambda D, T: D.Beta(T([2.0]), T([2.0])), [1.5]),
    (lambda D, T: D.Poisson(T([2.0])), [1.5]),
    (lambda D, T: D.Categorical(probs=T([0.3, 0.7])), [2.0]),
])
def test_out_of_support_message_matches_torch(make, value):
    import npnn
    with pytest.raises(ValueError) as t_err:
        make(torch.distributions, torch.tensor).log_prob(torch.tensor(value))
    with pytest.raises(ValueError) as n_err:
        make(npnn.distributions, npnn.tensor).log_prob(npnn.tensor(value))
    part = lambda e: str(e.value).split(' of the distribution')[0]  # noqa: E731
    assert part(n_err) == part(t_err)


def test_gamma_implicit_reparameterisation_gradient_matches_torch():
    """dx/dalpha of a standard Gamma sample, as used by rsample, against torch's exact implicit gradient."""
    from npnn.distributions.utils import _gammainc_and_grads
    alpha = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 80.0])
    x = np.array([0.01, 0.2, 1.3, 2.0, 9.0, 85.0])
    _, dpda, dpdx = _gammainc_and_grads(alpha, x)
    expected = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    np.testing.assert_allclose(-dpda / dpdx, expected, rtol=1e-4)


def test_gamma_rsample_gradient_through_sample_matches_torch_formula():
    """The gradient rsample attaches to each drawn sample equals torch's implicit gradient at that sample."""
    import npnn
    a = npnn.tensor([0.4, 1.5, 6.0], dtype=npnn.float64, requires_grad=True)
    x = npnn.distributions.Gamma(a, 1.0).rsample((50,))
    x.backward(npnn.ones_like(x))
    expected = torch._standard_gamma_grad(torch.tensor(a.detach().numpy()).expand(50, 3),
                                          torch.tensor(x.detach().numpy())).sum(0)
    np.testing.assert_allclose(a.grad.numpy(), expected.numpy(), rtol=1e-4)


@pytest.mark.parametrize('make', [
    lambda D, T: D.Geometric(probs=T([0.0])),
    lambda D, T: D.Normal(T([0.0, 1.0]), T(1.0)).log_prob(T([0.0, 1.0, 2.0])),
    lambda D, T: D.Independent(D.Normal(T([0.0, 1.0]), T(1.0)), 2),
    lambda D, T: D.Categorical(T(0.5)),
    lambda D, T: D.Bernoulli(),
    lambda D, T: D.MultivariateNormal(T([0.0]), T([[1.0]]), scale_tril=T([[1.0]])),
])
def test_error_message_matches_torch_exactly(make):
    import npnn
    with pytest.raises(ValueError) as t_err:
        make(torch.distributions, torch.tensor)
    with pytest.raises(ValueError) as n_err:
        make(npnn.distributions, npnn.tensor)
    assert str(n_err.value) == str(t_err.value).replace('torch.', 'npnn.')
