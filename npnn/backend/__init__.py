"""The array layer: devices, array modules, dtypes, random generators and per-backend kernels."""
from .device import (device, CPU, array_module, device_of, array_to, on_device, xp_for, to_device,
                     cupy_module, cupy_if_loaded, get_default_device, set_default_device)
from . import dtypes
from .random import Generator, default_generator, generator_for, manual_seed, initial_seed, seed, \
    get_rng_state, set_rng_state
