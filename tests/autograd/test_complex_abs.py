"""abs on complex input: its backward z/|z| depends on z, so second (and higher) derivatives must see it."""
import numpy as np
import pytest

import npnn
from tests.helpers import to_numpy

Z = np.array([[1 + 2j, -0.5 + 0.3j, 3 - 1j], [-2 - 0.25j, 0.7j, -1.5 + 0j]], dtype=np.complex128)
V = np.array([[0.3, -1.2, 0.8], [1.1, 0.4, -0.6]])  # upstream gradient of |z| (real)
A = np.array([[0.5, 1.0, -0.2], [0.3, -0.9, 1.4]])
B = np.array([[-0.7, 0.2, 0.6], [1.3, 0.1, -0.4]])


def _second_order(lib, z, v, dev=None):
    kw = {} if dev is None else {'device': dev}
    x = lib.tensor(z, requires_grad=True, **kw)
    gv = lib.tensor(v, requires_grad=True, **kw)
    g, = lib.autograd.grad(x.abs(), x, gv, create_graph=True)
    loss = (g.real * lib.tensor(A, **kw)).sum() + (g.imag * lib.tensor(B, **kw)).sum()
    gx, gg = lib.autograd.grad(loss, (x, gv), create_graph=True)
    return g, gx, gg, x


@pytest.mark.parametrize('dtype', [np.complex128, np.complex64])
def test_double_backward_matches_torch(dtype, device):
    torch = pytest.importorskip('torch')
    z = Z.astype(dtype)
    v = V.astype(np.float64 if dtype == np.complex128 else np.float32)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.complex128 else dict(rtol=1e-5, atol=1e-6)
    ours = _second_order(npnn, z, v, device)[:3]
    ref = _second_order(torch, z, v)[:3]
    for a, b in zip(ours, ref):
        assert to_numpy(a).dtype == to_numpy(b).dtype
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), **tol)
    # the second derivative w.r.t. z is really non-zero (a constant sign(z) would give exactly 0)
    assert np.abs(to_numpy(ours[1])).min() > 1e-3


def test_third_order_matches_torch(device):
    torch = pytest.importorskip('torch')
    outs = []
    for lib, dev in ((npnn, device), (torch, None)):
        _, gx, _, x = _second_order(lib, Z, V, dev)
        kw = {} if dev is None else {'device': dev}
        h = (gx.real * lib.tensor(B, **kw) - gx.imag * lib.tensor(A, **kw)).sum()
        outs.append(to_numpy(lib.autograd.grad(h, x)[0]))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-12)


def test_zero_input_gradients_match_torch(device):
    torch = pytest.importorskip('torch')
    z = np.array([0j, 1 - 1j, 0j], dtype=np.complex128)
    v = np.array([0.5, -2.0, 1.5])
    for a, b in zip(_second_order(npnn, z[None].repeat(2, 0), v[None].repeat(2, 0) * 1.0, device)[:3],
                    _second_order(torch, z[None].repeat(2, 0), v[None].repeat(2, 0) * 1.0)[:3]):
        out = to_numpy(a)
        assert np.isfinite(out).all()
        np.testing.assert_allclose(out, to_numpy(b), rtol=1e-10, atol=1e-12)


def _abs_of_parts(re, im):
    # a complex abs seen as a real function of (re, im), so the real-valued checks cover its complex backward
    return npnn.view_as_complex(npnn.stack([re, im], -1)).abs()


def test_gradcheck_gradgradcheck_complex128(device):
    re = npnn.tensor(Z.real.copy(), device=device, requires_grad=True)
    im = npnn.tensor(Z.imag.copy(), device=device, requires_grad=True)
    assert npnn.autograd.gradcheck(_abs_of_parts, (re, im))
    assert npnn.autograd.gradgradcheck(_abs_of_parts, (re, im))
    prod = lambda r, i: _abs_of_parts(r, i) * _abs_of_parts(i, r).sqrt()  # noqa: E731
    assert npnn.autograd.gradgradcheck(prod, (re, im))


def test_real_abs_unchanged(device):
    torch = pytest.importorskip('torch')
    x = np.array([-1.5, 2.0, 0.25, -0.1])
    res = []
    for lib, kw in ((npnn, {'device': device}), (torch, {})):
        t = lib.tensor(x, requires_grad=True, **kw)
        g, = lib.autograd.grad((t.abs() * t).sum(), t, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), t)
        res.append((to_numpy(g), to_numpy(gg)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)
