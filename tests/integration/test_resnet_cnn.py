"""A ResNet-style CNN: BatchNorm2d, residual adds, AdaptiveAvgPool2d, Dropout, SGD with momentum and
nesterov, train/eval switching and no_grad inference."""
import pytest

from .helpers import backends, cached


def run(torch):
    nn = torch.nn
    F = torch.nn.functional

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNet(nn.Module):
        def __init__(self, num_classes=3):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                      nn.ReLU(inplace=True))
            self.layer1 = BasicBlock(8, 8)
            self.layer2 = BasicBlock(8, 16, stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(p=0.2)
            self.fc = nn.Linear(16, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def forward(self, x):
            x = self.layer2(self.layer1(self.stem(x)))
            x = torch.flatten(self.avgpool(x), 1)
            return self.fc(self.dropout(x))

    torch.manual_seed(0)
    n = 96
    y = torch.randint(0, 3, (n,))
    x = torch.randn(n, 1, 8, 8) * 0.5
    x[y == 0, :, 2:4, :] += 1.5
    x[y == 1, :, :, 2:4] += 1.5
    x[y == 2, :, 5:7, 5:7] -= 1.5

    model = ResNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    first = None
    for epoch in range(25):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            idx = perm[i:i + 32]
            out = model(x[idx])
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            first = loss.item() if first is None else first
        sched.step()

    model.eval()
    with torch.no_grad():
        logits = model(x)
        again = model(x)
        pred = logits.argmax(dim=1)
        acc = (pred == y).sum().item() / n
        probs = F.softmax(logits, dim=1)
    bn = model.stem[1]
    return dict(first=first, last=loss.item(), acc=acc, deterministic=torch.equal(logits, again),
                probs_sum=probs.sum(1).mean().item(), logits_requires=logits.requires_grad,
                keys=list(model.state_dict().keys()),
                nbt=bn.num_batches_tracked.item(), nbt_dtype=str(bn.num_batches_tracked.dtype).split('.')[-1],
                rv_changed=(bn.running_var - 1).abs().sum().item() > 0,
                lr=sched.get_last_lr()[0], out_shape=tuple(logits.shape), out_dtype=str(logits.dtype).split('.')[-1])


RESULT = cached(run)


@pytest.mark.parametrize('lib', backends())
def test_resnet_cnn(lib):
    r = RESULT(lib)
    assert r['last'] < 0.5 * r['first']
    assert r['acc'] > 0.9
    assert r['deterministic'] and not r['logits_requires']
    assert r['probs_sum'] == pytest.approx(1.0, abs=1e-5)
    assert r['nbt'] == 75 and r['nbt_dtype'] == 'int64' and r['rv_changed']
    assert r['lr'] == pytest.approx(0.05 * 0.25)
    assert r['out_shape'] == (96, 3) and r['out_dtype'] == 'float32'


def test_resnet_state_dict_keys_match_torch():
    assert RESULT('npnn')['keys'] == RESULT('torch')['keys']
