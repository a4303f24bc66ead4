"""Soft actor-critic updates on a fixed replay batch: a tanh-squashed Gaussian policy written as
TransformedDistribution(Normal, TanhTransform(cache_size=1)) (the reparameterised draw uses fixed noise so the
libraries can be compared; one real rsample() is checked for range and finiteness, including saturated
actions), twin Q critics with min-target, a learned temperature log_alpha, three optimizers, and Polyak-averaged
target critics updated under torch.no_grad with mul_/add_(alpha=) and lerp_. Losses, alpha and final
weights match PyTorch."""
import copy

import numpy as np

from .helpers import get

S, A = 3, 2


def _batch():
    rng = np.random.RandomState(17)
    return dict(s=rng.randn(16, S).astype(np.float32), a=np.tanh(rng.randn(16, A)).astype(np.float32),
                r=rng.randn(16).astype(np.float32), s2=rng.randn(16, S).astype(np.float32),
                done=(rng.rand(16) < 0.1).astype(np.float32), eps=rng.randn(6, 2, 16, A).astype(np.float32))


def run(torch, state, b):
    nn = torch.nn
    F = torch.nn.functional
    D = torch.distributions

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(S, 32), nn.ReLU())
            self.mu = nn.Linear(32, A)
            self.log_std = nn.Linear(32, A)

        def forward(self, s, eps):
            h = self.net(s)
            mu, log_std = self.mu(h), self.log_std(h).clamp(-5, 2)
            tanh = D.TanhTransform(cache_size=1)
            dist = D.TransformedDistribution(D.Normal(mu, log_std.exp()), [tanh])
            a = tanh(mu + log_std.exp() * eps)
            return a, dist.log_prob(a).sum(-1), dist

    def critic():
        return nn.Sequential(nn.Linear(S + A, 32), nn.ReLU(), nn.Linear(32, 1))

    torch.manual_seed(0)
    actor, q1, q2 = Actor(), critic(), critic()
    log_alpha = torch.zeros(1, requires_grad=True)
    if state is not None:
        for m, k in ((actor, 'actor'), (q1, 'q1'), (q2, 'q2')):
            m.load_state_dict({n: torch.from_numpy(v.copy()) for n, v in state[k].items()})
    init = {k: {n: v.detach().numpy().copy() for n, v in m.state_dict().items()}
            for m, k in ((actor, 'actor'), (q1, 'q1'), (q2, 'q2'))}
    q1_t, q2_t = copy.deepcopy(q1), copy.deepcopy(q2)
    for p in list(q1_t.parameters()) + list(q2_t.parameters()):
        p.requires_grad = False
    pi_opt = torch.optim.Adam(actor.parameters(), lr=3e-3)
    q_opt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-3)
    a_opt = torch.optim.Adam([log_alpha], lr=3e-3)
    gamma, tau, target_entropy = 0.99, 0.05, -float(A)
    s, a, r, s2, done = (torch.from_numpy(b[k]) for k in ('s', 'a', 'r', 's2', 'done'))
    hist = []
    for step in range(6):
        eps_next, eps_pi = (torch.from_numpy(e) for e in b['eps'][step])
        alpha = log_alpha.exp().detach()
        with torch.no_grad():
            a2, logp2, _ = actor(s2, eps_next)
            sa2 = torch.cat([s2, a2], dim=-1)
            q_targ = torch.min(q1_t(sa2), q2_t(sa2)).squeeze(-1) - alpha * logp2
            backup = r + gamma * (1 - done) * q_targ
        sa = torch.cat([s, a], -1)
        q_loss = F.mse_loss(q1(sa).squeeze(-1), backup) + F.mse_loss(q2(sa).squeeze(-1), backup)
        q_opt.zero_grad()
        q_loss.backward()
        q_opt.step()

        for p in list(q1.parameters()) + list(q2.parameters()):
            p.requires_grad_(False)
        a_pi, logp, _ = actor(s, eps_pi)
        sa_pi = torch.cat([s, a_pi], -1)
        pi_loss = (alpha * logp - torch.min(q1(sa_pi), q2(sa_pi)).squeeze(-1)).mean()
        pi_opt.zero_grad()
        pi_loss.backward()
        pi_opt.step()
        for p in list(q1.parameters()) + list(q2.parameters()):
            p.requires_grad_(True)

        alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
        a_opt.zero_grad()
        alpha_loss.backward()
        a_opt.step()

        with torch.no_grad():
            for p, pt in zip(q1.parameters(), q1_t.parameters()):
                pt.mul_(1 - tau).add_(p, alpha=tau)
            for p, pt in zip(q2.parameters(), q2_t.parameters()):
                pt.lerp_(p, tau)
        hist.append((q_loss.item(), pi_loss.item(), alpha_loss.item(), log_alpha.item()))

    # a real draw: in range, and its log-prob is finite even where the mean is far into saturation
    with torch.no_grad():
        far = torch.full((4, S), 50.0)
        _, _, dist = actor(far, torch.zeros(4, A))
        draw = dist.rsample()
        lp = dist.log_prob(draw)
    draw_ok = (bool(((draw >= -1) & (draw <= 1)).all()) and bool(torch.isfinite(lp).all())
               and bool((draw.abs() == 1).any()))  # some actions are saturated to exactly +-1
    final = {k: {n: v.detach().numpy().copy() for n, v in m.state_dict().items()}
             for m, k in ((actor, 'actor'), (q1, 'q1'), (q2_t, 'q2_t'))}
    return dict(init=init, hist=np.array(hist), final=final, draw_ok=draw_ok)


def test_sac_matches_torch():
    import npnn
    b = _batch()
    ref = run(get('torch'), None, b)
    got = run(npnn, ref['init'], b)
    np.testing.assert_allclose(got['hist'], ref['hist'], rtol=1e-4, atol=1e-5)
    assert got['draw_ok'] and ref['draw_ok']
    for part in ref['final']:
        for k in ref['final'][part]:
            np.testing.assert_allclose(got['final'][part][k], ref['final'][part][k], rtol=1e-3, atol=1e-5,
                                       err_msg=part + '.' + k)
