"""Shared fixtures: the ``device`` fixture runs a test on cpu, and on cuda when a GPU is usable."""
import os

import numpy as np
import pytest


def _gpu_available():
    if os.environ.get('NPNN_TEST_NO_CUDA'):
        return False
    try:
        import npnn.cuda
        return npnn.cuda.is_available()
    except Exception:
        try:
            import cupy
            return cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:
            return False


HAS_CUDA = _gpu_available()
DEVICES = ['cpu'] + (['cuda'] if HAS_CUDA else [])


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason='needs a CUDA GPU with CuPy')
    for item in items:
        if 'cuda' in item.keywords and not HAS_CUDA:
            item.add_marker(skip)
        callspec = getattr(item, 'callspec', None)
        if callspec is not None and callspec.params.get('device') == 'cuda':
            item.add_marker(pytest.mark.cuda)


@pytest.fixture(params=DEVICES)
def device(request):
    """The device name a test runs on: 'cpu', and 'cuda' when a GPU is present."""
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    import npnn
    npnn.manual_seed(0)
    np.random.seed(0)
    yield
