"""Adagrad."""
from .optimizer import (Optimizer, _use_grad, _to_scalar, _check_nonnegative, _fused_checks, _step_tensor,
                        _zeros_like)
from . import _functional as F

__all__ = ['Adagrad']


class Adagrad(Optimizer):
    """Adagrad: ``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _fused_checks(fused, foreach, differentiable)
        # state is created eagerly, as PyTorch does
        for group in self.param_groups:
            for p in group['params']:
                st = self.state[p]
                st['step'] = _step_tensor()
                st['sum'] = _zeros_like(p, initial_accumulator_value)

    def share_memory(self):
        """No-op kept for API compatibility (state arrays are ordinary arrays)."""

    def _init_state(self, group, p, state):
        state['step'] = _step_tensor()
        state['sum'] = _zeros_like(p, self.defaults['initial_accumulator_value'])

    @_use_grad
    def step(self, closure=None):
        """One Adagrad step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            for p, state, step in self._steps(group):
                F.adagrad(p._data, p._grad._data, state['sum']._data, step=step, lr=lr,
                          weight_decay=float(group['weight_decay']), lr_decay=float(group['lr_decay']),
                          eps=float(group['eps']), maximize=group['maximize'])
        return loss
