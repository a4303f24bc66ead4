"""Learning-rate schedulers with checkpointing: OneCycleLR stepped per batch and ReduceLROnPlateau per
epoch; model, optimizer and scheduler state saved with torch.save to one file, loaded with torch.load
into fresh objects, and the resumed run gives exactly the steps the uninterrupted run gives."""
import io
import os

import pytest

from .helpers import backends, cached


def run(torch, path):
    nn = torch.nn
    F = torch.nn.functional

    def make():
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 1))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=40, pct_start=0.3)
        return model, opt, sched

    torch.manual_seed(0)
    X = torch.randn(64, 4)
    Y = X.sum(1, keepdim=True) ** 2 / 4

    def step(model, opt, sched, i):
        xb, yb = X[(i * 16) % 64:(i * 16) % 64 + 16], Y[(i * 16) % 64:(i * 16) % 64 + 16]
        loss = F.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    torch.manual_seed(1)
    model, opt, sched = make()
    losses = [step(model, opt, sched, i) for i in range(20)]
    torch.save({'epoch': 20, 'model_state_dict': model.state_dict(),
                'optimizer_state_dict': opt.state_dict(), 'scheduler': sched.state_dict(),
                'losses': losses}, path)
    cont = [step(model, opt, sched, i) for i in range(20, 40)]
    final_lr = sched.get_last_lr()[0]
    ref_params = [p.detach().clone() for p in model.parameters()]

    torch.manual_seed(99)
    model2, opt2, sched2 = make()
    ckpt = torch.load(path)
    model2.load_state_dict(ckpt['model_state_dict'])
    opt2.load_state_dict(ckpt['optimizer_state_dict'])
    sched2.load_state_dict(ckpt['scheduler'])
    start = ckpt['epoch']
    resumed = [step(model2, opt2, sched2, i) for i in range(start, 40)]
    same_params = all(torch.equal(a, b) for a, b in zip(ref_params, model2.parameters()))

    # ReduceLROnPlateau driven by a validation metric that stops improving
    opt3 = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt3, mode='min', factor=0.5, patience=2)
    lrs = []
    for val_loss in [1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.9, 0.95, 0.99, 1.0]:
        plateau.step(val_loss)
        lrs.append(opt3.param_groups[0]['lr'])
    buf = io.BytesIO()
    torch.save(plateau.state_dict(), buf)
    buf.seek(0)
    plateau_state = torch.load(buf)

    # a whole-state round trip through an in-memory buffer keeps tensors and dtypes
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf, weights_only=True)
    return dict(losses=losses, cont=cont, resumed=resumed, same_params=same_params, final_lr=final_lr,
                lrs=lrs, plateau_best=plateau_state['best'], num_bad=plateau_state['num_bad_epochs'],
                sd=[(k, tuple(v.shape), str(v.dtype).split('.')[-1]) for k, v in sd.items()],
                opt_keys=sorted(ckpt['optimizer_state_dict'].keys()),
                opt_state_keys=sorted(ckpt['optimizer_state_dict']['state'][0].keys()),
                sched_keys=sorted(k for k in ckpt['scheduler'].keys()))


RESULT = cached(lambda torch: run(torch, os.path.join(_tmp(), f'ckpt_{torch.__name__}.pt')))


def _tmp():
    import tempfile
    d = getattr(_tmp, 'dir', None)
    if d is None:
        d = _tmp.dir = tempfile.mkdtemp()
    return d


@pytest.mark.parametrize('lib', backends())
def test_checkpoint_resume(lib):
    r = RESULT(lib)
    assert r['resumed'] == r['cont']
    assert r['same_params']
    assert r['cont'][-1] < r['losses'][0]
    assert r['lrs'] == pytest.approx([0.1] * 5 + [0.05] * 3 + [0.025] * 2)
    assert r['plateau_best'] == 0.8
    assert r['opt_keys'] == ['param_groups', 'state']
    assert r['opt_state_keys'] == ['exp_avg', 'exp_avg_sq', 'step']


def test_checkpoint_matches_torch():
    a, b = RESULT('npnn'), RESULT('torch')
    assert a['sd'] == b['sd']
    assert a['sched_keys'] == b['sched_keys']
    assert a['num_bad'] == b['num_bad']
    assert a['final_lr'] == pytest.approx(b['final_lr'])
