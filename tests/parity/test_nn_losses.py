"""Every loss (functional and module) against PyTorch: values and gradients, all reductions."""
import warnings

import numpy as np
import pytest

import npnn
from tests.helpers import compare, randn, torch_or_skip

torch = torch_or_skip()

RED = ['none', 'mean', 'sum']
N, C = 5, 4
X = randn(N, C, seed=11)
Y = randn(N, C, seed=12)
T = np.array([0, 3, 1, 2, 3], dtype=np.int64)
W = np.array([0.5, 2.0, 1.0, 1.5], dtype=np.float32)
P01 = randn(N, C, seed=13, low=0.05, high=0.95)
T01 = randn(N, C, seed=14, low=0.0, high=1.0)
SIGN = np.where(randn(N, seed=15) > 0, 1.0, -1.0).astype(np.float32)
SIGN_NC = np.where(randn(N, C, seed=16) > 0, 1.0, -1.0).astype(np.float32)


def F(lib):
    return lib.nn.functional


@pytest.mark.parametrize('reduction', RED)
def test_regression_losses(reduction, device):
    kw = dict(reduction=reduction)
    compare(lambda lib, a, b: F(lib).l1_loss(a, b, **kw), X, Y, device=device)
    compare(lambda lib, a, b: F(lib).mse_loss(a, b, **kw), X, Y, device=device)
    compare(lambda lib, a, b: F(lib).smooth_l1_loss(a, b, beta=0.5, **kw), X, Y, device=device)
    compare(lambda lib, a, b: F(lib).smooth_l1_loss(a, b, **kw), X, Y, device=device)
    compare(lambda lib, a, b: F(lib).huber_loss(a, b, delta=0.7, **kw), X, Y, device=device)


@pytest.mark.parametrize('reduction', RED)
def test_cross_entropy_nll(reduction, device):
    kw = dict(reduction=reduction)
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, **kw), X, T, device=device)
    compare(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, **kw), X, T, W, grad_inputs=(0,),
            device=device)
    t_ign = np.array([0, -100, 1, 2, -100], np.int64)
    compare(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, **kw), X, t_ign, W, grad_inputs=(0,),
            device=device)
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, ignore_index=3, **kw), X, T, device=device)
    compare(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.2, **kw),
            X, T, W, grad_inputs=(0,), device=device)
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, label_smoothing=0.1, **kw), X, T, device=device)
    # N-d input
    x4, t4 = randn(2, C, 3, 2, seed=21), (np.arange(12).reshape(2, 3, 2) % C).astype(np.int64)
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, **kw), x4, t4, device=device)
    compare(lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, label_smoothing=0.3, **kw), x4, t4, W,
            grad_inputs=(0,), device=device)
    # unbatched
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, **kw), X[0], np.array(2, np.int64), device=device)
    # class-probability targets (target grads too)
    probs = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
    compare(lambda lib, x, p: F(lib).cross_entropy(x, p, **kw), X, probs.astype(np.float32), device=device)
    compare(lambda lib, x, p, w: F(lib).cross_entropy(x, p, weight=w, label_smoothing=0.25, **kw), X,
            probs.astype(np.float32), W, grad_inputs=(0, 1), device=device)
    # nll_loss on log-probabilities
    compare(lambda lib, x, t: F(lib).nll_loss(F(lib).log_softmax(x, 1), t, **kw), X, T, device=device)
    compare(lambda lib, x, t, w: F(lib).nll_loss(x, t, weight=w, ignore_index=0, **kw), X, T, W,
            grad_inputs=(0,), device=device)
    compare(lambda lib, x, t: F(lib).nll_loss(x, t, **kw), x4, t4, device=device)


def test_cross_entropy_stable_for_huge_logits(device):
    big = np.array([[1e4, 0.0, -1e4], [-5e3, 5e3, 0.0]], np.float32)
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t), big, np.array([1, 1], np.int64), device=device)


@pytest.mark.parametrize('reduction', RED)
def test_binary_losses(reduction, device):
    kw = dict(reduction=reduction)
    compare(lambda lib, x, t: F(lib).binary_cross_entropy(x, t, **kw), P01, T01, device=device)
    compare(lambda lib, x, t, w: F(lib).binary_cross_entropy(x, t, weight=w, **kw), P01, T01, W, grad_inputs=(0, 1),
            device=device)
    compare(lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(x, t, **kw), X, T01, device=device)
    compare(lambda lib, x, t, w, pw: F(lib).binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, **kw),
            X, T01, W, W[::-1].copy(), grad_inputs=(0, 1), device=device)


def test_bce_extremes(device):
    # log clamped at -100; with logits no overflow at |x| = 100
    x = np.array([0.0, 1.0, 0.5, 1e-30], np.float32)
    t = np.array([1.0, 0.0, 0.5, 1.0], np.float32)
    compare(lambda lib, x, t: F(lib).binary_cross_entropy(x, t, reduction='none'), x, t, grad=False,
            device=device)
    xl = np.array([100.0, -100.0, 100.0, -100.0, 0.0], np.float32)
    tl = np.array([0.0, 1.0, 1.0, 0.0, 0.3], np.float32)
    out = compare(lambda lib, x, t: F(lib).binary_cross_entropy_with_logits(x, t, reduction='none'), xl, tl,
                  device=device)
    assert np.all(np.isfinite(out.detach().cpu().numpy()))


@pytest.mark.parametrize('reduction', RED + ['batchmean'])
def test_kl_div(reduction, device):
    lp = np.log(np.exp(X) / np.exp(X).sum(1, keepdims=True)).astype(np.float32)
    tp = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        compare(lambda lib, a, b: F(lib).kl_div(a, b, reduction=reduction), lp, tp.astype(np.float32),
                device=device)
        compare(lambda lib, a, b: F(lib).kl_div(a, b, reduction=reduction, log_target=True), lp,
                np.log(tp).astype(np.float32), device=device)


@pytest.mark.parametrize('reduction', RED)
def test_likelihood_losses(reduction, device):
    kw = dict(reduction=reduction)
    counts = np.array([[0, 1, 2, 5]] * N, np.float32)
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x, t, **kw), X, counts, device=device)
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x, t, log_input=False, full=True, **kw), P01 * 3, counts,
            grad_inputs=(0,), device=device)
    var = randn(N, C, seed=17, low=0.1, high=2.0)
    compare(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, **kw), X, Y, var, device=device)
    compare(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, full=True, eps=0.5, **kw), X, Y, var,
            device=device)
    compare(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, **kw), X, Y, var[:, :1].copy(), device=device)


@pytest.mark.parametrize('reduction', RED)
def test_margin_losses(reduction, device):
    kw = dict(reduction=reduction)
    a, b = randn(N, seed=18), randn(N, seed=19)
    compare(lambda lib, a, b, y: F(lib).margin_ranking_loss(a, b, y, margin=0.3, **kw), a, b, SIGN,
            grad_inputs=(0, 1), device=device)
    compare(lambda lib, x, y: F(lib).hinge_embedding_loss(x, y, margin=0.8, **kw), X, SIGN_NC,
            grad_inputs=(0,), device=device)
    compare(lambda lib, x, y: F(lib).soft_margin_loss(x, y, **kw), X, SIGN_NC, grad_inputs=(0,),
            device=device)
    compare(lambda lib, x, y: F(lib).multilabel_soft_margin_loss(x, y, **kw), X, (T01 > 0.5).astype(np.float32),
            grad_inputs=(0,), device=device)
    compare(lambda lib, x, y, w: F(lib).multilabel_soft_margin_loss(x, y, weight=w, **kw), X,
            (T01 > 0.5).astype(np.float32), W, grad_inputs=(0,), device=device)
    ml = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2], [2, 1, 0, 3], [-1, 0, 1, 2]], np.int64)
    compare(lambda lib, x, y: F(lib).multilabel_margin_loss(x, y, **kw), X, ml, device=device)
    compare(lambda lib, x, t: F(lib).multi_margin_loss(x, t, **kw), X, T, device=device)
    compare(lambda lib, x, t, w: F(lib).multi_margin_loss(x, t, p=2, margin=0.5, weight=w, **kw), X, T, W,
            grad_inputs=(0,), device=device)
    compare(lambda lib, a, b, y: F(lib).cosine_embedding_loss(a, b, y, margin=0.1, **kw), X, Y, SIGN,
            grad_inputs=(0, 1), device=device)
    n = randn(N, C, seed=20)
    compare(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, **kw), X, Y, n, device=device)
    compare(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True, **kw), X, Y, n,
            device=device)
    compare(lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(a, p, n, **kw), X, Y, n, device=device)
    compare(lambda lib, a, p, n: F(lib).triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, v: 1.0 - F(lib).cosine_similarity(u, v), swap=True, **kw),
        X, Y, n, device=device)


MODULES = [
    ('L1Loss', {}, 'xy'), ('MSELoss', {}, 'xy'), ('SmoothL1Loss', {'beta': 0.5}, 'xy'),
    ('HuberLoss', {'delta': 0.5}, 'xy'), ('CrossEntropyLoss', {'label_smoothing': 0.1}, 'xt'),
    ('NLLLoss', {}, 'xt'), ('BCELoss', {}, 'pq'), ('BCEWithLogitsLoss', {}, 'xq'),
    ('KLDivLoss', {'reduction': 'batchmean'}, 'xq'), ('PoissonNLLLoss', {}, 'xq'),
    ('MarginRankingLoss', {'margin': 0.2}, 'abs'), ('HingeEmbeddingLoss', {}, 'xs'),
    ('SoftMarginLoss', {}, 'xs'), ('MultiLabelSoftMarginLoss', {}, 'xq'), ('MultiMarginLoss', {}, 'xt'),
    ('CosineEmbeddingLoss', {}, 'xyS'), ('TripletMarginLoss', {}, 'xyz'),
    ('TripletMarginWithDistanceLoss', {}, 'xyz'), ('GaussianNLLLoss', {}, 'xyv'),
]
ARGS = {'x': X, 'y': Y, 't': T, 'p': P01, 'q': T01, 's': SIGN_NC, 'S': SIGN, 'a': X[:, 0].copy(),
        'b': Y[:, 0].copy(), 'z': randn(N, C, seed=22), 'v': randn(N, C, seed=23, low=0.1, high=1.0)}


@pytest.mark.parametrize('name,kw,args', MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules(name, kw, args, device):
    ins = [ARGS[k] for k in args]
    if args == 'abs':
        ins[2] = SIGN
    for red in (['none', 'sum'] if 'reduction' not in kw else []) + [kw.get('reduction', 'mean')]:
        k = dict(kw, reduction=red)
        compare(lambda lib, *a: getattr(lib.nn, name)(**k)(*a), *ins, device=device,
                grad_inputs=(0, 1) if args in ('xy', 'xyz', 'abs', 'xyS') else (0,))
    n_mod, t_mod = getattr(npnn.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(n_mod) == repr(t_mod)


def test_loss_module_weight_buffers():
    w = npnn.tensor(W)
    m = npnn.nn.CrossEntropyLoss(weight=w, ignore_index=2)
    assert 'weight' in dict(m.named_buffers()) and m.ignore_index == 2
    pw = npnn.nn.BCEWithLogitsLoss(pos_weight=w)
    assert set(dict(pw.named_buffers())) == {'pos_weight'}
    assert repr(m) == 'CrossEntropyLoss()'


def test_all_targets_ignored_gives_nan_loss_zero_grad(device):
    t = np.array([1, 1, 1], np.int64)
    with np.errstate(invalid='ignore'):
        compare(lambda lib, x, t: F(lib).cross_entropy(x, t, ignore_index=1), randn(3, 4), t, device=device)
        compare(lambda lib, x, t: F(lib).nll_loss(x, t, ignore_index=1), randn(3, 4), t, device=device)
