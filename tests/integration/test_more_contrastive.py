"""CLIP/SimCLR-style contrastive training: two noisy views through a shared encoder, F.normalize,
a cosine-similarity matrix scaled by a learnable temperature (an nn.Parameter holding log 1/T, clamped
and exponentiated), symmetric cross-entropy against torch.arange labels, plus F.cosine_similarity and
top-1 retrieval accuracy. Same weights and data on npnn and PyTorch give the same run."""
import math

import numpy as np
import pytest

from .helpers import get


def _data():
    rng = np.random.RandomState(0)
    base = rng.randn(10, 16, 12).astype(np.float32)
    noise = 0.3 * rng.randn(10, 2, 16, 12).astype(np.float32)
    return [(b + n[0], b + n[1]) for b, n in zip(base, noise)]


def run(torch, state, batches):
    nn = torch.nn
    F = torch.nn.functional

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(12, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 8))
            self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))

        def forward(self, x):
            return F.normalize(self.net(x), p=2, dim=-1)

    torch.manual_seed(0)
    model = Encoder()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    losses, accs, scales = [], [], []
    for v1, v2 in batches:
        z1, z2 = model(torch.from_numpy(v1)), model(torch.from_numpy(v2))
        scale = model.logit_scale.clamp(max=math.log(100)).exp()
        logits = scale * z1 @ z2.t()
        labels = torch.arange(logits.size(0), device=logits.device)
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        # an alignment term written with cosine_similarity on the unnormalised projections
        align = (1 - F.cosine_similarity(model.net(torch.from_numpy(v1)), z2, dim=1)).mean()
        total = loss + 0.1 * align
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(total.item())
        accs.append((logits.argmax(dim=1) == labels).float().mean().item())
        scales.append(scale.item())
    model.eval()
    with torch.no_grad():
        z1, z2 = model(torch.from_numpy(batches[0][0])), model(torch.from_numpy(batches[0][1]))
        sim = torch.mm(z1, z2.transpose(0, 1))
        diag = torch.diagonal(sim).numpy()
        norms = z1.norm(dim=1).numpy()
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return dict(init=init, losses=losses, accs=accs, scales=scales, diag=diag, norms=norms, final=final)


def test_contrastive_matches_torch():
    import npnn
    data = _data()
    ref = run(get('torch'), None, data)
    got = run(npnn, ref['init'], data)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(got['scales'], ref['scales'], rtol=1e-5)
    assert got['accs'] == ref['accs']
    np.testing.assert_allclose(got['diag'], ref['diag'], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(got['norms'], 1.0, rtol=1e-5)
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=2e-3, atol=2e-4, err_msg=k)
    # the temperature is learned: it moved away from its initial value
    assert got['final']['logit_scale'].shape == ()
    assert got['final']['logit_scale'] != pytest.approx(ref['init']['logit_scale'])
