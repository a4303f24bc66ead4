"""inference_mode: inference tensors (is_inference), and PyTorch's errors when one is saved for backward,
updated in place or made to require grad outside inference mode."""
import numpy as np
import pytest

import npnn
from npnn.autograd import grad_mode

torch = pytest.importorskip('torch')

SAVED = 'Inference tensors cannot be saved for backward'
INPLACE = 'Inplace update to inference tensor outside InferenceMode is not allowed'
REQUIRES = 'Setting requires_grad=True on inference tensor outside InferenceMode is not allowed'


def _inference_tensor(lib, data, device='cpu'):
    with lib.inference_mode():
        return lib.tensor(data, device=device)


def test_is_inference_matches_torch(device):
    got = []
    for lib, dev in ((npnn, device), (torch, 'cpu')):
        base = lib.ones(2, device=dev)
        with lib.inference_mode():
            a = lib.ones(2, device=dev)
            b = base * 2
            c = lib.tensor([1.0, 2.0], device=dev).exp()
            with lib.inference_mode(False):
                d = lib.ones(1, device=dev)
        got.append([base.is_inference(), a.is_inference(), b.is_inference(), c.is_inference(), d.is_inference(),
                    a.clone().is_inference(), a.detach().is_inference(), (a + 1).is_inference()])
    assert got[0] == got[1] == [False, True, True, True, False, False, True, False]


def test_saved_for_backward_raises_like_torch(device):
    for lib, dev in ((npnn, device), (torch, 'cpu')):
        x = _inference_tensor(lib, [[1.0, 2.0]], dev)
        w = lib.tensor([[0.5, -1.0], [2.0, 3.0]], device=dev, requires_grad=True)
        with pytest.raises(RuntimeError, match=SAVED):
            x * w
        with pytest.raises(RuntimeError, match=SAVED):
            x @ w
        with pytest.raises(RuntimeError, match=SAVED):
            lib.nn.functional.linear(x, w)
        with lib.no_grad():  # nothing recorded, nothing saved
            np.testing.assert_array_equal((x * w).cpu().numpy(), [[0.5, -2.0], [2.0, 6.0]])
        assert not x.requires_grad


def test_clone_is_a_normal_tensor_with_torch_gradients(device):
    grads = []
    for lib, dev in ((npnn, device), (torch, 'cpu')):
        x = _inference_tensor(lib, [[1.0, 2.0], [3.0, -4.0]], dev)
        w = lib.tensor([[0.5, -1.0], [2.0, 3.0]], device=dev, requires_grad=True)
        y = x.clone()
        assert not y.is_inference()
        (lib.nn.functional.linear(y, w) * y).sum().backward()
        grads.append(w.grad.cpu().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_inplace_outside_inference_mode_raises(device):
    for lib, dev in ((npnn, device), (torch, 'cpu')):
        x = _inference_tensor(lib, [1.0, 2.0], dev)
        for f in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.clamp_(0, 1),
                  lambda: x.fill_(3.0), lambda: x.__setitem__(0, 5.0), lambda: x.copy_(lib.zeros(2))):
            with pytest.raises(RuntimeError, match=INPLACE):
                f()
            with lib.no_grad(), pytest.raises(RuntimeError, match=INPLACE):
                f()
        if lib is npnn:  # npnn refuses before writing (PyTorch's check comes after the write)
            np.testing.assert_array_equal(x.cpu().numpy(), [1.0, 2.0])
        with lib.inference_mode():
            x.fill_(1.0)
            x.add_(1)
        np.testing.assert_array_equal(x.cpu().numpy(), [2.0, 2.0])
        normal = lib.ones(2, device=dev)
        with lib.inference_mode():
            normal.add_(1)  # a normal tensor may be updated in place inside inference mode
        normal.add_(1)
        np.testing.assert_array_equal(normal.cpu().numpy(), [3.0, 3.0])


def test_requires_grad_outside_inference_mode_raises():
    for lib in (npnn, torch):
        x = _inference_tensor(lib, [1.0])
        with pytest.raises(RuntimeError, match=REQUIRES):
            x.requires_grad_()
        x.requires_grad_(False)
        assert not x.requires_grad


def test_inference_mode_false_turns_grad_on_like_torch():
    seen = []
    for lib in (npnn, torch):
        out = []
        with lib.no_grad():
            with lib.inference_mode(False):
                out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.inference_mode():
            out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.inference_mode(False):
                out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
                w = lib.ones(1, requires_grad=True)
                out.append((w * 2).requires_grad)
            out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        seen.append(out)
    assert seen[0] == seen[1]


def test_open_region_count_is_balanced():
    before = grad_mode.inference_regions[0]
    with pytest.raises(ValueError):
        with npnn.inference_mode():
            assert grad_mode.inference_regions[0] == before + 1
            raise ValueError

    @npnn.inference_mode()
    def gen():
        yield grad_mode.inference_regions[0]
        yield grad_mode.inference_regions[0]
    it = gen()
    assert next(it) == before + 1
    assert grad_mode.inference_regions[0] == before
    assert next(it) == before + 1
    it.close()
    with npnn.inference_mode(False):
        assert grad_mode.inference_regions[0] == before
    assert grad_mode.inference_regions[0] == before and grad_mode.inference_regions[1]
