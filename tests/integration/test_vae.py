"""A VAE: reparameterisation with torch.randn_like and exp, an analytic KL term checked against
torch.distributions.kl_divergence, Normal.rsample/log_prob, binary cross-entropy reconstruction."""
import pytest

from .helpers import backends, cached


def run(torch):
    nn = torch.nn
    F = torch.nn.functional
    from_ = torch.distributions

    class VAE(nn.Module):
        def __init__(self, d_in=16, h=32, z=2):
            super().__init__()
            self.enc = nn.Linear(d_in, h)
            self.mu = nn.Linear(h, z)
            self.logvar = nn.Linear(h, z)
            self.dec = nn.Sequential(nn.Linear(z, h), nn.ReLU(), nn.Linear(h, d_in))

        def encode(self, x):
            h = F.relu(self.enc(x))
            return self.mu(h), self.logvar(h)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 16))
            z = self.reparameterize(mu, logvar)
            return torch.sigmoid(self.dec(z)), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        bce = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction='sum')
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return bce + kld, kld

    torch.manual_seed(0)
    # two prototypes of 16 binary pixels, with noise flips
    protos = (torch.rand(2, 16) > 0.5).float()
    which = torch.randint(0, 2, (128,))
    data = protos[which]
    flip = torch.rand(128, 16) < 0.05
    data = torch.where(flip, 1 - data, data)

    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for epoch in range(80):
        model.train()
        recon, mu, logvar = model(data)
        loss, kld = loss_function(recon, data, mu, logvar)
        opt.zero_grad()
        (loss / data.size(0)).backward()
        opt.step()
        losses.append(loss.item() / data.size(0))

    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(data)
        q = from_.Normal(mu, torch.exp(0.5 * logvar))
        p = from_.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        kl_lib = from_.kl_divergence(q, p).sum()
        kl_manual = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        z = q.rsample()
        lp = q.log_prob(z).sum(-1)
        samples = torch.sigmoid(model.dec(p.sample()))
    # rsample is differentiable
    mu_r = torch.zeros(3, requires_grad=True)
    s = from_.Normal(mu_r, 1.0).rsample()
    s.sum().backward()
    return dict(first=losses[0], last=losses[-1], kl_lib=kl_lib.item(), kl_manual=kl_manual.item(),
                lp_shape=tuple(lp.shape), samples_shape=tuple(samples.shape),
                rsample_grad=mu_r.grad.tolist(), kld_pos=kld.item() >= 0)


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_vae(lib):
    r = RESULT(lib)
    assert r['last'] < 0.6 * r['first']
    assert r['kl_lib'] == pytest.approx(r['kl_manual'], rel=1e-4, abs=1e-3)
    assert r['lp_shape'] == (128,)
    assert r['samples_shape'] == (128, 2 * 8)
    assert r['rsample_grad'] == [1.0, 1.0, 1.0]
    assert r['kld_pos']
