"""A discrete-latent VAE with the Concrete relaxation, as in Gumbel-softmax VAE scripts: the model is
built inside ``with torch.device('cpu')``, the posterior is RelaxedOneHotCategorical(temperature, logits)
with an annealed temperature (its relaxed sample is drawn from fixed Gumbel noise so the libraries compare;
its log_prob and a real rsample() are also used), the KL to a uniform prior uses Categorical.kl_divergence,
a Bernoulli(logits=...) likelihood is summed per example, and samples are produced by a generator function
decorated with @torch.no_grad() that yields decoded images. A torch.func.jvp directional derivative of the
decoder checks sensitivity. Losses, log-probs and final weights match PyTorch."""
import numpy as np
import pytest

from .helpers import get

K, N_LAT, D = 4, 3, 10


def _data():
    rng = np.random.RandomState(31)
    x = (rng.rand(12, D) > 0.6).astype(np.float32)
    gumbel = -np.log(-np.log(rng.uniform(1e-6, 1 - 1e-6, (8, 12, N_LAT, K)))).astype(np.float32)
    codes = rng.randint(0, K, (3, N_LAT))
    return x, gumbel, codes


def run(torch, state, data):
    nn = torch.nn
    F = torch.nn.functional
    Dist = torch.distributions
    x_np, gumbel_np, codes = data

    with torch.device('cpu'):
        torch.manual_seed(0)
        enc = nn.Sequential(nn.Linear(D, 16), nn.ReLU(), nn.Linear(16, N_LAT * K))
        dec = nn.Sequential(nn.Linear(N_LAT * K, 16), nn.ReLU(), nn.Linear(16, D))
    if state is not None:
        enc.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state['enc'].items()})
        dec.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state['dec'].items()})
    init = {'enc': {k: v.detach().numpy().copy() for k, v in enc.state_dict().items()},
            'dec': {k: v.detach().numpy().copy() for k, v in dec.state_dict().items()}}
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=5e-3)
    x = torch.from_numpy(x_np)
    prior = Dist.Categorical(logits=torch.zeros(N_LAT, K))
    hist = []
    for step in range(8):
        temp = torch.tensor(max(0.5, 1.0 * np.exp(-0.1 * step)), dtype=torch.float32)
        logits = enc(x).view(-1, N_LAT, K)
        q = Dist.RelaxedOneHotCategorical(temp, logits=logits)
        z = torch.softmax((q.logits + torch.from_numpy(gumbel_np[step])) / temp, dim=-1)
        lp_z = q.log_prob(z.detach().clamp(1e-6, 1.0) / z.detach().clamp(1e-6, 1.0).sum(-1, keepdim=True))
        recon = Dist.Independent(Dist.Bernoulli(logits=dec(z.view(-1, N_LAT * K))), 1).log_prob(x)
        kl = Dist.kl_divergence(Dist.Categorical(logits=logits), prior).sum(-1)
        loss = (kl - recon).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append((loss.item(), recon.mean().item(), kl.mean().item(), lp_z.mean().item()))

    real = Dist.RelaxedOneHotCategorical(torch.tensor(0.5), logits=enc(x).view(-1, N_LAT, K)).rsample()
    real_ok = (tuple(real.shape) == (12, N_LAT, K) and bool(((real.sum(-1) - 1).abs() < 1e-5).all())
               and real.requires_grad)

    @torch.no_grad()
    def decode_codes(rows):
        for row in rows:
            z = F.one_hot(torch.as_tensor(row), K).float().view(1, -1)
            yield torch.sigmoid(dec(z)), torch.is_grad_enabled()
    samples = list(decode_codes(codes))
    imgs = np.concatenate([s.numpy() for s, _ in samples])
    grad_off = [flag for _, flag in samples]

    z0 = F.one_hot(torch.as_tensor(codes[0]), K).float().view(1, -1)
    direction = torch.ones_like(z0) / z0.numel()
    out, tangent = torch.func.jvp(lambda z: torch.sigmoid(dec(z)), (z0,), (direction,))
    final = {'enc': {k: v.detach().numpy().copy() for k, v in enc.state_dict().items()},
             'dec': {k: v.detach().numpy().copy() for k, v in dec.state_dict().items()}}
    return dict(init=init, hist=np.array(hist), real_ok=real_ok, imgs=imgs, grad_off=grad_off,
                jvp=(out.detach().numpy().copy(), tangent.detach().numpy().copy()), final=final,
                outside=torch.is_grad_enabled())


@pytest.mark.filterwarnings('ignore::DeprecationWarning')  # raised inside torch.func's own imports
def test_concrete_vae_matches_torch():
    import npnn
    data = _data()
    ref = run(get('torch'), None, data)
    got = run(npnn, ref['init'], data)
    np.testing.assert_allclose(got['hist'], ref['hist'], rtol=1e-4, atol=1e-5)
    assert got['real_ok'] and ref['real_ok']
    np.testing.assert_allclose(got['imgs'], ref['imgs'], rtol=1e-4, atol=1e-6)
    assert got['grad_off'] == ref['grad_off'] == [False, False, False]
    assert got['outside'] and ref['outside']
    for a, b in zip(got['jvp'], ref['jvp']):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    for part in ('enc', 'dec'):
        for k in ref['final'][part]:
            np.testing.assert_allclose(got['final'][part][k], ref['final'][part][k], rtol=1e-3, atol=1e-5,
                                       err_msg=part + k)
