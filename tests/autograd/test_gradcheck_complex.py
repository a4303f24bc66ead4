"""gradcheck / gradgradcheck on complex functions: a complex input is perturbed along both its real and its
imaginary part and a complex output is checked as its real and imaginary parts, so a wrong complex backward
(a missing conjugate, a dropped imaginary part) fails, as in PyTorch."""
import numpy as np
import pytest

import npnn
from npnn.autograd import Function, gradcheck, gradgradcheck
from npnn.autograd._gradcheck import GradcheckError

_rng = np.random.default_rng(3)
Z = _rng.standard_normal((2, 3)) + 1j * _rng.standard_normal((2, 3))
W = _rng.standard_normal((2, 3)) + 1j * _rng.standard_normal((2, 3))
R = _rng.standard_normal((2, 3))
C = 1.5 - 2.0j


def _t(a, device):
    return npnn.tensor(a, requires_grad=True, device=device)


class GoodMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b.conj(), g * a.conj()


class MulWithoutConj(Function):
    """The bug PyTorch's convention rules out: g * b instead of g * conj(b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


class MulWrongInside(Function):
    """Right first derivative, computed by a Function whose own backward lacks the conjugate."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return MulWithoutConj.apply(g, b.conj()), MulWithoutConj.apply(g, a.conj())


class IdentityDropsImag(Function):
    """Right for the real part of the output, wrong for its imaginary part."""

    @staticmethod
    def forward(ctx, z):
        return z * 1.0

    @staticmethod
    def backward(ctx, g):
        return npnn.complex(g.real, g.real * 0.0)


class Abs2RealOnly(Function):
    """|z|^2 (a real output) with a gradient missing its imaginary part."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z.real * z.real + z.imag * z.imag

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return npnn.complex(2.0 * g * z.real, g * 0.0)


class Abs2(Abs2RealOnly):
    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return 2.0 * g * z


class RealTimesConstWrong(Function):
    """A real input times a complex constant: the input's gradient must be Re(g * conj(C)), not Re(g * C)."""

    @staticmethod
    def forward(ctx, x):
        return x * C

    @staticmethod
    def backward(ctx, g):
        return (g * C).real


class SquareDetachedGrad(Function):
    """z**2 with a right first derivative that is not differentiable itself (its factor is detached)."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return g * (2.0 * z).conj().detach()


def test_right_complex_backward_passes(device):
    assert gradcheck(GoodMul.apply, (_t(Z, device), _t(W, device)))
    assert gradcheck(Abs2.apply, (_t(Z, device),))
    assert gradgradcheck(GoodMul.apply, (_t(Z, device), _t(W, device)))


def test_missing_conjugate_fails(device):
    with pytest.raises(GradcheckError, match='Jacobian mismatch for output 0 with respect to input 0'):
        gradcheck(MulWithoutConj.apply, (_t(Z, device), _t(W, device)))
    assert gradcheck(MulWithoutConj.apply, (_t(Z, device), _t(W, device)), raise_exception=False) is False


def test_wrong_imaginary_output_part_fails(device):
    with pytest.raises(GradcheckError, match='imaginary part of complex outputs'):
        gradcheck(IdentityDropsImag.apply, (_t(Z, device),))


def test_wrong_imaginary_input_part_fails(device):
    with pytest.raises(GradcheckError, match='imaginary part of complex inputs'):
        gradcheck(Abs2RealOnly.apply, (_t(Z, device),))


def test_real_input_complex_output_fails_without_conjugate(device):
    with pytest.raises(GradcheckError, match='real part of complex outputs|imaginary part of complex outputs'):
        gradcheck(RealTimesConstWrong.apply, (_t(R, device),))
    assert gradcheck(lambda x: x * C, (_t(R, device),))


def test_gradgradcheck_catches_wrong_complex_double_backward(device):
    assert gradcheck(SquareDetachedGrad.apply, (_t(Z, device),))
    with pytest.raises(GradcheckError):
        gradgradcheck(SquareDetachedGrad.apply, (_t(Z, device),))
    assert gradgradcheck(lambda z: z * z, (_t(Z, device),))


def test_gradgradcheck_complex_grad_outputs(device):
    """Given complex grad_outputs are perturbed along both parts too."""
    z = _t(Z, device)
    go = _t(W, device)
    assert gradgradcheck(lambda a: (a * a).exp(), (z,), (go,))
    a, b = _t(Z, device), _t(W, device)
    assert gradcheck(MulWrongInside.apply, (a, b))  # its first derivative is right...
    with pytest.raises(GradcheckError):  # ...but differentiating the backward (also in g) is not
        gradgradcheck(MulWrongInside.apply, (a, b), (_t(Z * 0.5, device),))


def test_non_contiguous_complex_input_is_perturbed(device):
    z = npnn.tensor(Z, device=device).mT.detach().requires_grad_()
    assert not z.is_contiguous()
    assert gradcheck(lambda a: a * C + a.exp(), (z,))
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: MulWithoutConj.apply(a, npnn.tensor(Z.T.copy() * 0.5 + 1j, device=device)), (z,))


def test_real_functions_still_checked(device):
    class WrongSin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.01

    x = _t(R, device)
    assert gradcheck(lambda a: a.sin() * a, (x,))
    assert gradgradcheck(lambda a: a.sin() * a, (x,))
    with pytest.raises(GradcheckError):
        gradcheck(WrongSin.apply, (x,))


def test_matches_torch_verdicts():
    """torch's gradcheck gives the same verdicts on the same (correct and broken) complex functions."""
    torch = pytest.importorskip('torch')

    class TorchMulWithoutConj(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a

    tz, tw = torch.tensor(Z, requires_grad=True), torch.tensor(W, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: a * b, (tz, tw))
    assert not torch.autograd.gradcheck(TorchMulWithoutConj.apply, (tz, tw), raise_exception=False)
    nz, nw = npnn.tensor(Z, requires_grad=True), npnn.tensor(W, requires_grad=True)
    assert gradcheck(lambda a, b: a * b, (nz, nw))
    assert not gradcheck(MulWithoutConj.apply, (nz, nw), raise_exception=False)
