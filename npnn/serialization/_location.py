"""``map_location``: where a tensor saved on some device is loaded."""
from ..tensor import Tensor
from ..backend.device import array_to, device as _device, to_device


def restore_device(arr, saved_dev, map_location):
    """Place the CPU array ``arr`` of a tensor saved on ``saved_dev`` (a string) as ``map_location`` asks: None
    (the saved device), a device or string, a dict from saved to new locations, or a callable
    ``fn(tensor_on_cpu, saved_location)`` returning a tensor, a device, or None (the saved device)."""
    if callable(map_location) and not isinstance(map_location, (str, _device, dict)):
        r = map_location(Tensor._make(arr), saved_dev)
        if r is None:
            return restore_device(arr, saved_dev, None)
        if isinstance(r, Tensor):
            return r._data
        if isinstance(r, (str, _device)):
            return restore_device(arr, saved_dev, r)
        raise RuntimeError(f"map_location callable returned {type(r).__name__}; expected a tensor, a device or "
                           "None")
    if map_location is None:
        loc = saved_dev
    elif isinstance(map_location, dict):
        loc = str(map_location.get(saved_dev, saved_dev))
    else:
        loc = str(map_location)
    dev = _device(loc)
    if dev.type == 'cuda':
        from ..backend.device import cupy_module
        try:
            cupy_module()
        except RuntimeError as e:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but CUDA is not available "
                               f"({e}). If you are running on a CPU-only machine, please use npnn.load with "
                               "map_location=npnn.device('cpu') to map your tensors to the CPU.") from None
        return array_to(arr, to_device(dev))
    return arr
