"""Linear and logistic regression from raw tensors with a hand-written SGD step."""
import pytest

from .helpers import backends, get


def linear_regression(torch):
    torch.manual_seed(0)
    X = torch.randn(200, 3)
    true_w = torch.tensor([[2.0], [-3.0], [0.5]])
    y = X @ true_w + 1.0 + 0.01 * torch.randn(200, 1)

    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    losses = []
    for epoch in range(100):
        pred = X.mm(w) + b
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
    return losses, w.detach().numpy().ravel().tolist(), b.item(), w


def logistic_regression(torch):
    torch.manual_seed(1)
    n = 300
    X = torch.randn(n, 2)
    y = (X[:, 0] + 2 * X[:, 1] > 0).float()
    w = torch.randn(2, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    for step in range(200):
        logits = X @ w + b
        p = torch.sigmoid(logits)
        loss = -(y * torch.log(p + 1e-7) + (1 - y) * torch.log(1 - p + 1e-7)).mean()
        if w.grad is not None:
            w.grad.data.zero_()
            b.grad.data.zero_()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.5 * w.grad)
            b -= 0.5 * b.grad
    with torch.no_grad():
        acc = ((torch.sigmoid(X @ w + b) > 0.5).float() == y).float().mean().item()
    return loss.item(), acc, w.is_leaf, w.requires_grad


@pytest.mark.parametrize('lib', backends())
def test_linear_regression(lib):
    torch = get(lib)
    losses, w, b, wt = linear_regression(torch)
    assert losses[-1] < 1e-3 < losses[0]
    assert w == pytest.approx([2.0, -3.0, 0.5], abs=0.02)
    assert b == pytest.approx(1.0, abs=0.02)
    assert wt.is_leaf and wt.requires_grad and wt.dtype == torch.float32


@pytest.mark.parametrize('lib', backends())
def test_logistic_regression(lib):
    torch = get(lib)
    loss, acc, is_leaf, rg = logistic_regression(torch)
    assert loss < 0.2
    assert acc > 0.95
    assert is_leaf and rg
