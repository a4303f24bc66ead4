"""npnn.testing.assert_close: tolerances, messages and containers as in PyTorch."""
import numpy as np
import pytest

import npnn
from npnn.testing import assert_close


def test_close_values_pass_with_dtype_default_tolerances():
    assert_close(npnn.ones(3), npnn.ones(3) + 1e-6)
    assert_close(npnn.ones(2, dtype=npnn.float64), npnn.ones(2, dtype=npnn.float64) + 1e-8)
    assert_close(npnn.tensor([1, 2]), npnn.tensor([1, 2]))
    assert_close({'a': [npnn.ones(2), 3]}, {'a': [npnn.ones(2), 3]})
    assert_close(npnn.ones(2), np.ones(2, dtype=np.float32))
    assert_close(npnn.tensor([float('nan')]), npnn.tensor([float('nan')]), equal_nan=True)
    assert_close(npnn.ones(2), npnn.ones(2, dtype=npnn.float64), check_dtype=False)
    assert_close(npnn.tensor([1.0]), npnn.tensor([1.5]), rtol=0.0, atol=0.5)


@pytest.mark.parametrize('actual,expected,pattern', [
    (npnn.ones(2), npnn.tensor([1.0, 1.1]), 'Mismatched elements: 1 / 2'),
    (npnn.ones(2), npnn.ones(3), "attribute 'shape' do not match"),
    (npnn.ones(2), npnn.ones(2, dtype=npnn.float64), "attribute 'dtype' do not match"),
    (npnn.tensor(1.0), npnn.tensor(2.0), 'Scalars are not close'),
    (npnn.tensor([1, 2]), npnn.tensor([1, 3]), 'Tensor-likes are not close'),
    ([npnn.ones(1)], [npnn.ones(1), npnn.ones(1)], 'length of the sequences'),
])
def test_mismatch_raises_assertion_error(actual, expected, pattern):
    with pytest.raises(AssertionError, match=pattern):
        assert_close(actual, expected)


def test_custom_message_and_tolerance_pair():
    with pytest.raises(AssertionError, match='^custom$'):
        assert_close(npnn.ones(1), npnn.zeros(1), msg='custom')
    with pytest.raises(ValueError):
        assert_close(npnn.ones(1), npnn.ones(1), rtol=1e-3)


def test_messages_match_torch():
    torch = pytest.importorskip('torch')
    for a, b in [([1.0, 1.1], [1.0, 1.0]), (2.0, 1.0)]:
        with pytest.raises(AssertionError) as ours:
            assert_close(npnn.tensor(a), npnn.tensor(b))
        with pytest.raises(AssertionError) as theirs:
            torch.testing.assert_close(torch.tensor(a), torch.tensor(b))
        assert str(ours.value).splitlines()[:3] == str(theirs.value).splitlines()[:3]
