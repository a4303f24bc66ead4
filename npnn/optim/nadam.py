"""NAdam: Adam with Nesterov momentum."""
import numpy as np

from .optimizer import (Optimizer, _use_grad, _to_scalar, _check_common, _check_nonnegative, _step_tensor,
                        _f32_scalar, _zeros_like)
from . import _functional as F

__all__ = ['NAdam']


class NAdam(Optimizer):
    """NAdam: ``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False)``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_common(lr, eps, betas, weight_decay)
        _check_nonnegative(momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state['step'] = _step_tensor()
        state['mu_product'] = _f32_scalar(1.0)
        state['exp_avg'] = _zeros_like(p)
        state['exp_avg_sq'] = _zeros_like(p)

    @_use_grad
    def step(self, closure=None):
        """One NAdam step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            beta1, beta2 = (float(b) for b in group['betas'])
            md = float(group['momentum_decay'])
            for p, state, step in self._steps(group, "NAdam does not support sparse gradients"):
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
                mp = state['mu_product']
                mp._data[...] = np.float32(float(mp._data)) * np.float32(mu)
                F.nadam(p._data, p._grad._data, state['exp_avg']._data, state['exp_avg_sq']._data, step=step,
                        mu_product=float(mp._data), mu=mu, mu_next=mu_next, lr=lr, beta1=beta1, beta2=beta2,
                        eps=float(group['eps']), weight_decay=float(group['weight_decay']),
                        maximize=group['maximize'], decoupled_weight_decay=group['decoupled_weight_decay'])
        return loss
