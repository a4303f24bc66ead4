"""Rprop: resilient backpropagation."""
from .optimizer import Optimizer, _use_grad, _to_scalar, _check_nonnegative, _zeros_like, _bump
from . import _functional as F
from ..backend.device import on_device

__all__ = ['Rprop']


class Rprop(Optimizer):
    """Rprop: ``Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
    foreach=None, maximize=False, differentiable=False)``."""
    _zero_state = ('prev',)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        _check_nonnegative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        super()._init_state(group, p, state)
        state['step_size'] = _zeros_like(p, float(_to_scalar(group['lr'])))

    @_use_grad
    def step(self, closure=None):
        """One Rprop step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group['etas']
            smin, smax = group['step_sizes']
            for p, state in self._grads_and_states(group, "Rprop does not support sparse gradients"):
                state['step']._data += 1
                with on_device(p._data):
                    F.rprop(p._data, p._grad._data, state['prev']._data, state['step_size']._data,
                            etaminus=float(etaminus), etaplus=float(etaplus), step_size_min=float(smin),
                            step_size_max=float(smax), maximize=group['maximize'])
                _bump(p)
        return loss
