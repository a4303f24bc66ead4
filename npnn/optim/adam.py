"""Adam (with AMSGrad and optional decoupled weight decay)."""
from .optimizer import Optimizer, _use_grad, _to_scalar, _zeros_like, _check_common, _fused_checks
from . import _functional as F
from ..tensor import Tensor

__all__ = ['Adam']


class Adam(Optimizer):
    """Adam: ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``."""
    _zero_state = ('exp_avg', 'exp_avg_sq')

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_common(lr, eps, betas, weight_decay)
        if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _fused_checks(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefault_groups(amsgrad=False, maximize=False, foreach=None, capturable=False, differentiable=False,
                                fused=None, decoupled_weight_decay=False)

    def _init_state(self, group, p, state):
        super()._init_state(group, p, state)
        if group['amsgrad']:
            state['max_exp_avg_sq'] = _zeros_like(p)

    @_use_grad
    def step(self, closure=None):
        """One Adam step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            beta1, beta2 = (float(_to_scalar(b)) for b in group['betas'])
            wd = float(_to_scalar(group['weight_decay']))
            amsgrad = group['amsgrad']
            for p, state, step in self._steps(
                    group, "Adam does not support sparse gradients, please consider SparseAdam instead"):
                F.adam(p._data, p._grad._data, state['exp_avg']._data, state['exp_avg_sq']._data,
                       state['max_exp_avg_sq']._data if amsgrad else None, step=step, lr=lr,
                       beta1=beta1, beta2=beta2, eps=float(group['eps']), weight_decay=wd, amsgrad=amsgrad,
                       maximize=group['maximize'],
                       decoupled_weight_decay=group.get('decoupled_weight_decay', False))
        return loss
