"""``nn.DataParallel``: split each batch over devices, run replicas in threads, gather, sum gradients."""
import warnings

from ...backend.device import device as _device, to_device
from ..modules.module import Module
from .comm import gather, scatter_kwargs
from .parallel_apply import parallel_apply
from .replicate import replicate


def _devices(device_ids):
    out = []
    for d in device_ids:
        if isinstance(d, int) and not isinstance(d, bool):
            out.append(to_device(_device('cuda', d)))
        else:
            out.append(to_device(d))
    return out


def _default_ids():
    from ... import cuda
    return list(range(cuda.device_count())) if cuda.is_available() else []


class DataParallel(Module):
    """Parallelise ``module`` over devices along batch dim ``dim``.

    ``device_ids`` defaults to all GPUs (the module runs as is when there are none); CPU replicas
    (``device_ids=['cpu', 'cpu']``) run in threads. Parameters must live on ``device_ids[0]``; outputs are
    gathered on ``output_device`` (default ``device_ids[0]``). One ``backward`` sums every replica's gradients
    into the original parameters.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        if device_ids is None:
            device_ids = _default_ids()
        if not device_ids:
            self.device_ids = []
            self.output_device = None
            self.src_device_obj = None
            self.dim = dim
            return
        self.device_ids = list(device_ids)
        self._devs = _devices(self.device_ids)
        self.output_device = to_device(output_device) if isinstance(output_device, (str, _device)) else \
            (self._devs[0] if output_device is None else _devices([output_device])[0])
        self.dim = dim
        self.src_device_obj = self._devs[0]
        if len({d for d in self._devs}) < len(self._devs) and self._devs[0].type == 'cuda':
            warnings.warn("DataParallel: the same GPU is listed more than once; replicas share it")

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        src = self.src_device_obj
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t.device != src:
                raise RuntimeError(f"module must have its parameters and buffers on device {src} (device_ids[0]) "
                                   f"but found one of them on device: {t.device}")
        ins, kws = scatter_kwargs(inputs, kwargs, self._devs, self.dim)
        if not ins and not kws:
            ins, kws = ((),), ({},)
        n = len(ins)
        if n == 1:
            return self.module(*ins[0], **kws[0])
        replicas = replicate(self.module, self._devs[:n])
        outputs = parallel_apply(replicas, ins, kws, self._devs[:n])
        return gather(outputs, self.output_device, self.dim)

    def replicate(self, module, device_ids):
        return replicate(module, _devices(device_ids))

    def scatter(self, inputs, kwargs, device_ids):
        return scatter_kwargs(inputs, kwargs, _devices(device_ids), self.dim)

    def parallel_apply(self, replicas, inputs, kwargs):
        return parallel_apply(replicas, inputs, kwargs, self._devs[:len(replicas)])

    def gather(self, outputs, output_device):
        return gather(outputs, output_device, self.dim)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """Functional DataParallel: evaluate ``module(input)`` in parallel over ``device_ids``."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    dp = DataParallel(module, device_ids, output_device, dim)
    return dp.forward(*inputs, **(module_kwargs or {}))
