"""Grad-CAM style feature extraction: a forward hook keeps the last conv block's activations,
register_full_backward_hook keeps the gradient flowing out of it (grad_output) and into it (grad_input),
the class score is backpropagated with one_hot grad_outputs, the channel weights are the spatially pooled
gradients, and the heat map is ReLU(sum_c w_c A_c) upsampled bilinearly to the input and min-max scaled.
Hook handles are removed afterwards (no more calls). Also register_forward_pre_hook rewriting the input and a
forward hook returning a replacement output. Everything matches PyTorch."""
import numpy as np

from .helpers import get


def run(torch, state, x_np):
    nn = torch.nn
    F = torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 12, 3, padding=1), nn.ReLU())
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(12, 5)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.features(x)), 1))

    torch.manual_seed(0)
    model = Net()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    model.eval()
    store, calls = {}, []
    target = model.features[4]

    def fwd_hook(module, inp, out):
        store['act'] = out.detach()
        calls.append('f')

    def bwd_hook(module, grad_input, grad_output):
        store['grad_out'] = grad_output[0].detach()
        store['grad_in'] = grad_input[0].detach()
        store['n_gin'] = len(grad_input)
        calls.append('b')

    h1 = target.register_forward_hook(fwd_hook)
    h2 = target.register_full_backward_hook(bwd_hook)
    x = torch.from_numpy(x_np).requires_grad_(True)
    logits = model(x)
    cls = logits.argmax(dim=1)
    one_hot = F.one_hot(cls, num_classes=5).float()
    model.zero_grad()
    logits.backward(gradient=one_hot)
    weights = store['grad_out'].mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * store['act']).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode='bilinear', align_corners=False)
    flat = cam.view(cam.size(0), -1)
    lo, hi = flat.min(dim=1, keepdim=True)[0], flat.max(dim=1, keepdim=True)[0]
    cam = ((flat - lo) / (hi - lo + 1e-8)).view_as(cam)
    saliency = x.grad.abs().amax(dim=1)
    h1.remove()
    h2.remove()
    n_calls = len(calls)
    model(x).sum().backward()
    after = len(calls)

    # a forward pre-hook that scales the input, a forward hook that replaces the output
    pre = model.fc.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = model.fc.register_forward_hook(lambda m, args, out: out - out.mean(dim=1, keepdim=True))
    with torch.no_grad():
        hooked = model(x).numpy().copy()
    pre.remove()
    post.remove()
    with torch.no_grad():
        plain = model(x).numpy().copy()
    return dict(init=init, cls=cls.tolist(), cam=cam.detach().numpy().copy(),
                grad_out=store['grad_out'].numpy().copy(), grad_in=store['grad_in'].numpy().copy(),
                n_gin=store['n_gin'], saliency=saliency.numpy().copy(), n_calls=n_calls, after=after,
                hooked=hooked, plain=plain, cam_shape=tuple(cam.shape))


def test_gradcam_matches_torch():
    import npnn
    x = np.random.RandomState(1).randn(2, 3, 12, 12).astype(np.float32)
    ref = run(get('torch'), None, x)
    got = run(npnn, ref['init'], x)
    assert got['cls'] == ref['cls']
    assert got['cam_shape'] == ref['cam_shape'] == (2, 1, 12, 12)
    assert got['n_calls'] == ref['n_calls'] == 2 and got['after'] == ref['after'] == 2
    assert got['n_gin'] == ref['n_gin'] == 1
    for key in ('cam', 'grad_out', 'grad_in', 'saliency', 'hooked', 'plain'):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-4, atol=1e-5, err_msg=key)
