"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
from .optimizer import Optimizer, required, _use_grad, _to_scalar, _check_lr, _fused_checks, _bump
from . import _functional as F
from ..tensor import Tensor
from ..backend.device import on_device

__all__ = ['SGD']


class SGD(Optimizer):
    """Stochastic gradient descent: ``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
    nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None)``."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _fused_checks(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefault_groups(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    @_use_grad
    def step(self, closure=None):
        """One SGD step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            wd = float(_to_scalar(group['weight_decay']))
            momentum = float(group['momentum'])
            for p in group['params']:
                if p._grad is None:
                    continue
                state = self.state[p] if momentum != 0 else None
                buf = state.get('momentum_buffer') if state is not None else None
                with on_device(p._data):
                    new = F.sgd(p._data, p._grad._data, None if buf is None else buf._data, lr=lr,
                                weight_decay=wd, momentum=momentum, dampening=float(group['dampening']),
                                nesterov=group['nesterov'], maximize=group['maximize'])
                _bump(p)
                if momentum != 0 and buf is None:
                    state['momentum_buffer'] = Tensor._make(new)
        return loss
