"""Direct tests for gaps found by running PyTorch programs unchanged on npnn (second audit)."""
import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')


def _needs_flags(lib, args_fn):
    seen = {}

    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, scale, b, flag):
            seen['fwd'] = tuple(ctx.needs_input_grad)
            return a * scale + b

        @staticmethod
        def backward(ctx, g):
            seen['bwd'] = tuple(ctx.needs_input_grad)
            return g * 2, None, g if ctx.needs_input_grad[2] else None, None

    a, b = args_fn(lib)
    Fn.apply(a, 2.0, b, 'x').sum().backward()
    return seen, a.grad.tolist()


@pytest.mark.parametrize('b_grad', [True, False])
def test_needs_input_grad_has_one_flag_per_argument(b_grad):
    def args(lib):
        return (lib.ones(3, requires_grad=True), lib.zeros(3, requires_grad=b_grad))
    got, ga = _needs_flags(npnn, args)
    ref, gr = _needs_flags(torch, args)
    assert got == ref == {'fwd': (True, False, b_grad, False), 'bwd': (True, False, b_grad, False)}
    assert ga == gr == [2.0, 2.0, 2.0]
