"""A small U-Net for binary segmentation: Conv2d/BatchNorm2d/ReLU blocks, MaxPool2d down, ConvTranspose2d
and F.interpolate up, torch.cat skip connections, BCEWithLogitsLoss(pos_weight) plus a soft Dice term.
Same weights and data on npnn and PyTorch give the same losses, parameters and running statistics."""
import numpy as np
import pytest

from .helpers import get


def _data():
    rng = np.random.RandomState(0)
    batches = []
    for _ in range(6):
        x = rng.randn(4, 1, 12, 12).astype(np.float32)
        y = (x > 0.5).astype(np.float32)
        batches.append((x, y))
    return batches


def run(torch, state, batches):
    nn = torch.nn
    F = torch.nn.functional

    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = block(1, 4)
            self.enc2 = block(4, 8)
            self.bottom = block(8, 8)
            self.pool = nn.MaxPool2d(2)
            self.up2 = nn.ConvTranspose2d(8, 8, kernel_size=2, stride=2)
            self.dec2 = block(16, 4)
            self.dec1 = block(8, 4)
            self.head = nn.Conv2d(4, 1, 1)

        def forward(self, x):
            e1 = self.enc1(x)                       # 12x12
            e2 = self.enc2(self.pool(e1))           # 6x6
            b = self.bottom(self.pool(e2))          # 3x3
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = F.interpolate(d2, size=e1.shape[-2:], mode='bilinear', align_corners=False)
            d1 = self.dec1(torch.cat((d1, e1), 1))
            return self.head(d1)

    def dice_loss(logits, target, eps=1.0):
        p = torch.sigmoid(logits)
        inter = (p * target).sum(dim=(1, 2, 3))
        union = p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
        return (1 - (2 * inter + eps) / (union + eps)).mean()

    torch.manual_seed(0)
    model = UNet()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))
    opt = torch.optim.Adam(model.parameters(), lr=5e-3, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    losses = []
    for x, y in batches:
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        model.train()
        logits = model(x)
        loss = bce(logits, y) + dice_loss(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(batches[0][0])
        pred = (torch.sigmoid(model(x)) > 0.5).float()
        out = model(x).numpy()
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return init, losses, final, out, pred.numpy(), sched.get_last_lr()


def test_unet_matches_torch():
    import npnn
    data = _data()
    init, ref_losses, ref_final, ref_out, _, ref_lr = run(get('torch'), None, data)
    _, losses, final, out, pred, lr = run(npnn, init, data)
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-4, atol=2e-5)
    assert list(final) == list(ref_final)
    for k in ref_final:
        np.testing.assert_allclose(final[k], ref_final[k], rtol=2e-3, atol=2e-4, err_msg=k)
    np.testing.assert_allclose(out, ref_out, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(lr, ref_lr, rtol=1e-7)
    assert out.shape == (4, 1, 12, 12) and set(np.unique(pred)) <= {0.0, 1.0}


def test_unet_learns_without_torch():
    import npnn
    _, losses, _, _, _, _ = run(npnn, None, _data())
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
