"""A typical PyTorch training script, unchanged except for ``import npnn as torch``, runs and learns."""
import numpy as np

SCRIPT = '''
import npnn as torch
import npnn.nn as nn
import npnn.nn.functional as F
import npnn.optim as optim
from npnn.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(8 * 4 * 4, 32)
        self.dropout = nn.Dropout(0.1)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


# three classes of 8x8 images: a bright row, a bright column, or a bright diagonal
n = 240
y = torch.randint(0, 3, (n,))
x = torch.randn(n, 1, 8, 8) * 0.3
idx = torch.arange(8)
for i in range(n):
    k = int(y[i])
    if k == 0:
        x[i, 0, 3, :] += 2.0
    elif k == 1:
        x[i, 0, :, 4] += 2.0
    else:
        x[i, 0, idx, idx] += 2.0
train_set, val_set = random_split(TensorDataset(x, y), [200, 40], generator=torch.Generator().manual_seed(1))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=40)

model = Net().to(device)
for m in model.modules():
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(6):
    model.train()
    running = 0.0
    for inputs, labels in train_loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        running += loss.item() * inputs.size(0)
    scheduler.step()

model.eval()
correct = total = 0
with torch.no_grad():
    for inputs, labels in val_loader:
        inputs, labels = inputs.to(device), labels.to(device)
        _, predicted = torch.max(model(inputs).data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
accuracy = correct / total

torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, CKPT)
ckpt = torch.load(CKPT)
fresh = Net().to(device)
fresh.load_state_dict(ckpt["model"])
fresh.eval()
with torch.no_grad():
    same = torch.allclose(fresh(inputs), model(inputs))
lr_now = optimizer.param_groups[0]["lr"]
'''


def test_pytorch_style_script_runs_and_learns(tmp_path):
    env = {'CKPT': str(tmp_path / 'ckpt.pt')}
    exec(compile(SCRIPT, 'train_script', 'exec'), env)
    assert env['accuracy'] >= 0.9
    assert env['same'] is True
    assert np.isclose(env['lr_now'], 1e-2 * 0.125)
    assert env['running'] / 200 < 0.5
