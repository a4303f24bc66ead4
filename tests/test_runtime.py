"""Top-level runtime switches, finfo/iinfo and the legacy typed constructors."""
import numpy as np
import pytest

import npnn


def test_num_threads_round_trip():
    before = npnn.get_num_threads()
    npnn.set_num_threads(1)
    assert npnn.get_num_threads() == 1
    npnn.set_num_threads(before)
    assert npnn.get_num_threads() == before
    with pytest.raises(RuntimeError):
        npnn.set_num_threads(0)
    npnn.set_num_interop_threads(2)
    assert npnn.get_num_interop_threads() == 2


def test_determinism_and_matmul_precision_flags():
    npnn.use_deterministic_algorithms(True)
    assert npnn.are_deterministic_algorithms_enabled()
    npnn.use_deterministic_algorithms(False)
    assert not npnn.are_deterministic_algorithms_enabled()
    npnn.set_float32_matmul_precision('high')
    assert npnn.get_float32_matmul_precision() == 'high'
    npnn.set_float32_matmul_precision('highest')
    with pytest.raises(RuntimeError):
        npnn.set_float32_matmul_precision('fast')


def test_compile_returns_the_model_and_works_as_decorator():
    m = npnn.nn.Linear(2, 2)
    assert npnn.compile(m) is m

    @npnn.compile(mode='reduce-overhead')
    def f(x):
        return x * 2
    assert f(npnn.ones(1)).item() == 2.0


def test_finfo_iinfo():
    fi = npnn.finfo(npnn.float32)
    assert fi.eps == float(np.finfo(np.float32).eps)
    assert fi.max == float(np.finfo(np.float32).max) and fi.min == -fi.max
    assert fi.tiny == fi.smallest_normal == float(np.finfo(np.float32).tiny)
    assert fi.bits == 32 and fi.dtype == 'float32' and fi.resolution == pytest.approx(1e-6)
    assert npnn.finfo().eps == fi.eps
    assert npnn.finfo(npnn.float16).max == 65504.0
    assert npnn.iinfo(npnn.int32).max == 2 ** 31 - 1 and npnn.iinfo(npnn.int64).min == -2 ** 63
    assert npnn.iinfo(npnn.uint8).max == 255
    with pytest.raises(TypeError):
        npnn.finfo(npnn.int64)
    with pytest.raises(TypeError):
        npnn.iinfo(npnn.float32)


def test_legacy_tensor_types():
    a = npnn.FloatTensor([1, 2])
    assert a.dtype == npnn.float32 and a.tolist() == [1.0, 2.0]
    assert npnn.LongTensor([1.0]).dtype == npnn.int64
    assert npnn.FloatTensor(2, 3).shape == (2, 3)
    assert npnn.DoubleTensor(npnn.Size([4])).shape == (4,)
    assert npnn.ByteTensor().shape == (0,)
    assert isinstance(a, npnn.FloatTensor) and not isinstance(a, npnn.LongTensor)
    assert npnn.ones(2).type(npnn.LongTensor).dtype == npnn.int64
    assert npnn.BoolTensor([1, 0]).dtype == npnn.bool


def test_finfo_matches_torch():
    torch = pytest.importorskip('torch')
    for name in ['float16', 'float32', 'float64']:
        a, b = npnn.finfo(getattr(npnn, name)), torch.finfo(getattr(torch, name))
        for k in ['bits', 'eps', 'max', 'min', 'tiny', 'smallest_normal', 'resolution', 'dtype']:
            assert getattr(a, k) == pytest.approx(getattr(b, k)), (name, k)
    for name in ['int8', 'int16', 'int32', 'int64', 'uint8']:
        a, b = npnn.iinfo(getattr(npnn, name)), torch.iinfo(getattr(torch, name))
        assert (a.bits, a.min, a.max, a.dtype) == (b.bits, b.min, b.max, b.dtype)


def test_memory_format_tags_are_accepted():
    import pickle
    x = npnn.randn(1, 2, 3, 3)
    for fmt in (npnn.channels_last, npnn.contiguous_format, npnn.preserve_format):
        assert isinstance(fmt, npnn.memory_format)
        assert pickle.loads(pickle.dumps(fmt)) is fmt
    assert npnn.zeros_like(x, memory_format=npnn.preserve_format).shape == x.shape
    np.testing.assert_array_equal(x.contiguous(memory_format=npnn.channels_last).numpy(), x.numpy())
    np.testing.assert_array_equal(x.to(memory_format=npnn.channels_last).numpy(), x.numpy())
    conv = npnn.nn.Conv2d(2, 2, 1)
    assert conv.to(memory_format=npnn.channels_last) is conv
    assert repr(npnn.channels_last) == 'npnn.channels_last'


def test_jit_entry_points_pass_through():
    m = npnn.nn.Linear(2, 2)
    assert npnn.jit.script(m) is m and npnn.jit.trace(m, npnn.ones(1, 2)) is m
    assert npnn.jit.ignore(len)([1]) == 1 and npnn.jit.ignore(drop=True)(len)([1]) == 1
    assert npnn.jit.unused(len) is len and npnn.jit.export(len) is len
    assert not npnn.jit.is_scripting() and not npnn.jit.is_tracing()


def test_multiprocessing_is_importable_under_torch_name():
    import multiprocessing
    import npnn.multiprocessing as mp
    assert mp.Process is multiprocessing.Process and mp.Queue is not None
    assert mp.get_start_method(allow_none=True) in (None, 'fork', 'spawn', 'forkserver')
