"""Small idioms scattered through PyTorch scripts: x.new_zeros/new_ones/new_full/new_tensor,
zeros_like(x, dtype=...), type_as, item/tolist, manual_seed reproducibility, a seeded torch.Generator
passed to randperm/rand/DataLoader/random_split, @torch.no_grad() and @torch.inference_mode() as
decorators, set_grad_enabled as a function and a context manager, enable_grad inside no_grad,
model.apply, requires_grad_(False) freezing, parameters_to_vector, a training loop on a frozen backbone.
Everything deterministic matches PyTorch."""
import numpy as np
import pytest

from .helpers import get


def idioms(torch):
    nn = torch.nn
    out = {}
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    out['new_zeros'] = (x.new_zeros(2, 2).tolist(), str(x.new_zeros((1,)).dtype).split('.')[-1])
    out['new_ones'] = x.new_ones((3,)).tolist()
    out['new_full'] = x.new_full((2,), 7).tolist()
    out['new_tensor'] = (x.new_tensor([1, 2]).tolist(), str(x.new_tensor([1, 2]).dtype).split('.')[-1])
    out['new_empty'] = tuple(x.new_empty(4).shape)
    out['zeros_like_dtype'] = str(torch.zeros_like(x, dtype=torch.long).dtype).split('.')[-1]
    out['ones_like'] = torch.ones_like(x[0], dtype=torch.bool).tolist()
    out['full_like'] = torch.full_like(x, 0.5)[1].tolist()
    i = torch.tensor([1, 2])
    out['type_as'] = (i.type_as(x).tolist(), str(i.type_as(x).dtype).split('.')[-1])
    out['item'] = (x.sum().item(), x.max().item(), type(x[0, 0].item()).__name__, type(i[0].item()).__name__)
    out['tolist_scalar'] = x[1, 2].tolist()
    out['float_int'] = (float(x[1, 1]), int(x[1, 2]), bool(x[0, 1]))
    out['shape_ops'] = (x.size(), x.size(-1), x.shape[0], len(x), x.dim(), x.numel(), list(x.shape))

    torch.manual_seed(123)
    a = torch.rand(3).tolist()
    torch.manual_seed(123)
    b = torch.rand(3).tolist()
    out['seed_repro'] = a == b
    g = torch.Generator().manual_seed(7)
    p1 = torch.randperm(10, generator=g).tolist()
    g2 = torch.Generator()
    g2.manual_seed(7)
    out['gen_repro'] = p1 == torch.randperm(10, generator=g2).tolist() and sorted(p1) == list(range(10))
    out['gen_state'] = g.initial_seed()
    ds = torch.utils.data.TensorDataset(torch.arange(10.))
    tr, va = torch.utils.data.random_split(ds, [8, 2], generator=torch.Generator().manual_seed(0))
    tr2, va2 = torch.utils.data.random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(0))
    out['split'] = (len(tr), len(va), list(tr.indices) == list(tr2.indices),
                    sorted(list(tr.indices) + list(va.indices)) == list(range(10)))

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.1)
            m.bias.data.fill_(-0.05)
    model.apply(init)

    @torch.no_grad()
    def evaluate(m, inp):
        return m(inp)

    @torch.inference_mode()
    def infer(m, inp):
        return m(inp)

    r = evaluate(model, x)
    out['no_grad_deco'] = (r.requires_grad, r.squeeze(1).tolist())
    out['inference_deco'] = infer(model, x).requires_grad
    torch.set_grad_enabled(False)
    out['set_grad_fn'] = (torch.is_grad_enabled(), model(x).requires_grad)
    torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        inside = model(x).requires_grad
    out['set_grad_ctx'] = (inside, torch.is_grad_enabled())
    with torch.no_grad():
        with torch.enable_grad():
            out['enable_inside'] = model(x).requires_grad
    y = x.clone().requires_grad_()
    z = (y * 2).detach()
    out['detach'] = (z.requires_grad, y.requires_grad, y.is_leaf)

    for p in model[0].parameters():
        p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(trainable, lr=0.1)
    losses = []
    for step in range(5):
        loss = ((model(x).squeeze(-1) - torch.tensor([1.0, -1.0])) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 5))
    out['frozen'] = (model[0].weight.grad is None, round(model[0].weight.sum().item(), 5), len(trainable))
    out['losses'] = losses
    vec = nn.utils.parameters_to_vector(model.parameters())
    out['vec'] = [round(v, 5) for v in vec.tolist()]
    out['num_params'] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out['device'] = (str(x.device), x.is_cuda, next(model.parameters()).device.type)
    out['contig'] = (x.t().is_contiguous(), x.t().contiguous().is_contiguous())
    out['eq'] = (torch.equal(x, x.clone()), (x == x).all().item(), x.allclose(x + 1e-9))
    return out


@pytest.mark.parametrize('lib', ['npnn', 'torch'])
def test_mixed_idioms_run(lib):
    r = idioms(get(lib))
    assert r['seed_repro'] and r['gen_repro']
    assert r['no_grad_deco'][0] is False and r['inference_deco'] is False
    assert r['set_grad_fn'] == (False, False) and r['set_grad_ctx'] == (False, True)
    assert r['enable_inside'] is True
    assert r['frozen'][0] is True


def test_mixed_idioms_match_torch():
    ref = idioms(get('torch'))
    import npnn
    got = idioms(npnn)
    for k in ref:
        if k == 'shape_ops':
            assert tuple(got[k][0]) == tuple(ref[k][0]) and got[k][1:] == ref[k][1:], k
        else:
            assert got[k] == ref[k], k
