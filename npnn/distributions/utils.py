"""Helpers shared by the distributions: broadcasting parameters, probs/logits conversion, lazy properties."""
from numbers import Number

import numpy as np

import npnn
from ..backend.device import array_module

euler_constant = 0.57721566490153286060


def _finfo(t):
    return np.finfo(np.dtype(t._data.dtype))


def broadcast_all(*values):
    """Broadcast numbers and tensors to one shape; numbers become tensors of the tensors' dtype/device."""
    if not all(isinstance(v, (npnn.Tensor, Number)) for v in values):
        raise ValueError('Input arguments must all be instances of numbers.Number, torch.Tensor or objects '
                         'implementing __torch_function__.')
    ref = next((v for v in values if isinstance(v, npnn.Tensor)), None)
    if ref is None:
        return tuple(npnn.tensor(float(v), dtype=npnn.get_default_dtype()) for v in values)
    dt = ref.dtype if ref.is_floating_point() else npnn.get_default_dtype()
    ts = [v if isinstance(v, npnn.Tensor) else npnn.tensor(v, dtype=dt, device=ref.device) for v in values]
    return tuple(npnn.broadcast_tensors(*ts))


def _standard_normal(shape, dtype, device):
    return npnn.randn(tuple(shape), dtype=dtype, device=device)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: sigmoid when ``is_binary``, else softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs):
    """Clamp probabilities into the open interval (eps, 1 - eps)."""
    eps = float(_finfo(probs).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities: log-odds when ``is_binary``, else log-probabilities."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


class lazy_property:
    """A property computed on first access and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with npnn.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped):
        property.__init__(self, wrapped)


class _BinaryProbsLogits:
    """Mixin for one binary event parameterised by ``probs`` or ``logits``: each is computed lazily from the other."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)


def _sum_rightmost(value, dim):
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def _surrogate(value, pairs):
    """``value`` (no grad) with gradient ``sum d_i * (x_i - x_i.detach())``: attaches known partial derivatives."""
    out = value
    for x, d in pairs:
        if isinstance(x, npnn.Tensor) and x.requires_grad:
            out = out + (x - x.detach()) * d
    return out


def _special(xp):
    if xp is np:
        import scipy.special as sp
    else:
        import cupyx.scipy.special as sp
    return sp


def _gammainc_and_grads(a, x):
    """Arrays: P(a, x) (regularised lower incomplete gamma), dP/da (central difference), dP/dx (the density)."""
    xp = array_module(a)
    sp = _special(xp)
    a64, x64 = a.astype(np.float64), x.astype(np.float64)
    p = sp.gammainc(a64, x64)
    h = 1e-5 * xp.maximum(a64, 1.0)
    h = xp.minimum(h, 0.5 * a64)
    dpda = (sp.gammainc(a64 + h, x64) - sp.gammainc(a64 - h, x64)) / (2 * h)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        logpdf = (a64 - 1) * xp.log(x64) - x64 - sp.gammaln(a64)
        dpdx = xp.where(x64 > 0, xp.exp(logpdf), 0.0)
    return p, dpda, dpdx


def gammainc(a, x):
    """Differentiable regularised lower incomplete gamma P(a, x) for tensors (gradient in ``a`` numerical)."""
    a, x = npnn.broadcast_tensors(a, x)
    p, dpda, dpdx = _gammainc_and_grads(a.detach()._data, x.detach()._data)
    dt = a._data.dtype
    out = npnn.Tensor._make(p.astype(dt))
    return _surrogate(out, [(a, npnn.Tensor._make(dpda.astype(dt))), (x, npnn.Tensor._make(dpdx.astype(dt)))])


def standard_gamma(concentration, shape):
    """Reparameterised Gamma(concentration, 1) samples of ``shape`` (implicit gradient w.r.t. concentration).

    The sample x = F^-1(u; a) is drawn by the backend; its derivative dx/da = -(dF/da)/(dF/dx) comes from the
    implicit function theorem, with dF/da from a central difference of the regularised incomplete gamma.
    """
    from ..backend.random import generator_for
    a = concentration.detach().expand(shape)._data
    xp = array_module(a)
    rng = generator_for(None, concentration.device).xp_rng
    dt = a.dtype
    tiny = np.finfo(dt).tiny
    if xp is np:
        x = rng.standard_gamma(a.astype(np.float64))
    else:
        with xp.cuda.Device(concentration.device.index):
            x = rng.standard_gamma(a.astype(np.float64))
    x = xp.maximum(x, tiny)
    sample = npnn.Tensor._make(x.astype(dt))
    if not concentration.requires_grad:
        return sample
    _, dpda, dpdx = _gammainc_and_grads(a, x)
    with np.errstate(divide='ignore', invalid='ignore'):
        dxda = xp.where(dpdx > 0, -dpda / dpdx, 0.0)
    return _surrogate(sample, [(concentration.expand(shape), npnn.Tensor._make(dxda.astype(dt)))])


def lbeta(a, b):
    return a.lgamma() + b.lgamma() - (a + b).lgamma()


def _expand_params(self, cls, batch_shape, names, _instance=None, event_shape=None):
    """The common ``expand``: a new instance of ``cls`` with each named parameter expanded."""
    new = self._get_checked_instance(cls, _instance)
    batch_shape = npnn.Size(batch_shape)
    for name in names:
        if name in self.__dict__:
            v = self.__dict__[name]
            extra = tuple(v.shape[len(self.batch_shape):])  # the parameter's own event dims
            setattr(new, name, v.expand(tuple(batch_shape) + extra))
    from .distribution import Distribution
    Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new
