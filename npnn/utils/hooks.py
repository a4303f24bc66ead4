"""Removable hook handles, shared by modules and optimizers (``torch.utils.hooks``'s place)."""
import itertools
import weakref

__all__ = ['RemovableHandle']


class RemovableHandle:
    """A handle that removes a hook from the dict(s) it was registered in: ``handle.remove()`` or ``with``."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._ids)
        if extra_dict is None:
            extra = ()
        elif isinstance(extra_dict, (list, tuple)):
            extra = extra_dict
        else:
            extra = (extra_dict,)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def remove(self):
        """Unregister the hook (a no-op when already removed)."""
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks_dict, hook, *, prepend=False, extra_dict=None):
    """Store ``hook`` in the ordered ``hooks_dict`` under a new handle's id (first with ``prepend``)."""
    h = RemovableHandle(hooks_dict, extra_dict=extra_dict)
    hooks_dict[h.id] = hook
    if prepend:
        hooks_dict.move_to_end(h.id, last=False)
    return h
