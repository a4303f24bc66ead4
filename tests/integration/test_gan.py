"""One-dimensional GAN: generator and a spectrally normalised discriminator with their own optimizers,
fake.detach() for the discriminator step, BCEWithLogitsLoss with torch.ones_like / zeros_like targets."""
import pytest

from .helpers import backends, cached


def run(torch):
    nn = torch.nn
    torch.manual_seed(0)
    latent = 4
    G = nn.Sequential(nn.Linear(latent, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    sn = nn.utils.parametrizations.spectral_norm
    D = nn.Sequential(sn(nn.Linear(1, 32)), nn.LeakyReLU(0.2), sn(nn.Linear(32, 1)))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    criterion = nn.BCEWithLogitsLoss()
    batch = 64
    d_grads_untouched = True
    for step in range(300):
        real = torch.randn(batch, 1) * 0.5 + 3.0
        z = torch.randn(batch, latent)
        fake = G(z)

        opt_d.zero_grad()
        d_real = D(real)
        d_fake = D(fake.detach())
        loss_d = criterion(d_real, torch.ones_like(d_real)) + criterion(d_fake, torch.zeros_like(d_fake))
        loss_d.backward()
        if step == 0:
            d_grads_untouched = all(p.grad is None for p in G.parameters())
        opt_d.step()

        opt_g.zero_grad()
        out = D(fake)
        loss_g = criterion(out, torch.ones_like(out))
        loss_g.backward()
        opt_g.step()

    with torch.no_grad():
        samples = G(torch.randn(2000, latent))
    return dict(mean=samples.mean().item(), std=samples.std().item(), loss_d=loss_d.item(), d_keys=list(D.state_dict()),
                loss_g=loss_g.item(), detached=d_grads_untouched, shape=tuple(samples.shape))


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_gan(lib):
    r = RESULT(lib)
    assert r['detached']
    assert abs(r['mean'] - 3.0) < 0.6
    assert 0.05 < r['std'] < 1.5
    assert r['shape'] == (2000, 1)


def test_gan_discriminator_keys_match_torch():
    assert RESULT('npnn')['d_keys'] == RESULT('torch')['d_keys']
