"""Model surgery and a multi-task head: submodules swapped recursively with setattr over named_children
(ReLU -> SiLU, BatchNorm2d -> GroupNorm keeping the affine weights), a frozen stem via requires_grad_(False),
parameter counting with numel (total vs trainable), named_modules/get_submodule lookups, a model returning a
dict of outputs, per-task losses combined with torch.stack(...).sum() and weighted by a learned log-variance,
optimizer built from filter(lambda p: p.requires_grad, ...), and results taken out with
.detach().cpu().numpy(). Losses and final weights match PyTorch; the frozen stem does not move."""
import numpy as np

from .helpers import get


def run(torch, state, x_np, cls_np, reg_np):
    nn = torch.nn
    F = torch.nn.functional

    class Backbone(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
            self.block = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                       nn.AdaptiveAvgPool2d(1), nn.Flatten())

        def forward(self, x):
            return self.block(self.stem(x))

    class MultiTask(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = Backbone()
            self.heads = nn.ModuleDict({'cls': nn.Linear(8, 3), 'reg': nn.Linear(8, 2)})
            self.log_vars = nn.Parameter(torch.zeros(2))

        def forward(self, x):
            f = self.backbone(x)
            return {name: head(f) for name, head in self.heads.items()}

    def swap(module):
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU):
                setattr(module, name, nn.SiLU())
            elif isinstance(child, nn.BatchNorm2d):
                gn = nn.GroupNorm(2, child.num_features)
                with torch.no_grad():
                    gn.weight.copy_(child.weight)
                    gn.bias.copy_(child.bias)
                setattr(module, name, gn)
            else:
                swap(child)

    torch.manual_seed(0)
    model = MultiTask()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
    swap(model)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    kinds = [type(m).__name__ for _, m in model.named_modules()]
    model.backbone.stem.requires_grad_(False)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    sub = type(model.get_submodule('backbone.block.1')).__name__
    frozen_names = [n for n, p in model.named_parameters() if not p.requires_grad]
    opt = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2)
    x, yc, yr = torch.from_numpy(x_np), torch.from_numpy(cls_np), torch.from_numpy(reg_np)
    history = []
    for step in range(10):
        out = model(x)
        per_task = torch.stack([F.cross_entropy(out['cls'], yc), F.mse_loss(out['reg'], yr)])
        loss = (torch.exp(-model.log_vars) * per_task + model.log_vars).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(per_task.detach().cpu().numpy())
    with torch.no_grad():
        out = model(x)
        acc = (out['cls'].argmax(1) == yc).float().mean().item()
    final = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    stem_grads = [p.grad for p in model.backbone.stem.parameters()]
    return dict(init=init, kinds=kinds, total=total, trainable=trainable, sub=sub, frozen=frozen_names,
                history=np.stack(history), acc=acc, final=final, stem_grads_none=all(g is None for g in stem_grads),
                out_keys=sorted(out.keys()), hist_dtype=str(history[0].dtype))


def test_surgery_multitask_matches_torch():
    import npnn
    rng = np.random.RandomState(9)
    x = rng.randn(12, 1, 8, 8).astype(np.float32)
    yc = rng.randint(0, 3, 12).astype(np.int64)
    yr = rng.randn(12, 2).astype(np.float32)
    ref = run(get('torch'), None, x, yc, yr)
    got = run(npnn, ref['init'], x, yc, yr)
    assert got['kinds'] == ref['kinds'] and 'BatchNorm2d' not in got['kinds'] and 'SiLU' in got['kinds']
    assert (got['total'], got['trainable']) == (ref['total'], ref['trainable'])
    assert got['total'] - got['trainable'] == 4 * 9 + 4 + 4 + 4
    assert got['sub'] == ref['sub'] == 'GroupNorm'
    assert got['frozen'] == ref['frozen']
    assert got['stem_grads_none'] and ref['stem_grads_none']
    assert got['out_keys'] == ['cls', 'reg'] and got['hist_dtype'] == ref['hist_dtype'] == 'float32'
    np.testing.assert_allclose(got['history'], ref['history'], rtol=1e-4, atol=1e-5)
    assert got['acc'] == ref['acc']
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=1e-3, atol=1e-5, err_msg=k)
    for k in got['final']:
        if k.startswith('backbone.stem'):
            np.testing.assert_array_equal(got['final'][k], ref['init'][k])
