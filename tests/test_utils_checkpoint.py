"""utils.checkpoint: a checkpointed call gives the plain call's outputs and gradients."""
import numpy as np

import npnn
from npnn.utils.checkpoint import checkpoint, checkpoint_sequential


def test_checkpoint_same_gradients_as_plain_call():
    block = npnn.nn.Sequential(npnn.nn.Linear(4, 8), npnn.nn.Tanh(), npnn.nn.Linear(8, 2))
    x = npnn.randn(3, 4, requires_grad=True)
    plain = block(x).pow(2).sum()
    plain.backward()
    ref = [p.grad.numpy().copy() for p in block.parameters()] + [x.grad.numpy().copy()]
    block.zero_grad()
    x.grad = None
    out = checkpoint(block, x, use_reentrant=False).pow(2).sum()
    out.backward()
    assert out.item() == plain.item()
    for a, b in zip([p.grad.numpy() for p in block.parameters()] + [x.grad.numpy()], ref):
        np.testing.assert_array_equal(a, b)
    y = checkpoint_sequential(block, 2, x, use_reentrant=False)
    np.testing.assert_array_equal(y.detach().numpy(), block(x).detach().numpy())
    assert checkpoint(lambda a, scale=1.0: a * scale, x, scale=2.0).shape == (3, 4)
