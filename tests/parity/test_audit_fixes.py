"""Direct parity tests for gaps found by running everyday PyTorch programs unchanged on npnn."""
import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')


_ZERO_DIM_CASES = [
    ('SGD', dict(lr=0.1, weight_decay=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ('Adam', dict(lr=0.1, weight_decay=0.1)),
    ('Adam', dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    ('AdamW', dict(lr=0.1, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, weight_decay=0.1)),
    ('Adadelta', dict(lr=0.5, weight_decay=0.1)),
    ('Adamax', dict(lr=0.1, weight_decay=0.1)),
    ('ASGD', dict(lr=0.1, weight_decay=0.1)),
    ('NAdam', dict(lr=0.1, weight_decay=0.1)),
    ('NAdam', dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RAdam', dict(lr=0.1, weight_decay=0.1)),
    ('RAdam', dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RMSprop', dict(lr=0.01, weight_decay=0.1)),
    ('RMSprop', dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
]


@pytest.mark.parametrize('name,kw', _ZERO_DIM_CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(_ZERO_DIM_CASES)])
def test_optimizers_step_zero_dim_parameter(name, kw, device):
    # a 0-d nn.Parameter (a learnable temperature or scale) under weight decay used to fail with
    # "return arrays must be of ArrayType": NumPy ufuncs on 0-d arrays give scalars, not out= targets
    results = []
    for lib, dev in ((torch, 'cpu'), (npnn, device)):
        p = lib.nn.Parameter(lib.tensor(1.5, device=dev))
        q = lib.nn.Parameter(lib.tensor([1.0, -2.0], device=dev))
        opt = getattr(lib.optim, name)([p, q], **kw)
        for _ in range(5):
            opt.zero_grad()
            ((p * p * q).sum() + p.sin()).backward()
            opt.step()
        results.append((p.item(), q.tolist(), p.shape))
    (tp, tq, tshape), (np_, nq, nshape) = results
    assert tuple(nshape) == tuple(tshape) == ()
    np.testing.assert_allclose(np_, tp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nq, tq, rtol=1e-5, atol=1e-6)


def _both(fn, device):
    """``fn(lib, dev)`` on PyTorch (cpu) and npnn (``device``), as NumPy arrays."""
    t = fn(torch, 'cpu')
    n = fn(npnn, device)
    return t.detach().cpu().numpy(), n.detach().cpu().numpy()


_X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

_KEYWORD_FORMS = {
    'flip_fn': lambda L, x: L.flip(x, dims=[0, 2]),
    'flip_method': lambda L, x: x.flip(dims=(1,)),
    'permute_fn': lambda L, x: L.permute(x, dims=(2, 0, 1)),
    'permute_method': lambda L, x: x.permute(dims=[1, 0, 2]),
    'reshape': lambda L, x: x.reshape(shape=(4, -1)),
    'reshape_fn': lambda L, x: L.reshape(x, shape=(-1,)),
    'view': lambda L, x: x.view(size=(6, 4)),
    'expand': lambda L, x: x[:, :1].expand(size=(2, 5, 4)),
    'repeat': lambda L, x: x.repeat(repeats=(1, 2, 1)),
}


@pytest.mark.parametrize('form', list(_KEYWORD_FORMS))
def test_shape_ops_accept_pytorch_keyword(form, device):
    fn = _KEYWORD_FORMS[form]

    def run(L, dev):
        x = L.tensor(_X, device=dev, requires_grad=True)
        y = fn(L, x)
        (y * L.arange(y.numel(), device=dev, dtype=L.float32).reshape(y.shape)).sum().backward()
        return L.cat([y.detach().flatten(), x.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


def test_shape_keyword_and_positional_together_is_an_error():
    x = npnn.zeros(2, 3)
    with pytest.raises(TypeError, match='multiple values'):
        x.flip(0, dims=[1])
    with pytest.raises(TypeError, match='multiple values'):
        x.view(6, size=(6,))


@pytest.mark.parametrize('name', ['zeros', 'ones', 'empty', 'rand', 'randn'])
def test_creation_accepts_size_keyword(name, device):
    for L, dev in ((torch, 'cpu'), (npnn, device)):
        t = getattr(L, name)(size=(2, 3), dtype=L.float64, device=dev)
        assert tuple(t.shape) == (2, 3) and t.dtype == L.float64
    if name in ('zeros', 'ones'):
        t, n = _both(lambda L, dev: getattr(L, name)(size=[3], device=dev), device)
        np.testing.assert_array_equal(n, t)
    with pytest.raises(TypeError, match='multiple values'):
        getattr(npnn, name)(2, size=(2,))


@pytest.mark.parametrize('fname', ['tril_indices', 'triu_indices'])
@pytest.mark.parametrize('args', [(3, 3), (3, 3, -1), (4, 2, 1), (2, 5, -3), (0, 3), (3, 3, 5), (3, 3, -5)])
def test_tri_indices_match_torch(fname, args, device):
    t, n = _both(lambda L, dev: getattr(L, fname)(*args, device=dev), device)
    assert n.dtype == t.dtype == np.int64
    np.testing.assert_array_equal(n, t)
    t, n = _both(lambda L, dev: getattr(L, fname)(*args[:2], offset=1, dtype=L.int32, device=dev), device)
    assert n.dtype == np.int32
    np.testing.assert_array_equal(n, t)


def test_tri_indices_errors():
    with pytest.raises(RuntimeError, match='row must be non-negative'):
        npnn.tril_indices(-1, 3)
    with pytest.raises(RuntimeError, match='col must be non-negative'):
        npnn.triu_indices(3, -2)
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        npnn.tril_indices(3, 3, dtype=npnn.float32)


def test_tril_indices_index_a_matrix_like_torch(device):
    # the usual use: gather the strict lower triangle of a pairwise matrix, with gradients
    def run(L, dev):
        m = L.tensor(_X[0, :3, :3], device=dev, requires_grad=True)
        i, j = L.tril_indices(3, 3, offset=-1, device=dev)
        v = m[i, j]
        (v * L.tensor([1., 2., 3.], device=dev)).sum().backward()
        return L.cat([v.detach(), m.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


@pytest.mark.parametrize('case', range(5))
def test_isin_matches_torch(case, device):
    def run(L, dev):
        a = L.tensor([[1, 2, 5], [3, 4, 2]], device=dev)
        f = L.tensor([1., 2., 3.], device=dev)
        return [lambda: L.isin(a, L.tensor([2, 4], device=dev)),
                lambda: L.isin(a, L.tensor([2, 4], device=dev), invert=True),
                lambda: L.isin(f, 2.0),
                lambda: L.isin(3, L.tensor([3, 1], device=dev)),
                lambda: L.isin(elements=a, test_elements=L.tensor([5.0], device=dev), assume_unique=True)][case]()
    t, n = _both(run, device)
    assert n.dtype == t.dtype == np.bool_
    np.testing.assert_array_equal(n, t)


def test_isin_needs_a_tensor():
    with pytest.raises(TypeError):
        npnn.isin(1, 2)


_SPECIAL_UNARY = ['expit', 'erf', 'erfc', 'gammaln', 'digamma', 'psi', 'expm1', 'exp2', 'log1p', 'i0', 'sinc',
                  'ndtr', 'entr']


@pytest.mark.parametrize('name', _SPECIAL_UNARY)
def test_special_unary_matches_torch(name, device):
    x = np.array([0.3, 0.9, 1.7, 2.5, 4.0], dtype=np.float32)

    def run(L, dev):
        t = L.tensor(x, device=dev, requires_grad=True)
        y = getattr(L.special, name)(t)
        (y * L.tensor([1., -2., 3., 0.5, 1.5], device=dev)).sum().backward()
        return L.cat([y.detach(), t.grad])
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-5, atol=1e-6)


def test_special_entr_edges_and_gradcheck(device):
    def run(L, dev):
        t = L.tensor([0.0, -1.0, 0.5], device=dev, requires_grad=True)
        y = L.special.entr(t)
        y.sum().backward()
        return L.cat([y.detach(), t.grad])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)          # 0, -inf, value; grads inf, nan, value
    assert not np.signbit(n[0])
    x = npnn.tensor([0.2, 0.7, 3.0], dtype=npnn.float64, device=device, requires_grad=True)
    assert npnn.autograd.gradcheck(npnn.special.entr, (x,))
    assert npnn.autograd.gradgradcheck(npnn.special.entr, (x,))


def test_special_binary_and_reductions_match_torch(device):
    a = np.array([0.0, 0.5, 2.0, 3.0], dtype=np.float32)
    b = np.array([1.5, 0.0, 0.25, 4.0], dtype=np.float32)

    def run(L, dev):
        x = L.tensor(a, device=dev, requires_grad=True)
        y = L.tensor(b, device=dev, requires_grad=True)
        outs = [L.special.xlog1py(x, y), L.special.xlogy(x + 0.5, y + 1), L.special.logit(x / 4 + 0.1, eps=1e-6),
                L.special.multigammaln(y + 2, 3), L.special.softmax(x, 0), L.special.log_softmax(x, dim=0),
                L.special.logsumexp(x, 0).reshape(1), L.special.polygamma(1, y + 1), L.special.round(x * 1.3)]
        L.cat(outs).sum().backward()
        return L.cat(outs + [x.grad, y.grad]).detach()
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-5, atol=1e-6)
    x = npnn.tensor([0.5, 2.0], dtype=npnn.float64, device=device, requires_grad=True)
    y = npnn.tensor([0.3, 1.0], dtype=npnn.float64, device=device, requires_grad=True)
    assert npnn.autograd.gradcheck(npnn.special.xlog1py, (x, y))
    assert npnn.autograd.gradcheck(lambda v: npnn.special.multigammaln(v + 2, 2), (y,))


def test_special_xlog1py_edges_match_torch(device):
    def run(L, dev):
        x = L.tensor([0.0, 0.0, 1.0, 0.0, 2.0], device=dev, requires_grad=True)
        y = L.tensor([-1.0, 1.5, -1.0, float('nan'), 0.5], device=dev, requires_grad=True)
        r = L.special.xlog1py(x, y)
        r.sum().backward()
        return L.cat([r.detach(), x.grad, y.grad])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


def test_xlogy_zero_input_edges_match_torch(device):
    def run(L, dev):
        x = L.tensor([0.0, 0.0, 0.0, 1.0], device=dev, requires_grad=True)
        y = L.tensor([0.0, 2.0, float('nan'), 3.0], device=dev, requires_grad=True)
        r = L.xlogy(x, y)
        r.sum().backward()
        return L.cat([r.detach(), x.grad, y.grad])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


def _mlp(L, dev):
    m = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.Tanh(), L.nn.Linear(4, 1), L.nn.BatchNorm1d(1)).to(dev)
    with L.no_grad():
        for p in m.parameters():
            p.copy_(L.tensor(np.linspace(-1, 1, p.numel(), dtype=np.float32).reshape(p.shape)))
    return m


_XS = np.linspace(-1, 2, 12, dtype=np.float32).reshape(4, 3)


def test_func_functional_call_and_maml_step_match_torch(device):
    def run(L, dev):
        m = _mlp(L, dev).eval()
        x = L.tensor(_XS, device=dev)
        params = {k: v for k, v in m.named_parameters()}
        # substitute buffers: eval-mode BatchNorm normalises with these, not with the module's own
        buffers = {k: v + 0.5 if v.is_floating_point() else v for k, v in m.named_buffers()}

        def loss(p, xb):
            return L.func.functional_call(m, (p, buffers), (xb,)).pow(2).mean()
        g = L.func.grad(loss)(params, x)
        fast = {k: v - 0.1 * g[k] for k, v in params.items()}
        outer = loss(fast, x)
        outer.backward()                      # second-order: through the inner gradient
        out = [outer.detach().reshape(1)] + [g[k].flatten() for k in sorted(g)]
        out += [m.get_parameter(k).grad.flatten() for k in sorted(params)]
        out += [m[3].running_mean, m[3].running_var]             # untouched
        return L.cat([o.detach() for o in out])
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-4, atol=1e-6)


def test_func_functional_call_restores_and_checks():
    m = npnn.nn.Linear(2, 1)
    w = m.weight
    with pytest.raises(RuntimeError, match='shapes cannot be multiplied'):
        npnn.func.functional_call(m, {'weight': npnn.zeros(1, 5)}, npnn.ones(1, 2))   # shape error inside
    assert m.weight is w and isinstance(m.weight, npnn.nn.Parameter)
    y = npnn.func.functional_call(m, {'weight': npnn.zeros(1, 2), 'bias': npnn.ones(1)}, npnn.ones(3, 2))
    assert y.tolist() == [[1.0]] * 3 and m.weight is w
    with pytest.raises(RuntimeError, match='missing keys'):
        npnn.func.functional_call(m, {'weight': npnn.zeros(1, 2)}, npnn.ones(1, 2), strict=True)
    with pytest.raises(ValueError, match='multiple dictionaries'):
        npnn.func.functional_call(m, ({'bias': npnn.ones(1)}, {'bias': npnn.ones(1)}), npnn.ones(1, 2))


def test_func_grad_transforms_match_torch(device):
    def run(L, dev):
        t = L.tensor([0.5, 1.0, -0.3], device=dev)
        f = lambda v: (v.sin() * v).sum()
        outs = [L.func.grad(f)(t),
                L.func.grad(lambda v: L.func.grad(f)(v).sum())(t),       # grad of grad
                L.func.grad_and_value(f)(t)[1].reshape(1)]
        ga, gb = L.func.grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))(t, t * 2)
        g, aux = L.func.grad(lambda v: ((v ** 2).sum(), v.mean()), has_aux=True)(t)
        gl = L.func.grad(lambda xs: (xs[0] * xs[1]).sum())([t, t + 1])
        outs += [ga, gb, g, aux.reshape(1), gl[0], gl[1]]
        outs.append(L.func.jacrev(lambda v: v.sin() * v[0])(t).flatten())
        outs.append(L.func.jacfwd(lambda a, b: a * b, argnums=1)(t, t + 1).flatten())
        outs.append(L.func.hessian(lambda v: (v ** 3).sum() * v[1])(t).flatten())
        val, fn = L.func.vjp(lambda v: v * v.sum(), t)
        outs += [val, fn(L.tensor([1., 2., 3.], device=dev))[0]]
        return L.cat(outs)
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match='scalar'):
        npnn.func.grad(lambda v: v * 2)(npnn.ones(2))


def test_func_vmap_and_per_sample_grads_match_torch(device):
    def run(L, dev):
        m = _mlp(L, dev)[:3]
        x = L.tensor(_XS, device=dev)
        params = {k: v.detach() for k, v in m.named_parameters()}

        def loss(p, xi):
            return L.func.functional_call(m, p, (xi.unsqueeze(0),)).pow(2).sum()
        per = L.func.vmap(L.func.grad(loss), in_dims=(None, 0))(params, x)
        mm = L.func.vmap(lambda a, b: a @ b, in_dims=(0, None))(x.reshape(2, 2, 3), x.T)
        a, b = L.func.vmap(lambda r: (r.sum(), r * 2), out_dims=(0, 1))(x)
        nested = L.func.vmap(L.func.vmap(lambda u, v: u * v))(x, x + 1)
        return L.cat([per[k].flatten() for k in sorted(per)] + [mm.flatten(), a, b.flatten(), nested.flatten()])
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='same size'):
        npnn.func.vmap(lambda u, v: u + v)(npnn.ones(2), npnn.ones(3))


def test_func_stack_module_state_matches_torch():
    torch.manual_seed(0)
    npnn.manual_seed(0)
    for L in (torch, npnn):
        models = [L.nn.Linear(3, 2) for _ in range(4)]
        params, buffers = L.func.stack_module_state(models)
        assert sorted(params) == ['bias', 'weight'] and buffers == {}
        assert tuple(params['weight'].shape) == (4, 2, 3)
        assert params['weight'].requires_grad and params['weight'].is_leaf
        np.testing.assert_array_equal(params['bias'][2].detach().numpy(), models[2].bias.detach().numpy())


def test_compare_with_none_and_strings_like_torch(device):
    for L, dev in ((torch, 'cpu'), (npnn, device)):
        t = L.tensor([1.0, 2.0], device=dev)
        assert (t == None) is False and (t != None) is True       # noqa: E711
        assert (t == 'auto') is False and (t != 'auto') is True
        assert t not in (None, 'auto')
        assert (t == L.float32) is False
        with pytest.raises(TypeError, match="'<' not supported"):
            t < 'x'
        with pytest.raises(TypeError):
            t >= None
        assert (t == 2.0).tolist() == [False, True]
        assert (t > np.float32(1.5)).tolist() == [False, True]


def test_detect_anomaly_names_the_nan_node_like_torch(device):
    msgs = []
    for L, dev in ((torch, 'cpu'), (npnn, device)):
        x = L.tensor([0.0, 1.0], device=dev, requires_grad=True)
        with L.autograd.detect_anomaly():
            assert L.is_anomaly_enabled()
            for f in (lambda: (x.sqrt() * 0).sum(), lambda: (x / x).sum()):
                with pytest.raises(RuntimeError) as e:
                    f().backward()
                msgs.append(str(e.value).split('\n')[0])
        assert not L.is_anomaly_enabled()
        # outside the mode nan gradients pass silently
        (x.sqrt() * 0).sum().backward()
        assert np.isnan(x.grad.detach().cpu().numpy()[0])
        with L.autograd.set_detect_anomaly(True, check_nan=False):
            assert L.is_anomaly_enabled() and not L.is_anomaly_check_nan_enabled()
            (x.sqrt() * 0).sum().backward()
        assert not L.is_anomaly_enabled()
    assert msgs[:2] == msgs[2:] == ["Function 'SqrtBackward0' returned nan values in its 0th output.",
                                    "Function 'DivBackward0' returned nan values in its 1th output."]


def test_set_detect_anomaly_as_a_call_and_decorator():
    npnn.autograd.set_detect_anomaly(True)
    try:
        assert npnn.is_anomaly_enabled()
    finally:
        npnn.autograd.set_detect_anomaly(False)
    assert not npnn.is_anomaly_enabled()

    @npnn.autograd.detect_anomaly()
    def inside():
        return npnn.is_anomaly_enabled()
    assert inside() is True and not npnn.is_anomaly_enabled()


_Y = np.array([[0.5, 1.0, 3.0, 2.5], [1.0, -1.0, 0.0, 4.0], [2.0, 2.0, 1.5, 0.0]], dtype=np.float32)
_TRAP_CASES = {
    'plain': lambda L, y, dev: L.trapezoid(y),
    'dx': lambda L, y, dev: L.trapezoid(y, dx=0.5, dim=0),
    'x_1d': lambda L, y, dev: L.trapezoid(y, L.tensor([0., 1., 3., 4.5], device=dev)),
    'x_full': lambda L, y, dev: L.trapezoid(y, y.detach() * 2 + L.arange(4., device=dev)),
    'trapz': lambda L, y, dev: L.trapz(y, dx=2.0),
    'cumulative': lambda L, y, dev: L.cumulative_trapezoid(y, dim=0).flatten(),
    'cumulative_x': lambda L, y, dev: L.cumulative_trapezoid(y, L.tensor([0., 2., 3., 5.], device=dev)).flatten(),
}


@pytest.mark.parametrize('case', list(_TRAP_CASES))
def test_trapezoid_family_matches_torch(case, device):
    def run(L, dev):
        y = L.tensor(_Y, device=dev, requires_grad=True)
        r = _TRAP_CASES[case](L, y, dev)
        (r * L.arange(1., r.numel() + 1, device=dev)).sum().backward()
        return L.cat([r.detach(), y.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-6, atol=1e-6)


def test_trapezoid_edges_and_errors(device):
    for L, dev in ((torch, 'cpu'), (npnn, device)):
        assert L.trapezoid(L.ones(2, 0, device=dev)).tolist() == [0.0, 0.0]
        assert L.trapezoid(L.ones(2, 1, device=dev)).tolist() == [0.0, 0.0]
        assert tuple(L.cumulative_trapezoid(L.ones(2, 1, device=dev)).shape) == (2, 0)
        r = L.trapezoid(L.tensor([1, 2, 3], device=dev))
        assert r.dtype == L.float32 and r.item() == 4.0
        with pytest.raises(RuntimeError, match='one `x` value for each sample point'):
            L.trapezoid(L.ones(3, 4, device=dev), L.ones(2, device=dev))
    x64 = npnn.tensor(_Y, dtype=npnn.float64, device=device, requires_grad=True)
    xs = npnn.tensor(_Y * 0.5 + 3.0, dtype=npnn.float64, device=device)
    assert npnn.autograd.gradcheck(lambda y: npnn.cumulative_trapezoid(y, xs, dim=0), (x64,))


@pytest.mark.parametrize('args', [dict(), dict(N=4), dict(N=4, increasing=True), dict(N=1), dict(N=0)])
@pytest.mark.parametrize('values', [[0.0, 2.0, -1.5], [1, 2, 3]])
def test_vander_matches_torch(args, values, device):
    t, n = _both(lambda L, dev: L.vander(L.tensor(values, device=dev), **args), device)
    assert n.dtype == t.dtype and n.shape == t.shape
    np.testing.assert_allclose(n, t)


def test_vander_errors_and_gradcheck(device):
    with pytest.raises(RuntimeError, match='one-dimensional'):
        npnn.vander(npnn.ones(2, 2))
    with pytest.raises(RuntimeError, match='non-negative'):
        npnn.vander(npnn.ones(2), N=-1)
    assert npnn.vander(npnn.tensor([True, False])).dtype == npnn.int64
    x = npnn.tensor([0.5, -1.0, 2.0], dtype=npnn.float64, device=device, requires_grad=True)
    assert npnn.autograd.gradcheck(lambda v: npnn.vander(v, N=4), (x,))


@pytest.mark.parametrize('shape,wrap', [((4, 4), False), ((5, 3), True), ((5, 3), False), ((3, 5), True),
                                        ((2, 2, 2), False)])
def test_fill_diagonal_matches_torch(shape, wrap, device):
    def run(L, dev):
        x = L.tensor(np.arange(np.prod(shape), dtype=np.float32).reshape(shape) * 0.1, device=dev,
                     requires_grad=True)
        y = x * 2
        y.fill_diagonal_(-3.0, wrap=wrap)
        (y * L.arange(y.numel(), dtype=L.float32, device=dev).reshape(shape)).sum().backward()
        return L.cat([y.detach().flatten(), x.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


def test_fill_diagonal_contrastive_mask_matches_torch(device):
    # the usual use: mask self-similarity before a logsumexp over the other samples
    def run(L, dev):
        z = L.tensor(np.sin(np.arange(12, dtype=np.float32)).reshape(4, 3), device=dev, requires_grad=True)
        sim = z @ z.T
        r = sim.fill_diagonal_(float('-inf'))
        loss = sim.logsumexp(dim=1).mean()
        loss.backward()
        assert r is sim
        return L.cat([loss.detach().reshape(1), z.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-5, atol=1e-6)


def test_fill_diagonal_errors():
    with pytest.raises(RuntimeError, match='equal length'):
        npnn.zeros(2, 3, 2).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match='dimensions must larger than 1'):
        npnn.zeros(3).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match='leaf Variable that requires grad'):
        npnn.zeros(2, 2, requires_grad=True).fill_diagonal_(1)


def test_bernoulli_and_multinomial_methods(device):
    p = npnn.tensor([[0.0, 1.0, 0.3], [1.0, 0.0, 0.7]], device=device)
    a = p.bernoulli(generator=npnn.Generator().manual_seed(3))
    b = npnn.bernoulli(p, generator=npnn.Generator().manual_seed(3))
    assert a.dtype == npnn.float32 and a.tolist() == b.tolist()
    assert a[:, :2].tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert set(p.bernoulli(0.5).flatten().tolist()) <= {0.0, 1.0}
    w = npnn.tensor([[0.0, 0.0, 5.0], [1.0, 0.0, 1.0]], device=device)
    s = w.multinomial(4, replacement=True, generator=npnn.Generator().manual_seed(0))
    assert s.dtype == npnn.int64 and tuple(s.shape) == (2, 4)
    assert s[0].tolist() == [2, 2, 2, 2] and set(s[1].tolist()) <= {0, 2}
    assert sorted(w[1].multinomial(2).tolist()) == [0, 2]
    assert torch.tensor([[0.0, 0.0, 5.0]]).multinomial(2, replacement=True).tolist() == [[2, 2]]


@pytest.mark.parametrize('case', range(5))
def test_unravel_index_matches_torch(case, device):
    def run(L, dev):
        idx, shape = [(L.tensor([4, 7, 0], device=dev), (2, 4)), (L.tensor([6, -1], device=dev), (2, 3)),
                      (L.tensor(5, device=dev), (2, 3)), (L.tensor([[1, 5]], device=dev), L.Size([2, 3])),
                      (L.tensor([3], device=dev), 4)][case]
        return L.stack(list(L.unravel_index(idx, shape)))
    t, n = _both(run, device)
    assert n.dtype == t.dtype == np.int64
    np.testing.assert_array_equal(n, t)


def test_unravel_index_rejects_float_indices():
    with pytest.raises(TypeError, match='integer dtype'):
        npnn.unravel_index(npnn.tensor([1.5]), (2, 3))


_LEAF_INPLACE = {
    'masked_fill_': lambda L, x: x.masked_fill_(L.tensor([True, False, True]), 1.0),
    'masked_fill_tensor_value': lambda L, x: x.masked_fill_(L.tensor([True, False, True]), L.tensor(1.0)),
    'bernoulli_': lambda L, x: x.bernoulli_(0.5),
    'random_': lambda L, x: x.random_(0, 3),
    'exponential_': lambda L, x: x.exponential_(),
    'geometric_': lambda L, x: x.geometric_(0.5),
    'cauchy_': lambda L, x: x.cauchy_(),
}


@pytest.mark.parametrize('name', list(_LEAF_INPLACE))
def test_inplace_on_leaf_requiring_grad_raises_like_torch(name, device):
    for L, dev in ((torch, 'cpu'), (npnn, device)):
        x = L.zeros(3, device=dev, requires_grad=True)
        with pytest.raises(RuntimeError, match='a leaf Variable that requires grad is being used in an in-place'):
            _LEAF_INPLACE[name](L, x)
        with L.no_grad():                     # allowed without recording, as in weight init
            _LEAF_INPLACE[name](L, x)
        assert x.is_leaf and x.grad_fn is None


def test_pytorch_module_paths_for_isinstance_checks():
    # detection/segmentation code freezes norm layers by walking modules and testing these classes
    for L in (torch, npnn):
        nn = L.nn
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.InstanceNorm2d(4), nn.BatchNorm1d(4),
                              nn.MultiheadAttention(4, 2))
        bn = [type(m).__name__ for m in model.modules() if isinstance(m, L.nn.modules.batchnorm._BatchNorm)]
        norm = [type(m).__name__ for m in model.modules() if isinstance(m, L.nn.modules.batchnorm._NormBase)]
        inst = [type(m).__name__ for m in model.modules()
                if isinstance(m, L.nn.modules.instancenorm._InstanceNorm)]
        assert bn == ['BatchNorm2d', 'BatchNorm1d']
        assert norm == ['BatchNorm2d', 'InstanceNorm2d', 'BatchNorm1d']
        assert inst == ['InstanceNorm2d']
        assert L.nn.modules.batchnorm.BatchNorm2d is nn.BatchNorm2d
        assert L.nn.modules.activation.MultiheadAttention is nn.MultiheadAttention
        assert L.utils.data.distributed.DistributedSampler is L.utils.data.DistributedSampler
        for m in model.modules():
            if isinstance(m, L.nn.modules.batchnorm._BatchNorm):
                m.eval()
                m.weight.requires_grad_(False)
        assert [m.training for m in model if isinstance(m, L.nn.modules.batchnorm._BatchNorm)] == [False, False]


def test_module_compile_is_accepted_in_place():
    for L in (torch, npnn):
        m = L.nn.Linear(2, 1)
        with L.no_grad():
            m.weight.fill_(1.0)
            m.bias.zero_()
        if L is npnn:
            assert m.compile(mode='reduce-overhead') is None
        assert m(L.ones(1, 2)).item() == 2.0


def test_autocast_queries():
    # npnn's autocast keeps dtypes, so it reports itself disabled even inside a region
    with npnn.autocast('cpu'):
        assert npnn.is_autocast_enabled() is False and npnn.is_autocast_enabled('cpu') is False
        assert npnn.nn.Linear(2, 2)(npnn.ones(1, 2)).dtype == npnn.float32
    assert npnn.get_autocast_dtype('cuda') == npnn.float16 and torch.get_autocast_dtype('cuda') == torch.float16
    expected_cpu = npnn.bfloat16 if npnn.bfloat16 is not None else npnn.float16
    assert npnn.get_autocast_dtype('cpu') == expected_cpu
    with pytest.raises(RuntimeError, match='device type'):
        npnn.get_autocast_dtype('foo')


def test_resolve_conj_and_neg_match_torch(device):
    def run(L, dev):
        z = L.complex(L.tensor([1., 2.], device=dev), L.tensor([0.5, -1.], device=dev))
        c = z.conj()
        r = L.view_as_real(c.resolve_conj())
        n = L.resolve_neg(L.resolve_conj(c))
        assert not L.is_conj(c.resolve_conj()) and not c.resolve_conj().is_neg() and not L.is_neg(n)
        return L.cat([r.flatten(), L.view_as_real(n).flatten()])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


def test_legacy_tensor_new_matches_torch(device):
    for L, dev in ((torch, 'cpu'), (npnn, device)):
        x = L.zeros(2, dtype=L.float64, device=dev)
        assert tuple(x.new().shape) == (0,) and x.new().dtype == L.float64
        assert tuple(x.new(2, 3).shape) == (2, 3) and x.new(2, 3).dtype == L.float64
        assert tuple(x.new(L.Size([4])).shape) == (4,)
        assert tuple(x.new(3).shape) == (3,)
        assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new([1, 2]).dtype == L.float64
        assert x.new((1, 2)).tolist() == [1.0, 2.0]              # a tuple is data, not a size
        assert L.zeros(2, dtype=L.long, device=dev).new([1.7, 2]).tolist() == [1, 2]
        assert x.new(2, 2).zero_().tolist() == [[0.0, 0.0], [0.0, 0.0]]   # the old `weight.new(b, h).zero_()`


def test_nn_utils_stateless_functional_call_matches_torch(device):
    def run(L, dev):
        m = L.nn.Linear(3, 2).to(dev)
        w = L.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) * 0.1, device=dev, requires_grad=True)
        b = L.tensor([0.5, -0.5], device=dev)
        y = L.nn.utils.stateless.functional_call(m, {'weight': w, 'bias': b}, (L.ones(4, 3, device=dev),))
        y.pow(2).sum().backward()
        assert m.weight.grad is None
        return L.cat([y.detach().flatten(), w.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_allclose(n, t, rtol=1e-6)


_STRIDED = [((3, 4), (2, 1), None), ((3, 4), (2, 1), 1), ((4, 3), (1, 4), 0), ((2, 2, 3), (5, 1, 2), 1),
            ((5,), (0,), 3), ((0, 3), (1, 1), 50)]


@pytest.mark.parametrize('size,stride,offset', _STRIDED)
def test_as_strided_sliding_windows_match_torch(size, stride, offset, device):
    def run(L, dev):
        x = L.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5, device=dev, requires_grad=True)
        y = L.as_strided(x, size, stride, offset) if offset is not None else x.as_strided(size, stride)
        (y * L.arange(1., y.numel() + 1, device=dev).reshape(y.shape)).sum().backward()   # overlaps accumulate
        return L.cat([y.detach().flatten(), x.grad.flatten()])
    t, n = _both(run, device)
    np.testing.assert_array_equal(n, t)


def test_as_strided_errors_match_torch():
    for L in (torch, npnn):
        x = L.arange(10.)
        with pytest.raises(RuntimeError, match='out of bounds for storage of size 40'):
            L.as_strided(x, (3, 5), (3, 1))
        with pytest.raises(RuntimeError, match='mismatch in length of strides and shape'):
            L.as_strided(x, (3, 4), (3,))
        with pytest.raises(RuntimeError, match='Negative strides'):
            L.as_strided(x, (3, 4), (-3, 1))
    x = npnn.tensor(np.arange(8.0), requires_grad=True)
    assert npnn.autograd.gradcheck(lambda t: npnn.as_strided(t, (3, 4), (2, 1)), (x,))
