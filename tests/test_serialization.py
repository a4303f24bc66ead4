"""npnn.save / npnn.load (PyTorch archive layout, storage sharing, weights-only safety, map_location, corruption,
the legacy npnn format) and the safetensors format."""
import base64
import io
import json
import os
import pickle
import pickletools
import struct
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import npnn
from npnn import nn
from npnn.serialization import add_safe_globals, clear_safe_globals
from npnn.serialization._legacy import save_legacy


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(npnn.randn(3, 2))
        self.bias = nn.Parameter(npnn.randn(3))
        self.register_buffer('count', npnn.tensor(4))
        self.inner = nn.Sequential(_Tanh())

    def forward(self, x):
        return self.inner(x @ self.weight.T + self.bias)


class _Tanh(nn.Module):
    def forward(self, x):
        return x.tanh()


def test_state_dict_round_trip_through_a_file(tmp_path):
    m = Small()
    path = tmp_path / 'model.pt'
    npnn.save(m.state_dict(), path)
    sd = npnn.load(path)
    assert isinstance(sd, OrderedDict) and list(sd) == ['weight', 'bias', 'count']
    assert sd['count'].dtype == npnn.int64 and int(sd['count']) == 4
    m2 = Small()
    m2.load_state_dict(sd)
    x = npnn.randn(5, 2)
    assert np.array_equal(m(x).detach().numpy(), m2(x).detach().numpy())
    assert sd._metadata[''] == {'version': 1}  # the metadata BatchNorm-like modules use survives


def test_nested_containers_dtypes_and_shared_tensors():
    t = npnn.arange(6.0).reshape(2, 3)
    p = nn.Parameter(npnn.ones(2))
    obj = {'t': t, 'again': t, 'p': p, 'list': [1, 2.5, 'x', None, True, (t, b'raw')],
           'dtypes': [npnn.float16, npnn.int32, npnn.bool], 'device': npnn.device('cpu'),
           'size': npnn.Size([2, 3]), 'set': {1, 2}, 'complex': 1 + 2j, 'half': npnn.ones(3, dtype=npnn.float16),
           'int8': npnn.tensor([-1, 2], dtype=npnn.int8), 'bool': npnn.tensor([True, False]),
           'scalar': npnn.tensor(3.5), 'empty': npnn.zeros(0, 4), 'array': np.arange(3, dtype=np.int16),
           'grad': npnn.ones(2, requires_grad=True), 'noncontig': npnn.arange(12.0).reshape(3, 4).T}
    buf = io.BytesIO()
    npnn.save(obj, buf)
    buf.seek(0)
    r = npnn.load(buf)
    assert r['t'] is r['again'] is r['list'][5][0]  # one tensor stays one tensor
    assert np.array_equal(r['t'].numpy(), t.numpy())
    assert type(r['p']) is nn.Parameter and r['p'].requires_grad
    assert r['list'][:5] == [1, 2.5, 'x', None, True] and r['list'][5][1] == b'raw'
    assert r['dtypes'] == [npnn.float16, npnn.int32, npnn.bool] and r['dtypes'][0] is npnn.float16
    assert r['device'] == npnn.device('cpu') and r['size'] == (2, 3) and type(r['size']) is npnn.Size
    assert r['set'] == {1, 2} and r['complex'] == 1 + 2j
    assert r['half'].dtype == npnn.float16 and r['int8'].dtype == npnn.int8 and r['bool'].dtype == npnn.bool
    assert r['scalar'].shape == () and float(r['scalar']) == 3.5 and r['empty'].shape == (0, 4)
    assert isinstance(r['array'], np.ndarray) and r['array'].dtype == np.int16
    assert r['grad'].requires_grad and r['grad'].is_leaf
    assert np.array_equal(r['noncontig'].numpy(), np.arange(12.0).reshape(3, 4).T)
    r['t'].add_(1)  # loaded arrays are writable and owned
    assert float(t.sum()) == 15.0


def test_weights_only_refuses_code_execution(tmp_path):
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))
    path = tmp_path / 'evil.pt'
    npnn.save({'weights': npnn.ones(2), 'payload': Evil()}, path)
    with pytest.raises(pickle.UnpicklingError) as e:
        npnn.load(path)
    assert 'system' in str(e.value) and 'weights_only' in str(e.value)
    assert not marker.exists()


def test_weights_only_refuses_a_handcrafted_pickle(tmp_path):
    # a hand-written archive whose data.pkl calls builtins.eval through the REDUCE opcode
    marker = tmp_path / 'pwned2'
    payload = (b'\x80\x02cbuiltins\neval\nq\x00X' + struct.pack('<I', len(f"open('{marker}','w')")) +
               f"open('{marker}','w')".encode() + b'\x85R.')
    path = tmp_path / 'crafted.pt'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('npnn_archive/version', '1\n')
        z.writestr('npnn_archive/data.pkl', payload)
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        npnn.load(path)
    assert not marker.exists()


def test_whole_module_needs_weights_only_false(tmp_path):
    m = Small()
    path = tmp_path / 'whole.pt'
    npnn.save(m, path)
    with pytest.raises(pickle.UnpicklingError, match='Small'):
        npnn.load(path)
    m2 = npnn.load(path, weights_only=False)
    assert type(m2) is Small and isinstance(m2.weight, nn.Parameter)
    x = npnn.randn(2, 2)
    assert np.array_equal(m(x).detach().numpy(), m2(x).detach().numpy())


def test_add_safe_globals(tmp_path):
    path = tmp_path / 'g.pt'
    npnn.save({'m': _Tanh()}, path)
    with pytest.raises(pickle.UnpicklingError, match='_Tanh'):
        npnn.load(path)
    try:
        add_safe_globals([_Tanh])  # the user vouches for this class
        m = npnn.load(path)['m']
        assert type(m) is _Tanh and m.training
    finally:
        clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match='_Tanh'):
        npnn.load(path)


def test_map_location_variants(tmp_path, device):
    path = tmp_path / 'm.pt'
    npnn.save({'a': npnn.ones(2, device=device)}, path)
    assert npnn.load(path)['a'].device.type == device
    assert npnn.load(path, map_location='cpu')['a'].device.type == 'cpu'
    assert npnn.load(path, map_location=npnn.device('cpu'))['a'].device.type == 'cpu'
    saved = 'cpu' if device == 'cpu' else str(npnn.ones(1, device=device).device)
    assert npnn.load(path, map_location={saved: 'cpu'})['a'].device.type == 'cpu'
    seen = []

    def fn(t, location):
        seen.append(location)
        return t
    assert npnn.load(path, map_location=fn)['a'].device.type == 'cpu' and seen == [saved]
    assert npnn.load(path, map_location=lambda t, loc: None)['a'].device.type == device


def test_truncated_and_corrupted_files(tmp_path):
    path = tmp_path / 'ok.pt'
    npnn.save({'w': npnn.randn(50, 50)}, path)
    raw = path.read_bytes()
    for i, bad in enumerate([raw[:len(raw) // 2], raw[:10], b'', b'not a checkpoint at all' * 10]):
        p = tmp_path / f'bad{i}.pt'
        p.write_bytes(bad)
        with pytest.raises(RuntimeError, match='npnn.load'):
            npnn.load(p)
    flipped = bytearray(raw)
    flipped[raw.find(b'archive/data/0') + 100] ^= 0xFF  # inside the tensor bytes: CRC mismatch
    p = tmp_path / 'flipped.pt'
    p.write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError, match='corrupted'):
        npnn.load(p)
    p = tmp_path / 'other.zip'
    with zipfile.ZipFile(p, 'w') as z:
        z.writestr('hello.txt', 'hi')
    with pytest.raises(RuntimeError, match='not an npnn archive'):
        npnn.load(p)


def test_file_objects_and_non_seekable_reads(tmp_path):
    class Stream(io.RawIOBase):
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, b):
            chunk = self._b.read(len(b))
            b[:len(chunk)] = chunk
            return len(chunk)
    buf = io.BytesIO()
    npnn.save([npnn.ones(3)], buf)
    r = npnn.load(Stream(buf.getvalue()))
    assert np.array_equal(r[0].numpy(), [1, 1, 1])
    with open(tmp_path / 'f.pt', 'wb') as fh:
        npnn.save(npnn.zeros(2), fh)
    with open(tmp_path / 'f.pt', 'rb') as fh:
        assert npnn.load(fh).shape == (2,)
    npnn.save(npnn.zeros(1), str(tmp_path / 's.pt'))
    assert npnn.load(str(tmp_path / 's.pt')).shape == (1,)


def test_optimizer_state_round_trip(tmp_path):
    m = Small()
    opt = npnn.optim.Adam(m.parameters(), lr=0.01)
    m(npnn.randn(4, 2)).sum().backward()
    opt.step()
    path = tmp_path / 'ckpt.pt'
    npnn.save({'model': m.state_dict(), 'opt': opt.state_dict(), 'epoch': 3}, path)
    ck = npnn.load(path)
    m2 = Small()
    m2.load_state_dict(ck['model'])
    opt2 = npnn.optim.Adam(m2.parameters(), lr=0.01)
    opt2.load_state_dict(ck['opt'])
    assert ck['epoch'] == 3
    for p, q in zip(m.parameters(), m2.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())


# --- the PyTorch archive layout ----------------------------------------------------------------------------------

def _globals_and_pids(pkl):
    """The GLOBAL names and (storage key, location, numel) of the persistent ids a data.pkl holds."""
    names, strings = [], []
    for op, arg, _ in pickletools.genops(pkl):
        if op.name == 'GLOBAL':
            names.append(arg.replace(' ', '.'))
        strings.append(arg)
    return names, strings


def test_archive_has_pytorch_layout_aligned_and_reproducible():
    a = npnn.arange(12.0).reshape(3, 4)
    buf = io.BytesIO()
    npnn.save(OrderedDict(w=a, b=npnn.tensor([1, 2], dtype=npnn.int16), p=nn.Parameter(npnn.ones(2))), buf)
    raw = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        names = z.namelist()
        assert names[0] == 'archive/data.pkl' and names[-1] == 'archive/version'
        assert {'archive/byteorder', 'archive/.format_version', 'archive/.storage_alignment'} <= set(names)
        assert sorted(n for n in names if '/data/' in n) == ['archive/data/0', 'archive/data/1', 'archive/data/2']
        assert z.read('archive/version') == b'3\n' and z.read('archive/byteorder') == b'little'
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
        assert z.read('archive/data/0') == np.arange(12, dtype='<f4').tobytes()
        assert z.read('archive/data/1') == np.array([1, 2], '<i2').tobytes()
        for info in z.infolist():
            if '/data/' in info.filename:  # the storage bytes start on a 64-byte boundary of the file
                name_len, extra_len = struct.unpack('<HH', raw[info.header_offset + 26:info.header_offset + 30])
                assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0
        globals_, strings = _globals_and_pids(z.read('archive/data.pkl'))
    assert 'torch._utils._rebuild_tensor_v2' in globals_ and 'torch._utils._rebuild_parameter' in globals_
    assert {'torch.FloatStorage', 'torch.ShortStorage', 'collections.OrderedDict'} <= set(globals_)
    assert not any(g.startswith('npnn') for g in globals_)  # nothing but PyTorch and standard names
    assert 'storage' in strings and 'cpu' in strings
    buf2 = io.BytesIO()
    npnn.save(OrderedDict(w=a, b=npnn.tensor([1, 2], dtype=npnn.int16), p=nn.Parameter(npnn.ones(2))), buf2)
    assert buf2.getvalue() == raw


def test_views_share_one_storage_and_load_sharing_memory():
    a = npnn.arange(12.0).reshape(3, 4)
    other = npnn.zeros(2)
    obj = {'a': a, 't': a.T, 'row': a[1], 'cols': a[:, 1::2], 'det': a.detach(), 'other': other,
           'bcast': npnn.ones(3).expand(2, 3)}
    buf = io.BytesIO()
    npnn.save(obj, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        storages = [n for n in z.namelist() if '/data/' in n]
    assert len(storages) == 3  # a and its views; other; the broadcast's 3 elements
    r = npnn.load(io.BytesIO(buf.getvalue()))
    for k in ('a', 't', 'row', 'cols', 'det', 'other', 'bcast'):
        assert r[k].shape == obj[k].shape and np.array_equal(r[k].numpy(), obj[k].numpy()), k
    assert r['t'].stride() == (1, 4) and r['cols'].stride() == (4, 2)
    r['a'].add_(100)  # views of one storage stay views of each other
    assert np.array_equal(r['row'].numpy(), np.arange(4.0, 8.0) + 100)
    assert np.array_equal(r['t'].numpy(), np.arange(12.0).reshape(3, 4).T + 100)
    assert float(r['det'][0, 0]) == 100 and float(r['other'].sum()) == 0 and float(a.sum()) == 66
    r['bcast'].add_(1)  # a zero-stride view loads as its own writable copy
    assert np.array_equal(r['bcast'].numpy(), np.full((2, 3), 2.0))


def test_fortran_ordered_buffers_are_stored_in_memory_order():
    f = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    buf = io.BytesIO()
    npnn.save([npnn.Tensor._make(f), npnn.Tensor._make(f[1])], buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert z.read('archive/data/0') == f.T.astype('<f8').tobytes() and 'archive/data/1' not in z.namelist()
    buf.seek(0)
    r = npnn.load(buf)
    assert r[0].stride() == (1, 3) and np.array_equal(r[0].numpy(), f) and r[1].tolist() == [4, 5, 6, 7]


def test_every_dtype_shape_and_requires_grad_round_trip():
    dts = [npnn.float16, npnn.float32, npnn.float64, npnn.int8, npnn.int16, npnn.int32, npnn.int64, npnn.uint8,
           npnn.bool, npnn.complex64, npnn.complex128]
    obj = {str(d): (npnn.arange(6).reshape(2, 3) % 2).to(d) for d in dts}
    obj.update(scalar=npnn.tensor(2.5, dtype=npnn.float64), empty=npnn.zeros(0, 3, dtype=npnn.int32),
               leaf=npnn.ones(2, requires_grad=True), nonleaf=npnn.ones(2, requires_grad=True) * 3,
               frozen=nn.Parameter(npnn.ones(1), requires_grad=False), flipped=npnn.arange(5.0).flip(0))
    buf = io.BytesIO()
    npnn.save(obj, buf)
    buf.seek(0)
    r = npnn.load(buf)
    for k, v in obj.items():
        assert r[k].dtype == v.dtype and r[k].shape == v.shape
        assert np.array_equal(r[k].detach().numpy(), v.detach().numpy())
    assert r['leaf'].requires_grad and r['leaf'].is_leaf and r['nonleaf'].requires_grad and r['nonleaf'].is_leaf
    assert type(r['frozen']) is nn.Parameter and not r['frozen'].requires_grad
    assert not r[str(npnn.float32)].requires_grad


def test_pickle_protocols_and_unseekable_output():
    class Sink(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def seekable(self):
            return False

        def write(self, b):
            self.chunks.append(bytes(b))
            return len(b)
    for protocol in (2, 4, 5):
        buf = io.BytesIO()
        npnn.save({'w': npnn.arange(3.0), 'n': 1}, buf, pickle_protocol=protocol)
        buf.seek(0)
        r = npnn.load(buf)
        assert r['n'] == 1 and np.array_equal(r['w'].numpy(), [0, 1, 2])
    sink = Sink()
    npnn.save([npnn.arange(4.0).reshape(2, 2)], sink)
    r = npnn.load(io.BytesIO(b''.join(sink.chunks)))
    assert np.array_equal(r[0].numpy(), [[0, 1], [2, 3]])


class _Tagged(npnn.Tensor):
    pass


def test_tensor_attributes_and_subclasses(tmp_path):
    t = npnn.arange(3.0)
    t.note = 'kept'
    buf = io.BytesIO()
    npnn.save(t, buf)
    buf.seek(0)
    r = npnn.load(buf)
    assert r.note == 'kept' and np.array_equal(r.numpy(), [0, 1, 2]) and type(r) is npnn.Tensor
    s = _Tagged.__new__(_Tagged)
    s._init_leaf(np.arange(2.0), False)
    npnn.save({'s': s}, tmp_path / 's.pt')
    with pytest.raises(pickle.UnpicklingError, match='_Tagged'):
        npnn.load(tmp_path / 's.pt')
    r = npnn.load(tmp_path / 's.pt', weights_only=False)['s']
    assert type(r) is _Tagged and np.array_equal(r.numpy(), [0, 1])


def test_saved_state_cannot_overwrite_tensor_internals(tmp_path):
    t = npnn.ones(2)
    t.harmless = 1
    buf = io.BytesIO()
    npnn.save(t, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    # rename the attribute to '_data' (same length) so the state would replace the tensor's array
    entries['archive/data.pkl'] = entries['archive/data.pkl'].replace(b'harmless', b'_data\x00\x00\x00')
    pkl = entries['archive/data.pkl']
    i = pkl.find(b'_data')
    entries['archive/data.pkl'] = pkl[:i - 4] + struct.pack('<I', 5) + b'_data' + pkl[i + 8:]
    with zipfile.ZipFile(tmp_path / 'bad.pt', 'w') as z:
        for n, d in entries.items():
            z.writestr(n, d)
    with pytest.raises(RuntimeError, match="may not set '_data'"):
        npnn.load(tmp_path / 'bad.pt')


def test_map_location_callable_sees_each_tensor_of_a_shared_storage():
    a = npnn.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    npnn.save([a, a[1]], buf)
    seen = []

    def fn(t, loc):
        seen.append((tuple(t.shape), loc))
        return t * 2
    buf.seek(0)
    r = npnn.load(buf, map_location=fn)
    assert seen == [((2, 3), 'cpu'), ((3,), 'cpu')]
    assert np.array_equal(r[1].numpy(), [6, 8, 10])


def test_deeply_nested_modules_save_like_pickle_does():
    import sys
    lin = m = nn.Linear(2, 2)
    for _ in range(150):  # pickle.dumps manages this depth; the writer must too
        m = nn.Sequential(m)
    pickle.dumps(m, 2)
    limit = sys.getrecursionlimit()
    buf = io.BytesIO()
    npnn.save(m, buf)
    assert sys.getrecursionlimit() == limit
    buf.seek(0)
    r = npnn.load(buf, weights_only=False)
    inner = r
    for _ in range(150):
        inner = inner[0]
    assert type(inner) is nn.Linear and np.array_equal(inner.weight.detach().numpy(), lin.weight.detach().numpy())


# --- the first npnn format ---------------------------------------------------------------------------------------

def _check_legacy_object(r):
    sd = r['sd']
    assert type(sd) is OrderedDict and list(sd) == ['w', 'n', 'p', 'h', 'b', 'c']
    assert np.array_equal(sd['w'].numpy(), np.arange(6.0).reshape(2, 3)) and r['same'] is sd['w']
    assert sd['n'].dtype == npnn.int64 and sd['n'].shape == () and int(sd['n']) == 7
    assert type(sd['p']) is nn.Parameter and sd['p'].requires_grad and sd['p'].tolist() == [0.5, -1.5]
    assert sd['h'].dtype == npnn.float16 and sd['h'].tolist() == [1, 2]
    assert sd['b'].dtype == npnn.bool and sd['b'].tolist() == [True, False]
    assert sd['c'].dtype == npnn.complex64 and sd['c'].tolist() == [1 + 2j]
    assert r['arr'].dtype == np.int16 and r['arr'].tolist() == [0, 1, 2]
    assert r['dtype'] is npnn.int32 and r['dev'] == npnn.device('cpu') and type(r['size']) is npnn.Size
    assert r['misc'] == [1, 2.5, None, ('x', b'raw')] and r['g'].requires_grad and r['g'].is_leaf


def test_files_of_the_first_npnn_format_still_load(tmp_path):
    raw = zlib.decompress(base64.b64decode(_LEGACY_FILE))
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert 'npnn_archive/data.pkl' in z.namelist()
    path = tmp_path / 'old.pt'
    path.write_bytes(raw)
    _check_legacy_object(npnn.load(path))
    _check_legacy_object(npnn.load(path, map_location='cpu', weights_only=False))
    # the same object written today by the kept legacy writer reads back the same
    r = npnn.load(path)
    buf = io.BytesIO()
    save_legacy(r, buf)
    buf.seek(0)
    _check_legacy_object(npnn.load(buf))
    # and the legacy reader keeps refusing code
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))
    save_legacy({'x': Evil()}, tmp_path / 'evil.pt')
    with pytest.raises(pickle.UnpicklingError, match='system'):
        npnn.load(tmp_path / 'evil.pt')
    assert not marker.exists()


# an archive written by the first npnn format (before save wrote PyTorch's format), zlib-compressed:
# {'sd': OrderedDict(w=arange(6.).reshape(2, 3), n=tensor(7), p=Parameter([0.5, -1.5]), h=float16 [1, 2],
#  b=[True, False], c=complex64 [1+2j]), 'same': sd['w'], 'arr': int16 array [0, 1, 2], 'dtype': npnn.int32,
#  'dev': device('cpu'), 'size': Size([2, 3]), 'misc': [1, 2.5, None, ('x', b'raw')], 'g': ones(2, requires_grad=True)}
_LEGACY_FILE = (
    b"eNp9lElv00AUx52lS1z27uxQlrRA2qwF2pIARSBFKknKwZcSOfZQW3XsPMdNm0pIKVIieivfgAOIL8AJiUV8Aw70jMSh4sgNJA7MjGNZGTl1MpnJ"
    b"0/v/5nnmr5fLBoJDHHmM91sry//yq368JoNE9YquF0VTUtQamq4hs6oaepTPdWiaCz/He/GajBFWU6pbyDBlZGqqZWmoU4mUP38/4q3IGGaVsmiJ"
    b"kcqa1vA/By4skIqqMvgkydA0JFm4kCr/mJCRvKhKFg/+yQIEwoIPJ25AMCyQeiykVw0Temh0BnqFPjw/0wzRisegL+vPBlrQLwRwUKqsQ2iHip7Y"
    b"It6CgTwV6nAorNiMKBwWevCs6lYqAUcmldCOghOP2okVOOYkxuC4gjdowgkl9FII4UhONMUyspAJgxYM2QIFhh1BHEbc6qIpGCXisTZ/3E4vwUkn"
    b"PQGnhCAJGYYGp0numXbuWTtXgnNObhLO0woko1zR0CYu/ELW14SLbcFEfp2iqrg8uKTglyYHIpomXA7TknQZ/xHrcIXSUnCVJsyrMQhnA02YtGAq"
    b"T09FtuoVBNckcpGRkiitIV2O0GCVL5bqRR3vwMN15wTxHdxoQqQA0xQooxrMMFpUUyXEtyeIKqGlFsQKELcLVrcQJGyFfdP8Mg7xkLRvNtWE2W24"
    b"SXPLalWCWytwO5z1PcwEqQe5JfpCmzAnFSVDRlKVRzpZ8DBPKzLFDVigntBES9WjcKcF6QJkWnAXUekq3HMOeRbu2xe+iC+cHOuD/Hqk0++ju/uv"
    b"xvCajEEvv0/P2HU10vgng794NPB4nekEVfb2jX687u8KivbZJK5TWN7Z2DtYGMNRvPuXz53CzRe/tsihBbsK49w8x5T5aeKr4HQTb1HCxxRYe5uO"
    b"HFxg0jmeTuHim0dzThfyFqY4zodL6ZTt5nu/H7zfrL1fI53L+vxDge690nkaxA2enZMlsJ3TJSS69lGWwfZQl6F366gsgrWli3ga8DQpC2Dt6ALe"
    b"eQKiLIC1pQv44QmIsQDWni5gPOhpVhbAWtUFLHkCEiyANa4L2PYEJFkAa2AX8METkGIBrJVdwG9PwGwu20M24wbw5xt+8SnSlrn/iWzfbg==")


# --- safetensors -------------------------------------------------------------------------------------------------

def _read_header(path):
    raw = path.read_bytes()
    (n,) = struct.unpack('<Q', raw[:8])
    return raw, n, json.loads(raw[8:8 + n])


def test_safetensors_round_trip_and_layout(tmp_path):
    sd = OrderedDict([('w', npnn.randn(3, 4)), ('b', npnn.arange(5)), ('h', npnn.ones(2, dtype=npnn.float16)),
                      ('flag', npnn.tensor([True, False, True])), ('s', npnn.tensor(2.5, dtype=npnn.float64)),
                      ('e', npnn.zeros(0, 3))])
    path = tmp_path / 'm.safetensors'
    npnn.save_safetensors(sd, path, metadata={'format': 'pt'})
    raw, n, header = _read_header(path)
    assert n % 8 == 0 and raw[8:9] == b'{'
    assert header['__metadata__'] == {'format': 'pt'}
    assert header['w'] == {'dtype': 'F32', 'shape': [3, 4], 'data_offsets': [0, 48]}
    assert header['b']['dtype'] == 'I64' and header['h']['dtype'] == 'F16' and header['flag']['dtype'] == 'BOOL'
    assert header['s'] == {'dtype': 'F64', 'shape': [], 'data_offsets': header['s']['data_offsets']}
    data = raw[8 + n:]
    assert data[:48] == sd['w'].numpy().astype('<f4').tobytes()
    assert max(v['data_offsets'][1] for k, v in header.items() if k != '__metadata__') == len(data)
    back, meta = npnn.load_safetensors(path, with_metadata=True)
    assert list(back) == list(sd) and meta == {'format': 'pt'}
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape
        assert np.array_equal(back[k].numpy(), sd[k].numpy())
    m = Small()
    npnn.save_safetensors(m.state_dict(), tmp_path / 'model.safetensors')
    m2 = Small()
    m2.load_state_dict(npnn.load_safetensors(tmp_path / 'model.safetensors'))
    assert np.array_equal(m.weight.detach().numpy(), m2.weight.detach().numpy())


def test_safetensors_rejects_invalid_files(tmp_path):
    def write(header, data=b''):
        hb = json.dumps(header).encode()
        p = tmp_path / 'bad.safetensors'
        p.write_bytes(struct.pack('<Q', len(hb)) + hb + data)
        return p
    cases = [
        ({'a': {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 4]}}, b'\0' * 4, 'need 8'),
        ({'a': {'dtype': 'Q7', 'shape': [1], 'data_offsets': [0, 4]}}, b'\0' * 4, 'unsupported dtype'),
        ({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]},
          'b': {'dtype': 'F32', 'shape': [1], 'data_offsets': [2, 6]}}, b'\0' * 6, 'overlapping'),
        ({'a': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}, b'\0' * 8, 'covers 4'),
        ({'a': {'dtype': 'F32', 'shape': [-1], 'data_offsets': [0, 4]}}, b'\0' * 4, 'invalid shape'),
        ({'a': {'dtype': 'F32', 'shape': [1]}}, b'\0' * 4, 'exactly dtype'),
    ]
    for header, data, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            npnn.load_safetensors(write(header, data))
    p = tmp_path / 'junk.safetensors'
    p.write_bytes(struct.pack('<Q', 5) + b'{nope')
    with pytest.raises(RuntimeError, match='not valid JSON'):
        npnn.load_safetensors(p)
    p.write_bytes(struct.pack('<Q', 1000) + b'{}')
    with pytest.raises(RuntimeError, match='truncated'):
        npnn.load_safetensors(p)
    p.write_bytes(b'\x01\x02')
    with pytest.raises(RuntimeError, match='shorter'):
        npnn.load_safetensors(p)
    with pytest.raises(TypeError):
        npnn.save_safetensors({'a': [1, 2]}, tmp_path / 'x.safetensors')


def test_safetensors_cross_check_with_reference_implementation(tmp_path):
    st = pytest.importorskip('safetensors.numpy')
    ours = OrderedDict([('w', npnn.randn(4, 3)), ('i', npnn.arange(6, dtype=npnn.int32).reshape(2, 3)),
                        ('d', npnn.randn(2, dtype=npnn.float64))])
    p1 = tmp_path / 'ours.safetensors'
    npnn.save_safetensors(ours, p1, metadata={'k': 'v'})
    theirs = st.load_file(str(p1))
    for k, v in ours.items():
        assert theirs[k].dtype == v.numpy().dtype and np.array_equal(theirs[k], v.numpy())
    p2 = tmp_path / 'theirs.safetensors'
    st.save_file({'x': np.arange(12, dtype=np.float32).reshape(3, 4), 'y': np.array([1, 2], np.uint8)}, str(p2),
                 metadata={'a': 'b'})
    back, meta = npnn.load_safetensors(p2, with_metadata=True)
    assert np.array_equal(back['x'].numpy(), np.arange(12).reshape(3, 4)) and back['y'].dtype == npnn.uint8
    assert meta == {'a': 'b'}


# --- PyTorch checkpoints -----------------------------------------------------------------------------------------

def test_loads_pytorch_checkpoints(tmp_path):
    torch = pytest.importorskip('torch')
    lin = torch.nn.Linear(3, 2)
    bn = torch.nn.BatchNorm1d(2)
    obj = {'model': lin.state_dict(), 'bn': bn.state_dict(), 'p': torch.nn.Parameter(torch.ones(2)),
           'dtype': torch.float16, 'device': torch.device('cpu'), 'size': torch.Size([2, 3]),
           'view': torch.arange(6.0).reshape(2, 3).t(), 'slice': torch.arange(10)[3:7], 'empty': torch.zeros(0, 3),
           'int': torch.tensor([1, 2], dtype=torch.int16), 'list': [1, 'a', (2.5, None)], 'epoch': 4}
    obj['same'] = obj['view']
    path = tmp_path / 'torch.pt'
    torch.save(obj, path)
    r = npnn.load(path)
    assert list(r['model']) == ['weight', 'bias'] and type(r['model']) is OrderedDict
    assert np.array_equal(r['model']['weight'].numpy(), lin.weight.detach().numpy())
    assert r['bn']['num_batches_tracked'].dtype == npnn.int64 and r['bn']['num_batches_tracked'].shape == ()
    assert type(r['p']) is nn.Parameter and r['p'].requires_grad
    assert r['dtype'] is npnn.float16 and r['device'] == npnn.device('cpu') and r['size'] == (2, 3)
    assert np.array_equal(r['view'].numpy(), np.arange(6.0).reshape(2, 3).T) and r['same'] is r['view']
    assert np.array_equal(r['slice'].numpy(), [3, 4, 5, 6]) and r['empty'].shape == (0, 3)
    assert r['int'].dtype == npnn.int16 and r['list'] == [1, 'a', (2.5, None)] and r['epoch'] == 4
    # a PyTorch state dict loads into the same npnn architecture
    m = Small()
    ref = torch.nn.Linear(2, 3)
    sd = OrderedDict(weight=ref.weight.detach(), bias=ref.bias.detach(), count=torch.tensor(9))
    torch.save(sd, tmp_path / 'sd.pt')
    m.load_state_dict(npnn.load(tmp_path / 'sd.pt', map_location='cpu'))
    assert int(m.count) == 9 and np.array_equal(m.weight.detach().numpy(), ref.weight.detach().numpy())


def test_pytorch_checkpoint_with_code_is_refused_and_bad_storage_detected(tmp_path):
    torch = pytest.importorskip('torch')
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))
    torch.save({'w': torch.ones(2), 'x': Evil()}, tmp_path / 'evil.pt')
    with pytest.raises(pickle.UnpicklingError, match='system'):
        npnn.load(tmp_path / 'evil.pt')
    assert not marker.exists()
    # a storage shorter than its tensor needs: refused before any out-of-bounds view is made
    torch.save({'w': torch.arange(100.0)}, tmp_path / 'ok.pt')
    with zipfile.ZipFile(tmp_path / 'ok.pt') as z, zipfile.ZipFile(tmp_path / 'short.pt', 'w') as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename.endswith('/data/0'):
                data = data[:40]
            out.writestr(info.filename, data)
    with pytest.raises(RuntimeError, match='past the end of its storage'):
        npnn.load(tmp_path / 'short.pt')
