"""Recurrent layers: RNN, LSTM, GRU and their single-step cells."""
import math
import numbers
import warnings

from ... import creation
from ...autograd import ops
from ...autograd.grad_mode import no_grad
from ..functional.recurrent import rnn_layer
from ..parameter import Parameter
from ..utils import rnn as _rnn_utils
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell', 'CTCLoss']


def _dropout(x, p):
    """Inverted dropout with a fresh mask (training only; the caller decides)."""
    if p >= 1:
        return x * 0
    r = creation.rand(tuple(x.shape), dtype=x.dtype, device=x.device)
    mask = (r >= p)._data.astype(x._data.dtype) * x._data.dtype.type(1.0 / (1.0 - p))
    from ...tensor import Tensor
    return x * Tensor._make(mask)


class RNNBase(Module):
    """Base of the multi-layer recurrent modules (``mode``: 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU')."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode == 'LSTM':
            gate_size = 4 * hidden_size
        elif mode == 'GRU':
            gate_size = 3 * hidden_size
        elif mode in ('RNN_TANH', 'RNN_RELU'):
            gate_size = hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if proj_size and mode != 'LSTM':
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else real_hidden * num_directions
                sfx = f'_l{layer}' + ('_reverse' if direction == 1 else '')
                shapes = [('weight_ih', (gate_size, layer_in)), ('weight_hh', (gate_size, real_hidden))]
                if bias:
                    shapes += [('bias_ih', (gate_size,)), ('bias_hh', (gate_size,))]
                if proj_size > 0:
                    shapes.append(('weight_hr', (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    setattr(self, base + sfx, Parameter(creation.empty(shape, device=device, dtype=dtype)))
                    names.append(base + sfx)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every weight and bias."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def flatten_parameters(self):
        """A no-op (there is no fused weight buffer to compact)."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _layer_weights(self, k):
        names = self._all_weights[k]
        ws = [getattr(self, n) for n in names]
        w_ih, w_hh = ws[0], ws[1]
        b_ih, b_hh = (ws[2], ws[3]) if self.bias else (None, None)
        w_hr = ws[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if self.proj_size != 0:
            s += f', proj_size={self.proj_size}'
        if self.num_layers != 1:
            s += f', num_layers={self.num_layers}'
        if self.bias is not True:
            s += f', bias={self.bias}'
        if self.batch_first is not False:
            s += f', batch_first={self.batch_first}'
        if self.dropout != 0:
            s += f', dropout={self.dropout}'
        if self.bidirectional is not False:
            s += f', bidirectional={self.bidirectional}'
        return s

    # --- checks with PyTorch's messages -------------------------------------------------------------------
    def check_input(self, input, batch_sizes):
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f'input must have {expected} dimensions, got {input.dim()}')
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f'input.size(-1) must be equal to input_size. Expected {self.input_size}, '
                               f'got {input.shape[-1]}')

    def get_expected_hidden_size(self, input, batch_sizes, time_major=False):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.shape[0] if self.batch_first and not time_major else input.shape[1]
        D = 2 if self.bidirectional else 1
        real = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * D, mini_batch, real)

    @staticmethod
    def check_hidden_size(hx, expected, msg='Expected hidden size {}, got {}'):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.shape)))

    # --- the run ------------------------------------------------------------------------------------------
    def _prepare(self, input, hx_dims):
        """Unpack/normalise the input; returns (x, batch_sizes list, packed info, batched, batch_first)."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            data, bsz, sorted_idx, unsorted_idx = input
            return data, [int(b) for b in bsz.detach().cpu().numpy()], (bsz, sorted_idx, unsorted_idx), True
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        return input, None, None, batched

    def _run(self, x, batch_sizes, hx, cx):
        D = 2 if self.bidirectional else 1
        mode = self.mode
        layer_in = x
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                y, h, c = rnn_layer(mode, layer_in, hx[k] if hx is not None else None,
                                    cx[k] if cx is not None else None, *self._layer_weights(k),
                                    batch_sizes=batch_sizes, reverse=d == 1)
                outs.append(y)
                hs.append(h)
                cs.append(c)
            layer_in = outs[0] if D == 1 else ops.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = _dropout(layer_in, self.dropout)
        h_n = ops.stack(hs, 0)
        c_n = ops.stack(cs, 0) if mode == 'LSTM' else None
        return layer_in, h_n, c_n

    def _finish(self, out, packed, batched):
        if packed is not None:
            bsz, sorted_idx, unsorted_idx = packed
            return PackedSequence(out, bsz, sorted_idx, unsorted_idx)
        if not batched:
            return out.squeeze(1)
        if self.batch_first:
            return out.transpose(0, 1)
        return out

    def forward(self, input, hx=None):
        x, batch_sizes, packed, batched = self._prepare(input, None)
        if hx is not None:
            if batched and packed is None and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            if not batched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            if not batched:
                hx = hx.unsqueeze(1)
            if packed is not None and packed[1] is not None:
                hx = ops.index_select(hx, 1, packed[1])
        self.check_input(x, batch_sizes)
        if hx is not None:
            self.check_hidden_size(hx, self.get_expected_hidden_size(x, batch_sizes, True))
        out, h_n, _ = self._run(x, batch_sizes, hx, None)
        if packed is not None and packed[2] is not None:
            h_n = ops.index_select(h_n, 1, packed[2])
        if not batched:
            h_n = h_n.squeeze(1)
        return self._finish(out, packed, batched), h_n


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self_nl = args[3]
            args = args[:3] + args[4:]
        else:
            self_nl = kwargs.pop('nonlinearity', 'tanh')
        if self_nl == 'tanh':
            mode = 'RNN_TANH'
        elif self_nl == 'relu':
            mode = 'RNN_RELU'
        else:
            raise ValueError(f"Unknown nonlinearity '{self_nl}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = self_nl


class LSTM(RNNBase):
    """Long short-term memory, optionally with projections (``proj_size``)."""

    def __init__(self, *args, **kwargs):
        super().__init__('LSTM', *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes, time_major=False):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.shape[0] if self.batch_first and not time_major else input.shape[1]
        D = 2 if self.bidirectional else 1
        return (self.num_layers * D, mini_batch, self.hidden_size)

    def forward(self, input, hx=None):
        x, batch_sizes, packed, batched = self._prepare(input, None)
        h0 = c0 = None
        if hx is not None:
            h0, c0 = hx
            if batched and packed is None and (h0.dim() != 3 or c0.dim() != 3):
                raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                   f"({h0.dim()}-D, {c0.dim()}-D) tensors")
            if not batched:
                if h0.dim() != 2 or c0.dim() != 2:
                    raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                       f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            if packed is not None and packed[1] is not None:
                h0 = ops.index_select(h0, 1, packed[1])
                c0 = ops.index_select(c0, 1, packed[1])
        self.check_input(x, batch_sizes)
        if hx is not None:
            self.check_hidden_size(h0, self.get_expected_hidden_size(x, batch_sizes, True),
                                   'Expected hidden[0] size {}, got {}')
            self.check_hidden_size(c0, self.get_expected_cell_size(x, batch_sizes, True),
                                   'Expected hidden[1] size {}, got {}')
        out, h_n, c_n = self._run(x, batch_sizes, h0, c0)
        if packed is not None and packed[2] is not None:
            h_n = ops.index_select(h_n, 1, packed[2])
            c_n = ops.index_select(c_n, 1, packed[2])
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(out, packed, batched), (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's formulation: the reset gate scales ``W_hn h + b_hn``)."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__('GRU', *args, **kwargs)


# --- cells -------------------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """Base of the single-step cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size), device=device,
                                                  dtype=dtype))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size), device=device,
                                                  dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty((num_chunks * hidden_size,), device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty((num_chunks * hidden_size,), device=device, dtype=dtype))
        else:
            self.register_parameter('bias_ih', None)
            self.register_parameter('bias_hh', None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if self.bias is not True:
            s += f', bias={self.bias}'
        if getattr(self, 'nonlinearity', 'tanh') != 'tanh':
            s += f', nonlinearity={self.nonlinearity}'
        return s

    def _check(self, input, hxs):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for h in hxs:
            if h is not None and h.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            hxs = [h.unsqueeze(0) if h is not None else None for h in hxs]
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                               f"{self.input_size}")
        for i, h in enumerate(hxs):
            if h is None:
                continue
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} batch size "
                                   f"{h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, expected "
                                   f"{self.hidden_size}")
        return input, hxs, batched

    def _step(self, mode, input, h, c):
        return rnn_layer(mode, input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class RNNCell(RNNCellBase):
    """One Elman RNN step (tanh or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        if nonlinearity not in ('tanh', 'relu'):
            raise RuntimeError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._check(input, [hx])
        mode = 'RNN_TANH' if self.nonlinearity == 'tanh' else 'RNN_RELU'
        y, _, _ = self._step(mode, x, h, None)
        return y if batched else y.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        h, c = hx if hx is not None else (None, None)
        x, (h, c), batched = self._check(input, [h, c])
        _, h1, c1 = self._step('LSTM', x, h, c)
        if not batched:
            return h1.squeeze(0), c1.squeeze(0)
        return h1, c1


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._check(input, [hx])
        y, _, _ = self._step('GRU', x, h, None)
        return y if batched else y.squeeze(0)


_rnn_utils  # the import makes ``nn.utils.rnn`` reachable as an attribute


class CTCLoss(Module):
    """Connectionist temporal classification loss (``F.ctc_loss``): ``blank``, ``reduction``,
    ``zero_infinity``. Lives beside the recurrent layers it usually follows."""

    def __init__(self, blank=0, reduction='mean', zero_infinity=False):
        super().__init__()
        self.blank = blank
        self.reduction = reduction
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        from ..functional.ctc import ctc_loss
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)
