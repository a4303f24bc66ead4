"""Two probabilistic models written with torch.distributions:
a mixture density network (MixtureSameFamily of Independent Normals, mixture weights from logits, NLL loss)
and a VAE step with Normal.rsample replaced by loc + scale * fixed eps (reparameterisation), an analytic
kl_divergence against a standard Normal, a Bernoulli(logits=...) likelihood summed with Independent, and
beta-annealed ELBO. Both train with Adam; losses per step, posterior statistics and final weights match
PyTorch."""
import numpy as np

from .helpers import get


def _data():
    rng = np.random.RandomState(11)
    x = rng.uniform(-1, 1, (48, 1)).astype(np.float32)
    y = np.concatenate([np.sin(3 * x) + 0.1 * rng.randn(48, 1), np.cos(2 * x) + 0.1 * rng.randn(48, 1)], 1)
    img = (rng.rand(16, 12) > 0.5).astype(np.float32)
    eps = rng.randn(6, 16, 3).astype(np.float32)
    return x, y.astype(np.float32), img, eps


def run(torch, state, data):
    nn = torch.nn
    D = torch.distributions
    x_np, y_np, img_np, eps_np = data

    class MDN(nn.Module):
        def __init__(self, k=3, d=2):
            super().__init__()
            self.k, self.d = k, d
            self.body = nn.Sequential(nn.Linear(1, 24), nn.Tanh())
            self.logits = nn.Linear(24, k)
            self.loc = nn.Linear(24, k * d)
            self.log_scale = nn.Linear(24, k * d)

        def forward(self, x):
            h = self.body(x)
            loc = self.loc(h).view(-1, self.k, self.d)
            scale = torch.nn.functional.softplus(self.log_scale(h)).view(-1, self.k, self.d) + 1e-3
            comp = D.Independent(D.Normal(loc, scale), 1)
            return D.MixtureSameFamily(D.Categorical(logits=self.logits(h)), comp)

    class VAE(nn.Module):
        def __init__(self, z=3):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 2 * z))
            self.dec = nn.Sequential(nn.Linear(z, 16), nn.ReLU(), nn.Linear(16, 12))

        def forward(self, x, eps):
            loc, log_var = self.enc(x).chunk(2, dim=-1)
            q = D.Normal(loc, torch.exp(0.5 * log_var))
            z = q.loc + q.scale * eps
            lik = D.Independent(D.Bernoulli(logits=self.dec(z)), 1)
            prior = D.Normal(torch.zeros_like(loc), torch.ones_like(loc))
            kl = D.kl_divergence(q, prior).sum(-1)
            return lik.log_prob(x), kl, q

    torch.manual_seed(0)
    mdn, vae = MDN(), VAE()
    if state is not None:
        mdn.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state['mdn'].items()})
        vae.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state['vae'].items()})
    init = {'mdn': {k: v.detach().numpy().copy() for k, v in mdn.state_dict().items()},
            'vae': {k: v.detach().numpy().copy() for k, v in vae.state_dict().items()}}
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    opt = torch.optim.Adam(mdn.parameters(), lr=5e-3)
    mdn_losses = []
    for step in range(15):
        dist = mdn(x)
        loss = -dist.log_prob(y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        mdn_losses.append(loss.item())
    with torch.no_grad():
        dist = mdn(x[:5])
        mdn_stats = (dist.mean.numpy().copy(), dist.variance.numpy().copy(), tuple(dist.batch_shape),
                     tuple(dist.event_shape), tuple(dist.sample((4,)).shape))

    img = torch.from_numpy(img_np)
    vopt = torch.optim.Adam(vae.parameters(), lr=1e-2)
    vae_losses = []
    for step in range(6):
        beta = min(1.0, (step + 1) / 4)
        rec, kl, q = vae(img, torch.from_numpy(eps_np[step]))
        loss = -(rec - beta * kl).mean()
        vopt.zero_grad()
        loss.backward()
        vopt.step()
        vae_losses.append((loss.item(), rec.mean().item(), kl.mean().item()))
    final = {'mdn': {k: v.detach().numpy().copy() for k, v in mdn.state_dict().items()},
             'vae': {k: v.detach().numpy().copy() for k, v in vae.state_dict().items()}}
    return dict(init=init, mdn_losses=mdn_losses, mdn_stats=mdn_stats, vae_losses=vae_losses,
                q_scale=q.scale.detach().numpy().copy(), final=final)


def test_mdn_and_vae_match_torch():
    import npnn
    data = _data()
    ref = run(get('torch'), None, data)
    got = run(npnn, ref['init'], data)
    np.testing.assert_allclose(got['mdn_losses'], ref['mdn_losses'], rtol=1e-4, atol=1e-5)
    assert ref['mdn_losses'][-1] < ref['mdn_losses'][0]
    for a, b in zip(got['mdn_stats'][:2], ref['mdn_stats'][:2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert got['mdn_stats'][2:] == ref['mdn_stats'][2:] == ((5,), (2,), (4, 5, 2))
    np.testing.assert_allclose(got['vae_losses'], ref['vae_losses'], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got['q_scale'], ref['q_scale'], rtol=1e-4, atol=1e-5)
    for part in ('mdn', 'vae'):
        for k in ref['final'][part]:
            np.testing.assert_allclose(got['final'][part][k], ref['final'][part][k], rtol=1e-3, atol=1e-5,
                                       err_msg=part + k)
