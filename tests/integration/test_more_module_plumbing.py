"""Module plumbing a training script leans on: register_buffer (persistent and not), buffers updated in
forward under no_grad, weight init by walking named_modules() with isinstance dispatch into nn.init,
AdamW param groups with no weight decay on biases and norm weights, and a checkpoint (model + optimizer
+ scheduler state_dict) written to io.BytesIO with torch.save and read back with torch.load to resume.
The resumed run matches PyTorch's uninterrupted run."""
import copy
import io

import numpy as np
import pytest

from .helpers import get


def _data():
    rng = np.random.RandomState(0)
    return [(rng.randn(8, 6).astype(np.float32), rng.randn(8, 2).astype(np.float32)) for _ in range(10)]


def build(torch):
    nn = torch.nn

    class Standardize(nn.Module):
        """Keeps an exponential running mean of its inputs in a buffer."""

        def __init__(self, n, momentum=0.1):
            super().__init__()
            self.momentum = momentum
            self.register_buffer('mean', torch.zeros(n))
            self.register_buffer('count', torch.tensor(0, dtype=torch.long))
            self.register_buffer('scratch', torch.ones(n), persistent=False)

        def forward(self, x):
            if self.training:
                with torch.no_grad():
                    self.mean.mul_(1 - self.momentum).add_(x.mean(0), alpha=self.momentum)
                    self.count += 1
            return (x - self.mean) * self.scratch

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.std = Standardize(6)
            # no bias before BatchNorm: its gradient is pure rounding noise that Adam would amplify
            self.body = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.SiLU(), nn.Linear(16, 16, bias=False),
                                      nn.BatchNorm1d(16), nn.ReLU())
            self.head = nn.Linear(16, 2)
            self._init_weights()

        def _init_weights(self):
            for name, m in self.named_modules():
                if isinstance(m, nn.Linear):
                    if name == 'head':
                        nn.init.normal_(m.weight, std=0.02)
                    else:
                        nn.init.kaiming_uniform_(m.weight, a=0.1, nonlinearity='leaky_relu')
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0.01)
                elif isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            return self.head(self.body(self.std(x)))

    return Net()


def param_groups(model, torch):
    nn = torch.nn
    decay, no_decay = [], []
    norm_types = (nn.LayerNorm, nn.BatchNorm1d)
    for mname, m in model.named_modules():
        for pname, p in m.named_parameters(recurse=False):
            if pname == 'bias' or isinstance(m, norm_types):
                no_decay.append(p)
            else:
                decay.append(p)
    return [{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}]


def run(torch, state, batches, resume_at=None):
    torch.manual_seed(0)
    model = build(torch)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(param_groups(model, torch), lr=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=len(batches), eta_min=1e-4)
    losses, info = [], {}
    for i, (x, y) in enumerate(batches):
        if i == resume_at:
            buf = io.BytesIO()
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'sched': sched.state_dict(),
                        'step': i}, buf)
            buf.seek(0)
            ckpt = torch.load(buf)
            info['ckpt_keys'] = sorted(ckpt['model'])
            info['opt_groups'] = [(len(g['params']), g['weight_decay']) for g in ckpt['opt']['param_groups']]
            model = build(torch)
            model.load_state_dict(ckpt['model'])
            opt = torch.optim.AdamW(param_groups(model, torch), lr=1e-2)
            opt.load_state_dict(ckpt['opt'])
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=len(batches), eta_min=1e-4)
            sched.load_state_dict(ckpt['sched'])
            info['resumed_step'] = ckpt['step']
        model.train()
        loss = torch.nn.functional.smooth_l1_loss(model(torch.from_numpy(x)), torch.from_numpy(y), beta=0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    info['buffers'] = sorted(n for n, _ in model.named_buffers())
    info['count'] = int(model.std.count)
    info['lr'] = sched.get_last_lr()
    return init, losses, final, info


def test_module_plumbing_resume_matches_torch():
    import npnn
    data = _data()
    init, ref_losses, ref_final, ref_info = run(get('torch'), None, data)
    _, losses, final, info = run(npnn, init, data, resume_at=4)
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-4, atol=2e-5)
    assert list(final) == list(ref_final)
    for k in ref_final:
        np.testing.assert_allclose(final[k], ref_final[k], rtol=2e-3, atol=2e-4, err_msg=k)
    assert 'std.scratch' not in final and 'std.scratch' in info['buffers']
    assert info['buffers'] == ref_info['buffers']
    assert info['count'] == ref_info['count'] == len(data)
    np.testing.assert_allclose(info['lr'], ref_info['lr'], rtol=1e-6)
    # decay: 3 Linear weights; no decay: 2 biases + 2 norms x (weight, bias)
    assert info['opt_groups'] == [(3, 0.1), (6, 0.0)]
    assert info['resumed_step'] == 4


def test_torch_resume_matches_torch():
    # the same resume through PyTorch itself, so the program is known to be a faithful resume
    torch = get('torch')
    data = _data()
    init, ref_losses, _, _ = run(torch, None, data)
    _, losses, _, info = run(torch, init, data, resume_at=4)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-6)
    assert info['opt_groups'] == [(3, 0.1), (6, 0.0)]


def test_init_dispatch_without_torch():
    import npnn
    npnn.manual_seed(0)
    model = build(npnn)
    assert np.allclose(model.head.bias.detach().numpy(), 0.01)
    assert np.allclose(model.body[1].weight.detach().numpy(), 1.0)
    assert abs(float(model.head.weight.std())) < 0.05
    assert set(model.state_dict()) >= {'std.mean', 'std.count'} and 'std.scratch' not in model.state_dict()
