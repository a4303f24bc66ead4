"""Run one PyTorch-style program with npnn as ``torch`` and, when it imports, with PyTorch itself.

Each program is a function taking the ``torch`` module, written the way a PyTorch user writes it.
"""
import importlib

import pytest

import npnn


def real_torch():
    try:
        return importlib.import_module('torch')
    except ImportError:
        return None


def backends():
    """pytest params: npnn always, PyTorch when it is installed (skipped otherwise)."""
    return [pytest.param('npnn', id='npnn'), pytest.param('torch', id='torch')]


def get(name):
    if name == 'npnn':
        return npnn
    mod = real_torch()
    if mod is None:
        pytest.skip('torch is not installed')
    # PyTorch's thread pool spins badly on a small shared machine; these programs are tiny
    mod.set_num_threads(1)
    return mod


def cached(program):
    """Run ``program(torch)`` once per library and keep the result for the comparison tests."""
    results = {}

    def result(name):
        if name not in results:
            results[name] = program(get(name))
        return results[name]
    return result
