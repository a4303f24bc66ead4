"""DataParallel: scatter/replicate/gather semantics and equivalence with single-device training."""
import numpy as np
import pytest

import npnn
from npnn import nn
from tests.conftest import HAS_CUDA


class TinyNet(nn.Module):
    """Two affine layers with tanh, built from Parameters only (independent of the layer library)."""

    def __init__(self, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.w1 = nn.Parameter(npnn.tensor(rng.standard_normal((5, 8)).astype(np.float32) * 0.5))
        self.b1 = nn.Parameter(npnn.zeros(8))
        self.w2 = nn.Parameter(npnn.tensor(rng.standard_normal((8, 3)).astype(np.float32) * 0.5))
        self.register_buffer('calls', npnn.zeros(()))

    def forward(self, x, scale=1.0):
        with npnn.no_grad():
            self.calls.add_(1)
        return ((x @ self.w1 + self.b1).tanh() @ self.w2) * scale


def _train(model, data, target, steps=5, lr=0.1):
    for _ in range(steps):
        for p in model.parameters():
            p.grad = None
        out = model(data)
        loss = ((out - target) ** 2).mean()
        loss.backward()
        with npnn.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return loss.item()


def _devices_for(device):
    if device == 'cpu':
        return ['cpu', 'cpu', 'cpu']
    return [0, 0] if npnn.cuda.device_count() == 1 else list(range(npnn.cuda.device_count()))


def test_dataparallel_matches_single_device_training(device):
    rng = np.random.default_rng(1)
    x = npnn.tensor(rng.standard_normal((12, 5)).astype(np.float32), device=device)
    y = npnn.tensor(rng.standard_normal((12, 3)).astype(np.float32), device=device)
    ref = TinyNet().to(device)
    par = TinyNet().to(device)
    dp = nn.DataParallel(par, device_ids=_devices_for(device))
    l_ref = _train(ref, x, y)
    l_dp = _train(dp, x, y)
    assert abs(l_ref - l_dp) < 1e-5
    for (n, p), (_, q) in zip(ref.named_parameters(), par.named_parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=n)
        assert q.is_leaf and q.grad is not None


def test_outputs_keep_batch_order_and_kwargs_are_passed(device):
    net = TinyNet().to(device)
    dp = nn.DataParallel(net, device_ids=_devices_for(device))
    x = npnn.randn(7, 5, device=device)
    with npnn.no_grad():
        full = net(x, scale=2.0)
        par = dp(x, scale=2.0)
    np.testing.assert_allclose(par.cpu().numpy(), full.cpu().numpy(), rtol=1e-6, atol=1e-6)


def test_small_batch_uses_fewer_replicas():
    net = TinyNet()
    dp = nn.DataParallel(net, device_ids=['cpu', 'cpu', 'cpu'])
    before = net.calls.item()
    out = dp(npnn.randn(2, 5))
    assert out.shape == (2, 3)
    # replica 0 shares the original buffers: its update lands in the module; replica 1 works on a copy
    assert net.calls.item() == before + 1


def test_nested_inputs_scatter_and_gather():
    from npnn.nn.parallel import scatter, gather
    a = npnn.arange(6).reshape(6, 1)
    parts = scatter({'x': a, 'flag': 'keep', 'pair': (a, a * 2)}, [npnn.device('cpu')] * 3)
    assert len(parts) == 3 and parts[1]['flag'] == 'keep'
    assert parts[2]['x'].tolist() == [[4], [5]] and parts[2]['pair'][1].tolist() == [[8], [10]]
    g = gather([p['pair'] for p in parts], npnn.device('cpu'))
    assert g[0].tolist() == a.tolist() and g[1].tolist() == (a * 2).tolist()


def test_replica_error_is_reraised_with_traceback():
    class Bad(nn.Module):
        def forward(self, x):
            if x.shape[0] < 3:
                raise ValueError('boom in replica')
            return x

    dp = nn.DataParallel(Bad(), device_ids=['cpu', 'cpu'])
    with pytest.raises(ValueError, match='boom in replica'):
        dp(npnn.zeros(5, 1))


def test_parameters_must_be_on_first_device():
    if not HAS_CUDA:
        pytest.skip('needs a GPU')
    dp = nn.DataParallel(TinyNet(), device_ids=[0])
    with pytest.raises(RuntimeError, match='module must have its parameters and buffers on device'):
        dp(npnn.zeros(4, 5, device='cuda'))


def test_without_devices_runs_module_directly():
    if HAS_CUDA:
        pytest.skip('a GPU is present')
    net = TinyNet()
    dp = nn.DataParallel(net)
    x = npnn.randn(3, 5)
    np.testing.assert_allclose(dp(x).detach().numpy(), net(x).detach().numpy())
    assert list(dp.state_dict())[0].startswith('module.')


def test_functional_data_parallel():
    net = TinyNet()
    x = npnn.randn(6, 5)
    out = nn.parallel.data_parallel(net, x, device_ids=['cpu', 'cpu'])
    np.testing.assert_allclose(out.detach().numpy(), net(x).detach().numpy(), rtol=1e-6, atol=1e-6)
