"""Direct tests for gaps found by running PyTorch programs unchanged on npnn (second audit)."""
import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')


def _needs_flags(lib, args_fn):
    seen = {}

    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, scale, b, flag):
            seen['fwd'] = tuple(ctx.needs_input_grad)
            return a * scale + b

        @staticmethod
        def backward(ctx, g):
            seen['bwd'] = tuple(ctx.needs_input_grad)
            return g * 2, None, g if ctx.needs_input_grad[2] else None, None

    a, b = args_fn(lib)
    Fn.apply(a, 2.0, b, 'x').sum().backward()
    return seen, a.grad.tolist()


@pytest.mark.parametrize('b_grad', [True, False])
def test_needs_input_grad_has_one_flag_per_argument(b_grad):
    def args(lib):
        return (lib.ones(3, requires_grad=True), lib.zeros(3, requires_grad=b_grad))
    got, ga = _needs_flags(npnn, args)
    ref, gr = _needs_flags(torch, args)
    assert got == ref == {'fwd': (True, False, b_grad, False), 'bwd': (True, False, b_grad, False)}
    assert ga == gr == [2.0, 2.0, 2.0]


def _gmm(lib, logits, loc, scale, event):
    D = lib.distributions
    comp = D.Normal(loc, scale)
    if event:
        comp = D.Independent(comp, 1)
    return D.MixtureSameFamily(D.Categorical(logits=logits), comp)


@pytest.mark.parametrize('event', [False, True])
def test_mixture_same_family_matches_torch(event):
    rng = np.random.RandomState(0)
    shape = (4, 3, 2) if event else (4, 3)
    logits_np = rng.randn(4, 3)
    loc_np, scale_np = rng.randn(*shape), np.exp(rng.randn(*shape) * 0.3)
    x_np = rng.randn(5, 4, 2) if event else rng.randn(5, 4)
    res = {}
    for name, lib in (('npnn', npnn), ('torch', torch)):
        params = [lib.tensor(a, requires_grad=True) for a in (logits_np, loc_np, scale_np)]
        m = _gmm(lib, *params, event)
        lp = m.log_prob(lib.tensor(x_np))
        grads = lib.autograd.grad(lp.sum(), params)
        s = m.sample((6,))
        res[name] = dict(lp=lp.detach().numpy(), grads=[g.numpy() for g in grads],
                         mean=m.mean.detach().numpy(), var=m.variance.detach().numpy(),
                         shapes=(tuple(m.batch_shape), tuple(m.event_shape), tuple(s.shape)),
                         exp_shape=tuple(m.expand((2, 4)).sample().shape))
        if not event:
            res[name]['cdf'] = m.cdf(lib.tensor(x_np)).detach().numpy()
    got, ref = res['npnn'], res['torch']
    assert got['shapes'] == ref['shapes'] and got['exp_shape'] == ref['exp_shape']
    for key in ('lp', 'mean', 'var') + (() if event else ('cdf',)):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-10, atol=1e-12, err_msg=key)
    for a, b in zip(got['grads'], ref['grads']):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_mixture_same_family_sample_picks_a_component_and_gradcheck():
    D = npnn.distributions
    loc = npnn.tensor([[-100.0, 0.0, 100.0]], dtype=npnn.float64)
    m = D.MixtureSameFamily(D.Categorical(probs=npnn.tensor([[0.0, 0.0, 1.0]], dtype=npnn.float64)),
                            D.Normal(loc, npnn.ones(1, 3, dtype=npnn.float64)))
    s = m.sample((50,))
    assert tuple(s.shape) == (50, 1) and bool(((s > 90) & (s < 110)).all())
    x = npnn.tensor([0.3, -1.2], dtype=npnn.float64)

    def f(logits, mu, log_sigma):
        mix = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(mu, log_sigma.exp()))
        return mix.log_prob(x)
    args = [npnn.randn(2, 3, dtype=npnn.float64, requires_grad=True) for _ in range(3)]
    assert npnn.autograd.gradcheck(f, args)


def test_mixture_same_family_errors_match_torch():
    for lib in (npnn, torch):
        D = lib.distributions
        with pytest.raises(ValueError, match='instance of torch.distributions.Categorical'):
            D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(lib.zeros(3), lib.ones(3)))
        with pytest.raises(ValueError, match='does not equal'):
            D.MixtureSameFamily(D.Categorical(logits=lib.zeros(2)), D.Normal(lib.zeros(3), lib.ones(3)))
        with pytest.raises(ValueError, match='is not compatible'):
            D.MixtureSameFamily(D.Categorical(logits=lib.zeros(4, 3)), D.Normal(lib.zeros(5, 3), lib.ones(5, 3)))


def _retained(lib, retain_first, node_hook):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    if retain_first:
        b.retain_grad()
    b.register_hook(lambda g: g * 10)
    if node_hook:
        b.grad_fn.register_prehook(lambda gs: (gs[0] + 1,))
    if not retain_first:
        b.retain_grad()
    (b ** 2).sum().backward()
    return a.grad.tolist(), b.grad.tolist()


@pytest.mark.parametrize('retain_first', [True, False])
@pytest.mark.parametrize('node_hook', [False, True])
def test_retain_grad_sees_tensor_hook_result(retain_first, node_hook):
    # PyTorch runs retain_grad's hook after the tensor's hooks, whatever the registration order, and before
    # hooks on the node
    got = _retained(npnn, retain_first, node_hook)
    ref = _retained(torch, retain_first, node_hook)
    assert got == ref
    assert got[1] == [40.0, 80.0]


def _optimizer_in_backward(lib):
    # the "optimizer step inside backward" idiom: one optimizer per parameter, stepped from its hook
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1))
    opts = {p: lib.optim.SGD([p], lr=0.1, momentum=0.9) for p in model.parameters()}
    order = []

    def hook(p):
        order.append(tuple(p.shape))
        opts[p].step()
        opts[p].zero_grad()
    handles = [p.register_post_accumulate_grad_hook(hook) for p in model.parameters()]
    x = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]])
    for _ in range(3):
        model(x).pow(2).sum().backward()
    handles[0].remove()
    model(x).sum().backward()
    return ([p.detach().numpy().copy() for p in model.parameters()], sorted(order),
            model[0].weight.grad is not None, model[2].weight.grad)


def test_post_accumulate_grad_hook_matches_torch():
    got = _optimizer_in_backward(npnn)
    ref = _optimizer_in_backward(torch)
    for a, b in zip(got[0], ref[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert got[1] == ref[1] and len(got[1]) == 3 * 4 + 3
    # the removed hook's parameter keeps its gradient; the others were zeroed (set to None) by their hooks
    assert got[2] and ref[2] and got[3] is None and ref[3] is None


def test_post_accumulate_grad_hook_errors_and_copies():
    import copy
    for lib in (npnn, torch):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.ones(2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match='non-leaf'):
            (lib.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda t: None)
        p = lib.nn.Parameter(lib.ones(2))
        seen = []
        p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        q = copy.deepcopy(p)
        q.sum().backward()
        assert seen == []
        (p * 3).sum().backward()
        assert seen == [[3.0, 3.0]]


def _load_hooks(lib, strict_fail):
    calls = []
    m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 1))

    def pre(module, sd, prefix, *rest):
        calls.append(('pre', prefix))
        if prefix + 'old_w' in sd:  # a checkpoint-upgrade hook: rename an old key
            sd[prefix + 'weight'] = sd.pop(prefix + 'old_w')

    def post(module, keys):
        calls.append(('post', tuple(keys.missing_keys), tuple(keys.unexpected_keys)))
    m[1].register_load_state_dict_pre_hook(pre)
    m.register_load_state_dict_post_hook(post)
    sd = {'0.weight': lib.ones(2, 2), '0.bias': lib.zeros(2), '1.old_w': lib.full((1, 2), 3.0),
          '1.bias': lib.zeros(1)}
    if strict_fail:
        sd['extra'] = lib.ones(1)
        with pytest.raises(RuntimeError, match='Unexpected key'):
            m.load_state_dict(sd)
    else:
        r = m.load_state_dict(sd)
        assert (r.missing_keys, r.unexpected_keys) == ([], [])
    return calls, m[1].weight.tolist(), m[0].weight.tolist()


@pytest.mark.parametrize('strict_fail', [False, True])
def test_load_state_dict_hooks_run_once(strict_fail):
    got = _load_hooks(npnn, strict_fail)
    ref = _load_hooks(torch, strict_fail)
    assert got == ref
    assert len(got[0]) == 2 and got[1] == [[3.0, 3.0]]


def test_load_state_dict_without_hooks_is_still_atomic():
    m = npnn.nn.Sequential(npnn.nn.Linear(2, 2), npnn.nn.Linear(2, 1))
    before = m[0].weight.tolist()
    with pytest.raises(RuntimeError, match='size mismatch'):
        m.load_state_dict({'0.weight': npnn.ones(2, 2), '0.bias': npnn.zeros(2), '1.weight': npnn.ones(1, 3),
                           '1.bias': npnn.zeros(1)})
    assert m[0].weight.tolist() == before


def test_top_level_vmap():
    assert npnn.vmap is npnn.func.vmap
    x = np.random.RandomState(0).randn(4, 3)
    got = npnn.vmap(lambda r: r @ r, chunk_size=2)(npnn.tensor(x))
    ref = torch.vmap(lambda r: r @ r, chunk_size=2)(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)


def _squashed(lib, cache_size, compose):
    D = lib.distributions
    mu = lib.tensor([0.5, -3.0, 12.0], dtype=lib.float32, requires_grad=True)
    log_std = lib.tensor([0.1, -0.2, 0.0], requires_grad=True)
    tanh = D.TanhTransform(cache_size=cache_size)
    ts = [tanh, D.AffineTransform(0.0, 2.0, cache_size=cache_size)] if compose else [tanh]
    d = D.TransformedDistribution(D.Normal(mu, log_std.exp()), ts)
    x = mu + log_std.exp() * lib.tensor([0.3, -1.1, 0.7])  # a fixed-noise rsample
    a = x
    for t in ts:
        a = t(a)
    lp = d.log_prob(a)
    lp.sum().backward()
    return a.detach().numpy(), lp.detach().numpy(), mu.grad.numpy(), log_std.grad.numpy()


@pytest.mark.filterwarnings('ignore::RuntimeWarning')  # the uncached check computes atanh(1) = inf on purpose
@pytest.mark.parametrize('compose', [False, True])
def test_transform_cache_inverts_saturated_tanh_like_torch(compose):
    got = _squashed(npnn, 1, compose)
    ref = _squashed(torch, 1, compose)
    assert np.isfinite(got[1]).all() and np.isfinite(got[2]).all()
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # without the cache the saturated action cannot be inverted, in both libraries
    assert not np.isfinite(_squashed(npnn, 0, compose)[1][2]) and not np.isfinite(_squashed(torch, 0, compose)[1][2])


def test_transform_cache_size_and_top_level_names():
    for lib in (npnn, torch):
        with pytest.raises(ValueError, match='cache_size must be 0 or 1'):
            lib.distributions.TanhTransform(cache_size=2)
        for name in ('TanhTransform', 'AffineTransform', 'ExpTransform', 'SigmoidTransform', 'ComposeTransform',
                     'Transform'):
            assert getattr(lib.distributions, name) is getattr(lib.distributions.transforms, name)


def _straight_through(lib):
    logits = lib.tensor([[0.2, -1.0, 0.5], [1.5, 0.0, -0.3]], requires_grad=True)
    d = lib.distributions.OneHotCategoricalStraightThrough(logits=logits)
    s = d.rsample((4,))
    w = lib.tensor([1.0, 2.0, -3.0])
    (s * w).sum().backward()
    onehot = bool(((s.detach() == 0) | (s.detach() == 1)).all()) and bool((s.detach().sum(-1) == 1).all())
    return (tuple(s.shape), onehot, logits.grad.numpy(), d.has_rsample,
            d.log_prob(lib.tensor([0.0, 0.0, 1.0])).detach().numpy())


def test_one_hot_categorical_straight_through_matches_torch():
    # the forward sample is RNG-dependent; the gradient (through probs, for 4 samples) is not
    got, ref = _straight_through(npnn), _straight_through(torch)
    assert got[:2] == ref[:2] == ((4, 2, 3), True)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-5, atol=1e-7)
    assert got[3] and ref[3]
    np.testing.assert_allclose(got[4], ref[4], rtol=1e-6)


# in-place writes through views of tensors in a graph: the base's gradient must see them (CopySlices)
_VIEW_CASES = {
    'slice_mul_': lambda L, b: (b[:2].mul_(3), (b * b).sum())[1],
    'view_add_': lambda L, b: (b.view(2, 3)[0].add_(b[3:].detach()), (b * b).sum())[1],
    'select_iadd': lambda L, b: (b[1].__iadd__(10.0), b.pow(2).sum())[1],
    'select_2d': lambda L, b: (b.view(2, 3)[1, 2].mul_(5), b.pow(2).sum())[1],
    'narrow_zero_': lambda L, b: (b.narrow(0, 1, 2).zero_(), (b * b).sum())[1],
    'transpose_row': lambda L, b: (lambda m: (m.t()[0].mul_(2), (m * m).sum())[1])(b.view(2, 3)),
    'diagonal_mul_': lambda L, b: (lambda m: (m.diagonal().mul_(3), (m * m).sum())[1])(b[:4].view(2, 2)),
    'base_then_view': lambda L, b: (lambda v: (b.mul_(2), (v * v).sum())[1])(b[:2]),
    'view_then_base_then_view': lambda L, b: (lambda v: (v.add_(1), b.mul_(2), (v * v).sum() + b.sum())[2])(
        b[1:3]),
    'clamp_on_view': lambda L, b: (b.view(3, 2)[:, 0].clamp_(max=3.0), (b ** 2).sum())[1],
    'copy_into_view': lambda L, b: (b[::2].copy_(b[1::2] * 3), (b * b).sum())[1],
    'sigmoid_on_view': lambda L, b: (b[2:].sigmoid_(), (b * b).sum())[1],
    'step_slices': lambda L, b: (b[1:5:2].mul_(b[:2].detach().clone()), b.exp().sum())[1],
    'squeeze_view': lambda L, b: (b.view(1, 6)[0].unsqueeze(0).mul_(2), (b * b).sum())[1],
}


@pytest.mark.parametrize('case', sorted(_VIEW_CASES))
def test_inplace_through_view_reaches_base(case, device):
    def run(L, dev):
        a = L.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=L.float64, device=dev, requires_grad=True)
        b = a * 2
        out = _VIEW_CASES[case](L, b)
        g, = L.autograd.grad(out, a, create_graph=True)
        gg, = L.autograd.grad((g * g).sum(), a)
        return out.item(), g.detach().cpu().numpy(), gg.cpu().numpy(), b.detach().cpu().numpy()
    got, ref = run(npnn, device), run(torch, 'cpu')
    for x, y in zip(got, ref):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_inplace_through_view_gradcheck():
    def f(a):
        b = a * a
        b[1:3].mul_(a[:2])
        b.view(2, 2).t()[0].add_(1.5)
        return b.sin()
    a = npnn.tensor([0.3, -0.7, 1.1, 0.4], dtype=npnn.float64, requires_grad=True)
    assert npnn.autograd.gradcheck(f, (a,))
    assert npnn.autograd.gradgradcheck(f, (a,))


def test_integer_index_is_a_view_and_leaf_view_inplace_errors():
    x = npnn.zeros(3)
    x[1].add_(5)
    npnn.zeros(2, 2)[0, 1].fill_(1)
    assert x.tolist() == [0.0, 5.0, 0.0]
    for lib in (npnn, torch):
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match='view of a leaf Variable that requires grad'):
            w[:2].mul_(2)
        with lib.no_grad():
            w[:2].mul_(2)
        assert w.tolist() == [2.0, 2.0, 1.0]


def test_filling_a_plain_buffer_through_views_records_it(device):
    # out = zeros(...); out[:, t].copy_(h_t): the buffer joins the graph, as PyTorch's CopySlices
    def run(L, dev):
        h = L.tensor([[1.0, -2.0], [0.5, 4.0]], dtype=L.float64, device=dev, requires_grad=True)
        out = L.zeros(2, 3, 2, dtype=L.float64, device=dev)
        for t in range(3):
            out[:, t].copy_(h.tanh() * (t + 1))
        out[1, 2].mul_(h[0, 0])
        out.pow(2).sum().backward()
        return out.requires_grad, out.detach().cpu().numpy(), h.grad.cpu().numpy()
    got, ref = run(npnn, device), run(torch, 'cpu')
    assert got[0] and ref[0]
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-12)


@pytest.mark.parametrize('name,args', [('relu_', ()), ('sigmoid_', ()), ('tanh_', ()), ('clamp_', (-0.5, 0.5)),
                                       ('exp_', ()), ('mul_', (3.0,)), ('zero_', ()), ('fill_', (2.5,))])
def test_top_level_inplace_functions(name, args):
    x_np = np.array([-1.2, 0.3, 2.0])
    res = []
    for lib in (npnn, torch):
        a = lib.tensor(x_np, requires_grad=True)
        b = a * 1.5
        fn = getattr(lib, name, None) or getattr(lib.Tensor, name)
        r = fn(b[1:], *args)
        assert r is not None
        b.pow(2).sum().backward()
        res.append((b.detach().numpy(), a.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


def _generator_modes(lib):
    seen = []

    @lib.no_grad()
    def generate(n):
        got = None
        for i in range(n):
            x = lib.ones(1, requires_grad=True) * 2
            got = yield (x.requires_grad, lib.is_grad_enabled(), got)
        return 'done'

    @lib.enable_grad()
    def inner():
        yield lib.is_grad_enabled()

    g = generate(3)
    seen.append(next(g))
    seen.append(lib.is_grad_enabled())  # the caller's mode between steps
    seen.append(g.send('hello'))
    with lib.no_grad():
        seen.append(next(inner()))
    try:
        next(g)
        next(g)
    except StopIteration as stop:
        seen.append(stop.value)
    seen.append(list(lib.inference_mode()(lambda: (yield lib.is_grad_enabled()))()))
    closed = generate(2)
    next(closed)
    closed.close()
    seen.append(lib.is_grad_enabled())
    return seen


def test_grad_mode_decorators_on_generators():
    got, ref = _generator_modes(npnn), _generator_modes(torch)
    assert got == ref
    assert got[0] == (False, False, None) and got[1] is True and got[2] == (False, False, 'hello')
    assert got[3] is True and got[4] == 'done' and got[-1] is True


def _relaxed(lib, kind, by_probs):
    D = lib.distributions
    temp = lib.tensor(0.7, dtype=lib.float64, requires_grad=True)
    raw = lib.tensor([[0.2, -0.4, 1.1], [0.0, 0.9, -1.3]], dtype=lib.float64, requires_grad=True)
    param = raw.softmax(-1) if by_probs else raw
    if kind == 'categorical':
        d = D.RelaxedOneHotCategorical(temp, **{'probs' if by_probs else 'logits': param})
        value = lib.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=lib.float64)
    else:
        param = param.sigmoid() if by_probs else param
        d = D.RelaxedBernoulli(temp, **{'probs' if by_probs else 'logits': param})
        value = lib.tensor([[0.2, 0.7, 0.9], [0.5, 0.01, 0.99]], dtype=lib.float64)
    lp = d.log_prob(value)
    g = lib.autograd.grad(lp.sum(), (raw, temp), retain_graph=True)
    s = d.rsample((4,))
    sg = lib.autograd.grad(s.pow(2).sum(), raw)[0]
    return dict(lp=lp.detach().numpy(), g=[x.numpy() for x in g], shapes=(tuple(d.batch_shape), tuple(d.event_shape),
                tuple(s.shape), tuple(d.expand((5,) + tuple(d.batch_shape)).sample().shape)),
                in_support=bool(d.support.check(s).all()), sg_finite=bool(lib.isfinite(sg).all()),
                sg_nonzero=bool((sg != 0).any()), has_rsample=d.has_rsample)


@pytest.mark.parametrize('kind', ['categorical', 'bernoulli'])
@pytest.mark.parametrize('by_probs', [False, True])
def test_relaxed_distributions_match_torch(kind, by_probs):
    got, ref = _relaxed(npnn, kind, by_probs), _relaxed(torch, kind, by_probs)
    np.testing.assert_allclose(got['lp'], ref['lp'], rtol=1e-10, atol=1e-12)
    for a, b in zip(got['g'], ref['g']):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for key in ('shapes', 'in_support', 'sg_finite', 'sg_nonzero', 'has_rsample'):
        assert got[key] == ref[key], key
    assert got['in_support'] and got['has_rsample']


def test_relaxed_log_prob_gradcheck():
    D = npnn.distributions
    value = npnn.tensor([0.25, 0.25, 0.5], dtype=npnn.float64)

    def f(logits, log_t):
        return D.RelaxedOneHotCategorical(log_t.exp(), logits=logits).log_prob(value)
    args = (npnn.randn(2, 3, dtype=npnn.float64, requires_grad=True),
            npnn.tensor(-0.3, dtype=npnn.float64, requires_grad=True))
    assert npnn.autograd.gradcheck(f, args)


@pytest.mark.parametrize('dtype', ['float64', 'float16', 'complex128', 'int64', 'bool'])
def test_tensor_from_python_numbers_with_dtype_is_not_float32_rounded(dtype):
    data = [[0.2, 1e-30, 3.141592653589793], [1.0000001, -2.5, 0.1]]
    if dtype == 'complex128':
        data = [[complex(v, v / 3) for v in row] for row in data]
    got = npnn.tensor(data, dtype=getattr(npnn, dtype))
    ref = torch.tensor(data, dtype=getattr(torch, dtype))
    assert str(got.dtype).split('.')[-1] == str(ref.dtype).split('.')[-1]
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    np.testing.assert_array_equal(npnn.as_tensor(data, dtype=getattr(npnn, dtype)).numpy(), ref.numpy())
    if dtype == 'float64':
        assert npnn.tensor(0.2, dtype=npnn.float64).item() == 0.2


def _jvp(lib, has_aux):
    x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64)
    y = lib.tensor([1.5, 0.5, -0.7], dtype=lib.float64)
    tx = lib.tensor([1.0, 0.0, -2.0], dtype=lib.float64)
    ty = lib.tensor([0.5, 0.5, 0.5], dtype=lib.float64)

    def f(a, b):
        out = (a.sin() * b, (a.exp() * b).sum())
        return (out, b.sum()) if has_aux else out
    r = lib.func.jvp(f, (x, y), (tx, ty), has_aux=has_aux)
    single = lib.func.jvp(lambda a: a.tanh() ** 2, (x,), (tx,))
    res = [r[0][0], r[0][1], r[1][0], r[1][1], single[0], single[1]] + ([r[2]] if has_aux else [])
    return [np.asarray(t.detach().numpy()) for t in res]


@pytest.mark.filterwarnings('ignore::DeprecationWarning')  # raised inside torch.func's own imports
@pytest.mark.parametrize('has_aux', [False, True])
def test_func_jvp_matches_torch(has_aux):
    got, ref = _jvp(npnn, has_aux), _jvp(torch, has_aux)
    assert len(got) == len(ref)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for lib in (npnn, torch):
        with pytest.raises(RuntimeError, match='Expected primals to be a tuple'):
            lib.func.jvp(lambda a: a, lib.ones(2), (lib.ones(2),))


def test_device_as_context_manager_sets_the_default():
    before = npnn.get_default_device()
    with npnn.device('cpu') as d:
        assert d.type == 'cpu'
        lin = npnn.nn.Linear(2, 2)
        x = npnn.ones(2)
    assert lin.weight.device.type == x.device.type == 'cpu'
    assert npnn.get_default_device() == before
    with torch.device('cpu'):
        assert torch.ones(1).device.type == 'cpu'


@pytest.mark.parametrize('name', ['adjoint', 'cdouble', 'isreal', 'is_nonzero', 'is_same_size'])
def test_small_tensor_methods_match_torch(name):
    vals = [[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]]
    res = []
    for lib in (npnn, torch):
        x = lib.tensor(vals)
        c = lib.complex(x, x.flip(-1) * (x > 1).float())
        if name == 'is_nonzero':
            r = [x[0, 0].is_nonzero(), x[1, 1:2].is_nonzero()]
            with pytest.raises(RuntimeError, match='more than one value is ambiguous'):
                x.is_nonzero()
        elif name == 'is_same_size':
            r = [x.is_same_size(x * 2), x.is_same_size(x.t())]
        else:
            r = [getattr(x, name)(), getattr(c, name)()]
            r = [(str(t.dtype).split('.')[-1], t.resolve_conj().numpy().tolist()) for t in r]
        res.append(r)
    assert res[0] == res[1]


def test_storage_offset_of_views_matches_torch():
    def offsets(L):
        x = L.arange(24.).reshape(4, 6)
        return [v.storage_offset() for v in (x, x[2:], x[1], x[1:, 2:], x.t()[3], x.reshape(-1)[5:],
                                             x[:, 3].unsqueeze(0), x.narrow(1, 2, 3), x[1:].clone())]
    assert offsets(npnn) == offsets(torch)


def test_clamp_and_masked_fill_backward_give_zero_where_cut_even_for_inf_or_nan_grads():
    def run(L):
        x = L.tensor([-2., 0.5, 3.], requires_grad=True)
        x.clamp(-1, 1).backward(L.tensor([float('inf'), 1., float('nan')]))
        z = L.tensor([1., 2.], requires_grad=True)
        z.masked_fill(L.tensor([True, False]), 0.).backward(L.tensor([float('inf'), 2.]))
        return x.grad.tolist() + z.grad.tolist()
    assert run(npnn) == run(torch) == [0., 1., 0., 0., 2.]
