"""Each optimizer's update: in place, on the parameter's device and dtype, frozen parameters untouched."""
import numpy as np
import pytest

import npnn
import npnn.optim as optim

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.1)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (optim.Adadelta, dict(lr=1.0, weight_decay=0.01)),
    (optim.Adamax, dict(lr=0.01)),
    (optim.ASGD, dict(lr=0.01, t0=2)),
    (optim.NAdam, dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    (optim.RAdam, dict(lr=0.01, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9)),
    (optim.Rprop, dict(lr=0.01)),
    (optim.SparseAdam, dict(lr=0.01)),
]
IDS = [f'{c.__name__}{i}' for i, (c, _) in enumerate(OPTIMIZERS)]


def _problem(device, dtype=npnn.float32, seed=0):
    npnn.manual_seed(seed)
    w = npnn.randn(5, 3, device=device, dtype=dtype, requires_grad=True)
    b = npnn.randn(3, device=device, dtype=dtype, requires_grad=True)
    frozen = npnn.randn(3, device=device, dtype=dtype, requires_grad=True)
    x = npnn.randn(8, 5, device=device, dtype=dtype)
    return w, b, frozen, x


def _loss(w, b, x):
    return ((npnn.tanh(x @ w + b) - 0.5) ** 2).mean()


def _steps(opt, w, b, x, n=5):
    losses = []
    for _ in range(n):
        opt.zero_grad()
        loss = _loss(w, b, x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize('cls,kw', OPTIMIZERS, ids=IDS)
def test_updates_in_place_and_skips_frozen(cls, kw, device):
    w, b, frozen, x = _problem(device)
    frozen_before = frozen.detach().cpu().numpy().copy()
    w_array, w_version = w._data, w._version
    opt = cls([w, b, frozen], **kw)
    losses = _steps(opt, w, b, x)
    assert w._data is w_array                      # same array, updated in place
    assert w._version == w_version + 5             # one version bump per step
    assert w.device.type == device and w.dtype == npnn.float32
    np.testing.assert_array_equal(frozen.detach().cpu().numpy(), frozen_before)
    assert len(opt.state.get(frozen, {})) == (2 if cls is optim.Adagrad else 0)
    assert losses[-1] < losses[0]
    for p in (w, b):
        for k, v in opt.state[p].items():
            if isinstance(v, npnn.Tensor) and v.dim() > 0:
                assert v.dtype == npnn.float32 and v.device == p.device, k


@pytest.mark.parametrize('cls,kw', OPTIMIZERS, ids=IDS)
def test_float64_parameters_stay_float64(cls, kw):
    w, b, _, x = _problem('cpu', npnn.float64)
    opt = cls([w, b], **kw)
    _steps(opt, w, b, x, 3)
    assert w.dtype == npnn.float64
    for k, v in opt.state[w].items():
        if isinstance(v, npnn.Tensor) and v.dim() > 0:
            assert v.dtype == npnn.float64, k


@pytest.mark.parametrize('cls,kw', [(c, k) for c, k in OPTIMIZERS], ids=IDS)
def test_maximize_equals_minimizing_negated_gradient(cls, kw, device):
    npnn.manual_seed(1)
    a = npnn.randn(4, 3, device=device, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    kw_a = dict(kw, maximize=True)
    oa, ob = cls([a], **kw_a), cls([b], **kw)
    rng = np.random.default_rng(0)
    for _ in range(4):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        a.grad = npnn.tensor(g, device=device)
        b.grad = npnn.tensor(-g, device=device)
        oa.step()
        ob.step()
    np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-6, atol=1e-7)


def test_sgd_momentum_matches_hand_computation():
    p0 = np.array([1.0, -2.0, 3.0], np.float32)
    p = npnn.tensor(p0, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01)
    ref, buf = p0.copy(), None
    for g in ([0.5, -1.0, 2.0], [1.0, 0.0, -1.0], [0.2, 0.3, 0.4]):
        g = np.array(g, np.float32)
        p.grad = npnn.tensor(g)
        opt.step()
        d = g + 0.01 * ref
        buf = d.copy() if buf is None else 0.9 * buf + 0.5 * d
        ref = ref - 0.1 * buf
    np.testing.assert_allclose(p.detach().numpy(), ref, rtol=1e-6)


def test_adam_first_step_moves_by_lr_times_sign():
    p = npnn.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    p.grad = npnn.tensor([0.3, -5.0, 1e-3])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.99, -1.99, 2.99], rtol=1e-5)
    assert opt.state[p]['step'].item() == 1.0


def test_in_place_update_invalidates_saved_tensors():
    p = npnn.randn(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = npnn.ones(3)
    y = (p * p).sum()          # saves p for backward
    opt.step()                 # modifies p in place
    with pytest.raises(RuntimeError):
        y.backward()


def test_step_with_no_gradients_changes_nothing(device):
    w, b, _, _ = _problem(device)
    before = w.detach().cpu().numpy().copy()
    for cls, kw in OPTIMIZERS:
        cls([w, b], **kw).step()
    np.testing.assert_array_equal(w.detach().cpu().numpy(), before)


def test_sparse_adam_touches_only_nonzero_gradient_entries(device):
    p = npnn.randn(6, 2, device=device, requires_grad=True)
    before = p.detach().cpu().numpy().copy()
    opt = optim.SparseAdam([p], lr=0.1)
    g = np.zeros((6, 2), np.float32)
    g[[1, 4]] = 1.0
    p.grad = npnn.tensor(g, device=device)
    opt.step()
    after = p.detach().cpu().numpy()
    changed = np.any(after != before, axis=1)
    assert changed.tolist() == [False, True, False, False, True, False]
    assert opt.state[p]['step'] == 1


def test_asgd_average_tracks_parameters_after_t0():
    p = npnn.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.ASGD([p], lr=0.1, t0=0)
    hist = []
    for _ in range(4):
        p.grad = p.detach() * 1.0
        opt.step()
        hist.append(p.detach().numpy().copy())
    # mu is 1 for the first two steps (1 / max(1, step - t0)), then the running mean starts
    np.testing.assert_allclose(opt.state[p]['ax'].numpy(), np.mean(hist[1:], axis=0), rtol=1e-5)


@pytest.mark.cuda
def test_gpu_and_cpu_updates_agree():
    for cls, kw in OPTIMIZERS:
        res = []
        for dev in ('cpu', 'cuda'):
            w, b, _, x = _problem(dev, seed=4)
            w_np = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
            w.data = npnn.tensor(w_np, device=dev)
            b.data = npnn.zeros(3, device=dev)
            x.data = npnn.tensor(np.random.default_rng(1).standard_normal((8, 5)).astype(np.float32), device=dev)
            opt = cls([w, b], **kw)
            _steps(opt, w, b, x, 5)
            res.append(w.detach().cpu().numpy())
        np.testing.assert_allclose(res[1], res[0], rtol=1e-4, atol=1e-5, err_msg=cls.__name__)


def test_trains_nn_module_and_checkpoint_resumes(device):
    nn = pytest.importorskip('npnn.nn')
    if not hasattr(nn, 'Linear'):
        pytest.skip('nn.Linear not available')

    def make():
        npnn.manual_seed(7)
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)

    x = npnn.randn(32, 4, device=device)
    y = npnn.randn(32, 2, device=device)

    def train(model, opt, sched, n):
        for _ in range(n):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
        return loss.item()

    model = make()
    opt = optim.AdamW(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    first = train(model, opt, sched, 6)
    ckpt = {'model': model.state_dict(), 'opt': opt.state_dict(), 'sched': sched.state_dict()}
    ckpt = {k: {kk: (vv.detach().clone() if isinstance(vv, npnn.Tensor) else vv) for kk, vv in v.items()}
            if k == 'model' else v for k, v in ckpt.items()}
    import copy
    ckpt['opt'] = copy.deepcopy(ckpt['opt'])
    last = train(model, opt, sched, 6)
    assert last < first

    model2 = make()
    model2.load_state_dict(ckpt['model'])
    opt2 = optim.AdamW(model2.parameters(), lr=0.5)
    sched2 = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=20)
    opt2.load_state_dict(ckpt['opt'])
    sched2.load_state_dict(ckpt['sched'])
    last2 = train(model2, opt2, sched2, 6)
    assert last2 == pytest.approx(last, rel=1e-6)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy())
