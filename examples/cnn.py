"""Train a convolutional network to classify handwritten digits.

Default data: the 8x8 digits bundled with scikit-learn (no download). ``--data DIR`` reads MNIST
(or, with ``--dataset fashion``, Fashion-MNIST) from the IDX files in a local folder.

    python examples/cnn.py                         # digits, 15 epochs
    python examples/cnn.py --plot cnn.png --checkpoint cnn.pt
    python examples/cnn.py --resume cnn.pt --epochs 40
    NPNN_DEVICE=cuda python examples/cnn.py --data ~/mnist
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import npnn as torch  # noqa: E402
import npnn.nn as nn  # noqa: E402
import npnn.nn.functional as F  # noqa: E402
import npnn.optim as optim  # noqa: E402
from npnn.utils.data import DataLoader  # noqa: E402
from npnn.data.datasets import Digits, MNIST, FashionMNIST  # noqa: E402

import _common  # noqa: E402


class DigitsCNN(nn.Module):
    """For 8x8 images: two 3x3 convolutions, one 2x2 max-pool, then a two-layer classifier."""

    def __init__(self, num_classes=10, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(32 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))


class LeNet(nn.Module):
    """LeNet-5 style, for 28x28 images (MNIST, Fashion-MNIST)."""

    def __init__(self, num_classes=10, dropout=0.25):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def load_datasets(args):
    """(train, held-out) datasets of ``(image (1, H, W), label)`` pairs."""
    if args.data:
        cls = FashionMNIST if args.dataset == 'fashion' else MNIST
        return cls(args.data, train=True), cls(args.data, train=False)
    return Digits(train=True), Digits(train=False)


def train_epoch(model, loader, loss_fn, optimizer, device, progress, limit=0):
    model.train()
    for step, (images, labels) in enumerate(loader):
        if limit and step >= limit:
            break
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        progress.update(labels.shape[0], loss.item())
    progress.close()
    return progress.loss


def evaluate(model, loader, device, limit=0):
    """Fraction of correctly classified examples."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for step, (images, labels) in enumerate(loader):
            if limit and step >= limit:
                break
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.shape[0]
    return correct / max(total, 1)


def main(argv=None):
    parser = _common.make_parser(__doc__.splitlines()[0], epochs=15, batch_size=64, lr=2e-3)
    parser.add_argument('--data', metavar='DIR', help='folder with MNIST IDX files (default: scikit-learn digits)')
    parser.add_argument('--dataset', choices=['mnist', 'fashion'], default='mnist', help='which IDX set --data holds')
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_set, test_set = load_datasets(args)
    loader_kw = dict(num_workers=args.workers, pin_memory=device.type == 'cuda')
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(args.seed), **loader_kw)
    test_loader = DataLoader(test_set, batch_size=256, **loader_kw)

    model = (LeNet() if train_set[0][0].shape[-1] >= 28 else DigitsCNN()).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.3)
    print(f'{len(train_set)} training / {len(test_set)} held-out examples on {device}')
    print(model)

    start_epoch, history = 1, _common.new_history()
    if args.resume:
        start_epoch, history = _common.load_checkpoint(torch, args.resume, model, optimizer, scheduler, device)
        print(f'resumed from {args.resume} at epoch {start_epoch}')

    for epoch in range(start_epoch, args.epochs + 1):
        t0 = time.perf_counter()
        progress = _common.Progress(min(len(train_loader), args.limit_batches or len(train_loader)),
                                    f'epoch {epoch:>2}/{args.epochs}', quiet=args.quiet)
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer, device, progress, args.limit_batches)
        scheduler.step()
        accuracy = evaluate(model, test_loader, device, args.limit_batches)
        _common.log_epoch(history, epoch, train_loss, accuracy, time.perf_counter() - t0)
        if args.checkpoint:
            _common.save_checkpoint(torch, args.checkpoint, model, optimizer, scheduler, epoch, history)

    _common.print_summary(history)
    if args.plot:
        _common.save_plot(args.plot, history, 'CNN on digits' if not args.data else f'CNN on {args.dataset}')
        print(f'wrote {args.plot}')
    if history['accuracy']:
        print(f"held-out accuracy {100 * history['accuracy'][-1]:.2f}% after {history['epoch'][-1]} epochs, "
              f"{sum(history['seconds']):.1f}s")
    return history


if __name__ == '__main__':
    main()
