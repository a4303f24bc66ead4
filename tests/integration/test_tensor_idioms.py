"""Everyday tensor idioms from PyTorch scripts, on npnn and on PyTorch."""
import numpy as np
import pytest

from .helpers import backends, get


def idioms(torch):
    nn = torch.nn
    F = torch.nn.functional
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision('high')
    torch.set_num_threads(1)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    out = {}

    x = torch.randn(4, 3, 5, 5).to(device)
    flat = x.view(x.size(0), -1)
    out['flat'] = tuple(flat.shape)
    out['cat'] = tuple(torch.cat([flat, flat], dim=1).shape)
    out['stack'] = tuple(torch.stack([flat, flat]).shape)

    scores = torch.tensor([[0.1, 0.9, 0.3], [0.8, 0.05, 0.7]], device=device)
    mask = scores < 0.5
    out['masked_fill'] = scores.masked_fill(mask, float('-inf')).softmax(dim=-1).tolist()
    idx = torch.tensor([[1], [0]], device=device)
    out['gather'] = scores.gather(1, idx).squeeze(1).tolist()
    vals, inds = scores.topk(2, dim=1)
    out['topk'] = (vals.tolist(), inds.tolist())
    out['argmax'] = scores.argmax(dim=1).tolist()
    out['item'] = scores.sum().item()
    out['bool_mask'] = scores[scores > 0.5].tolist()
    out['where'] = torch.where(scores > 0.5, scores, torch.zeros_like(scores)).tolist()
    out['where_scalar'] = torch.where(scores > 0.5, scores, 0.0).tolist()
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = torch.from_numpy(a)
    a[0, 0] = 100.0
    out['from_numpy_shared'] = t[0, 0].item()
    out['numpy_dtype'] = str(t.numpy().dtype)
    out['einsum'] = torch.einsum('bij,bjk->bik', torch.ones(2, 2, 3), torch.ones(2, 3, 4)).shape
    out['einsum_trace'] = torch.einsum('ii', torch.eye(3)).item()

    labels = torch.tensor([0, 2, 1])
    out['one_hot'] = F.one_hot(labels, num_classes=4).tolist()
    out['one_hot_dtype'] = str(F.one_hot(labels).dtype).replace('torch.', '').replace('npnn.', '')
    img = torch.arange(16.).view(1, 1, 4, 4)
    out['interp_nearest'] = F.interpolate(img, scale_factor=2, mode='nearest').shape
    out['interp_bilinear'] = F.interpolate(img, size=(6, 6), mode='bilinear',
                                          align_corners=False)[0, 0, 0].tolist()

    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 2)).to(device)

    def init_fn(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    model.apply(init_fn)
    out['bias_zero'] = all(m.bias.abs().sum().item() == 0 for m in model.modules() if isinstance(m, nn.Linear))

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim == 1 or name.endswith('.bias'):
            no_decay.append(p)
        else:
            decay.append(p)
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=1e-2)
    out['groups'] = (len(decay), len(no_decay))

    inp = torch.randn(16, 5, device=device)
    target = torch.randint(0, 2, (16,), device=device)
    losses = []
    use_amp = device.type == 'cuda'
    scaler = torch.amp.GradScaler(enabled=use_amp)
    for _ in range(30):
        opt.zero_grad()
        with torch.autocast(device_type=device.type, enabled=use_amp):
            loss = F.cross_entropy(model(inp), target)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    out['norm_is_tensor'] = torch.is_tensor(norm)
    out['loss_drop'] = losses[-1] < losses[0]

    with torch.set_grad_enabled(False):
        y = model(inp)
    out['no_grad_requires'] = y.requires_grad
    torch.set_grad_enabled(True)
    out['grad_back_on'] = model(inp).requires_grad

    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
            p.add_(torch.randn_like(p) * 0.0)
    out['leaf_after_inplace'] = all(p.is_leaf and p.grad_fn is None for p in model.parameters())

    counts = torch.bincount(torch.tensor([0, 1, 1, 3]))
    out['bincount'] = counts.tolist()
    out['long_div'] = (torch.tensor([7, 8]) // 2).tolist()
    out['true_div_dtype'] = str((torch.tensor([7, 8]) / 2).dtype).split('.')[-1]
    out['sum_int_dtype'] = str(torch.tensor([True, False, True]).sum().dtype).split('.')[-1]
    out['mean_dim'] = torch.arange(6.).reshape(2, 3).mean(dim=(0, 1), keepdim=True).shape
    m, i = torch.tensor([[1., 5.], [7., 2.]]).max(dim=1)
    out['max_dim'] = (m.tolist(), i.tolist())
    out['size_tuple'] = x.size() == (4, 3, 5, 5) and x.size(-1) == 5 and x.shape[1:] == (3, 5, 5)
    out['repr_ok'] = 'tensor(' in repr(torch.tensor([1.0]))
    out['int_index'] = int(torch.tensor(3)) + float(torch.tensor(1.5))
    out['list_index'] = torch.arange(10)[[1, 3, 5]].tolist()
    out['neg_index'] = torch.arange(10)[-3:].tolist()
    out['clone_detach'] = torch.ones(2, requires_grad=True).clone().detach().requires_grad
    z = torch.zeros(3, 4)
    z[:, 1] = 1.0
    z[0] += torch.ones(4)
    z[z > 1.5] = -1
    out['setitem'] = z.tolist()
    out['chunk'] = [c.shape for c in torch.arange(10).chunk(3)]
    out['split'] = [c.tolist() for c in torch.arange(5).split([2, 3])]
    out['expand_repeat'] = (torch.ones(3, 1).expand(-1, 4).shape, torch.ones(2, 3).repeat(2, 1).shape)
    out['permute_contig'] = torch.randn(2, 3, 4).permute(2, 0, 1).contiguous().view(4, -1).shape
    out['type'] = torch.ones(2).type().split('.')[-1], torch.ones(2).long().dtype == torch.int64
    out['seed_repro'] = _seed_check(torch)
    out['finfo'] = (torch.finfo(torch.float32).eps, torch.iinfo(torch.int64).max)
    out['legacy'] = (torch.FloatTensor([1, 2]).dtype == torch.float32, torch.LongTensor([1]).dtype == torch.int64)
    return out


def _seed_check(torch):
    torch.manual_seed(123)
    a = torch.rand(3)
    torch.manual_seed(123)
    b = torch.rand(3)
    return torch.equal(a, b) and torch.allclose(a, b)


def _norm(v):
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, (list, tuple)):
        return type(v)(_norm(x) for x in v) if not hasattr(v, '_fields') else tuple(_norm(x) for x in v)
    return v


@pytest.mark.parametrize('lib', backends())
def test_tensor_idioms(lib):
    torch = get(lib)
    out = idioms(torch)
    assert out['flat'] == (4, 75)
    assert out['cat'] == (4, 150)
    assert out['stack'] == (2, 4, 75)
    assert out['gather'] == pytest.approx([0.9, 0.8])
    assert out['argmax'] == [1, 0]
    assert out['from_numpy_shared'] == 100.0
    assert out['numpy_dtype'] == 'float32'
    assert tuple(out['einsum']) == (2, 2, 4)
    assert out['einsum_trace'] == 3.0
    assert out['one_hot'][1] == [0, 0, 1, 0]
    assert out['one_hot_dtype'] == 'int64'
    assert tuple(out['interp_nearest']) == (1, 1, 8, 8)
    assert out['bias_zero'] and out['groups'] == (2, 4)
    assert out['norm_is_tensor'] and out['loss_drop']
    assert out['no_grad_requires'] is False and out['grad_back_on'] is True
    assert out['leaf_after_inplace']
    assert out['bincount'] == [1, 2, 0, 1]
    assert out['long_div'] == [3, 4]
    assert out['true_div_dtype'] == 'float32'
    assert out['sum_int_dtype'] == 'int64'
    assert tuple(out['mean_dim']) == (1, 1)
    assert out['max_dim'] == ([5.0, 7.0], [1, 0])
    assert out['size_tuple'] and out['repr_ok']
    assert out['int_index'] == 4.5
    assert out['list_index'] == [1, 3, 5] and out['neg_index'] == [7, 8, 9]
    assert out['clone_detach'] is False
    assert out['setitem'][0] == [1.0, -1.0, 1.0, 1.0]
    assert [tuple(s) for s in out['chunk']] == [(4,), (4,), (2,)]
    assert out['split'] == [[0, 1], [2, 3, 4]]
    assert out['type'][1]
    assert out['seed_repro']
    assert out['finfo'] == (2.0 ** -23, 2 ** 63 - 1)
    assert out['legacy'] == (True, True)


def test_tensor_idioms_match_torch():
    torch = get('torch')
    import npnn
    a = idioms(npnn)
    b = idioms(torch)
    for key in ['masked_fill', 'topk', 'item', 'bool_mask', 'where', 'where_scalar', 'interp_bilinear',
                'setitem', 'type']:
        assert _norm(a[key]) == _norm(b[key]), key
