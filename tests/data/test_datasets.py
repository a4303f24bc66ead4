import gzip
import struct

import numpy as np
import pytest

import npnn
from npnn.data import DataLoader
from npnn.data.datasets import MNIST, Digits, FashionMNIST, read_idx

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def write_idx(path, arr, gz=False):
    arr = np.asarray(arr)
    head = bytes([0, 0, IDX_CODES[arr.dtype.type], arr.ndim]) + struct.pack('>' + 'I' * arr.ndim, *arr.shape)
    body = arr.astype(arr.dtype.newbyteorder('>')).tobytes()
    opener = gzip.open if gz else open
    with opener(path, 'wb') as f:
        f.write(head + body)


@pytest.mark.parametrize('dtype', list(IDX_CODES))
@pytest.mark.parametrize('gz', [False, True])
def test_read_idx_roundtrip(tmp_path, dtype, gz):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype is np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / ('x.idx' + ('.gz' if gz else ''))
    write_idx(p, arr, gz)
    out = read_idx(p)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_errors(tmp_path):
    p = tmp_path / 'bad'
    p.write_bytes(b'\x01\x00\x08\x01\x00\x00\x00\x02ab')
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(p)
    p.write_bytes(b'\x00\x00\x08\x01\x00\x00\x00\x05ab')
    with pytest.raises(ValueError, match="expected 5 bytes of data"):
        read_idx(p)
    p.write_bytes(b'\x00\x00\x07\x01\x00\x00\x00\x01a')
    with pytest.raises(ValueError, match="unknown IDX data type 0x07"):
        read_idx(p)


def make_mnist(folder, n_train=6, n_test=4, gz=False, side=28):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = {}
    for prefix, n in (('train', n_train), ('t10k', n_test)):
        imgs = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        ext = '.gz' if gz else ''
        write_idx(folder / f'{prefix}-images-idx3-ubyte{ext}', imgs, gz)
        write_idx(folder / f'{prefix}-labels-idx1-ubyte{ext}', labels, gz)
        data[prefix] = (imgs, labels)
    return data


def test_mnist_reads_local_files(tmp_path):
    ref = make_mnist(tmp_path)
    train = MNIST(tmp_path, train=True)
    test = MNIST(tmp_path, train=False)
    assert len(train) == 6 and len(test) == 4
    img, label = train[3]
    assert npnn.is_tensor(img) and tuple(img.shape) == (1, 28, 28) and img.numpy().dtype == np.float32
    np.testing.assert_allclose(img.numpy()[0], ref['train'][0][3] / 255.0, rtol=1e-6)
    assert label == 3 and isinstance(label, int)
    assert tuple(train.data.shape) == (6, 28, 28) and train.data.numpy().dtype == np.uint8
    assert train.targets.numpy().tolist() == [0, 1, 2, 3, 4, 5]
    assert len(MNIST.classes) == 10


def test_mnist_gz_torchvision_layout_and_transforms(tmp_path):
    ref = make_mnist(tmp_path / 'MNIST' / 'raw', gz=True)
    ds = MNIST(tmp_path, train=False, transform=lambda t: t.numpy().sum(), target_transform=lambda y: y * 10)
    s, y = ds[2]
    assert y == 20
    assert s == pytest.approx(ref['t10k'][0][2].sum() / 255.0, rel=1e-5)


def test_mnist_loader_batches(tmp_path):
    make_mnist(tmp_path, n_train=10)
    batches = list(DataLoader(MNIST(tmp_path), batch_size=4))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 1, 28, 28), (4, 1, 28, 28), (2, 1, 28, 28)]
    assert batches[2][1].numpy().tolist() == [8, 9]


def test_fashion_mnist_folder_and_classes(tmp_path):
    make_mnist(tmp_path / 'FashionMNIST', side=5)
    ds = FashionMNIST(tmp_path)
    assert len(ds) == 6 and tuple(ds[0][0].shape) == (1, 5, 5)
    assert FashionMNIST.classes[9] == 'Ankle boot'


def test_mnist_missing_files_says_where(tmp_path):
    where = tmp_path / 'nowhere'
    with pytest.raises(RuntimeError) as ei:
        MNIST(where)
    msg = str(ei.value)
    assert 'train-images-idx3-ubyte' in msg and 'train-labels-idx1-ubyte' in msg and str(where) in msg
    with pytest.raises(RuntimeError, match='t10k-images-idx3-ubyte'):
        FashionMNIST(where, train=False)
    with pytest.raises(RuntimeError, match='downloading is not supported'):
        MNIST(where, download=True)


def test_mnist_mismatched_files(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / 'train-labels-idx1-ubyte', np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        MNIST(tmp_path)


def test_digits():
    pytest.importorskip('sklearn')
    from sklearn.datasets import load_digits
    ref = load_digits()
    ds = Digits()
    assert len(ds) == 1797
    img, label = ds[10]
    assert tuple(img.shape) == (1, 8, 8) and img.numpy().dtype == np.float32
    np.testing.assert_allclose(img.numpy()[0], ref.images[10] / 16.0)
    assert label == int(ref.target[10])
    assert 0.0 <= float(ds.data.numpy().min()) and float(ds.data.numpy().max()) == 16.0
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and len(train) == 1438
    def rows(*parts):  # (image, label) rows, sorted, to compare as multisets
        flat = np.concatenate([np.concatenate([p.data.numpy().reshape(len(p), -1),
                                               p.targets.numpy()[:, None].astype(np.float32)], 1) for p in parts])
        return flat[np.lexsort(flat.T[::-1])]

    np.testing.assert_array_equal(rows(train, test), rows(ds))
    assert Digits(train=True).targets.numpy().tolist() == train.targets.numpy().tolist()
    x, y = next(iter(DataLoader(test, batch_size=32, shuffle=True, generator=npnn.Generator().manual_seed(0))))
    assert tuple(x.shape) == (32, 1, 8, 8) and y.numpy().dtype == np.int64
