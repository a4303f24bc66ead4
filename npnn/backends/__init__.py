"""``npnn.backends``: what the array libraries offer (mkl, cudnn, cuda, mps, openmp availability), and
the attention fast-path switch (mha)."""
import types

import numpy as np

__all__ = ['mkl', 'cudnn', 'cuda', 'mps', 'openmp', 'mha']


def _mkl_available():
    """True when NumPy's own BLAS is Intel MKL (per NumPy's build configuration)."""
    try:
        blas = np.show_config(mode='dicts')['Build Dependencies']['blas']
        return 'mkl' in str(blas.get('name', '')).lower()
    except Exception:
        cfg = getattr(np, '__config__', None)
        return bool(cfg is not None and any('mkl' in k for k in dir(cfg)))


def _openmp_available():
    try:
        import threadpoolctl
        return any(p.get('user_api') == 'openmp' for p in threadpoolctl.threadpool_info())
    except Exception:
        return False


mkl = types.ModuleType('npnn.backends.mkl', 'MKL: available when NumPy\'s BLAS is Intel MKL.')
mkl.is_available = _mkl_available

openmp = types.ModuleType('npnn.backends.openmp', 'OpenMP: available when a native OpenMP runtime is loaded.')
openmp.is_available = _openmp_available


class _CudnnModule(types.ModuleType):
    """cuDNN is never used (CuPy 14 dropped it); its flags are accepted and kept but change nothing."""

    def __init__(self):
        super().__init__('npnn.backends.cudnn', self.__doc__)
        self.enabled = True
        self.benchmark = False
        self.deterministic = False
        self.allow_tf32 = True

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def version():
        return None

    def flags(self, enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
        import contextlib

        @contextlib.contextmanager
        def ctx():
            old = (self.enabled, self.benchmark, self.deterministic, self.allow_tf32)
            self.enabled, self.benchmark, self.deterministic, self.allow_tf32 = \
                enabled, benchmark, deterministic, allow_tf32
            try:
                yield
            finally:
                self.enabled, self.benchmark, self.deterministic, self.allow_tf32 = old
        return ctx()


cudnn = _CudnnModule()


class _Matmul:
    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


def _cuda_built():
    """True when CuPy is installed (the GPU path can run where a GPU is present)."""
    import importlib.util
    try:
        return importlib.util.find_spec('cupy') is not None
    except Exception:
        return False


cuda = types.ModuleType('npnn.backends.cuda', 'CUDA through CuPy.')
cuda.is_built = _cuda_built
cuda.matmul = _Matmul()

mps = types.ModuleType('npnn.backends.mps', 'Apple MPS: not supported.')
mps.is_available = lambda: False
mps.is_built = lambda: False


from . import mha  # noqa: E402  (a real submodule: its flag is module state)


def _register():
    """Make ``import npnn.backends.cudnn`` (and the others) work like the attribute access."""
    import sys
    for name in __all__:
        sys.modules.setdefault(f'{__name__}.{name}', globals()[name])


_register()
