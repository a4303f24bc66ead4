"""Random number generators, one per device, seeded like PyTorch's (``manual_seed``)."""
import pickle

import numpy as np

from .device import CPU, cupy_module, device, to_device

_DEFAULT_SEED = 67280421310721


class Generator:
    """A random number generator for one device: ``Generator(device='cpu')``.

    CPU generators wrap NumPy's PCG64; CUDA generators wrap CuPy's ``RandomState`` on that GPU.
    """

    def __init__(self, device='cpu'):
        self.device = to_device(device) if device != 'cpu' else CPU
        self._seed = _DEFAULT_SEED
        self._make(self._seed)

    def _make(self, seed):
        seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        if self.device.type == 'cpu':
            self._rng = np.random.Generator(np.random.PCG64(seed))
        else:
            cp = cupy_module()
            with cp.cuda.Device(self.device.index):
                self._rng = cp.random.RandomState(seed)

    @property
    def xp_rng(self):
        """The backend generator object (numpy ``Generator`` or cupy ``RandomState``)."""
        return self._rng

    def manual_seed(self, seed):
        """Seed the generator; returns it."""
        seed = int(seed)
        if seed < -0x8000000000000000 or seed > 0xFFFFFFFFFFFFFFFF:
            raise RuntimeError(f"Overflow when unpacking long: seed {seed} is out of range")
        self._seed = seed & 0xFFFFFFFFFFFFFFFF
        self._make(self._seed)
        return self

    def seed(self):
        """Seed from a non-deterministic source; returns the seed."""
        s = int(np.random.SeedSequence().entropy) & 0x7FFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor (restorable with ``set_state``)."""
        from ..tensor import Tensor
        if self.device.type == 'cpu':
            st = self._rng.bit_generator.state
        else:
            st = ('cupy', self._seed, self._rng._generator_state()) if hasattr(self._rng, '_generator_state') \
                else ('cupy-seed', self._seed)
        return Tensor._make(np.frombuffer(pickle.dumps((self._seed, st)), dtype=np.uint8).copy())

    def set_state(self, new_state):
        arr = new_state.numpy() if hasattr(new_state, 'numpy') else np.asarray(new_state)
        if arr.dtype != np.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {arr.dtype}")
        try:
            seed, st = pickle.loads(arr.tobytes())
        except Exception as e:
            raise RuntimeError("Invalid generator state") from e
        self._seed = seed
        if self.device.type == 'cpu':
            self._rng.bit_generator.state = st
        else:
            self._make(seed)
        return self

    def __repr__(self):
        return f'<npnn.Generator object on {self.device}>'


_default_generators = {}


def default_generator(dev=CPU):
    """The default generator of a device."""
    d = dev if type(dev) is device else to_device(dev)
    g = _default_generators.get(d)
    if g is None:
        g = _default_generators[d] = Generator(d)
        if d.type != 'cpu':  # a GPU generator made after manual_seed() starts from that seed
            g.manual_seed(_seeded[0])
    return g


def generator_for(generator, dev):
    """The generator to draw from for a device: the given one (checked) or the device's default."""
    if generator is None:
        return default_generator(dev)
    if generator.device != dev:
        raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found '{generator.device.type}'")
    return generator


def manual_seed(seed):
    """Seed the default generators of every device (CPU and all known GPUs); returns the CPU generator."""
    g = default_generator(CPU)
    g.manual_seed(seed)
    for d, other in _default_generators.items():
        if d.type != 'cpu':
            other.manual_seed(seed)
    _seeded[0] = int(seed)
    return g


_seeded = [_DEFAULT_SEED]


def initial_seed():
    return default_generator(CPU).initial_seed()


def seed():
    s = default_generator(CPU).seed()
    for d, other in _default_generators.items():
        if d.type != 'cpu':
            other.manual_seed(s)
    return s


def get_rng_state():
    return default_generator(CPU).get_state()


def set_rng_state(state):
    default_generator(CPU).set_state(state)
