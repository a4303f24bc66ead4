"""The same model, weights and batches on npnn and on PyTorch give the same losses, step after step:
a CNN with BatchNorm and residual adds under AdamW + OneCycleLR, and an attention model under SGD with
nesterov momentum and gradient clipping. Weights move between the libraries through state_dict."""
import numpy as np
import pytest

from .helpers import get


def cnn_losses(torch, state, batches):
    nn = torch.nn
    F = torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(2, 8, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(8)
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))

        def forward(self, x):
            h = F.relu(self.bn1(self.conv1(x)))
            h = F.relu(h + self.bn2(self.conv2(h)))
            return self.head(self.pool(h))

    model = Net()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=len(batches))
    losses = []
    for x, y in batches:
        out = model(torch.from_numpy(x))
        loss = F.cross_entropy(out, torch.from_numpy(y), label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        final = model(torch.from_numpy(batches[0][0])).numpy()
    return init, losses, final


def attention_losses(torch, state, batches):
    nn = torch.nn
    F = torch.nn.functional

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 16)
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
            self.norm = nn.LayerNorm(16)
            self.out = nn.Linear(16, 3)

        def forward(self, tok):
            x = self.emb(tok)
            mask = torch.triu(torch.ones(tok.size(1), tok.size(1), dtype=torch.bool), 1)
            a, _ = self.attn(x, x, x, attn_mask=mask, need_weights=False)
            return self.out(self.norm(x + a).mean(1))

    model = Model()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    losses = []
    for tok, y in batches:
        loss = F.cross_entropy(model(torch.from_numpy(tok)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        losses.append(loss.item())
    return init, losses, None


def _cnn_batches():
    rng = np.random.RandomState(0)
    return [(rng.randn(8, 2, 8, 8).astype(np.float32), rng.randint(0, 4, 8).astype(np.int64)) for _ in range(8)]


def _tok_batches():
    rng = np.random.RandomState(1)
    return [(rng.randint(0, 10, (6, 5)).astype(np.int64), rng.randint(0, 3, 6).astype(np.int64)) for _ in range(8)]


@pytest.mark.parametrize('program,batches', [(cnn_losses, _cnn_batches), (attention_losses, _tok_batches)],
                         ids=['cnn', 'attention'])
def test_same_weights_same_losses(program, batches):
    torch = get('torch')
    import npnn
    data = batches()
    state, ref_losses, ref_final = program(torch, None, data)
    _, losses, final = program(npnn, state, data)
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-4, atol=2e-5)
    if ref_final is not None:
        np.testing.assert_allclose(final, ref_final, rtol=1e-3, atol=1e-4)


def test_programs_run_without_torch():
    import npnn
    _, losses, final = cnn_losses(npnn, None, _cnn_batches())
    assert np.isfinite(losses).all() and final.shape == (8, 4)
    _, losses, _ = attention_losses(npnn, None, _tok_batches())
    assert np.isfinite(losses).all()
