"""A binarised network trained with a custom autograd.Function straight-through estimator
(ctx.save_for_backward, ctx.needs_input_grad, returning None for a non-tensor argument, clipping the
gradient outside [-1, 1]) and an exponential moving average of the weights kept by hand under
torch.no_grad with lerp_, mul_/add_(alpha=), copy_ for buffers, plus torch.optim.swa_utils.AveragedModel
with a custom avg_fn. Losses, gradients, EMA weights and averaged weights match PyTorch."""
import copy

import numpy as np

from .helpers import get


def run(torch, state, x_np, y_np):
    nn = torch.nn
    F = torch.nn.functional
    seen = {}

    class SignSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, clip):
            ctx.save_for_backward(x)
            ctx.clip = clip
            return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            seen['needs'] = tuple(ctx.needs_input_grad)
            grad = None
            if ctx.needs_input_grad[0]:
                grad = grad_out * (x.abs() <= ctx.clip).to(grad_out.dtype)
            return grad, None

    class BinLinear(nn.Linear):
        def forward(self, x):
            return F.linear(x, SignSTE.apply(self.weight, 1.0), self.bias)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = BinLinear(6, 16)
            self.bn = nn.BatchNorm1d(16)
            self.l2 = nn.Linear(16, 3)

        def forward(self, x):
            return self.l2(torch.tanh(self.bn(self.l1(x))))

    torch.manual_seed(0)
    model = Net()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    ema2 = copy.deepcopy(model).requires_grad_(False)
    swa = torch.optim.swa_utils.AveragedModel(model, avg_fn=lambda avg, new, n: 0.8 * avg + 0.2 * new)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    losses, decay = [], 0.9
    for step in range(12):
        xb, yb = x[step % 4 * 8:(step % 4 + 1) * 8], y[step % 4 * 8:(step % 4 + 1) * 8]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        if step == 0:
            g0 = model.l1.weight.grad.numpy().copy()
        opt.step()
        losses.append(loss.item())
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - decay)
            for pe, pm in zip(ema2.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
        swa.update_parameters(model)
    ema.eval()
    with torch.no_grad():
        ema_out = ema(x).numpy().copy()
    # direct check of the STE on a leaf with a second non-tensor argument
    w = torch.tensor([-2.0, -0.5, 0.0, 0.7, 1.5], requires_grad=True)
    SignSTE.apply(w, 1.0).mul(torch.arange(5.0)).sum().backward()
    return dict(init=init, losses=losses, g0=g0, needs=seen['needs'], ste_grad=w.grad.tolist(),
                ema={k: v.detach().numpy().copy() for k, v in ema.state_dict().items()},
                ema2={k: v.numpy().copy() for k, v in ema2.named_parameters()},
                swa={k: v.detach().numpy().copy() for k, v in swa.module.state_dict().items()},
                n_averaged=int(swa.n_averaged), ema_out=ema_out,
                final={k: v.detach().numpy().copy() for k, v in model.state_dict().items()})


def test_ste_ema_matches_torch():
    import npnn
    rng = np.random.RandomState(4)
    x = rng.randn(32, 6).astype(np.float32)
    y = rng.randint(0, 3, 32).astype(np.int64)
    ref = run(get('torch'), None, x, y)
    got = run(npnn, ref['init'], x, y)
    assert got['needs'] == ref['needs'] == (True, False)
    assert got['ste_grad'] == ref['ste_grad'] == [0.0, 1.0, 2.0, 3.0, 0.0]
    np.testing.assert_allclose(got['g0'], ref['g0'], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-4, atol=1e-5)
    assert got['n_averaged'] == ref['n_averaged'] == 12
    for key in ('final', 'ema', 'ema2', 'swa'):
        assert sorted(got[key]) == sorted(ref[key]), key
        for k in ref[key]:
            np.testing.assert_allclose(got[key][k], ref[key][k], rtol=1e-3, atol=1e-5, err_msg=key + ':' + k)
    for k in got['ema2']:
        np.testing.assert_allclose(got['ema2'][k], got['ema'][k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got['ema_out'], ref['ema_out'], rtol=1e-3, atol=1e-4)
