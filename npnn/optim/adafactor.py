"""Adafactor: Adam-like steps with a factored (row and column) second moment."""
import numpy as np

from .optimizer import Optimizer, _use_grad, _to_scalar, _check_lr, _step_tensor
from ._adafactor import adafactor as _adafactor
from ..tensor import Tensor
from ..backend.device import on_device, array_module

__all__ = ['Adafactor']


class Adafactor(Optimizer):
    """Adafactor: ``Adafactor(params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
    foreach=None, maximize=False)``.

    Parameters of 2 or more dims keep row and column means of the squared gradient over their last two dims
    ('row_var', 'col_var'); 0-d and 1-d ones keep the full 'variance'. ``lr`` caps the relative step size
    and scales the decoupled weight decay; ``eps[0]`` None means the parameter dtype's machine epsilon.
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefault_groups(foreach=None)
        for group in self.param_groups:
            for p in group['params']:
                st = self.state.get(p)
                if st and not isinstance(st.get('step'), Tensor):
                    st['step'] = _step_tensor(float(st['step']))

    def _init_state(self, group, p, state):
        state['step'] = _step_tensor()
        g = p._grad._data
        xp = array_module(g)
        with on_device(g):
            if g.ndim > 1:
                state['row_var'] = Tensor._make(xp.zeros(g.shape[:-1] + (1,), dtype=g.dtype))
                state['col_var'] = Tensor._make(xp.zeros(g.shape[:-2] + (1,) + g.shape[-1:], dtype=g.dtype))
            else:
                state['variance'] = Tensor._make(xp.zeros_like(g))

    @_use_grad
    def step(self, closure=None):
        """One Adafactor step over every parameter with a gradient."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(_to_scalar(group['lr']))
            eps1, eps2 = group['eps']
            for p in group['params']:
                if p._grad is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if p._grad.is_sparse:
                    raise RuntimeError("Adafactor does not support sparse gradients")
            for p, state, step in self._steps(group):
                if eps1 is None:
                    # PyTorch takes it from the first parameter's dtype and keeps it for the group's rest
                    eps1 = float(np.finfo(p._data.dtype).eps)
                _adafactor(p._data, p._grad._data, _arr(state.get('row_var')), _arr(state.get('col_var')),
                           _arr(state.get('variance')), step=step, lr=lr,
                           beta2_decay=float(group['beta2_decay']), eps1=float(eps1), eps2=float(eps2),
                           d=float(group['d']), weight_decay=float(group['weight_decay']),
                           maximize=group['maximize'])
        return loss


def _arr(t):
    return None if t is None else t._data
