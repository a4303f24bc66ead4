"""Utilities, laid out like ``torch.utils``."""
from . import data, checkpoint
