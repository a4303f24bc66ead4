"""MAML on sine-wave regression tasks: an inner SGD step taken functionally with torch.func.functional_call
and torch.autograd.grad(create_graph=True), a second-order outer update with Adam, and per-example
gradient norms from torch.func.vmap over torch.func.grad. Same weights and tasks as PyTorch, same run."""
import numpy as np
import pytest

from .helpers import get


def _tasks():
    rng = np.random.RandomState(0)
    tasks = []
    for _ in range(8):
        amp, phase = rng.uniform(0.5, 2.0, 4), rng.uniform(0, np.pi, 4)
        xs = rng.uniform(-3, 3, (4, 2, 5, 1)).astype(np.float32)          # (task, support/query, shots, 1)
        ys = (amp[:, None, None, None] * np.sin(xs + phase[:, None, None, None])).astype(np.float32)
        tasks.append((xs, ys))
    return tasks


def run(torch, state, tasks, inner_lr=0.05):
    nn = torch.nn
    F = torch.nn.functional
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    meta_opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, norms = [], []
    for xs, ys in tasks:
        xs, ys = torch.from_numpy(xs), torch.from_numpy(ys)
        meta_opt.zero_grad()
        total = 0.0
        for t in range(xs.shape[0]):
            params = dict(model.named_parameters())
            support = F.mse_loss(torch.func.functional_call(model, params, (xs[t, 0],)), ys[t, 0])
            grads = torch.autograd.grad(support, list(params.values()), create_graph=True)
            fast = {name: p - inner_lr * g for (name, p), g in zip(params.items(), grads)}
            query = F.mse_loss(torch.func.functional_call(model, fast, (xs[t, 1],)), ys[t, 1])
            (query / xs.shape[0]).backward()
            total += query.item() / xs.shape[0]
        meta_opt.step()
        losses.append(total)

        # per-example gradient norms on the first task's query set
        detached = {k: v.detach() for k, v in model.named_parameters()}

        def example_loss(p, x, y):
            return F.mse_loss(torch.func.functional_call(model, p, (x.unsqueeze(0),)), y.unsqueeze(0))
        per = torch.func.vmap(torch.func.grad(example_loss), in_dims=(None, 0, 0))(detached, xs[0, 1], ys[0, 1])
        norms.append(torch.stack([g.flatten(1).norm(dim=1) for g in per.values()], 1).norm(dim=1).numpy())
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return init, losses, final, np.stack(norms)


def test_maml_matches_torch():
    import npnn
    tasks = _tasks()
    init, ref_losses, ref_final, ref_norms = run(get('torch'), None, tasks)
    _, losses, final, norms = run(npnn, init, tasks)
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(norms, ref_norms, rtol=1e-3, atol=1e-5)
    for k in ref_final:
        np.testing.assert_allclose(final[k], ref_final[k], rtol=2e-3, atol=2e-4, err_msg=k)


def test_maml_inner_gradients_carry_a_graph():
    # create_graph=True makes the inner gradients differentiable, which the outer update relies on
    import npnn
    model = npnn.nn.Linear(1, 1)
    params = dict(model.named_parameters())
    x, y = npnn.ones(3, 1), npnn.zeros(3, 1)
    loss = ((npnn.func.functional_call(model, params, (x,)) - y) ** 2).mean()
    g1 = npnn.autograd.grad(loss, list(params.values()), create_graph=True)
    assert all(g.requires_grad for g in g1)
    g2 = npnn.autograd.grad(loss, list(params.values()))
    assert not any(g.requires_grad for g in g2)
    assert isinstance(model.weight, npnn.nn.Parameter)    # functional_call put the module's parameters back
