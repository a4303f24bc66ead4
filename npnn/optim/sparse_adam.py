"""SparseAdam: Adam whose moments and parameters change only where the gradient is non-zero.

npnn has no sparse layout: the gradient is dense, and its non-zero entries play the part of the
sparse gradient's values (the masked semantics PyTorch documents for this optimizer).
"""
from .optimizer import Optimizer, _use_grad, _to_scalar, _check_lr, _check_betas, _zeros_like, _bump
from . import _functional as F
from ..backend.device import on_device

__all__ = ['SparseAdam']


class SparseAdam(Optimizer):
    """SparseAdam: ``SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check_lr(lr)
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, g in enumerate(self.param_groups) for j, p in enumerate(g['params'])
                          if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    def _init_state(self, group, p, state):
        state['step'] = 0
        state['exp_avg'] = _zeros_like(p)
        state['exp_avg_sq'] = _zeros_like(p)

    @_use_grad
    def step(self, closure=None):
        """One SparseAdam step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            beta1, beta2 = (float(b) for b in group['betas'])
            for p, state in self._grads_and_states(group):
                state['step'] += 1
                with on_device(p._data):
                    F.sparse_adam(p._data, p._grad._data, state['exp_avg']._data, state['exp_avg_sq']._data,
                                  step=state['step'], lr=lr, beta1=beta1, beta2=beta2, eps=float(group['eps']),
                                  maximize=group.get('maximize', False))
                _bump(p)
        return loss
