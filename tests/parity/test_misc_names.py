"""``frexp``, ``renorm`` / ``renorm_`` and ``nn.SyncBatchNorm`` (with ``convert_sync_batchnorm``) against
PyTorch: values, dtypes, gradients and errors."""
import numpy as np
import pytest

import npnn
from npnn.autograd import gradcheck
from tests.helpers import to_numpy

torch = pytest.importorskip('torch')

_rng = np.random.default_rng(11)
SPECIAL = np.array([0.0, -0.0, 1.5, -3.0, 8.0, 0.3, -1e-3, 1e30, 1e-40, np.inf, -np.inf, np.nan])


# --- frexp ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dt', ['float16', 'float32', 'float64'])
def test_frexp_values(device, dt):
    with np.errstate(over='ignore'):  # 1e30 overflows float16 to inf (also a case to check)
        a = np.concatenate([SPECIAL, _rng.standard_normal(20) * 100]).astype(dt)
    m, e = npnn.frexp(npnn.tensor(a, device=device))
    tm, te = torch.frexp(torch.tensor(a))
    assert str(m.dtype) == f'npnn.{dt}' and str(e.dtype) == 'npnn.int32'
    np.testing.assert_array_equal(to_numpy(m), tm.numpy())
    np.testing.assert_array_equal(to_numpy(e), te.numpy())
    m2, e2 = npnn.tensor(a, device=device).frexp()
    np.testing.assert_array_equal(to_numpy(e2), te.numpy())
    assert m2.dtype == m.dtype


def test_frexp_subnormal_double(device):
    a = np.array([5e-324, 1e-310, 2.0 ** -1022])
    m, e = npnn.frexp(npnn.tensor(a, device=device))
    tm, te = torch.frexp(torch.tensor(a))
    np.testing.assert_array_equal(to_numpy(m), tm.numpy())
    np.testing.assert_array_equal(to_numpy(e), te.numpy())


def test_frexp_grad(device):
    a = _rng.standard_normal((3, 4)) * 10
    x = npnn.tensor(a, device=device, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    g = _rng.standard_normal((3, 4))
    m, e = npnn.frexp(x)
    assert not e.requires_grad and m.requires_grad
    m.backward(npnn.tensor(g, device=device))
    torch.frexp(tx)[0].backward(torch.tensor(g))
    np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())
    assert gradcheck(lambda t: npnn.frexp(t * 1.0)[0], (npnn.tensor(a + 0.01, device=device, requires_grad=True),))


def test_frexp_out(device):
    a = _rng.standard_normal(5).astype(np.float32)
    om = npnn.empty(5, device=device)
    oe = npnn.empty(5, dtype=npnn.int32, device=device)
    r = npnn.frexp(npnn.tensor(a, device=device), out=(om, oe))
    assert r.mantissa is om and r.exponent is oe
    tm, te = torch.frexp(torch.tensor(a))
    np.testing.assert_array_equal(to_numpy(om), tm.numpy())
    np.testing.assert_array_equal(to_numpy(oe), te.numpy())


@pytest.mark.parametrize('case', ['int_input', 'bad_exponent', 'bad_mantissa'])
def test_frexp_errors(device, case):
    def run(lib, kw):
        if case == 'int_input':
            return lib.frexp(lib.tensor([1, 2], **kw))
        x = lib.tensor([1.0, 2.0], **kw)
        if case == 'bad_exponent':
            return lib.frexp(x, out=(lib.empty(2, **kw), lib.empty(2, dtype=lib.int64, **kw)))
        return lib.frexp(x, out=(lib.empty(2, dtype=lib.float64, **kw), lib.empty(2, dtype=lib.int32, **kw)))
    with pytest.raises(RuntimeError) as t_err:
        run(torch, {})
    with pytest.raises(RuntimeError) as err:
        run(npnn, {'device': device})
    assert str(err.value) == str(t_err.value)


# --- renorm -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('p,dim,maxnorm', [(2, 0, 1.0), (1, 1, 0.5), (3, -1, 2.0), (float('inf'), 1, 0.7),
                                           (2, 2, 1.5), (0.5, 0, 30.0)])
def test_renorm_values_and_grad(device, p, dim, maxnorm):
    a = _rng.standard_normal((3, 4, 5))
    g = _rng.standard_normal((3, 4, 5))
    x = npnn.tensor(a, device=device, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y = x.renorm(p, dim, maxnorm)
    ty = tx.renorm(p, dim, maxnorm)
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.backward(npnn.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert gradcheck(lambda t: npnn.renorm(t, p, dim, maxnorm), (npnn.tensor(a, device=device, requires_grad=True),))


def test_renorm_float32_and_inplace(device):
    a = (_rng.standard_normal((4, 6)) * 3).astype(np.float32)
    t = torch.tensor(a)
    y = npnn.renorm(npnn.tensor(a, device=device), 2, 0, 1.0)
    assert y.dtype == npnn.float32
    np.testing.assert_allclose(to_numpy(y), torch.renorm(t, 2, 0, 1.0).numpy(), rtol=1e-6, atol=1e-7)
    x = npnn.tensor(a, device=device)
    r = x.renorm_(1, 1, 2.0)
    t.renorm_(1, 1, 2.0)
    assert r is x
    np.testing.assert_allclose(to_numpy(x), t.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('args,shape,exc', [((2, 0, 1.0), (3,), RuntimeError), ((2, 0, 1.0), (), RuntimeError),
                                            ((-1, 0, 1.0), (2, 3), RuntimeError), ((0, 0, 1.0), (2, 3), RuntimeError),
                                            ((2, 0, -1.0), (2, 3), RuntimeError), ((2, 5, 1.0), (2, 3), IndexError)])
def test_renorm_errors(device, args, shape, exc):
    a = np.ones(shape)
    with pytest.raises(exc) as t_err:
        torch.tensor(a).renorm(*args)
    with pytest.raises(exc) as err:
        npnn.tensor(a, device=device).renorm(*args)
    assert str(err.value) == str(t_err.value)


# --- SyncBatchNorm ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('shape', [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 2, 3)])
@pytest.mark.parametrize('momentum', [0.1, None])
def test_sync_batch_norm_matches_torch(device, shape, momentum):
    a = _rng.standard_normal(shape)
    g = _rng.standard_normal(shape)
    m = npnn.nn.SyncBatchNorm(3, momentum=momentum).double().to(device)
    tm = torch.nn.SyncBatchNorm(3, momentum=momentum).double()
    with torch.no_grad():
        tm.weight.uniform_(0.5, 1.5)
        tm.bias.uniform_(-1, 1)
    m.weight._data[...] = npnn.tensor(tm.weight.detach().numpy(), device=device)._data
    m.bias._data[...] = npnn.tensor(tm.bias.detach().numpy(), device=device)._data
    for _ in range(2):  # training: batch statistics, running stats updated
        x = npnn.tensor(a, device=device, requires_grad=True)
        tx = torch.tensor(a, requires_grad=True)
        y, ty = m(x), tm(tx)
        np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        y.backward(npnn.tensor(g, device=device))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(to_numpy(m.weight.grad), tm.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(to_numpy(m.running_mean), tm.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(m.running_var), tm.running_var.numpy(), rtol=1e-10)
    assert int(m.num_batches_tracked) == int(tm.num_batches_tracked) == 2
    m.eval()
    tm.eval()
    np.testing.assert_allclose(to_numpy(m(npnn.tensor(a, device=device))), tm(torch.tensor(a)).detach().numpy(),
                               rtol=1e-10, atol=1e-10)


def test_sync_batch_norm_repr_and_errors(device):
    m = npnn.nn.SyncBatchNorm(3, eps=1e-3, affine=False, track_running_stats=False)
    tm = torch.nn.SyncBatchNorm(3, eps=1e-3, affine=False, track_running_stats=False)
    assert repr(m) == repr(tm)
    assert m.process_group is None and npnn.nn.SyncBatchNorm(2, process_group='g').process_group == 'g'
    a = _rng.standard_normal((4, 3, 2))
    np.testing.assert_allclose(to_numpy(m(npnn.tensor(a))), tm(torch.tensor(a)).numpy(), rtol=1e-10, atol=1e-10)
    for shape, n in [((4,), 3), ((2, 0, 3), 0)]:
        with pytest.raises(ValueError) as t_err:
            torch.nn.SyncBatchNorm(n)(torch.randn(shape))
        with pytest.raises(ValueError) as err:
            npnn.nn.SyncBatchNorm(n).to(device)(npnn.randn(shape, device=device))
        assert str(err.value) == str(t_err.value)


def _net(lib):
    nn = lib.nn
    inner = nn.Sequential(nn.BatchNorm1d(4, affine=False), nn.ReLU())
    return nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3, momentum=0.3, eps=1e-3), inner,
                         nn.BatchNorm3d(2, track_running_stats=False))


def test_convert_sync_batchnorm():
    net, tnet = _net(npnn), _net(torch)
    for mod in (net, tnet):
        mod[1].weight.requires_grad_(False)
        mod[1].running_mean.fill_(2.0)
        mod[1].num_batches_tracked.fill_(5)
        mod.eval()
    w, rm = net[1].weight, net[1].running_mean
    c = npnn.nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group='pg')
    tc = torch.nn.SyncBatchNorm.convert_sync_batchnorm(tnet, process_group='pg')
    assert repr(c) == repr(tc)
    assert c is net
    assert isinstance(c[1], npnn.nn.SyncBatchNorm) and isinstance(c[2][0], npnn.nn.SyncBatchNorm)
    assert isinstance(c[3], npnn.nn.SyncBatchNorm) and c[3].running_mean is None
    assert c[1].weight is w and c[1].running_mean is rm and not c[1].weight.requires_grad
    assert int(c[1].num_batches_tracked) == 5 and c[1].process_group == 'pg'
    assert [m.training for m in c.modules()] == [m.training for m in tc.modules()]
    assert sorted(c.state_dict()) == sorted(tc.state_dict())
    one = npnn.nn.BatchNorm1d(2)
    conv = npnn.nn.SyncBatchNorm.convert_sync_batchnorm(one)
    assert type(conv) is npnn.nn.SyncBatchNorm and conv is not one and conv.weight is one.weight
    lin = npnn.nn.Linear(2, 2)
    assert npnn.nn.SyncBatchNorm.convert_sync_batchnorm(lin) is lin
