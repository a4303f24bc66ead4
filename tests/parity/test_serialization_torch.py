"""npnn.save -> torch.load and torch.save -> npnn.load: values, dtypes, classes, requires_grad, shared storages."""
import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import npnn
from npnn import nn

torch = pytest.importorskip('torch')

_PAIRS = [(npnn.float16, torch.float16), (npnn.float32, torch.float32), (npnn.float64, torch.float64),
          (npnn.int8, torch.int8), (npnn.int16, torch.int16), (npnn.int32, torch.int32), (npnn.int64, torch.int64),
          (npnn.uint8, torch.uint8), (npnn.bool, torch.bool), (npnn.complex64, torch.complex64),
          (npnn.complex128, torch.complex128)]
_TO_TORCH = dict(_PAIRS)
_TO_NPNN = {t: n for n, t in _PAIRS}


def _npnn_to_torch(obj, **kw):
    buf = io.BytesIO()
    npnn.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, **kw)


def _torch_to_npnn(obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return npnn.load(buf, **kw)


def _values(rng, shape, nd):
    x = rng.standard_normal(shape) * 5
    if nd.kind == 'c':
        x = x + 1j * rng.standard_normal(shape)
    return (x > 0) if nd.kind == 'b' else x.astype(nd)


def _same(t, n):
    """torch tensor ``t`` equals npnn tensor ``n``: dtype, shape, values (bit-exact)."""
    assert t.dtype == _TO_TORCH[n.dtype] and tuple(t.shape) == tuple(n.shape)
    assert np.array_equal(t.detach().cpu().numpy(), n.detach().cpu().numpy())


@pytest.mark.parametrize('weights_only', [True, False])
def test_every_dtype_and_layout_opens_in_torch(device, weights_only):
    rng = np.random.default_rng(0)
    obj = {}
    for nd, _ in _PAIRS:
        base = npnn.tensor(_values(rng, (4, 6), nd.np), device=device)
        obj[f'{nd}'] = base
        obj[f'{nd}_t'] = base.T                        # non-contiguous view of the same storage
        obj[f'{nd}_step'] = base[1:, ::2]              # offset and strides
        obj[f'{nd}_0d'] = npnn.tensor(_values(rng, (), nd.np), device=device)
        obj[f'{nd}_empty'] = npnn.zeros(0, 3, dtype=nd, device=device)
    obj['flipped'] = npnn.arange(5.0, device=device).flip(0)
    obj['expanded'] = npnn.arange(3.0, device=device).expand(2, 3)
    seen = set()

    def where(storage, location):
        seen.add(location)
        return storage
    r = _npnn_to_torch(obj, weights_only=weights_only, map_location=where)
    assert seen == ({'cpu'} if device == 'cpu' else {str(obj['flipped'].device)})
    for k, v in obj.items():
        _same(r[k], v)
        assert type(r[k]) is torch.Tensor and not r[k].requires_grad
    for nd, _ in _PAIRS:
        base = r[f'{nd}']
        if base.numel():
            assert r[f'{nd}_t'].untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
            assert r[f'{nd}_step'].storage_offset() == 6 and r[f'{nd}_step'].stride() == (6, 2)
            assert r[f'{nd}_t'].stride() == (1, 6)
    assert r['expanded'].stride() == (0, 1)


def test_views_share_storage_in_torch_and_distinct_tensors_do_not():
    a = npnn.arange(12.0).reshape(3, 4)
    r = _npnn_to_torch({'a': a, 'row': a[1], 'col': a[:, 2], 'det': a.detach(), 'b': npnn.arange(12.0)},
                       weights_only=True)
    r['a'].add_(100)  # PyTorch sees one storage: writes through a show in its views
    assert r['row'].tolist() == [104.0, 105.0, 106.0, 107.0] and r['col'].tolist() == [102.0, 106.0, 110.0]
    assert r['det'][0, 0].item() == 100.0 and r['b'][0].item() == 0.0
    assert float(a.sum()) == 66.0


def test_parameters_and_requires_grad_as_in_torch():
    obj = {'p': nn.Parameter(npnn.tensor([1.0, 2.0])), 'frozen': nn.Parameter(npnn.ones(2), requires_grad=False),
           'leaf': npnn.ones(3, requires_grad=True), 'nonleaf': npnn.ones(3, requires_grad=True) * 2,
           'ints': npnn.arange(3), 'p64': nn.Parameter(npnn.zeros(2, dtype=npnn.float64))}
    obj['same'] = obj['p']
    mine = _npnn_to_torch(obj, weights_only=True)
    ref_obj = {'p': torch.nn.Parameter(torch.tensor([1.0, 2.0])),
               'frozen': torch.nn.Parameter(torch.ones(2), requires_grad=False),
               'leaf': torch.ones(3, requires_grad=True), 'nonleaf': torch.ones(3, requires_grad=True) * 2,
               'ints': torch.arange(3), 'p64': torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))}
    ref_obj['same'] = ref_obj['p']
    buf = io.BytesIO()
    torch.save(ref_obj, buf)
    buf.seek(0)
    ref = torch.load(buf, weights_only=True)
    for k in obj:
        assert type(mine[k]) is type(ref[k]), k
        assert mine[k].requires_grad == ref[k].requires_grad and mine[k].is_leaf == ref[k].is_leaf, k
        assert mine[k].dtype == ref[k].dtype and torch.equal(mine[k].detach(), ref[k].detach()), k
    assert mine['same'] is mine['p']


def test_state_dicts_and_optimizer_state_load_into_torch_models():
    npnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.BatchNorm1d(5), nn.Linear(5, 2))
    opt = npnn.optim.Adam(model.parameters(), lr=0.01)
    x = np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32)
    for _ in range(2):
        opt.zero_grad()
        model(npnn.tensor(x)).pow(2).mean().backward()
        opt.step()
    ck = _npnn_to_torch({'model': model.state_dict(), 'opt': opt.state_dict(), 'epoch': 2, 'betas': (0.9, 0.99),
                         'none': None, 'lr': 1e-3, 'dtype': npnn.float16, 'device': npnn.device('cpu'),
                         'size': npnn.Size([2, 3])}, weights_only=True)
    assert type(ck['model']) is OrderedDict and list(ck['model']) == list(model.state_dict())
    assert ck['model'][next(iter(ck['model']))].dtype == torch.float32
    assert ck['model']['2.num_batches_tracked'].dtype == torch.int64
    assert ck['epoch'] == 2 and ck['betas'] == (0.9, 0.99) and ck['none'] is None and ck['lr'] == 1e-3
    assert ck['dtype'] is torch.float16 and ck['device'] == torch.device('cpu')
    assert type(ck['size']) is torch.Size and ck['size'] == (2, 3)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.BatchNorm1d(5),
                                 torch.nn.Linear(5, 2))
    tmodel.load_state_dict(ck['model'])
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    topt.load_state_dict(ck['opt'])
    # one more step on each side from the saved state gives the same parameters
    opt.zero_grad()
    model(npnn.tensor(x)).pow(2).mean().backward()
    opt.step()
    topt.zero_grad()
    tmodel(torch.tensor(x)).pow(2).mean().backward()
    topt.step()
    for p, q in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    tmodel.eval()
    model.eval()
    np.testing.assert_allclose(model(npnn.tensor(x)).detach().numpy(), tmodel(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_torch_memory_maps_the_aligned_storages(tmp_path):
    w = npnn.tensor(np.random.default_rng(2).standard_normal((16, 9)).astype(np.float32))
    b = npnn.arange(7, dtype=npnn.int16)
    npnn.save({'w': w, 'b': b, 'wt': w.T}, tmp_path / 'm.pt')
    r = torch.load(tmp_path / 'm.pt', mmap=True, weights_only=True)
    _same(r['w'], w)
    _same(r['b'], b)
    _same(r['wt'], w.T)


def test_tensor_attributes_survive_both_ways():
    t = npnn.arange(3.0)
    t.tag = 'x'
    r = _npnn_to_torch(t, weights_only=True)
    assert r.tag == 'x' and r.tolist() == [0.0, 1.0, 2.0]
    tt = torch.arange(3.0)
    tt.tag = 'y'
    r2 = _torch_to_npnn(tt)
    assert r2.tag == 'y' and r2.tolist() == [0.0, 1.0, 2.0]


def test_npnn_only_objects_refused_by_torch_weights_only_and_read_back_by_npnn():
    m = nn.Linear(2, 3)
    arr = np.arange(4, dtype=np.int32)
    buf = io.BytesIO()
    npnn.save({'module': m, 'arr': arr}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)
    buf.seek(0)
    back = npnn.load(buf, weights_only=False)
    assert type(back['module']) is nn.Linear and isinstance(back['module'].weight, nn.Parameter)
    assert np.array_equal(back['module'].weight.detach().numpy(), m.weight.detach().numpy())
    assert back['arr'].dtype == np.int32 and back['arr'].tolist() == [0, 1, 2, 3]
    buf.seek(0)
    assert torch.load(buf, weights_only=False)['arr'].tolist() == [0, 1, 2, 3]
    buf = io.BytesIO()
    npnn.save({'arr': arr}, buf)
    buf.seek(0)
    assert npnn.load(buf)['arr'].tolist() == [0, 1, 2, 3]  # NumPy arrays are allowed by npnn's weights-only load


def test_torch_checkpoints_load_in_npnn_with_values_dtypes_and_views():
    rng = np.random.default_rng(3)
    obj = {}
    for nd, td in _PAIRS:
        base = torch.from_numpy(np.ascontiguousarray(_values(rng, (3, 5), nd.np)))
        obj[str(nd)] = base
        obj[f'{nd}_t'] = base.t()
        obj[f'{nd}_col'] = base[:, 3]
        obj[f'{nd}_0d'] = torch.tensor(_values(rng, (), nd.np))
    obj['p'] = torch.nn.Parameter(torch.ones(2))
    obj['frozen'] = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    obj['leaf'] = torch.ones(2, requires_grad=True)
    obj['expanded'] = torch.arange(3.0).expand(2, 3)
    for kw in ({}, {'weights_only': False}, {'map_location': 'cpu'}):
        r = _torch_to_npnn(obj, **kw)
        for k, v in obj.items():
            assert r[k].dtype == _TO_NPNN[v.dtype] and tuple(r[k].shape) == tuple(v.shape), k
            assert np.array_equal(r[k].detach().numpy(), v.detach().numpy()), k
    assert type(r['p']) is nn.Parameter and r['p'].requires_grad and not r['frozen'].requires_grad
    assert type(r['leaf']) is npnn.Tensor and r['leaf'].requires_grad
    base, col = r['npnn.float32'], r['npnn.float32_col']
    base.add_(1)  # PyTorch views of one storage stay views in npnn
    assert np.array_equal(col.numpy(), obj['npnn.float32_col'].numpy() + 1)
    assert np.array_equal(r['npnn.float32_t'].numpy(), obj['npnn.float32'].numpy().T + 1)


def test_round_trip_npnn_torch_npnn():
    sd = OrderedDict(w=npnn.randn(3, 4), b=npnn.arange(4), h=npnn.ones(2, dtype=npnn.float16))
    sd['v'] = sd['w'][1:]
    t = _npnn_to_torch(sd, weights_only=True)
    back = _torch_to_npnn(t)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and np.array_equal(back[k].numpy(), sd[k].numpy())
