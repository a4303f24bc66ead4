"""Devices, dtypes, promotion, generators and the lazily imported CuPy."""
import os
import subprocess
import sys

import numpy as np
import pytest

import npnn


def test_device_parsing_and_repr():
    d = npnn.device('cuda:1')
    assert (d.type, d.index) == ('cuda', 1)
    assert repr(d) == "device(type='cuda', index=1)" and str(d) == 'cuda:1'
    assert npnn.device('cpu') == 'cpu'
    assert repr(npnn.device('cpu')) == "device(type='cpu')"
    assert npnn.device('cuda', 0) == npnn.device('cuda:0')
    with pytest.raises(RuntimeError, match='Expected one of cpu, cuda'):
        npnn.device('tpu')
    with pytest.raises(RuntimeError, match='Invalid device string'):
        npnn.device('cuda:x')


def test_cuda_without_gpu_gives_clear_error():
    if npnn.cuda.is_available():
        pytest.skip('a GPU is present')
    with pytest.raises(RuntimeError, match='CuPy|GPU'):
        npnn.zeros(2, device='cuda')
    assert npnn.cuda.device_count() == 0 and npnn.cuda.memory_allocated() == 0


def test_default_device_from_env():
    code = 'import npnn; print(npnn.get_default_device(), npnn.zeros(1).device)'
    env = dict(os.environ, NPNN_DEVICE='cpu')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.stdout.split() == ['cpu', 'cpu'], out.stderr
    env['NPNN_DEVICE'] = 'bogus'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.returncode != 0 and 'Expected one of cpu, cuda' in out.stderr


def test_set_default_device():
    npnn.set_default_device('cpu')
    assert npnn.get_default_device() == npnn.device('cpu')
    npnn.set_default_device(None)
    assert npnn.zeros(1).device.type == 'cpu'


def test_dtype_names_and_repr():
    assert repr(npnn.float32) == 'npnn.float32'
    assert npnn.float is npnn.float32 and npnn.long is npnn.int64 and npnn.double is npnn.float64
    assert npnn.float32.is_floating_point and not npnn.int64.is_floating_point
    assert npnn.get_default_dtype() is npnn.float32


def test_set_default_dtype():
    npnn.set_default_dtype(npnn.float64)
    try:
        assert npnn.tensor([1.5]).dtype is npnn.float64
        assert npnn.zeros(2).dtype is npnn.float64
        assert (npnn.tensor([1, 2]) * 0.5).dtype is npnn.float64
    finally:
        npnn.set_default_dtype(npnn.float32)
    with pytest.raises(TypeError):
        npnn.set_default_dtype(npnn.int64)


@pytest.mark.parametrize('a,b', [
    (np.float32, 2.5), (np.int64, 2.5), (np.int32, 3), (np.bool_, 1), (np.bool_, 1.5), (np.float16, 3.0),
    (np.int64, True), (np.uint8, 300 - 299),
])
def test_scalar_promotion_matches_torch(a, b):
    torch = pytest.importorskip('torch')
    x = np.array([1, 0, 1]).astype(a)
    r = (npnn.tensor(x) + b).dtype
    rt = (torch.tensor(x) + b).dtype
    assert r.name == str(rt).split('.')[-1]


@pytest.mark.parametrize('a,b,da,db', [
    (np.float32, np.float64, 1, 1), (np.float32, np.float64, 1, 0), (np.int64, np.float32, 1, 0),
    (np.int32, np.int64, 1, 0), (np.int32, np.int64, 0, 0), (np.uint8, np.int8, 1, 1), (np.bool_, np.int32, 1, 1),
    (np.float16, np.float32, 1, 1), (np.int64, np.float64, 0, 1), (np.float16, np.int64, 1, 1),
])
def test_tensor_promotion_matches_torch(a, b, da, db):
    torch = pytest.importorskip('torch')
    xa = np.ones((2,) if da else ()).astype(a)
    xb = np.ones((2,) if db else ()).astype(b)
    r = (npnn.tensor(xa) * npnn.tensor(xb)).dtype
    rt = (torch.tensor(xa) * torch.tensor(xb)).dtype
    assert r.name == str(rt).split('.')[-1]


def test_int_division_gives_float():
    assert (npnn.tensor([3, 4]) / npnn.tensor([2, 2])).dtype is npnn.float32
    np.testing.assert_allclose((npnn.tensor([3, 4]) / 2).numpy(), [1.5, 2.0])
    assert (npnn.tensor([3, 4]) // 2).dtype is npnn.int64


def test_generators_reproducible(device):
    g = npnn.Generator(device=device).manual_seed(123)
    a = npnn.randn(5, generator=g, device=device)
    g.manual_seed(123)
    b = npnn.randn(5, generator=g, device=device)
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    npnn.manual_seed(7)
    c = npnn.rand(3, device=device)
    npnn.manual_seed(7)
    d = npnn.rand(3, device=device)
    np.testing.assert_array_equal(c.cpu().numpy(), d.cpu().numpy())
    assert g.initial_seed() == 123


def test_rng_state_roundtrip():
    npnn.manual_seed(3)
    st = npnn.get_rng_state()
    assert st.dtype is npnn.uint8
    a = npnn.randn(4)
    npnn.set_rng_state(st)
    b = npnn.randn(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_generator_device_mismatch():
    g = npnn.Generator()
    if not npnn.cuda.is_available():
        pytest.skip('needs a GPU')
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator"):
        npnn.randn(2, generator=g, device='cuda')


@pytest.mark.cuda
def test_mixed_devices_raise():
    a = npnn.ones(2)
    b = npnn.ones(2, device='cuda')
    with pytest.raises(RuntimeError, match='Expected all tensors to be on the same device'):
        a + b
    with pytest.raises(RuntimeError, match='Expected all tensors to be on the same device'):
        npnn.cat([a, b])
