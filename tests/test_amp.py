"""npnn.amp and npnn.cuda.amp: AMP training code runs unchanged, in float32; loss scaling by a power of two
changes no float32 result."""
import numpy as np
import pytest

import npnn


def _train(autocast, scaler, steps=5):
    npnn.manual_seed(0)
    m = npnn.nn.Linear(3, 1)
    opt = npnn.optim.SGD(m.parameters(), lr=0.1)
    x, y = npnn.randn(8, 3), npnn.randn(8, 1)
    for _ in range(steps):
        opt.zero_grad()
        with autocast():
            out = m(x)
            loss = npnn.nn.functional.mse_loss(out, y)
        assert out.dtype == npnn.float32
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        npnn.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
    return m.weight.detach().numpy().copy()


@pytest.mark.filterwarnings('ignore:.*CUDA is not available')
def test_amp_loop_equals_plain_loop():
    class Plain:
        scale = staticmethod(lambda loss: loss)
        unscale_ = update = staticmethod(lambda *a: None)
        step = staticmethod(lambda opt: opt.step())
    import contextlib
    ref = _train(contextlib.nullcontext, Plain())
    a = _train(lambda: npnn.autocast(device_type='cpu', dtype=npnn.bfloat16 or npnn.float16),
               npnn.amp.GradScaler('cpu'))
    b = _train(lambda: npnn.amp.autocast('cuda', enabled=False), npnn.amp.GradScaler(enabled=False))
    c = _train(npnn.cuda.amp.autocast, npnn.cuda.amp.GradScaler())
    for w in (a, b, c):
        np.testing.assert_array_equal(w, ref)


def test_autocast_arguments_and_decorator():
    with pytest.raises(RuntimeError, match='unsupported autocast device_type'):
        npnn.autocast(device_type='tpu')
    with pytest.raises(ValueError):
        npnn.autocast(device_type=npnn.device('cpu'))

    @npnn.autocast(device_type='cpu')
    def f(x):
        return x * 2
    assert f(npnn.ones(1)).item() == 2.0
    s = npnn.amp.GradScaler(enabled=False)
    assert s.get_scale() == 1.0 and not s.is_enabled()
    s.load_state_dict(s.state_dict())


def test_cuda_scaler_without_gpu_disables_with_warning():
    if npnn.cuda.is_available():
        s = npnn.cuda.amp.GradScaler(init_scale=4.0)
        assert s.is_enabled() and s.get_scale() == 4.0
        return
    for make in (lambda: npnn.amp.GradScaler(), lambda: npnn.cuda.amp.GradScaler(init_scale=4.0)):
        with pytest.warns(UserWarning, match='CUDA is not available.  Disabling'):
            s = make()
        assert not s.is_enabled() and s.get_scale() == 1.0


def test_scaler_on_device_scales_loss(device):
    s = npnn.amp.GradScaler(device, init_scale=8.0, growth_interval=1)
    p = npnn.tensor([1.0, 2.0], device=device, requires_grad=True)
    opt = npnn.optim.SGD([p], lr=0.5)
    loss = s.scale((p * p).sum())
    assert loss.item() == 40.0
    loss.backward()
    np.testing.assert_array_equal(p.grad.cpu().numpy(), [16.0, 32.0])
    s.step(opt)
    np.testing.assert_array_equal(p.detach().cpu().numpy(), [0.0, 0.0])
    s.update()
    assert s.get_scale() == 16.0
