"""Hand-written sequence model code full of in-place writes through views, as found in older or
performance-minded PyTorch scripts: a GRUCell unrolled with the hidden states written into a preallocated
buffer (outputs[:, t].copy_(h)), a positional bias added in place to a slice (x[:, :, :4].add_(...)),
torch.relu_ on a slice of the features, attention scores with masked_fill_ on a view and a
diagonal().fill_() for self-masking, and an in-place rescale of one channel (y[..., 0].mul_(2)).
Losses, gradients and final weights match PyTorch (any write PyTorch would record is recorded)."""
import numpy as np

from .helpers import get

T, B, F_IN, H = 5, 3, 4, 6


def run(torch, state, x_np, y_np):
    nn = torch.nn
    F = torch.nn.functional

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(F_IN, H)
            self.pos = nn.Parameter(torch.linspace(-0.3, 0.3, T * 4).view(T, 4))
            self.q = nn.Linear(H, H, bias=False)
            self.out = nn.Linear(H, 2)

        def forward(self, x):
            x = x * 1.0  # a non-leaf copy that can be written in place
            x[:, :, :4].add_(self.pos.unsqueeze(0))
            torch.relu_(x[:, :, 2:])
            h = x.new_zeros(x.size(0), H)
            outputs = x.new_zeros(x.size(0), T, H)
            for t in range(T):
                h = self.cell(x[:, t], h)
                outputs[:, t].copy_(h)
            scores = self.q(outputs) @ outputs.transpose(1, 2) / H ** 0.5
            scores.diagonal(dim1=1, dim2=2).fill_(-1e4)
            scores[:, :, T - 1:].masked_fill_(torch.ones(1, dtype=torch.bool), -1e4)
            ctx = torch.softmax(scores, dim=-1) @ outputs
            y = self.out(ctx.mean(1))
            y[..., 0].mul_(2.0)
            return y

    torch.manual_seed(0)
    model = Model()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    losses, grads = [], []
    for step in range(6):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        grads.append({n: p.grad.numpy().copy() for n, p in model.named_parameters()})
        opt.step()
        losses.append(loss.item())
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return dict(init=init, losses=losses, grads=grads, final=final)


def test_inplace_views_match_torch():
    import npnn
    rng = np.random.RandomState(8)
    x = rng.randn(B, T, F_IN).astype(np.float32)
    y = rng.randn(B, 2).astype(np.float32)
    ref = run(get('torch'), None, x, y)
    got = run(npnn, ref['init'], x, y)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=1e-4, atol=1e-6)
    for g, r in zip(got['grads'], ref['grads']):
        for n in r:
            np.testing.assert_allclose(g[n], r[n], rtol=1e-3, atol=1e-6, err_msg=n)
    # the positional bias only reaches the loss through the in-place add on a slice
    assert np.abs(got['grads'][0]['pos']).sum() > 0
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=1e-3, atol=1e-5, err_msg=k)
