"""PyTorch's errors for impossible convolution, pooling and resampling arguments."""
import pytest

import npnn
import npnn.nn as nn
import npnn.nn.functional as F


def z(*shape):
    return npnn.zeros(*shape)


def test_kernel_larger_than_padded_input():
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(z(1, 1, 2, 2), z(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match=r"Calculated padded input size per channel: \(4 x 4\)"):
        F.conv2d(z(1, 1, 2, 2), z(1, 1, 5, 5), padding=1)
    F.conv2d(z(1, 1, 2, 2), z(1, 1, 3, 3), padding=1)  # fits once padded


def test_groups_must_divide_channels():
    with pytest.raises(RuntimeError, match=r"expected input\[1, 5, 8, 8\] to have 6 channels, but got 5"):
        F.conv2d(z(1, 5, 8, 8), z(4, 3, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="divisible by 3"):
        F.conv2d(z(1, 6, 8, 8), z(4, 2, 3, 3), groups=3)
    with pytest.raises(ValueError, match='in_channels must be divisible by groups'):
        nn.Conv2d(5, 4, 3, groups=2)
    with pytest.raises(ValueError, match='out_channels must be divisible by groups'):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match='groups must be a positive integer'):
        nn.Conv2d(4, 4, 3, groups=0)


def test_conv_argument_errors():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"):
        F.conv2d(z(2, 3), z(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), stride=2, padding='same')
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding='same')
    with pytest.raises(ValueError, match='Invalid padding string'):
        nn.Conv2d(1, 1, 3, padding='full')
    with pytest.raises(ValueError, match='padding_mode must be one of'):
        nn.Conv2d(1, 1, 3, padding_mode='mirror')
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode='reflect')
    with pytest.raises(RuntimeError, match='should be the same'):
        F.conv2d(z(1, 1, 5, 5), npnn.zeros(1, 1, 3, 3, dtype=npnn.float64))
    with pytest.raises(RuntimeError, match='expected bias to be 1-dimensional with 2 elements'):
        F.conv2d(z(1, 1, 5, 5), z(2, 1, 3, 3), z(3))


def test_conv_transpose_errors():
    with pytest.raises(RuntimeError, match='output padding must be smaller than either stride or dilation'):
        F.conv_transpose2d(z(1, 1, 3, 3), z(1, 1, 3, 3), stride=1, output_padding=1)
    m = nn.ConvTranspose2d(1, 1, 3, stride=2)
    with pytest.raises(ValueError, match='requested an output size of'):
        m(z(1, 1, 3, 3), output_size=(20, 20))


def test_pool_errors():
    with pytest.raises(RuntimeError, match='pad should be at most half of effective kernel size'):
        F.max_pool2d(z(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match='pad should be at most half of kernel size'):
        F.avg_pool2d(z(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match='Output size is too small'):
        F.max_pool2d(z(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match='requires specifying either an output size, or a pooling ratio'):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match='output_ratio must be between 0 and 1'):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(RuntimeError, match='too large relative to input'):
        F.fractional_max_pool2d(z(1, 1, 4, 4), 3, output_size=(3, 3))
    o, i = F.max_pool2d(z(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(RuntimeError, match='Found an invalid max index'):
        F.max_unpool2d(o, i + 20, 2)


def test_pad_and_resample_errors():
    with pytest.raises(RuntimeError, match='Padding size should be less than the corresponding input dimension'):
        F.pad(z(1, 1, 3), (3, 3), mode='reflect')
    with pytest.raises(RuntimeError, match='Padding length must be divisible by 2'):
        F.pad(z(1, 1, 3), (1,))
    with pytest.raises(ValueError, match='only one of size or scale_factor should be defined'):
        F.interpolate(z(1, 1, 3, 3), size=4, scale_factor=2)
    with pytest.raises(ValueError, match='align_corners option can only be set with the interpolating modes'):
        F.interpolate(z(1, 1, 3, 3), size=4, align_corners=True)
    with pytest.raises(NotImplementedError, match='bilinear mode needs 4D input'):
        F.interpolate(z(1, 1, 3), size=4, mode='bilinear')
    with pytest.raises(RuntimeError, match='is not divisible by 4'):
        F.pixel_shuffle(z(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match='expected size of input.s dimension 2 to match'):
        F.fold(z(1, 4, 5), (3, 3), 2)


def test_torch_raises_the_same():
    torch = pytest.importorskip('torch')
    cases = [
        (lambda L: L.nn.functional.conv2d(L.zeros(1, 1, 2, 2), L.zeros(1, 1, 3, 3)), RuntimeError),
        (lambda L: L.nn.functional.conv2d(L.zeros(1, 5, 8, 8), L.zeros(4, 3, 3, 3), groups=2), RuntimeError),
        (lambda L: L.nn.Conv2d(5, 4, 3, groups=2), ValueError),
        (lambda L: L.nn.functional.max_pool2d(L.zeros(1, 1, 5, 5), 2, padding=2), RuntimeError),
        (lambda L: L.nn.functional.pad(L.zeros(1, 1, 3), (3, 3), mode='reflect'), RuntimeError),
        (lambda L: L.nn.functional.interpolate(L.zeros(1, 1, 3, 3), size=4, scale_factor=2), ValueError),
    ]
    for fn, exc in cases:
        with pytest.raises(exc):
            fn(torch)
        with pytest.raises(exc):
            fn(npnn)
