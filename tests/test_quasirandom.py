"""SobolEngine: the unscrambled sequence equals PyTorch's; scrambled points keep Sobol' balance."""
import numpy as np
import pytest

import npnn
from npnn.quasirandom import SobolEngine


def _torch():
    return pytest.importorskip('torch')


# first points of the 3-dimensional unscrambled sequence (Joe-Kuo direction numbers, Gray-code order)
FIRST = np.array([[0, 0, 0], [0.5, 0.5, 0.5], [0.75, 0.25, 0.25], [0.25, 0.75, 0.75], [0.375, 0.375, 0.625],
                  [0.875, 0.875, 0.125], [0.625, 0.125, 0.875], [0.125, 0.625, 0.375]])


def test_known_points():
    e = SobolEngine(3)
    x = e.draw(8)
    assert x.dtype == npnn.float32 and x.shape == (8, 3)
    np.testing.assert_array_equal(x.numpy(), FIRST)


@pytest.mark.parametrize('dim', [1, 2, 7, 300])
def test_matches_torch(dim):
    torch = _torch()
    a, b = SobolEngine(dim), torch.quasirandom.SobolEngine(dim)
    for n in (1, 3, 16, 7):
        np.testing.assert_array_equal(a.draw(n).numpy(), b.draw(n).numpy())
    a.fast_forward(13)
    b.fast_forward(13)
    np.testing.assert_array_equal(a.draw(5, dtype=npnn.float64).numpy(), b.draw(5, dtype=torch.float64).numpy())
    a.reset()
    b.reset()
    np.testing.assert_array_equal(a.draw_base2(4).numpy(), b.draw_base2(4).numpy())
    assert a.num_generated == b.num_generated == 16


def test_max_dimension_matches_torch():
    torch = _torch()
    a, b = SobolEngine(21201), torch.quasirandom.SobolEngine(21201)
    np.testing.assert_array_equal(a.draw(20, dtype=npnn.float64).numpy(), b.draw(20, dtype=torch.float64).numpy())


def test_matches_scipy():
    qmc = pytest.importorskip('scipy.stats.qmc')
    ref = qmc.Sobol(10, scramble=False, bits=30).random(64)
    np.testing.assert_array_equal(SobolEngine(10).draw(64, dtype=npnn.float64).numpy(), ref)


def test_scrambled_balance_and_seed():
    a = SobolEngine(4, scramble=True, seed=3)
    p = a.draw_base2(6).numpy()
    assert p.min() >= 0 and p.max() < 1
    for j in range(4):  # each of the 64 equal intervals holds exactly one point
        assert len(np.unique(np.floor(p[:, j] * 64))) == 64
    b = SobolEngine(4, scramble=True, seed=3)
    np.testing.assert_array_equal(b.draw(64).numpy(), p)
    assert not np.array_equal(SobolEngine(4, scramble=True, seed=4).draw(64).numpy(), p)
    assert repr(a) == 'SobolEngine(dimension=4, scramble=True, seed=3)'
    assert repr(SobolEngine(2)) == 'SobolEngine(dimension=2)'


def test_out_and_errors():
    out = npnn.empty(2, 2)
    r = SobolEngine(2).draw(2, out=out)
    assert r is out
    np.testing.assert_array_equal(out.numpy(), FIRST[:2, :2])
    e = SobolEngine(2)
    e.draw(3)
    with pytest.raises(ValueError, match='power of 2'):
        e.draw_base2(2)
    for d in (0, 21202):
        with pytest.raises(ValueError, match=r'\[1, 21201\]'):
            SobolEngine(d)
