"""REINFORCE with torch.distributions.Categorical(logits=...) on fixed recorded episodes (sampling is
RNG-dependent, so actions come from NumPy): discounted returns built backwards, normalised with the
unbiased std, log_prob/entropy of the recorded actions, a value baseline with smooth_l1_loss, and
gradient accumulation over micro-batches (loss / k, optimizer.step every k steps, set_to_none zero_grad).
Losses per step, log-probs, entropies and final parameters match PyTorch."""
import numpy as np

from .helpers import get

GAMMA = 0.9


def _episodes():
    rng = np.random.RandomState(3)
    eps = []
    for _ in range(8):
        t = rng.randint(4, 8)
        obs = rng.randn(t, 5).astype(np.float32)
        acts = rng.randint(0, 3, t).astype(np.int64)
        rews = rng.randn(t).astype(np.float32)
        eps.append((obs, acts, rews))
    return eps


def run(torch, state, episodes, k=2):
    nn = torch.nn
    F = torch.nn.functional
    Categorical = torch.distributions.Categorical

    class ActorCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(5, 16), nn.Tanh())
            self.pi = nn.Linear(16, 3)
            self.v = nn.Linear(16, 1)

        def forward(self, x):
            h = self.body(x)
            return self.pi(h), self.v(h).squeeze(-1)

    torch.manual_seed(0)
    model = ActorCritic()
    if state is not None:
        model.load_state_dict({n: torch.tensor(v) for n, v in state.items()})
    init = {n: p.detach().clone().numpy() for n, p in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses, logps, ents, steps = [], [], [], 0
    opt.zero_grad(set_to_none=True)
    for i, (obs, acts, rews) in enumerate(episodes):
        returns, g = [], 0.0
        for r in reversed(rews.tolist()):
            g = r + GAMMA * g
            returns.insert(0, g)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
        logits, values = model(torch.from_numpy(obs))
        dist = Categorical(logits=logits)
        actions = torch.as_tensor(acts)
        logp = dist.log_prob(actions)
        adv = returns - values.detach()
        policy_loss = -(logp * adv).sum()
        value_loss = F.smooth_l1_loss(values, returns)
        loss = policy_loss + 0.5 * value_loss - 0.01 * dist.entropy().mean()
        (loss / k).backward()
        losses.append(loss.item())
        logps.append(logp.detach().numpy().copy())
        ents.append(dist.entropy().detach().numpy().copy())
        if (i + 1) % k == 0:
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            steps += 1
    grads_none = all(p.grad is None for p in model.parameters())
    # a sampled action has the batch shape and lies in range; its log_prob equals the logits' log_softmax
    d = Categorical(logits=model(torch.from_numpy(episodes[0][0]))[0])
    a = d.sample()
    ok_sample = (tuple(a.shape) == (episodes[0][0].shape[0],) and bool(((a >= 0) & (a < 3)).all())
                 and str(a.dtype).endswith('int64'))
    lp_check = float((d.log_prob(a) - F.log_softmax(d.logits, -1).gather(1, a.unsqueeze(1)).squeeze(1)).detach()
                     .abs().max())
    probs = d.probs.detach().numpy().copy()
    final = {n: p.detach().numpy().copy() for n, p in model.state_dict().items()}
    return dict(init=init, losses=losses, logps=logps, ents=ents, steps=steps, grads_none=grads_none,
                ok_sample=ok_sample, lp_check=lp_check, probs=probs, final=final,
                batch_shape=tuple(d.batch_shape), event_shape=tuple(d.event_shape))


def test_reinforce_accumulation_matches_torch():
    import npnn
    eps = _episodes()
    ref = run(get('torch'), None, eps)
    got = run(npnn, ref['init'], eps)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-4, atol=1e-5)
    for a, b in zip(got['logps'], ref['logps']):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(got['ents'], ref['ents']):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got['probs'], ref['probs'], rtol=1e-4, atol=1e-6)
    assert got['steps'] == ref['steps'] == 4
    assert got['grads_none'] and ref['grads_none']
    assert got['ok_sample'] and ref['ok_sample']
    assert got['lp_check'] < 1e-6 and ref['lp_check'] < 1e-6
    assert got['batch_shape'] == ref['batch_shape'] and got['event_shape'] == ref['event_shape'] == ()
    for n in ref['final']:
        np.testing.assert_allclose(got['final'][n], ref['final'][n], rtol=1e-3, atol=1e-5, err_msg=n)
