"""Engine semantics: accumulation, retain_graph, hooks, grad modes, higher order, in-place checks."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck, gradgradcheck


def t(data, device='cpu', rg=False, dtype=None):
    return npnn.tensor(data, device=device, dtype=dtype, requires_grad=rg)


def test_leaf_accumulates_across_backward_calls(device):
    x = t([1., 2., 3.], device, rg=True)
    (x * 2).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [2 + 2, 2 + 4, 2 + 6])


def test_shared_subexpression_sums_gradients(device):
    x = t([1., -2.], device, rg=True)
    y = x * 3
    z = y * y + y  # y used twice
    z.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), (2 * 3 * np.array([1., -2.]) + 1) * 3)


def test_second_backward_through_freed_graph_raises(device):
    x = t([1., 2.], device, rg=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match='backward through the graph a second time'):
        y.backward()


def test_retain_graph_allows_second_backward(device):
    x = t([1., 2.], device, rg=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.cpu().numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * g1, rtol=1e-6)


def test_non_scalar_backward_needs_gradient(device):
    x = t([1., 2.], device, rg=True)
    with pytest.raises(RuntimeError, match='grad can be implicitly created only for scalar outputs'):
        (x * 2).backward()
    (x * 2).backward(npnn.tensor([1., 10.], device=device))
    np.testing.assert_allclose(x.grad.cpu().numpy(), [2., 20.])


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match='does not require grad'):
        npnn.tensor([1.]).sum().backward()


def test_grad_does_not_alias_between_leaves():
    a = t([1., 2.], rg=True)
    b = t([3., 4.], rg=True)
    (a + b).sum().backward()
    a.grad.mul_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1., 1.])


def test_grad_of_sum_is_writable():
    x = t([1., 2.], rg=True)
    x.sum().backward()
    x.grad.mul_(3)  # must not be a read-only broadcast view
    np.testing.assert_allclose(x.grad.numpy(), [3., 3.])


def test_tensor_hooks_leaf_and_nonleaf(device):
    x = t([1., 2.], device, rg=True)
    seen = []
    x.register_hook(lambda g: seen.append(('x', g.cpu().numpy().copy())))
    y = x * 2
    h = y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [20., 20.])
    assert seen[0][0] == 'x'
    np.testing.assert_allclose(seen[0][1], [20., 20.])
    h.remove()
    x.grad = None
    y = x * 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [2., 2.])


def test_retain_grad(device):
    x = t([1., 2.], device, rg=True)
    y = x * 3
    y.retain_grad()
    z = (y * y).sum()
    z.backward()
    np.testing.assert_allclose(y.grad.cpu().numpy(), [6., 12.])
    assert y.retains_grad


def test_no_grad_and_enable_grad(device):
    x = t([1.], device, rg=True)
    with npnn.no_grad():
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None
        with npnn.enable_grad():
            z = x * 2
            assert z.requires_grad
    assert npnn.is_grad_enabled()

    @npnn.no_grad()
    def f(a):
        return a * 2
    assert not f(x).requires_grad

    @npnn.no_grad
    def g(a):
        return a * 2
    assert not g(x).requires_grad


def test_set_grad_enabled_function_and_context():
    x = t([1.], rg=True)
    npnn.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        npnn.set_grad_enabled(True)
    with npnn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_inference_mode():
    x = t([1.], rg=True)
    with npnn.inference_mode():
        assert not (x * 2).requires_grad
        assert npnn.is_inference_mode_enabled()
    assert not npnn.is_inference_mode_enabled()

    @npnn.inference_mode()
    def f(a):
        return a + 1
    assert not f(x).requires_grad


def test_second_derivative_of_cube(device):
    x = t([1.5, -2.0], device, rg=True, dtype=npnn.float64)
    y = (x ** 3).sum()
    (g,) = npnn.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().cpu().numpy(), 3 * np.array([1.5, -2.0]) ** 2)
    (h,) = npnn.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.cpu().numpy(), 6 * np.array([1.5, -2.0]))


def test_hessian_vector_product(device):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    x = t(rng.standard_normal(4), device, rg=True, dtype=npnn.float64)
    Am = npnn.tensor(A, device=device)
    v = npnn.tensor(rng.standard_normal(4), device=device)
    f = 0.5 * (x @ (Am @ x)) + (x.tanh()).sum()
    (g,) = npnn.autograd.grad(f, x, create_graph=True)
    (hv,) = npnn.autograd.grad((g * v).sum(), x)
    xn = x.detach().cpu().numpy()
    H = A + np.diag(-2 * np.tanh(xn) * (1 - np.tanh(xn) ** 2))
    np.testing.assert_allclose(hv.cpu().numpy(), H @ v.cpu().numpy(), rtol=1e-10)


def test_autograd_grad_allow_unused_and_inputs():
    x = t([1., 2.], rg=True)
    z = t([1.], rg=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match='not have been used in the graph'):
        npnn.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = npnn.autograd.grad(y, [x, z], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2., 4.])
    assert gz is None and x.grad is None


def test_backward_inputs_restricts_accumulation():
    a = t([1.], rg=True)
    b = t([2.], rg=True)
    (a * b).sum().backward(inputs=[a])
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [2.])


def test_grad_of_nonleaf_input():
    x = t([1., 2.], rg=True)
    y = x * 2
    z = (y ** 2).sum()
    (gy,) = npnn.autograd.grad(z, y)
    np.testing.assert_allclose(gy.numpy(), [4., 8.])


def test_inplace_modification_of_saved_tensor_detected(device):
    x = t([1., 2.], device, rg=True)
    y = x * 1  # non-leaf
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        z.sum().backward()


def test_inplace_on_saved_output_detected():
    x = t([1., 2.], rg=True)
    y = x.exp()  # saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = t([1., 2.], rg=True)
    with pytest.raises(RuntimeError, match='leaf Variable that requires grad'):
        x.add_(1)
    with npnn.no_grad():
        x.add_(1)
    np.testing.assert_allclose(x.detach().numpy(), [2., 3.])


def test_inplace_ops_record_correct_gradients(device):
    x = t([1., 2., 3.], device, rg=True)
    y = x * 2
    y.mul_(x)        # y = 2x * x
    y.add_(x, alpha=3)
    y[0] = 0.0       # cut the first element
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [0., 4 * 2 + 3, 4 * 3 + 3])


def test_setitem_with_grad_value():
    w = t([5.], rg=True)
    buf = npnn.zeros(3)
    buf[1] = w[0] * 2
    buf.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.])


def test_detach_shares_data_but_cuts_graph():
    x = t([1., 2.], rg=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    with npnn.no_grad():
        x.mul_(2)
    np.testing.assert_allclose(d.numpy(), [2., 4.])


def test_grad_fn_names_and_repr():
    x = t([1., 2.], rg=True)
    y = x * x
    assert y.grad_fn.name() == 'MulBackward0'
    assert 'grad_fn=<MulBackward0>' in repr(y)
    assert repr(x) == 'tensor([1., 2.], requires_grad=True)'
    assert (x + 1).grad_fn.name() == 'AddBackward0'
    assert x.sum().grad_fn.name() == 'SumBackward0'
    nf = y.grad_fn.next_functions
    assert nf[0][0].name() == 'AccumulateGrad'


class Cube(npnn.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True,) or ctx.needs_input_grad[0]
        return g * 3 * x ** 2 * ctx.k, None


def test_custom_function(device):
    x = t([1., 2.], device, rg=True, dtype=npnn.float64)
    y = Cube.apply(x, 2.0)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [6., 24.])
    assert gradcheck(lambda a: Cube.apply(a, 2.0), (t([0.3, -0.7], device, rg=True, dtype=npnn.float64),))


def test_custom_function_grad_fn_is_named_after_the_function():
    y = Cube.apply(t([1., 2.], rg=True), 2.0)
    assert type(y.grad_fn).__name__ == 'CubeBackward'
    assert y.grad_fn.name() == 'CubeBackward'
    assert 'CubeBackward object' in repr(y.grad_fn)
    assert isinstance(y.grad_fn, npnn.autograd.function.BackwardCFunction)
    assert type(SplitTwo.apply(t([1.], rg=True))[0].grad_fn).__name__ == 'SplitTwoBackward'


class SplitTwo(npnn.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        idx = npnn.arange(x.shape[0])
        ctx.mark_non_differentiable(idx)
        return x * 2, x * 3, idx

    @staticmethod
    def backward(ctx, g1, g2, g3):
        return g1 * 2 + g2 * 3


def test_custom_function_multiple_outputs():
    x = t([1., 2.], rg=True)
    a, b, idx = SplitTwo.apply(x)
    assert not idx.requires_grad
    (a.sum() + (b * b).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + 3 * 2 * 3 * np.array([1., 2.]))


def test_gradcheck_detects_wrong_gradient():
    class Wrong(npnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2x * g

    x = t([0.5, 1.5], rg=True, dtype=npnn.float64)
    with pytest.raises(RuntimeError, match='Jacobian mismatch'):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_tanh_mul():
    x = t([0.2, -0.4, 0.9], rg=True, dtype=npnn.float64)
    y = t([1.1, 0.3, -0.5], rg=True, dtype=npnn.float64)
    assert gradgradcheck(lambda a, b: (a * b).tanh() * a, (x, y))


def test_mlp_from_raw_ops_learns_xor():
    npnn.manual_seed(0)
    X = npnn.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
    Y = npnn.tensor([[0.], [1.], [1.], [0.]])
    W1 = (npnn.randn(2, 8) * 1.0).requires_grad_()
    b1 = npnn.zeros(8, requires_grad=True)
    W2 = (npnn.randn(8, 1) * 1.0).requires_grad_()
    b2 = npnn.zeros(1, requires_grad=True)
    params = [W1, b1, W2, b2]
    for _ in range(2000):
        h = (X @ W1 + b1).tanh()
        p = (h @ W2 + b2).sigmoid()
        loss = ((p - Y) ** 2).mean()
        for q in params:
            q.grad = None
        loss.backward()
        with npnn.no_grad():
            for q in params:
                q -= 1.0 * q.grad
    pred = (p.detach().numpy() > 0.5).astype(np.float32)
    np.testing.assert_array_equal(pred, Y.numpy())
    assert loss.item() < 0.05


def test_functional_jacobian_hessian_vjp_jvp():
    from npnn.autograd.functional import jacobian, hessian, vjp, jvp
    x = t([0.5, -1.0, 2.0], dtype=npnn.float64)
    J = jacobian(lambda a: a.sin() * a, x)
    xn = x.numpy()
    np.testing.assert_allclose(J.numpy(), np.diag(np.cos(xn) * xn + np.sin(xn)))
    H = hessian(lambda a: (a ** 3).sum(), x)
    np.testing.assert_allclose(H.numpy(), np.diag(6 * xn))
    v = t([1., 2., 3.], dtype=npnn.float64)
    out, g = vjp(lambda a: a * a, x, v)
    np.testing.assert_allclose(g.numpy(), 2 * xn * v.numpy())
    out, jv = jvp(lambda a: a * a, x, v)
    np.testing.assert_allclose(jv.numpy(), 2 * xn * v.numpy())


def test_functional_matches_torch():
    torch = pytest.importorskip('torch')
    from npnn.autograd.functional import jacobian, hessian
    xa = np.array([0.3, -0.8], dtype=np.float64)

    def f(lib):
        return lambda a: (a.exp() * a.prod()).tanh()
    Jn = jacobian(f(npnn), npnn.tensor(xa))
    Jt = torch.autograd.functional.jacobian(f(torch), torch.tensor(xa))
    np.testing.assert_allclose(Jn.numpy(), Jt.numpy(), rtol=1e-10)
    Hn = hessian(lambda a: (a.exp() * a.prod()).sum(), npnn.tensor(xa))
    Ht = torch.autograd.functional.hessian(lambda a: (a.exp() * a.prod()).sum(), torch.tensor(xa))
    np.testing.assert_allclose(Hn.numpy(), Ht.numpy(), rtol=1e-10)


def test_graph_freed_without_backward():
    import gc
    import weakref
    x = t(np.ones(4), rg=True)
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_zero_fill_copy_keep_history_like_torch():
    x = t([1., 2., 3.], rg=True)
    y = x * 2
    y.zero_()
    assert y.requires_grad and y.grad_fn.name() == 'ZeroBackward0'
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0., 0., 0.])
    w = t(2., rg=True)
    b = npnn.zeros(3)
    b.fill_(w)
    b.sum().backward()
    assert w.grad.item() == 3.0
    z = npnn.zeros(2, 3, dtype=npnn.float64)
    v = t([1., 2., 3.], rg=True)
    z.copy_(v)  # broadcast and cast: the gradient comes back reduced and in float32
    (z * z).sum().backward()
    assert v.grad.dtype is npnn.float32
    np.testing.assert_allclose(v.grad.numpy(), [4., 8., 12.])
    with pytest.raises(RuntimeError, match='must match the size'):
        npnn.zeros(3).copy_(npnn.ones(2))


def test_where_unselected_branch_gets_zero_not_nan():
    x = t([1., 2.], rg=True)
    npnn.where(npnn.tensor([False, True]), x, npnn.full_like(x, float('nan'))).sqrt().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5 / np.sqrt(2.0)], rtol=1e-6)


def test_wrong_number_of_gradients_is_an_error():
    from npnn.autograd.node import Node

    class TwoInputs(Node):
        def backward(self, g):
            return g  # one gradient for two inputs

    a, b = t([1.], rg=True), t([2.], rg=True)
    out = npnn.Tensor._make((a + b)._data, TwoInputs((a, b)))
    with pytest.raises(RuntimeError, match='incorrect number of gradients'):
        out.sum().backward()


def test_variable_is_the_old_name_of_a_leaf_tensor():
    from npnn.autograd import Variable
    base = npnn.ones(2) * 3
    v = Variable(base, requires_grad=True)
    assert v.is_leaf and v.requires_grad and v.tolist() == [3.0, 3.0]
    assert isinstance(v, Variable) and isinstance(npnn.ones(1), Variable) and not isinstance(3, Variable)
    (v * v).sum().backward()
    assert v.grad.tolist() == [6.0, 6.0]
    assert not Variable(npnn.ones(1)).requires_grad
    with pytest.raises(TypeError):
        Variable([1.0])


def test_log_zero_and_division_by_zero_are_silent_like_torch():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        x = t([0., 1., -1.], rg=True)
        y = x.log()
        assert np.isneginf(y[0].item()) and np.isnan(y[2].item())
        z = x / 0.0
        assert np.isinf(z[1].item()) and np.isnan(z[0].item())
        assert np.isnan(t([-1.]).sqrt().item())
        (x / 0.0).sum().backward()
        assert np.isinf(x.grad[1].item())


def test_powers_at_zero_logsumexp_of_neg_inf_and_backward_are_silent_like_torch():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        x = t([0., 1.], rg=True)
        (x ** 0.5).sum().backward()                     # d/dx sqrt(x) at 0 is inf
        assert np.isposinf(x.grad[0].item()) and x.grad[1].item() == 0.5
        assert np.isposinf((t([0.]) ** -1).item())
        assert np.isnan((t([-1.]) ** 0.5).item()) and np.isnan((t([-1.]) ** t([0.5])).item())
        r = npnn.logsumexp(npnn.full((2, 3), float('-inf')), 1)
        assert np.isneginf(r.numpy()).all()


        class Recip(npnn.autograd.Function):          # a backward doing raw NumPy arithmetic that hits 1/0
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * 1

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return npnn.tensor(g.detach().numpy() / a.detach().numpy())
        y = t([0., 2.], rg=True)
        Recip.apply(y).sum().backward()
        assert np.isposinf(y.grad[0].item()) and y.grad[1].item() == 0.5
