"""npnn.__config__ and npnn.backends: the configuration strings and availability flags."""
import platform

import numpy as np

import npnn


def test_show():
    s = npnn.__config__.show()
    assert isinstance(s, str) and s.count('\n') >= 5
    assert np.__version__ in s and platform.python_version() in s
    assert 'BLAS' in s and 'GPUs' in s


def test_parallel_info():
    s = npnn.__config__.parallel_info()
    assert isinstance(s, str) and 'OMP_NUM_THREADS' in s and 'threads' in s


def test_backends_flags():
    b = npnn.backends
    assert b.cudnn.is_available() is False
    assert b.mps.is_available() is False
    assert isinstance(b.mkl.is_available(), bool)
    assert isinstance(b.openmp.is_available(), bool)
    assert isinstance(b.cuda.is_built(), bool)
    old = (b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic)
    try:
        b.cudnn.benchmark = True
        b.cudnn.deterministic = True
        assert b.cudnn.benchmark and b.cudnn.deterministic
        with b.cudnn.flags(enabled=False):
            assert b.cudnn.enabled is False
    finally:
        b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic = old


def test_mkl_follows_numpy_blas():
    blas = np.show_config(mode='dicts')['Build Dependencies']['blas']['name'].lower()
    assert npnn.backends.mkl.is_available() == ('mkl' in blas)


def test_submodule_import():
    import npnn.backends.cudnn as cudnn
    assert cudnn is npnn.backends.cudnn
