"""optim.swa_utils: AveragedModel (running mean, EMA, buffers), SWALR schedules and update_bn, against
the definitions and, when it is installed, against PyTorch."""
import numpy as np
import pytest

import npnn
from npnn.optim.swa_utils import AveragedModel, SWALR, get_ema_multi_avg_fn, update_bn


def _model():
    return npnn.nn.Sequential(npnn.nn.Linear(3, 4), npnn.nn.BatchNorm1d(4), npnn.nn.Linear(4, 1))


def test_averaged_model_is_the_running_mean():
    model = _model()
    swa = AveragedModel(model)
    assert [n for n, _ in swa.named_buffers()][0] == 'n_averaged'
    snapshots = []
    for _ in range(3):
        with npnn.no_grad():
            for p in model.parameters():
                p.add_(npnn.randn_like(p))
        snapshots.append([p.detach().numpy().copy() for p in model.parameters()])
        swa.update_parameters(model)
    assert swa.n_averaged.item() == 3
    for i, p in enumerate(swa.module.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), np.mean([s[i] for s in snapshots], 0), rtol=1e-5,
                                   atol=1e-6)
    model(npnn.randn(5, 3))  # moves the BatchNorm buffers
    swa.update_parameters(model)
    np.testing.assert_array_equal(swa.module[1].running_mean.numpy(), model[1].running_mean.numpy())
    assert swa(npnn.randn(2, 3)).shape == (2, 1)


def test_ema_multi_avg_fn_and_use_buffers():
    model = _model()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5), use_buffers=True)
    ema.update_parameters(model)
    w0 = model[0].weight.detach().numpy().copy()
    with npnn.no_grad():
        model[0].weight.add_(1.0)
    ema.update_parameters(model)
    np.testing.assert_allclose(ema.module[0].weight.detach().numpy(), w0 + 0.5, rtol=1e-5, atol=1e-6)


def test_update_bn_recomputes_statistics():
    model = _model()
    x = npnn.randn(32, 3)
    loader = npnn.utils.data.DataLoader(npnn.utils.data.TensorDataset(x), batch_size=32)
    model.eval()
    update_bn(loader, model)
    assert not model.training
    h = model[0](x).detach().numpy()
    np.testing.assert_allclose(model[1].running_mean.numpy(), h.mean(0), rtol=1e-5, atol=1e-6)
    assert model[1].momentum == 0.1


@pytest.mark.parametrize('strategy', ['cos', 'linear'])
@pytest.mark.parametrize('anneal_epochs', [0, 3])
def test_swalr_matches_torch(strategy, anneal_epochs):
    torch = pytest.importorskip('torch')
    lrs = {}
    for lib in (npnn, torch):
        opt = lib.optim.SGD(lib.nn.Linear(2, 1).parameters(), lr=0.5)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
        seq = [sched.get_last_lr()[0]]
        for _ in range(6):
            opt.step()
            sched.step()
            seq.append(opt.param_groups[0]['lr'])
        lrs[lib.__name__] = seq
    assert lrs['npnn'] == pytest.approx(lrs['torch'])
    with pytest.raises(ValueError):
        SWALR(npnn.optim.SGD(npnn.nn.Linear(2, 1).parameters(), lr=0.5), 0.05, anneal_strategy='step')


def test_averaged_model_state_dict_keys_match_torch():
    torch = pytest.importorskip('torch')
    a = AveragedModel(_model())
    b = torch.optim.swa_utils.AveragedModel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                                                torch.nn.Linear(4, 1)))
    assert list(a.state_dict()) == list(b.state_dict())
