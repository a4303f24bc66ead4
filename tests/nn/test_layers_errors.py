"""Bad input to layers, functionals and losses raises PyTorch's error types and messages."""
import re
import warnings

import numpy as np
import pytest

import npnn
import npnn.nn as nn
import npnn.nn.functional as F


def x(*shape):
    return npnn.randn(*shape)


def lng(*vals):
    return npnn.tensor(list(vals), dtype=npnn.int64)


CASES = [
    (lambda: F.cross_entropy(x(3, 5), lng(0, 1, 2, 3)), ValueError,
     'Expected input batch_size (3) to match target batch_size (4).'),
    (lambda: F.nll_loss(x(3, 5), lng(0, 1, 2, 3)), ValueError,
     'Expected input batch_size (3) to match target batch_size (4).'),
    (lambda: F.cross_entropy(x(3, 5), lng(0, 1, 7)), IndexError, 'Target 7 is out of bounds.'),
    (lambda: F.nll_loss(x(3, 5), lng(0, 1, -2)), IndexError, 'Target -2 is out of bounds.'),
    (lambda: F.cross_entropy(x(3, 5), npnn.tensor([[0, 1, 2]])), ValueError,
     'Expected input batch_size (3) to match target batch_size (1).'),
    (lambda: F.cross_entropy(x(3, 5, 4), npnn.zeros(3, 5, dtype=npnn.int64)), RuntimeError,
     'Expected target size [3, 4], got [3, 5]'),
    (lambda: F.cross_entropy(x(3, 5), lng(0, 1, 2), weight=npnn.ones(4)), RuntimeError,
     'weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: [4]'),
    (lambda: F.cross_entropy(x(3, 5), npnn.tensor([0.0, 1.0, 2.0])), RuntimeError,
     'expected target dtype to be Long or Byte, but got Float'),
    (lambda: F.cross_entropy(x(3, 5), lng(0, 1, 2), label_smoothing=1.5), RuntimeError,
     'label_smoothing must be between 0.0 and 1.0. Got: 1.5'),
    (lambda: F.nll_loss(x(3, 5), lng(0, 1, 2), reduction='foo'), ValueError, 'foo is not a valid value for reduction'),
    (lambda: F.l1_loss(x(3), x(3), reduction='x'), ValueError, 'x is not a valid value for reduction'),
    (lambda: F.nll_loss(x(3), lng(0, 1, 2)), ValueError,
     'For 1D input, 1D target must have size 1, but got target size: 3'),
    (lambda: F.binary_cross_entropy(npnn.rand(3), npnn.rand(4)), ValueError,
     'that is different to the input size'),
    (lambda: F.binary_cross_entropy(npnn.tensor([0.5, 1.5]), npnn.tensor([0.0, 1.0])), RuntimeError,
     'all elements of input should be between 0 and 1'),
    (lambda: F.binary_cross_entropy_with_logits(x(3), x(4)), ValueError, 'must be the same as input size'),
    (lambda: F.gaussian_nll_loss(x(3, 5), x(3, 5), -npnn.ones(3, 5)), ValueError, 'var has negative entry/entries'),
    (lambda: F.gaussian_nll_loss(x(3, 5), x(3, 5), npnn.ones(3, 2)), ValueError, 'var is of incorrect size'),
    (lambda: F.multi_margin_loss(x(3, 5), lng(0, 1, 2), p=3), ValueError, 'only p == 1 and p == 2 supported'),
    (lambda: F.multilabel_margin_loss(x(3, 5), npnn.zeros(3, 4, dtype=npnn.int64)), RuntimeError,
     'inconsistent target size: [3, 4] for input of size: [3, 5]'),
    (lambda: F.kl_div(x(3), x(3), reduction='avg'), ValueError, 'avg is not a valid value for reduction'),
    (lambda: F.dropout(x(3), 1.5), ValueError, 'dropout probability has to be between 0 and 1, but got 1.5'),
    (lambda: F.dropout1d(x(3), 0.5), RuntimeError, 'dropout1d: Expected 2D or 3D input, but received a 1D input.'),
    (lambda: F.glu(x(3, 3), 1), RuntimeError, 'Halving dimension must be even, but dimension 1 is size 3'),
    (lambda: F.softshrink(x(3), -1.0), RuntimeError, 'lambda must be greater or equal to 0, but found to be -1.0.'),
    (lambda: F.gelu(x(3), approximate='fast'), RuntimeError, 'approximate argument must be either none or tanh.'),
    (lambda: F.linear(x(2, 5), x(4, 3)), RuntimeError, 'mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)'),
    (lambda: nn.Linear(3, 4)(x(2, 5)), RuntimeError, 'mat1 and mat2 shapes cannot be multiplied (2x5 and 3x4)'),
    (lambda: F.layer_norm(x(3, 4), [5]), RuntimeError,
     'Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[3, 4]'),
    (lambda: F.group_norm(x(2, 6, 4), 4), RuntimeError,
     'Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 6, 4] and '
     'num_groups=4'),
    (lambda: nn.GroupNorm(4, 6), ValueError, 'num_channels must be divisible by num_groups'),
    (lambda: nn.BatchNorm1d(3)(x(1, 3)), ValueError, 'Expected more than 1 value per channel when training'),
    (lambda: nn.BatchNorm1d(3)(x(2, 3, 4, 5)), ValueError, 'expected 2D or 3D input (got 4D input)'),
    (lambda: nn.BatchNorm2d(3)(x(2, 3, 4)), ValueError, 'expected 4D input (got 3D input)'),
    (lambda: nn.BatchNorm3d(3)(x(2, 3, 4, 4)), ValueError, 'expected 5D input (got 4D input)'),
    (lambda: nn.BatchNorm1d(3)(x(2, 4)), RuntimeError, 'running_mean should contain 4 elements not 3'),
    (lambda: nn.InstanceNorm2d(3, affine=True)(x(2, 4, 3, 3)), ValueError,
     "expected input's size at dim=1 to match num_features (3), but got: 4."),
    (lambda: nn.InstanceNorm1d(3)(x(2, 3, 4, 5)), ValueError, 'expected 2D or 3D input (got 4D input)'),
    (lambda: F.one_hot(lng(1, 5), 3), RuntimeError, 'Class values must be smaller than num_classes.'),
    (lambda: F.one_hot(lng(1, -1)), RuntimeError, 'Class values must be non-negative.'),
    (lambda: F.one_hot(npnn.tensor([1.0])), RuntimeError, 'one_hot is only applicable to index tensor of type'),
    (lambda: nn.Unflatten(1, (2, 2))(x(2, 5)), RuntimeError, "don't multiply up to the size of dim 1"),
    (lambda: F.pdist(x(2, 3, 4)), RuntimeError, 'pdist only supports 2D tensors, got: 3D'),
    (lambda: F.cdist(x(3, 4), x(3, 5)), RuntimeError, 'X1 and X2 must have the same number of columns. X1: 4 X2: 5'),
    (lambda: F.prelu(x(2, 3, 4), npnn.ones(2)), RuntimeError,
     'Mismatch of parameter numbers and input channel size. Found parameter numbers = 2 and channel size = 3.'),
    (lambda: nn.TripletMarginLoss(margin=0), ValueError, 'expected margin to be greater than 0'),
    (lambda: nn.Softmax2d()(x(2, 3)), ValueError, 'Softmax2d: expected input to be 3D or 4D, got 2D instead'),
    (lambda: F.bilinear(x(2, 3), x(2, 4), x(5, 3, 3)), RuntimeError,
     'bilinear(): input2 size does not match weight size: got 4 but expected 3'),
    (lambda: F.hardtanh(x(3), 2.0, 1.0), ValueError, 'min_val cannot be greater than max_val'),
]


@pytest.mark.parametrize('i', range(len(CASES)))
def test_error(i):
    fn, exc, msg = CASES[i]
    with pytest.raises(exc, match=re.escape(msg)):
        fn()


def test_errors_match_torch():
    """The same bad calls raise the same exception type in PyTorch (message checked above)."""
    torch = pytest.importorskip('torch')
    tF = torch.nn.functional
    pairs = [
        (lambda lib, F: F.cross_entropy(lib.randn(3, 5), lib.tensor([0, 1, 2, 3]))),
        (lambda lib, F: F.cross_entropy(lib.randn(3, 5), lib.tensor([0, 1, 7]))),
        (lambda lib, F: F.nll_loss(lib.randn(3, 5, 2), lib.zeros(3, 3, dtype=lib.int64))),
        (lambda lib, F: F.mse_loss(lib.randn(3), lib.randn(3), reduction='bad')),
        (lambda lib, F: F.binary_cross_entropy_with_logits(lib.randn(3), lib.randn(4))),
        (lambda lib, F: lib.nn.BatchNorm1d(3)(lib.randn(1, 3))),
        (lambda lib, F: F.layer_norm(lib.randn(3, 4), [5])),
        (lambda lib, F: F.dropout(lib.randn(3), -0.1)),
    ]
    for f in pairs:
        with pytest.raises(Exception) as e_t:
            f(torch, tF)
        with pytest.raises(Exception) as e_n:
            f(npnn, F)
        assert e_n.type is e_t.type, (e_n.value, e_t.value)


def test_warnings():
    with pytest.warns(UserWarning, match=re.escape('Using a target size (npnn.Size([3, 1])) that is different to the '
                                                   'input size (npnn.Size([3, 5]))')):
        F.mse_loss(x(3, 5), x(3, 1))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(x(3), npnn.rand(3))
    with pytest.warns(UserWarning, match='Implicit dimension choice for log_softmax has been deprecated'):
        F.log_softmax(x(2, 3))
    with pytest.warns(UserWarning, match='size_average and reduce args will be deprecated'):
        nn.MSELoss(size_average=False)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        F.mse_loss(x(3, 5), x(3, 5))
        F.softmax(x(2, 3), dim=1)


@pytest.mark.filterwarnings('ignore')
def test_legacy_reduction_args():
    assert nn.L1Loss(size_average=False).reduction == 'sum'
    assert nn.L1Loss(reduce=False).reduction == 'none'
    assert nn.L1Loss(size_average=True, reduce=True).reduction == 'mean'
