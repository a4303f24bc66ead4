"""RAdam: rectified Adam."""
from .optimizer import Optimizer, _use_grad, _to_scalar, _check_common
from . import _functional as F

__all__ = ['RAdam']


class RAdam(Optimizer):
    """RAdam: ``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False)``."""
    _zero_state = ('exp_avg', 'exp_avg_sq')

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_common(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One RAdam step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            beta1, beta2 = (float(b) for b in group['betas'])
            for p, state, step in self._steps(group, "RAdam does not support sparse gradients"):
                F.radam(p._data, p._grad._data, state['exp_avg']._data, state['exp_avg_sq']._data,
                        step=step, lr=lr, beta1=beta1, beta2=beta2, eps=float(group['eps']),
                        weight_decay=float(group['weight_decay']), maximize=group['maximize'],
                        decoupled_weight_decay=group['decoupled_weight_decay'])
        return loss
