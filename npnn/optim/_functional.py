"""The optimizers' update rules on arrays, one function each, for NumPy and CuPy alike.

Every function updates ``param`` and its state arrays in place (ufuncs with ``out=`` or augmented
assignment), reads hyper-parameters as Python floats (weak scalars: float32 arrays stay float32) and never
loops over elements. Adam/AdamW on CuPy arrays run as one fused elementwise kernel.
"""
import math

import numpy as np

from ..backend.device import array_module

__all__ = ['sgd', 'adam', 'adagrad', 'adadelta', 'adamax', 'asgd', 'nadam', 'radam', 'rmsprop', 'rprop',
           'sparse_adam']


def _direction(grad, param, weight_decay, maximize):
    """``(-grad if maximize else grad) + weight_decay * param``; never writes into ``grad``."""
    xp = array_module(grad)
    # asarray: NumPy ufuncs on 0-d arrays return scalars, which cannot be ``out=`` targets
    d = xp.asarray(xp.negative(grad)) if maximize else grad
    if weight_decay != 0:
        t = xp.asarray(param * weight_decay)
        if maximize:
            d += t
        else:
            d = xp.add(d, t, out=t)
    return d


def _f32(x):
    return float(np.float32(x))


def _lerp_(a, b, weight):
    """``a.lerp_(b, weight)`` in place, with PyTorch's two-sided formula."""
    xp = array_module(a)
    w = _f32(weight)
    t = xp.subtract(b, a)
    if w < 0.5:
        t *= w
        a += t
    else:
        t *= _f32(np.float32(1.0) - np.float32(w))
        xp.subtract(b, t, out=a)


def _addcmul_sq_(acc, d, value):
    """``acc += value * d * d`` (``addcmul_(d, d, value=value)``)."""
    t = d * value
    t *= d
    acc += t


def _adam_moments_(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, weight_decay, maximize,
                   decoupled_weight_decay):
    """The Adam family's weight decay (L2 or decoupled) and moment updates; returns the direction used."""
    if weight_decay != 0 and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
    d = _direction(grad, param, 0 if decoupled_weight_decay else weight_decay, maximize)
    _lerp_(exp_avg, d, 1 - beta1)
    exp_avg_sq *= beta2
    _addcmul_sq_(exp_avg_sq, d, 1 - beta2)
    return d


def sgd(param, grad, momentum_buffer, *, lr, weight_decay, momentum, dampening, nesterov, maximize):
    """SGD; returns the (possibly new) momentum buffer."""
    xp = array_module(param)
    d = _direction(grad, param, weight_decay, maximize)
    if momentum != 0:
        buf = momentum_buffer
        if buf is None:
            buf = d.copy()
        else:
            buf *= momentum
            if dampening != 0:
                buf += d * (1.0 - dampening)
            else:
                buf += d
        if nesterov:
            d = xp.add(d, buf * momentum)
        else:
            d = buf
        momentum_buffer = buf
    param += d * (-lr)
    return momentum_buffer


_cupy_kernels = {}


def _cupy_adam_kernel(amsgrad):
    import cupy
    k = _cupy_kernels.get(('adam', amsgrad))
    if k is None:
        src = '''
        T d = maximize ? -g : g;
        if (decay != (T)1) p = p * decay;
        if (wd != (T)0) d = d + wd * p;
        if (w1 < (T)0.5) m = m + w1 * (d - m); else m = d - (d - m) * ((T)1 - w1);
        v = v * b2 + w2 * d * d;
        T s = v;
        ''' + ('vmax = max(vmax, v); s = vmax;' if amsgrad else '') + '''
        p = p + neg_step * m / (sqrt(s) / bc2s + eps);
        '''
        outs = 'T p, T m, T v' + (', T vmax' if amsgrad else '')
        k = cupy.ElementwiseKernel(
            'T g, T decay, T wd, T w1, T b2, T w2, T neg_step, T bc2s, T eps, bool maximize', outs, src,
            'npnn_adam_ams' if amsgrad else 'npnn_adam')
        _cupy_kernels[('adam', amsgrad)] = k
    return k


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
         amsgrad, maximize, decoupled_weight_decay):
    """Adam (AdamW with ``decoupled_weight_decay``); ``step`` is the already-incremented count."""
    xp = array_module(param)
    bc1 = 1 - beta1 ** step
    bc2 = 1 - beta2 ** step
    step_size = lr / bc1
    bc2s = bc2 ** 0.5
    decoupled = weight_decay != 0 and decoupled_weight_decay
    if xp is not np and param.dtype == np.float32 and param.flags.c_contiguous:
        k = _cupy_adam_kernel(amsgrad)
        f = np.float32
        args = (grad, f(1 - lr * weight_decay if decoupled else 1.0), f(0.0 if decoupled else weight_decay),
                f(1 - beta1), f(beta2), f(1 - beta2), f(-step_size), f(bc2s), f(eps), bool(maximize),
                param, exp_avg, exp_avg_sq)
        if amsgrad:
            args = args + (max_exp_avg_sq,)
        k(*args)
        return
    _adam_moments_(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, weight_decay, maximize, decoupled_weight_decay)
    src = exp_avg_sq
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        src = max_exp_avg_sq
    denom = xp.sqrt(src)
    denom /= bc2s
    denom += eps
    t = exp_avg * (-step_size)
    t /= denom
    param += t


def adagrad(param, grad, state_sum, *, step, lr, weight_decay, lr_decay, eps, maximize):
    """Adagrad."""
    xp = array_module(param)
    d = _direction(grad, param, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += d * d
    std = xp.sqrt(state_sum)
    std += eps
    t = d * (-clr)
    t /= std
    param += t


def adadelta(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """Adadelta."""
    xp = array_module(param)
    d = _direction(grad, param, weight_decay, maximize)
    square_avg *= rho
    _addcmul_sq_(square_avg, d, 1 - rho)
    std = xp.asarray(square_avg + eps)
    xp.sqrt(std, out=std)
    delta = xp.asarray(acc_delta + eps)
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= d
    acc_delta *= rho
    _addcmul_sq_(acc_delta, delta, 1 - rho)
    delta *= -lr
    param += delta


def adamax(param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps, weight_decay, maximize):
    """Adamax."""
    xp = array_module(param)
    d = _direction(grad, param, weight_decay, maximize)
    _lerp_(exp_avg, d, 1 - beta1)
    exp_inf *= beta2
    t = xp.abs(d)
    t += eps
    xp.maximum(exp_inf, t, out=exp_inf)
    clr = lr / (1 - beta1 ** step)
    t = exp_avg * (-clr)
    t /= exp_inf
    param += t


def asgd(param, grad, ax, *, eta, mu, lambd, weight_decay, maximize):
    """ASGD's parameter and average update (``eta``/``mu`` are the current float values)."""
    d = _direction(grad, param, weight_decay, maximize)
    param *= 1 - lambd * eta
    param += d * (-eta)
    if mu != 1:
        t = param - ax
        t *= mu
        ax += t
    else:
        ax[...] = param


def nadam(param, grad, exp_avg, exp_avg_sq, *, step, mu_product, mu, mu_next, lr, beta1, beta2, eps,
          weight_decay, maximize, decoupled_weight_decay):
    """NAdam; ``mu_product`` is the float32 product including this step's ``mu``."""
    xp = array_module(param)
    bc2 = 1 - beta2 ** step
    d = _adam_moments_(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, weight_decay, maximize,
                       decoupled_weight_decay)
    denom = xp.asarray(exp_avg_sq / bc2)
    xp.sqrt(denom, out=denom)
    denom += eps
    mu_product_next = mu_product * mu_next
    t = d * (-lr * (1.0 - mu) / (1.0 - mu_product))
    t /= denom
    param += t
    t = exp_avg * ((-lr * mu_next) / (1.0 - mu_product_next))
    t /= denom
    param += t


def radam(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay, maximize,
          decoupled_weight_decay):
    """RAdam (rectified Adam; plain momentum SGD while the variance is intractable)."""
    xp = array_module(param)
    _adam_moments_(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, weight_decay, maximize, decoupled_weight_decay)
    bc1 = 1 - beta1 ** step
    bc2 = 1 - beta2 ** step
    upd = exp_avg / bc1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
    upd *= lr
    if rho_t > 5.0:
        s = xp.asarray(xp.sqrt(exp_avg_sq))
        s += eps
        xp.divide(bc2 ** 0.5, s, out=s)
        upd *= s
        upd *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    param -= upd


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
            centered, maximize):
    """RMSprop (``grad_avg`` when centered, ``momentum_buffer`` when momentum > 0, else None)."""
    xp = array_module(param)
    d = _direction(grad, param, weight_decay, maximize)
    square_avg *= alpha
    _addcmul_sq_(square_avg, d, 1 - alpha)
    if centered:
        _lerp_(grad_avg, d, 1 - alpha)
        avg = xp.asarray(grad_avg * -1.0)
        avg *= grad_avg
        avg += square_avg
        xp.sqrt(avg, out=avg)
    else:
        avg = xp.sqrt(square_avg)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += d / avg
        param += momentum_buffer * (-lr)
    else:
        t = d * (-lr)
        t /= avg
        param += t


def rprop(param, grad, prev, step_size, *, etaminus, etaplus, step_size_min, step_size_max, maximize):
    """Rprop: per-element step sizes grown/shrunk by the sign agreement of successive gradients."""
    xp = array_module(param)
    d = xp.negative(grad) if maximize else grad
    T = step_size.dtype.type
    s = xp.sign(d * prev)
    factor = xp.where(s > 0, T(etaplus), xp.where(s < 0, T(etaminus), T(1)))
    step_size *= factor
    xp.clip(step_size, T(step_size_min), T(step_size_max), out=step_size)
    d = xp.where(s < 0, param.dtype.type(0), d)
    t = xp.sign(d)
    t *= -1.0
    t *= step_size
    param += t
    prev[...] = d


def sparse_adam(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, maximize):
    """SparseAdam on a dense gradient: moments and parameter change only where the gradient is non-zero."""
    xp = array_module(param)
    d = xp.negative(grad) if maximize else grad
    mask = d != 0
    zero = param.dtype.type(0)
    u = d - exp_avg
    u *= 1 - beta1
    exp_avg += xp.where(mask, u, zero)
    u = d * d
    u -= exp_avg_sq
    u *= 1 - beta2
    exp_avg_sq += xp.where(mask, u, zero)
    denom = xp.sqrt(exp_avg_sq)
    denom += eps
    bc1 = 1 - beta1 ** step
    bc2 = 1 - beta2 ** step
    step_size = lr * math.sqrt(bc2) / bc1
    u = exp_avg / denom
    u *= -step_size
    param += xp.where(mask, u, zero)
