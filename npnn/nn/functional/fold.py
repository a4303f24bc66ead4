"""``unfold`` (im2col) and ``fold`` (col2im) for 4-D (or unbatched 3-D) inputs; each is the other's adjoint."""
from ...autograd.node import Node
from ...autograd.ops._util import make, recording
from ...backend.device import array_module, on_device
from ...backend.conv_kernels import windows, col2im, pad_zeros, crop
from ._utils import int_tuple

__all__ = ['unfold', 'fold']


def _pair(v, name):
    return int_tuple(v, 2, name, "{name} must be an int or a tuple of two ints")


def _unfold_arr(x, kernel, dilation, padding, stride, out):
    """(N, C, H, W) -> (N, C*kh*kw, L)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    xpad = pad_zeros(x, tuple((p, p) for p in padding))
    win = windows(xpad, kernel, stride, dilation, out)  # (N, C, oh, ow, kh, kw)
    cols = xp.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3))
    return cols.reshape(n, c * kernel[0] * kernel[1], out[0] * out[1])


def _fold_arr(cols, c, size, kernel, dilation, padding, stride, out):
    """(N, C*kh*kw, L) -> (N, C, H, W), summing overlaps."""
    n = cols.shape[0]
    c6 = cols.reshape((n, c) + tuple(kernel) + tuple(out)).transpose(1, 2, 3, 0, 4, 5)  # (C, kh, kw, N, oh, ow)
    padded = (n, c) + tuple(s + 2 * p for s, p in zip(size, padding))
    return crop(col2im(c6, padded, kernel, stride, dilation, out), tuple((p, p) for p in padding))


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


def _check(kernel, dilation, padding, stride):
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                           f"kernel_width: {kernel[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} pad_width: "
                           f"{padding[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {stride[0]} "
                           f"stride_width: {stride[1]}")


class Im2ColBackward0(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        if self.unbatched:
            gd = gd[None]
        xp = array_module(gd)
        with on_device(gd):
            gx = _fold_arr(gd, self.c, self.size, self.kernel, self.dilation, self.padding, self.stride, self.out)
            gx = xp.ascontiguousarray(gx[0] if self.unbatched else gx)
        return make(gx)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*prod(kernel_size), L)."""
    x = input._data
    if x.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    kernel, dilation = _pair(kernel_size, 'kernel_size'), _pair(dilation, 'dilation')
    padding, stride = _pair(padding, 'padding'), _pair(stride, 'stride')
    _check(kernel, dilation, padding, stride)
    size = x.shape[2:]
    out = _blocks(size, kernel, dilation, padding, stride)
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input with spatial size ({size[0]}, {size[1]}), kernel_size=({kernel[0]}, "
                           f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, "
                           f"{padding[1]}), calculated shape of the array of sliding blocks as ({out[0]}, {out[1]}), "
                           f"but its components must be at least one.")
    with on_device(x):
        y = _unfold_arr(x, kernel, dilation, padding, stride, out)
        if unbatched:
            y = y[0]
    if recording(input):
        node = Im2ColBackward0((input,))
        node.c, node.size, node.kernel, node.dilation = x.shape[1], size, kernel, dilation
        node.padding, node.stride, node.out, node.unbatched = padding, stride, out, unbatched
        return make(y, node)
    return make(y)


class Col2ImBackward0(Node):
    __slots__ = ()
    saves = False

    def backward(self, g):
        gd = g._data
        if self.unbatched:
            gd = gd[None]
        with on_device(gd):
            gx = _unfold_arr(gd, self.kernel, self.dilation, self.padding, self.stride, self.out)
            if self.unbatched:
                gx = gx[0]
        return make(gx)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks into a tensor, summing overlaps: (N, C*prod(kernel_size), L) -> (N, C, *output_size)."""
    x = input._data
    if x.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {x.ndim}D)")
    unbatched = x.ndim == 2
    if unbatched:
        x = x[None]
    size = _pair(output_size, 'output_size')
    kernel, dilation = _pair(kernel_size, 'kernel_size'), _pair(dilation, 'dilation')
    padding, stride = _pair(padding, 'padding'), _pair(stride, 'stride')
    _check(kernel, dilation, padding, stride)
    kk = kernel[0] * kernel[1]
    if x.shape[1] % kk != 0:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({kernel[0]}, {kernel[1]})")
    out = _blocks(size, kernel, dilation, padding, stride)
    if any(o < 1 for o in out) or x.shape[2] != out[0] * out[1]:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
                           f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), "
                           f"stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {out[0]} * {out[1]} = {out[0] * out[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    xp = array_module(x)
    c = x.shape[1] // kk
    with on_device(x):
        y = xp.ascontiguousarray(_fold_arr(x, c, size, kernel, dilation, padding, stride, out))
        if unbatched:
            y = y[0]
    if recording(input):
        node = Col2ImBackward0((input,))
        node.kernel, node.dilation, node.padding, node.stride, node.out = kernel, dilation, padding, stride, out
        node.unbatched = unbatched
        return make(y, node)
    return make(y)
