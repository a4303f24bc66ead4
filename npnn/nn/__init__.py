"""``npnn.nn``: Module, layers, functional, init and utilities."""
from .parameter import *  # noqa: F401,F403
from .modules import *  # noqa: F401,F403
from .parallel import *  # noqa: F401,F403
from . import functional, init, utils, parallel  # noqa: F401
