"""A model built on custom autograd.Functions: a straight-through sign estimator and a clamped
exponential with save_for_backward, needs_input_grad and a non-tensor argument."""
import pytest

from .helpers import backends, cached


def run(torch):
    nn = torch.nn
    F = torch.nn.functional

    class STESign(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sign(x)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * (x.abs() <= 1).to(grad_output.dtype)

    class ScaledExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            y = torch.exp(x.clamp(max=10.0)) * scale
            ctx.save_for_backward(y)
            ctx.scale = scale
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            gx = grad * y if ctx.needs_input_grad[0] else None
            return gx, None

    class BinaryNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 32)
            self.fc2 = nn.Linear(32, 2)

        def forward(self, x):
            h = STESign.apply(self.fc1(x))
            return self.fc2(h)

    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    model = BinaryNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(150):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = (model(x).argmax(1) == y).float().mean().item()

    a = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
    out = ScaledExp.apply(a, 3.0)
    out.sum().backward()
    ok = torch.autograd.gradcheck(lambda t: ScaledExp.apply(t, 2.0), (a.detach().clone().requires_grad_(),))
    return dict(acc=acc, loss=loss.item(), grad=a.grad.tolist(), gradcheck=ok,
                grad_fn=type(out.grad_fn).__name__)


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_custom_function(lib):
    import math
    r = RESULT(lib)
    assert r['acc'] > 0.85
    assert r['grad'] == pytest.approx([3.0, 3 * math.e, 3 * math.e ** 2])
    assert r['gradcheck'] is True
    assert 'ScaledExp' in r['grad_fn']
