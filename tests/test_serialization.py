"""npnn.save / npnn.load (weights-only safety, map_location, corruption) and the safetensors format."""
import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import npnn
from npnn import nn
from npnn.serialization import add_safe_globals, clear_safe_globals


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
    flipped[raw.find(b'npnn_archive/data/0') + 100] ^= 0xFF  # inside the tensor bytes: CRC mismatch
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
