"""Adadelta."""
from .optimizer import Optimizer, _use_grad, _to_scalar, _check_nonnegative, _bump
from . import _functional as F
from ..backend.device import on_device

__all__ = ['Adadelta']


class Adadelta(Optimizer):
    """Adadelta: ``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``."""
    _zero_state = ('square_avg', 'acc_delta')

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One Adadelta step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            for p, state in self._grads_and_states(group, "Adadelta does not support sparse gradients"):
                state['step']._data += 1
                with on_device(p._data):
                    F.adadelta(p._data, p._grad._data, state['square_avg']._data, state['acc_delta']._data, lr=lr,
                               rho=float(group['rho']), eps=float(group['eps']),
                               weight_decay=float(group['weight_decay']), maximize=group['maximize'])
                _bump(p)
        return loss
