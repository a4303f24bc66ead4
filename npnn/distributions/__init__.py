"""``npnn.distributions``: probability distributions, constraints and KL divergences."""
from . import constraints
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .kumaraswamy import Kumaraswamy
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .pareto import Pareto
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from .studentT import StudentT
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from . import transforms
from .transforms import (AffineTransform, ComposeTransform, CumulativeDistributionTransform, ExpTransform,
                         PowerTransform, SigmoidTransform, SoftmaxTransform, StickBreakingTransform, TanhTransform,
                         Transform)
from .transformed_distribution import TransformedDistribution

__all__ = ['Bernoulli', 'Beta', 'Binomial', 'Categorical', 'Cauchy', 'Chi2', 'Dirichlet', 'Distribution',
           'Exponential', 'Gamma', 'Geometric', 'Gumbel', 'HalfCauchy', 'HalfNormal', 'Independent', 'Kumaraswamy',
           'Laplace', 'LogNormal', 'LowRankMultivariateNormal', 'MixtureSameFamily', 'Multinomial',
           'MultivariateNormal', 'NegativeBinomial', 'Normal', 'OneHotCategorical',
           'OneHotCategoricalStraightThrough', 'Pareto', 'Poisson', 'RelaxedBernoulli', 'RelaxedOneHotCategorical',
           'StudentT', 'TransformedDistribution', 'Uniform', 'VonMises', 'Weibull', 'constraints', 'transforms',
           'kl_divergence', 'register_kl', 'AffineTransform', 'ComposeTransform', 'CumulativeDistributionTransform',
           'ExpTransform', 'PowerTransform', 'SigmoidTransform', 'SoftmaxTransform', 'StickBreakingTransform',
           'TanhTransform', 'Transform']
