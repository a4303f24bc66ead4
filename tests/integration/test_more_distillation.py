"""Knowledge distillation: a teacher with BatchNorm and Dropout held in eval mode and queried under
torch.no_grad() and torch.inference_mode(); a student trained on KLDivLoss(batchmean) between
log_softmax(student/T) and softmax(teacher/T) scaled by T^2, mixed with hard-label cross-entropy.
F.kl_div with log_target=True gives the same value. Same weights and data as PyTorch, same run."""
import numpy as np
import pytest

from .helpers import get

T = 3.0


def _data():
    rng = np.random.RandomState(0)
    return [(rng.randn(16, 10).astype(np.float32), rng.randint(0, 5, 16).astype(np.int64)) for _ in range(10)]


def run(torch, state, batches):
    nn = torch.nn
    F = torch.nn.functional
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(10, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 5))
    student = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 5))
    if state is not None:
        teacher.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state[0].items()})
        student.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state[1].items()})
    # give the teacher non-trivial running statistics
    with torch.no_grad():
        teacher[1].running_mean.uniform_(-0.5, 0.5) if state is None else None
        teacher[1].running_var.fill_(1.5)
    init = tuple({k: v.detach().numpy().copy() for k, v in m.state_dict().items()} for m in (teacher, student))
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    kl = nn.KLDivLoss(reduction='batchmean')
    opt = torch.optim.RMSprop(student.parameters(), lr=1e-2, alpha=0.9)
    losses, checks = [], []
    for i, (x, y) in enumerate(batches):
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        if i % 2:
            with torch.inference_mode():
                t_logits = teacher(x)
        else:
            with torch.no_grad():
                t_logits = teacher(x)
        s_logits = student(x)
        soft = kl(F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1)) * (T * T)
        same = F.kl_div(F.log_softmax(s_logits / T, dim=-1), F.log_softmax(t_logits / T, dim=-1),
                        reduction='batchmean', log_target=True) * T ** 2
        checks.append(abs(soft.item() - same.item()))
        loss = 0.7 * soft + 0.3 * F.cross_entropy(s_logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        x = torch.from_numpy(batches[0][0])
        agree = (student(x).argmax(1) == teacher(x).argmax(1)).sum().item()
    final = {k: v.detach().numpy().copy() for k, v in student.state_dict().items()}
    t_final = {k: v.detach().numpy().copy() for k, v in teacher.state_dict().items()}
    return dict(init=init, losses=losses, checks=checks, agree=agree, final=final, t_final=t_final,
                t_grad=t_logits.requires_grad, t_training=teacher.training)


def test_distillation_matches_torch():
    import npnn
    data = _data()
    ref = run(get('torch'), None, data)
    got = run(npnn, ref['init'], data)
    np.testing.assert_allclose(got['losses'], ref['losses'], rtol=2e-4, atol=2e-5)
    assert max(got['checks']) < 1e-5
    assert got['agree'] == ref['agree']
    assert got['t_grad'] is False and got['t_training'] is False
    for k in ref['final']:
        np.testing.assert_allclose(got['final'][k], ref['final'][k], rtol=2e-3, atol=2e-4, err_msg=k)
    # the teacher never changed: eval mode froze its running statistics
    for k, v in got['t_final'].items():
        np.testing.assert_array_equal(v, ref['init'][0][k], err_msg=k)
