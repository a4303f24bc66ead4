"""Hand-written pieces of training code: an Optimizer subclass in PyTorch's own style (state per
parameter, zeros_like with memory_format, closure), an _LRScheduler subclass for warm-up, a WGAN-GP
gradient penalty through autograd.grad(create_graph=True), and a REINFORCE policy-gradient update with
distributions.Categorical."""
import pytest

from .helpers import backends, cached


def run(torch):
    nn = torch.nn
    F = torch.nn.functional

    class MomentumSGD(torch.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9, weight_decay=0.0):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
            super().__init__(params, defaults)

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is None:
                        continue
                    d_p = p.grad
                    if group['weight_decay'] != 0:
                        d_p = d_p.add(p, alpha=group['weight_decay'])
                    state = self.state[p]
                    if len(state) == 0:
                        state['momentum_buffer'] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    buf = state['momentum_buffer']
                    buf.mul_(group['momentum']).add_(d_p)
                    p.add_(buf, alpha=-group['lr'])
            return loss

    class Warmup(torch.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, warmup_steps, last_epoch=-1):
            self.warmup_steps = warmup_steps
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            scale = min(1.0, (self.last_epoch + 1) / self.warmup_steps)
            return [base_lr * scale for base_lr in self.base_lrs]

    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    model = nn.Linear(3, 1)
    opt = MomentumSGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    sched = Warmup(opt, warmup_steps=5)
    lrs = []
    for step in range(60):
        def closure():
            opt.zero_grad()
            loss = F.mse_loss(model(x).squeeze(-1), y)
            loss.backward()
            return loss
        loss = opt.step(closure)
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    reg_loss = loss.item()
    opt_state = opt.state_dict()

    # WGAN-GP gradient penalty
    D = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    alpha = torch.rand(8, 1)
    interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_out = D(interp)
    grads = torch.autograd.grad(outputs=d_out, inputs=interp, grad_outputs=torch.ones_like(d_out),
                                create_graph=True, retain_graph=True)[0]
    gp = ((grads.norm(2, dim=1) - 1) ** 2).mean()
    gp.backward()
    # the last bias does not move the input gradient, so it gets none
    gp_grad_ok = (all(torch.isfinite(D[i].weight.grad).all().item() for i in (0, 2))
                  and D[2].bias.grad is None)

    # REINFORCE on a two-armed bandit: arm 1 pays 1, arm 0 pays 0
    policy = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 2))
    popt = torch.optim.Adam(policy.parameters(), lr=0.05)
    state = torch.ones(16, 1)
    for episode in range(60):
        probs = F.softmax(policy(state), dim=-1)
        m = torch.distributions.Categorical(probs)
        action = m.sample()
        reward = action.float()
        advantage = reward - reward.mean()
        loss = -(m.log_prob(action) * advantage).mean() - 0.01 * m.entropy().mean()
        popt.zero_grad()
        loss.backward()
        popt.step()
    p_good = F.softmax(policy(state), dim=-1)[0, 1].item()
    return dict(reg_loss=reg_loss, lrs=lrs[:6], state_keys=sorted(opt_state['state'][0].keys()),
                groups=opt_state['param_groups'][0]['lr'], gp=gp.item(), gp_grad_ok=gp_grad_ok,
                grads_shape=tuple(grads.shape), action_dtype=str(action.dtype).split('.')[-1], p_good=p_good)


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_custom_optimizer_scheduler_gp_reinforce(lib):
    r = RESULT(lib)
    assert r['reg_loss'] < 0.02
    assert r['lrs'] == pytest.approx([0.02, 0.03, 0.04, 0.05, 0.05, 0.05])
    assert r['state_keys'] == ['momentum_buffer']
    assert r['gp_grad_ok'] and r['gp'] >= 0 and r['grads_shape'] == (8, 2)
    assert r['action_dtype'] == 'int64'
    assert r['p_good'] > 0.9
