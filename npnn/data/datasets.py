"""Real datasets read from local files: scikit-learn's 8x8 digits, MNIST and Fashion-MNIST (IDX files).

Nothing is downloaded. Images come back as float32 tensors of shape (1, H, W) scaled to [0, 1] (what
``ToTensor()`` gives in torchvision), labels as Python ints; ``.data`` and ``.targets`` hold the whole
set as tensors.
"""
import gzip
import os

import numpy as np

from . import _core
from .dataset import Dataset

__all__ = ['Digits', 'load_digits', 'MNIST', 'FashionMNIST', 'read_idx']

_IDX_DTYPES = {
    0x08: np.dtype('u1'),
    0x09: np.dtype('i1'),
    0x0B: np.dtype('>i2'),
    0x0C: np.dtype('>i4'),
    0x0D: np.dtype('>f4'),
    0x0E: np.dtype('>f8'),
}


def read_idx(path):
    """Read an IDX file (``.gz`` too) into a NumPy array in native byte order."""
    opener = gzip.open if str(path).endswith('.gz') else open
    with opener(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{code:02x}")
    dtype = _IDX_DTYPES[code]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype='>u4', count=ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - head != count * dtype.itemsize:
        raise ValueError(f"{path}: expected {count * dtype.itemsize} bytes of data for shape {shape}, "
                         f"found {len(raw) - head}")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=head).reshape(shape)
    return arr.astype(dtype.newbyteorder('='), copy=True)


class _ImageDataset(Dataset):
    """Shared by the image datasets: uint8/float images in ``_images`` (N, H, W), int labels."""

    def _setup(self, images, labels, scale, transform, target_transform):
        self.transform = transform
        self.target_transform = target_transform
        self._images = np.ascontiguousarray(images)
        self._labels = np.ascontiguousarray(labels, dtype=np.int64)
        self._scale = np.float32(scale)
        self.data = _core.wrap(self._images)
        self.targets = _core.wrap(self._labels)

    def __len__(self):
        return self._labels.shape[0]

    def __getitem__(self, index):
        img = (self._images[index].astype(np.float32) / self._scale)[None]
        target = int(self._labels[index])
        img = _core.wrap(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        imgs = (self._images[idx].astype(np.float32) / self._scale)[:, None]
        labels = self._labels[idx].tolist()
        if self.transform is None and self.target_transform is None:
            return [(_core.wrap(imgs[i]), labels[i]) for i in range(len(labels))]
        return [self[int(i)] for i in idx]


def load_digits():
    """scikit-learn's handwritten digits as NumPy arrays: images (1797, 8, 8) with values 0..16, labels."""
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError as e:
        raise RuntimeError("the digits dataset needs scikit-learn (pip install scikit-learn)") from e
    bunch = _load()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


class Digits(_ImageDataset):
    """The 1797 8x8 handwritten digits bundled with scikit-learn.

    ``train=None`` gives all of them; ``train=True``/``False`` a fixed 80/20 split (the same every time).
    Samples are ``(image, label)``: a float32 tensor (1, 8, 8) in [0, 1] and an int.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, train=None, transform=None, target_transform=None):
        images, labels = load_digits()
        if train is not None:
            order = np.random.default_rng(0).permutation(labels.shape[0])
            cut = int(round(0.8 * labels.shape[0]))
            keep = order[:cut] if train else order[cut:]
            keep.sort()
            images, labels = images[keep], labels[keep]
        self.train = train
        self._setup(images, labels, 16.0, transform, target_transform)


class MNIST(_ImageDataset):
    """MNIST read from the standard IDX files in a local folder (no download).

    The files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each optionally ``.gz``) are looked for in ``root``,
    ``root/<Name>/raw`` (torchvision's layout) and ``root/<Name>``. Samples are ``(image, label)``: a
    float32 tensor (1, 28, 28) in [0, 1] and an int.
    """

    classes = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven',
               '8 - eight', '9 - nine']
    _files = {True: ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
              False: ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(str(root))
        self.train = train
        name = type(self).__name__
        if download:
            raise RuntimeError(f"{name}: downloading is not supported; put the IDX files in {self.root} yourself")
        img_name, lbl_name = self._files[bool(train)]
        folders = [self.root, os.path.join(self.root, name, 'raw'), os.path.join(self.root, name)]
        found = None
        for folder in folders:
            img = self._find(folder, img_name)
            lbl = self._find(folder, lbl_name)
            if img and lbl:
                found = (img, lbl)
                break
        if found is None:
            wanted = ', '.join(f'{f} (or {f}.gz)' for f in self._files[bool(train)])
            raise RuntimeError(f"{name} files not found: put {wanted} in {self.root} "
                               f"(or in {os.path.join(self.root, name, 'raw')})")
        images = read_idx(found[0])
        labels = read_idx(found[1])
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"{name}: images {images.shape} and labels {labels.shape} do not match")
        self._setup(images, labels, 255.0, transform, target_transform)

    @staticmethod
    def _find(folder, base):
        for cand in (base, base + '.gz'):
            p = os.path.join(folder, cand)
            if os.path.isfile(p):
                return p
        return None


class FashionMNIST(MNIST):
    """Fashion-MNIST: same files and layout as :class:`MNIST` (folder name ``FashionMNIST``)."""

    classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
               'Ankle boot']
