"""``npnn.jit``: TorchScript's entry points, accepted so that scripts using them run. npnn has no
compiler: ``script`` and ``trace`` return what they are given, which then runs eagerly."""
__all__ = ['script', 'trace', 'ignore', 'unused', 'export', 'is_scripting', 'is_tracing']


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


def _passthrough_decorator(fn=None, **kwargs):
    if fn is None or not callable(fn):
        return lambda f: f
    return fn


ignore = _passthrough_decorator
unused = _passthrough_decorator


def export(fn):
    return fn


def is_scripting():
    return False


def is_tracing():
    return False
