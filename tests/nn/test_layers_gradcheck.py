"""float64 gradcheck of every differentiable nn.functional (activations, linear, norms, distances, losses), and
gradgradcheck through the fused nodes."""
import numpy as np
import pytest

import npnn
import npnn.nn.functional as F
from npnn.autograd import gradcheck, gradgradcheck


def t(*shape, seed=0, low=None, high=None, grad=True):
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, size=shape) if low is not None else rng.standard_normal(shape)
    # keep inputs off the kinks of piecewise functions
    if low is None:
        a = np.where(np.abs(a) < 0.05, a + 0.2, a)
    return npnn.tensor(a, dtype=npnn.float64, requires_grad=grad)


def idx(*vals):
    return npnn.tensor(np.array(vals, dtype=np.int64))


X = t(3, 4, seed=1)
X2 = t(3, 4, seed=2)
X4 = t(2, 3, 2, 3, seed=3)
W3 = t(3, seed=4)
B3 = t(3, seed=5)
P = t(3, 4, seed=6, low=0.1, high=0.9)
Q = t(3, 4, seed=7, low=0.0, high=1.0, grad=False)
SIGN = npnn.tensor(np.array([1.0, -1.0, 1.0]), dtype=npnn.float64)
T = idx(0, 3, 1)

CASES = {
    'relu': (lambda x: F.relu(x), [X]),
    'relu6': (lambda x: F.relu6(x * 4), [X]),
    'threshold': (lambda x: F.threshold(x, 0.3, -1.0), [X]),
    'leaky_relu': (lambda x: F.leaky_relu(x, 0.1), [X]),
    'prelu': (lambda x, w: F.prelu(x, w), [X4, W3]),
    'rrelu_eval': (lambda x: F.rrelu(x), [X]),
    'elu': (lambda x: F.elu(x, 0.7), [X]),
    'selu': (lambda x: F.selu(x), [X]),
    'celu': (lambda x: F.celu(x, 1.5), [X]),
    'gelu': (lambda x: F.gelu(x), [X]),
    'gelu_tanh': (lambda x: F.gelu(x, approximate='tanh'), [X]),
    'silu': (lambda x: F.silu(x), [X]),
    'mish': (lambda x: F.mish(x), [X]),
    'softplus': (lambda x: F.softplus(x, 2.0, 1.5), [X]),
    'softsign': (lambda x: F.softsign(x), [X]),
    'softshrink': (lambda x: F.softshrink(x, 0.3), [X]),
    'hardshrink': (lambda x: F.hardshrink(x, 0.3), [X]),
    'tanhshrink': (lambda x: F.tanhshrink(x), [X]),
    'hardtanh': (lambda x: F.hardtanh(x, -0.5, 0.5), [X]),
    'hardsigmoid': (lambda x: F.hardsigmoid(x * 4), [X]),
    'hardswish': (lambda x: F.hardswish(x * 4), [X]),
    'sigmoid': (lambda x: F.sigmoid(x), [X]),
    'logsigmoid': (lambda x: F.logsigmoid(x), [X]),
    'tanh': (lambda x: F.tanh(x), [X]),
    'softmax': (lambda x: F.softmax(x, 1), [X]),
    'softmin': (lambda x: F.softmin(x, 0), [X]),
    'log_softmax': (lambda x: F.log_softmax(x, -1), [X]),
    'glu': (lambda x: F.glu(x, 1), [X]),
    'linear': (lambda x, w, b: F.linear(x, w, b), [X, t(2, 4, seed=8), t(2, seed=9)]),
    'bilinear': (lambda a, b, w: F.bilinear(a, b, w, None), [X, t(3, 2, seed=10), t(2, 4, 2, seed=11)]),
    'batch_norm': (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [X4, W3, B3]),
    'batch_norm_eval': (lambda x, w, b: F.batch_norm(x, npnn.zeros(3, dtype=npnn.float64),
                                                     npnn.ones(3, dtype=npnn.float64) * 2, w, b), [X4, W3, B3]),
    'layer_norm': (lambda x, w, b: F.layer_norm(x, [3], w, b), [X4, W3, B3]),
    'group_norm': (lambda x, w, b: F.group_norm(x, 3, w, b), [X4, W3, B3]),
    'instance_norm': (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [X4, W3, B3]),
    'local_response_norm': (lambda x: F.local_response_norm(x, 2, 0.5), [X4]),
    'rms_norm': (lambda x, w: F.rms_norm(x, [3], w), [X4, W3]),
    'normalize': (lambda x: F.normalize(x, dim=1), [X]),
    'pairwise_distance': (lambda a, b: F.pairwise_distance(a, b), [X, X2]),
    'cosine_similarity': (lambda a, b: F.cosine_similarity(a, b), [X, X2]),
    'pdist': (lambda a: F.pdist(a), [X]),
    'cdist': (lambda a, b: F.cdist(a, b), [X, X2]),
    'cdist_p1': (lambda a, b: F.cdist(a, b, p=1.0), [X, X2]),
    'l1_loss': (lambda a, b: F.l1_loss(a, b), [X, X2]),
    'mse_loss': (lambda a, b: F.mse_loss(a, b, reduction='sum'), [X, X2]),
    'smooth_l1_loss': (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), [X, X2]),
    'huber_loss': (lambda a, b: F.huber_loss(a, b, delta=0.5), [X, X2]),
    'cross_entropy': (lambda x: F.cross_entropy(x, T), [X]),
    'cross_entropy_full': (lambda x: F.cross_entropy(x, idx(0, 3, -100), weight=W3.detach().repeat(2)[:4],
                                                     label_smoothing=0.2), [X]),
    'cross_entropy_nd': (lambda x: F.cross_entropy(x, idx(0, 2, 1, 1, 0, 2, 2, 1, 0, 0, 1, 2).reshape(2, 2, 3),
                                                   reduction='none'), [X4]),
    'cross_entropy_probs': (lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1), [X, P]),
    'nll_loss': (lambda x: F.nll_loss(x, T, weight=W3.detach().repeat(2)[:4], reduction='sum'), [X]),
    'binary_cross_entropy': (lambda p, q: F.binary_cross_entropy(p, q), [P, t(3, 4, seed=12, low=0, high=1)]),
    'bce_with_logits': (lambda x, q: F.binary_cross_entropy_with_logits(x, q, pos_weight=W3.detach()[:1] + 2),
                        [X, t(3, 4, seed=13, low=0, high=1)]),
    'kl_div': (lambda x, q: F.kl_div(x, q, reduction='batchmean'), [X, t(3, 4, seed=14, low=0.1, high=1)]),
    'kl_div_log': (lambda x, q: F.kl_div(x, q, reduction='sum', log_target=True), [X, X2]),
    'poisson_nll_loss': (lambda x: F.poisson_nll_loss(x, Q * 3), [X]),
    'gaussian_nll_loss': (lambda x, v: F.gaussian_nll_loss(x, X2.detach(), v), [X, P]),
    'margin_ranking_loss': (lambda a, b: F.margin_ranking_loss(a, b, SIGN, 0.1), [W3, B3]),
    'hinge_embedding_loss': (lambda x: F.hinge_embedding_loss(x, SIGN.reshape(3, 1).expand(3, 4)), [X]),
    'multilabel_margin_loss': (lambda x: F.multilabel_margin_loss(x, idx(3, 0, -1, 1, 1, 2, 3, -1, 0, -1, 2, 2)
                                                                  .reshape(3, 4)), [X]),
    'multilabel_soft_margin_loss': (lambda x: F.multilabel_soft_margin_loss(x, (Q > 0.5).double()), [X]),
    'soft_margin_loss': (lambda x: F.soft_margin_loss(x, SIGN.reshape(3, 1).expand(3, 4)), [X]),
    'multi_margin_loss': (lambda x: F.multi_margin_loss(x, T, p=2, margin=0.7), [X]),
    'cosine_embedding_loss': (lambda a, b: F.cosine_embedding_loss(a, b, SIGN, 0.1), [X, X2]),
    'triplet_margin_loss': (lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True), [X, X2, t(3, 4, seed=15)]),
    'triplet_with_distance': (lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n),
                              [X, X2, t(3, 4, seed=16)]),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_gradcheck(name):
    fn, inputs = CASES[name]
    assert gradcheck(fn, tuple(inputs), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize('name', ['softmax', 'log_softmax', 'cross_entropy', 'cross_entropy_full',
                                  'cross_entropy_nd', 'nll_loss', 'batch_norm', 'layer_norm', 'group_norm',
                                  'linear', 'gelu', 'elu', 'silu', 'binary_cross_entropy', 'bce_with_logits',
                                  'mish', 'softplus'])
def test_gradgradcheck(name):
    fn, inputs = CASES[name]
    assert gradgradcheck(fn, tuple(inputs), eps=1e-6, atol=1e-4, rtol=1e-3)
