"""``npnn.multiprocessing``: Python's ``multiprocessing``, under the name PyTorch scripts import it by
(``import torch.multiprocessing as mp``). npnn tensors pickle by value, so no shared-memory reducers
are registered."""
from multiprocessing import *  # noqa: F401,F403
