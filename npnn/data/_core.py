"""The few core names the data package needs, looked up lazily so that importing npnn.data never
imports the tensor layer in the middle of npnn's own import."""
import numpy as np

from ..backend.random import Generator, default_generator

_tensor_cls = None


def tensor_class():
    """The Tensor class (imported on first use)."""
    global _tensor_cls
    if _tensor_cls is None:
        from ..tensor import Tensor
        _tensor_cls = Tensor
    return _tensor_cls


def is_tensor(x):
    return isinstance(x, tensor_class())


def wrap(arr):
    """A Tensor sharing memory with a NumPy array."""
    import npnn
    return npnn.from_numpy(arr)


def array_of(t):
    """The array behind a Tensor (numpy on CPU, cupy on a GPU)."""
    return t._data


def to_numpy_1d(x, dtype=None):
    """A NumPy array from a Tensor, array or sequence (for weights, indices)."""
    if is_tensor(x):
        a = array_of(x)
        if not isinstance(a, np.ndarray):
            a = a.get()
    else:
        a = x
    return np.asarray(a, dtype=dtype)


def cpu_generator(generator=None):
    """The generator samplers draw from: the given one or npnn's default CPU generator."""
    if generator is None:
        return default_generator()
    return generator


def numpy_rng(generator):
    """The NumPy Generator behind an npnn CPU Generator."""
    rng = generator.xp_rng
    if not isinstance(rng, np.random.Generator):
        raise RuntimeError(f"Expected a 'cpu' device type for generator but found '{generator.device.type}'")
    return rng


def draw_seed(generator=None):
    """A random int64 seed in [0, 2**63) drawn from ``generator`` (or the default CPU generator)."""
    return int(numpy_rng(cpu_generator(generator)).integers(0, 2 ** 63, dtype=np.int64))


def fresh_generator(seed):
    g = Generator()
    g.manual_seed(seed)
    return g


def randperm(n, generator=None):
    """A random permutation of range(n) as a list of ints."""
    return numpy_rng(cpu_generator(generator)).permutation(n).tolist()
