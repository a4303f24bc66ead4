"""Test helpers: compare an npnn computation with PyTorch's, values then gradients, in one call."""
import numpy as np
import pytest

import npnn


def torch_or_skip():
    return pytest.importorskip('torch')


def to_numpy(t):
    """A NumPy copy of an npnn or torch tensor (or pass through arrays/numbers)."""
    if isinstance(t, npnn.Tensor):
        return np.asarray(t.detach().cpu().numpy())
    if hasattr(t, 'detach') and hasattr(t, 'numpy'):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def compare(fn, *inputs, device='cpu', grad=True, rtol=1e-4, atol=1e-5, grad_inputs=None, seed=0,
            torch_fn=None, kwargs=None):
    """Run ``fn(lib, *tensors)`` with lib = npnn and lib = torch on the same inputs.

    ``inputs`` are NumPy arrays (or plain values passed through). Floating arrays require grad when
    ``grad``; then a random upstream gradient is backpropagated through every floating output in both
    libraries and the inputs' gradients are compared too. Returns the npnn outputs.
    """
    torch = torch_or_skip()
    kwargs = kwargs or {}
    rng = np.random.default_rng(seed)

    def build(lib, dev):
        ts = []
        for i, a in enumerate(inputs):
            if isinstance(a, np.ndarray):
                req = grad and a.dtype.kind == 'f' and (grad_inputs is None or i in grad_inputs)
                if lib is npnn:
                    t = npnn.tensor(a, device=dev)
                else:
                    t = torch.tensor(a)
                if req:
                    t.requires_grad_(True)
                ts.append(t)
            else:
                ts.append(a)
        return ts

    n_in = build(npnn, device)
    t_in = build(torch, 'cpu')
    n_out = _outputs(fn(npnn, *n_in, **kwargs))
    t_out = _outputs((torch_fn or fn)(torch, *t_in, **kwargs))
    assert len(n_out) == len(t_out), 'different number of outputs'
    for i, (a, b) in enumerate(zip(n_out, t_out)):
        if a is None and b is None:
            continue
        na, nb = to_numpy(a), to_numpy(b)
        assert na.shape == nb.shape, f'output {i}: shape {na.shape} != torch {nb.shape}'
        if isinstance(a, npnn.Tensor):
            assert str(a.dtype).split('.')[-1] == str(b.dtype).split('.')[-1], \
                f'output {i}: dtype {a.dtype} != torch {b.dtype}'
        np.testing.assert_allclose(na, nb, rtol=rtol, atol=atol, err_msg=f'output {i} differs from torch')
    if not grad:
        return n_out if len(n_out) > 1 else n_out[0]
    n_loss, t_loss = None, None
    for a, b in zip(n_out, t_out):
        if isinstance(a, npnn.Tensor) and a.requires_grad and a.is_floating_point():
            g = rng.standard_normal(tuple(a.shape)).astype(to_numpy(a).dtype)
            nl = (a * npnn.tensor(g, device=device)).sum()
            tl = (b * torch.tensor(g)).sum()
            n_loss = nl if n_loss is None else n_loss + nl
            t_loss = tl if t_loss is None else t_loss + tl
    if n_loss is None:
        return n_out if len(n_out) > 1 else n_out[0]
    n_loss.backward()
    t_loss.backward()
    for i, (a, b) in enumerate(zip(n_in, t_in)):
        if isinstance(a, npnn.Tensor) and a.requires_grad:
            if b.grad is None:
                assert a.grad is None or np.allclose(to_numpy(a.grad), 0), f'input {i}: torch has no grad'
                continue
            assert a.grad is not None, f'input {i}: npnn has no grad, torch has'
            np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad), rtol=rtol, atol=atol,
                                       err_msg=f'gradient of input {i} differs from torch')
    return n_out if len(n_out) > 1 else n_out[0]


def randn(*shape, dtype=np.float32, seed=None, low=None, high=None):
    """A deterministic NumPy array for test inputs (normal, or uniform in [low, high))."""
    rng = np.random.default_rng(seed if seed is not None else hash(shape) % 2 ** 32)
    if low is not None:
        return rng.uniform(low, high, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)
