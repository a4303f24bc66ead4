"""CTC loss and its gradient against PyTorch."""
import numpy as np
import pytest

import npnn
from tests.helpers import compare, to_numpy

torch = pytest.importorskip('torch')


def _case(T=12, N=4, C=6, S=5, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C)).astype(np.float32)
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    tl = np.array([5, 1, 3, 0][:N], dtype=np.int64)
    il = np.array([12, 9, 7, 5][:N], dtype=np.int64)
    tg = rng.integers(1, C, (N, S)).astype(np.int64)
    tg[0, 1:3] = tg[0, 0]  # repeated labels need a blank between them
    if N > 2:
        tg[2, 1] = tg[2, 0]
    return lp.astype(np.float32), tg, il, tl


@pytest.mark.parametrize('reduction', ['none', 'sum', 'mean'])
@pytest.mark.parametrize('layout', ['padded', 'concatenated'])
def test_ctc_parity(device, reduction, layout):
    lp, tg, il, tl = _case()
    if layout == 'concatenated':
        tg = np.concatenate([tg[i, :n] for i, n in enumerate(tl)])

    def fn(lib, lp, tg, il, tl):
        return lib.nn.functional.ctc_loss(lp, tg, il, tl, reduction=reduction)
    compare(fn, lp, tg, il, tl, device=device, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('blank', [0, 3])
def test_ctc_through_log_softmax_and_lists(blank):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, 3, 5)).astype(np.float32)
    tg = np.array([[1, 1, 2], [4, 0, 2], [2, 2, 2]], dtype=np.int64)
    tg[tg == blank] = (blank + 1) % 5
    il, tl = [9, 8, 9], [3, 2, 3]

    def fn(lib, x, tg):
        lp = (x - x.logsumexp(-1, keepdim=True))
        return lib.nn.functional.ctc_loss(lp, tg, il, tl, blank=blank)
    compare(fn, x, tg)


def test_ctc_unbatched_and_module():
    lp, tg, il, tl = _case(N=1)

    def fn(lib, lp, tg):
        return lib.nn.CTCLoss(reduction='sum')(lp[:, 0], tg[0], il[0:1].tolist(), tl[0:1].tolist())
    compare(fn, lp, tg, rtol=1e-4, atol=1e-5)


def test_ctc_infeasible_targets():
    rng = np.random.default_rng(2)
    lp = np.log(rng.dirichlet(np.ones(4), size=(3, 2))).astype(np.float32)   # T=3
    tg = np.array([[1, 2, 1, 2], [1, 1, 1, 1]], dtype=np.int64)                # needs more steps than 3
    il, tl = [3, 3], [4, 2]
    t = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(tg), il, tl, reduction='none')
    n = npnn.nn.functional.ctc_loss(npnn.tensor(lp), npnn.tensor(tg), il, tl, reduction='none')
    assert np.isinf(to_numpy(n)[0]) and np.isinf(t[0].item())
    np.testing.assert_allclose(to_numpy(n)[1], t[1].item(), rtol=1e-5)

    def fn(lib, lp, tg):
        return lib.nn.functional.ctc_loss(lp, tg, il, tl, reduction='mean', zero_infinity=True)
    out = compare(fn, lp, tg)
    assert np.isfinite(to_numpy(out))
