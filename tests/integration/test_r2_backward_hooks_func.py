"""Training-loop plumbing built on autograd hooks and torch.func: the optimizer-in-backward idiom
(one optimizer per parameter stepped from register_post_accumulate_grad_hook), gradient inspection with
retain_grad on an intermediate whose gradient a tensor hook rescales, per-sample gradients with
torch.func.functional_call + vmap(grad) and their norms for clipping (DP-SGD style, no noise), and a
checkpoint-upgrade load_state_dict pre-hook that renames old keys plus a post-hook that logs once.
Everything matches PyTorch."""
import numpy as np

from .helpers import get


def run(torch, state, x_np, y_np):
    nn = torch.nn
    F = torch.nn.functional
    func = torch.func

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)

    # optimizer in backward
    opts = {p: torch.optim.Adam([p], lr=1e-2) for p in model.parameters()}

    def step_hook(p):
        opts[p].step()
        opts[p].zero_grad()
    handles = [p.register_post_accumulate_grad_hook(step_hook) for p in model.parameters()]
    losses, hidden_grads = [], []
    for i in range(5):
        h = model[1](model[0](x))
        h.retain_grad()
        h.register_hook(lambda g: g * 0.5)
        loss = F.cross_entropy(model[2](h), y)
        loss.backward()
        losses.append(loss.item())
        hidden_grads.append(h.grad.numpy().copy())
    for hd in handles:
        hd.remove()
    grads_left = [p.grad for p in model.parameters()]

    # per-sample gradients, clipped per sample and averaged (DP-SGD without the noise)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def sample_loss(p, xi, yi):
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return F.cross_entropy(out, yi.unsqueeze(0))
    per = torch.vmap(func.grad(sample_loss), in_dims=(None, 0, 0))(params, x, y)
    norms = torch.stack([g.flatten(1).norm(dim=1) for g in per.values()], dim=1).norm(dim=1)
    factor = (1.0 / norms).clamp(max=1.0)
    clipped = {k: (g * factor.view(-1, *([1] * (g.dim() - 1)))).mean(0) for k, g in per.items()}
    with torch.no_grad():
        for k, p in model.named_parameters():
            p.sub_(0.1 * clipped[k])

    # loading an "old" checkpoint whose keys were renamed
    log = []

    def upgrade(module, sd, prefix, *rest):
        for old, new in (('w', 'weight'), ('b', 'bias')):
            if prefix + old in sd:
                sd[prefix + new] = sd.pop(prefix + old)

    def report(module, keys):
        log.append((list(keys.missing_keys), list(keys.unexpected_keys)))
    fresh = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    for m in (fresh[0], fresh[2]):
        m.register_load_state_dict_pre_hook(upgrade)
    fresh.register_load_state_dict_post_hook(report)
    old_ckpt = {k.replace('weight', 'w').replace('bias', 'b'): v for k, v in model.state_dict().items()}
    fresh.load_state_dict(old_ckpt)
    with torch.no_grad():
        same = bool(torch.equal(fresh(x), model(x)))
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return dict(init=init, losses=losses, hidden_grads=hidden_grads, grads_left=grads_left,
                norms=norms.numpy().copy(), final=final, log=log, same=same,
                per_shapes={k: tuple(v.shape) for k, v in per.items()})


def test_backward_hooks_and_func_match_torch():
    import npnn
    rng = np.random.RandomState(13)
    x = rng.randn(6, 4).astype(np.float32)
    y = rng.randint(0, 2, 6).astype(np.int64)
    ref = run(get('torch'), None, x, y)
    got = run(npnn, ref['init'], x, y)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-5, atol=1e-6)
    for a, b in zip(got['hidden_grads'], ref['hidden_grads']):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    assert all(g is None for g in got['grads_left']) and all(g is None for g in ref['grads_left'])
    assert got['per_shapes'] == ref['per_shapes'] and got['per_shapes']['0.weight'] == (6, 8, 4)
    np.testing.assert_allclose(got['norms'], ref['norms'], rtol=1e-4, atol=1e-6)
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=1e-4, atol=1e-6, err_msg=k)
    assert got['log'] == ref['log'] == [([], [])]
    assert got['same'] and ref['same']
