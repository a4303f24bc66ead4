"""ASGD: averaged stochastic gradient descent."""
from .optimizer import (Optimizer, _use_grad, _to_scalar, _check_nonnegative, _step_tensor, _f32_scalar,
                        _zeros_like)
from . import _functional as F

__all__ = ['ASGD']


class ASGD(Optimizer):
    """ASGD: ``ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
    maximize=False, differentiable=False, capturable=False)``; ``state['ax']`` holds the average."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_nonnegative(lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state['step'] = _step_tensor()
        state['eta'] = _f32_scalar(float(_to_scalar(group['lr'])))
        state['mu'] = _f32_scalar(1.0)
        state['ax'] = _zeros_like(p)

    @_use_grad
    def step(self, closure=None):
        """One ASGD step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            lambd, alpha, t0 = float(group['lambd']), float(group['alpha']), float(group['t0'])
            for p, state, step in self._steps(group, "ASGD does not support sparse gradients"):
                F.asgd(p._data, p._grad._data, state['ax']._data, eta=float(state['eta']._data),
                       mu=float(state['mu']._data), lambd=lambd, weight_decay=float(group['weight_decay']),
                       maximize=group['maximize'])
                state['eta']._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
                state['mu']._data[...] = 1 / max(1, step - t0)
        return loss
