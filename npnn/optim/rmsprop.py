"""RMSprop (optionally centered, with momentum)."""
from .optimizer import Optimizer, _use_grad, _to_scalar, _check_nonnegative, _zeros_like, _bump
from . import _functional as F
from ..backend.device import on_device

__all__ = ['RMSprop']


class RMSprop(Optimizer):
    """RMSprop: ``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
    capturable=False, foreach=None, maximize=False, differentiable=False)``."""
    _zero_state = ('square_avg',)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        super()._init_state(group, p, state)
        if float(group['momentum']) > 0:
            state['momentum_buffer'] = _zeros_like(p)
        if group['centered']:
            state['grad_avg'] = _zeros_like(p)

    @_use_grad
    def step(self, closure=None):
        """One RMSprop step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            momentum, centered = float(group['momentum']), group['centered']
            for p, state in self._grads_and_states(group, "RMSprop does not support sparse gradients"):
                state['step']._data += 1
                with on_device(p._data):
                    F.rmsprop(p._data, p._grad._data, state['square_avg']._data,
                              state['grad_avg']._data if centered else None,
                              state['momentum_buffer']._data if momentum > 0 else None, lr=lr,
                              alpha=float(group['alpha']), eps=float(group['eps']),
                              weight_decay=float(group['weight_decay']), momentum=momentum, centered=centered,
                              maximize=group['maximize'])
                _bump(p)
        return loss
