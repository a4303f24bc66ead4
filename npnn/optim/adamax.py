"""Adamax (Adam with the infinity norm)."""
from .optimizer import Optimizer, _use_grad, _to_scalar, _check_common
from . import _functional as F

__all__ = ['Adamax']


class Adamax(Optimizer):
    """Adamax: ``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
    maximize=False, differentiable=False, capturable=False)``."""
    _zero_state = ('exp_avg', 'exp_inf')

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_common(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One Adamax step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            beta1, beta2 = (float(b) for b in group['betas'])
            for p, state, step in self._steps(group, "Adamax does not support sparse gradients"):
                F.adamax(p._data, p._grad._data, state['exp_avg']._data, state['exp_inf']._data,
                         step=step, lr=lr, beta1=beta1, beta2=beta2, eps=float(group['eps']),
                         weight_decay=float(group['weight_decay']), maximize=group['maximize'])
        return loss
