"""Direct parity tests for gaps found by running everyday PyTorch programs unchanged on npnn."""
import numpy as np
import pytest

import npnn

torch = pytest.importorskip('torch')


_ZERO_DIM_CASES = [
    ('SGD', dict(lr=0.1, weight_decay=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ('Adam', dict(lr=0.1, weight_decay=0.1)),
    ('Adam', dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    ('AdamW', dict(lr=0.1, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, weight_decay=0.1)),
    ('Adadelta', dict(lr=0.5, weight_decay=0.1)),
    ('Adamax', dict(lr=0.1, weight_decay=0.1)),
    ('ASGD', dict(lr=0.1, weight_decay=0.1)),
    ('NAdam', dict(lr=0.1, weight_decay=0.1)),
    ('NAdam', dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RAdam', dict(lr=0.1, weight_decay=0.1)),
    ('RAdam', dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RMSprop', dict(lr=0.01, weight_decay=0.1)),
    ('RMSprop', dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
]


@pytest.mark.parametrize('name,kw', _ZERO_DIM_CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(_ZERO_DIM_CASES)])
def test_optimizers_step_zero_dim_parameter(name, kw, device):
    # a 0-d nn.Parameter (a learnable temperature or scale) under weight decay used to fail with
    # "return arrays must be of ArrayType": NumPy ufuncs on 0-d arrays give scalars, not out= targets
    results = []
    for lib, dev in ((torch, 'cpu'), (npnn, device)):
        p = lib.nn.Parameter(lib.tensor(1.5, device=dev))
        q = lib.nn.Parameter(lib.tensor([1.0, -2.0], device=dev))
        opt = getattr(lib.optim, name)([p, q], **kw)
        for _ in range(5):
            opt.zero_grad()
            ((p * p * q).sum() + p.sin()).backward()
            opt.step()
        results.append((p.item(), q.tolist(), p.shape))
    (tp, tq, tshape), (np_, nq, nshape) = results
    assert tuple(nshape) == tuple(tshape) == ()
    np.testing.assert_allclose(np_, tp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nq, tq, rtol=1e-5, atol=1e-6)
