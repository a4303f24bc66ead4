"""Train a multilayer perceptron to classify handwritten digits.

Default data: the 8x8 digits bundled with scikit-learn (no download). ``--data DIR`` reads MNIST
(or, with ``--dataset fashion``, Fashion-MNIST) from the IDX files in a local folder.

    python examples/mlp.py                         # digits, 20 epochs
    python examples/mlp.py --plot mlp.png --checkpoint mlp.pt
    python examples/mlp.py --resume mlp.pt --epochs 40
    NPNN_DEVICE=cuda python examples/mlp.py --data ~/mnist
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import npnn as torch  # noqa: E402
import npnn.nn as nn  # noqa: E402
import npnn.optim as optim  # noqa: E402
from npnn.utils.data import DataLoader  # noqa: E402
from npnn.data.datasets import Digits, MNIST, FashionMNIST  # noqa: E402

import _common  # noqa: E402


class MLP(nn.Module):
    """Flatten, then ``Linear -> ReLU -> Dropout`` per hidden layer, then a linear classifier."""

    def __init__(self, in_features, hidden=(256, 128), num_classes=10, dropout=0.1):
        super().__init__()
        layers = [nn.Flatten()]
        for width in hidden:
            layers += [nn.Linear(in_features, width), nn.ReLU(), nn.Dropout(dropout)]
            in_features = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(in_features, num_classes)

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
    parser = _common.make_parser(__doc__.splitlines()[0], epochs=20, batch_size=64, lr=0.05)
    parser.add_argument('--data', metavar='DIR', help='folder with MNIST IDX files (default: scikit-learn digits)')
    parser.add_argument('--dataset', choices=['mnist', 'fashion'], default='mnist', help='which IDX set --data holds')
    parser.add_argument('--hidden', type=int, nargs='+', default=[256, 128], help='hidden layer widths')
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_set, test_set = load_datasets(args)
    loader_kw = dict(num_workers=args.workers, pin_memory=device.type == 'cuda')
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(args.seed), **loader_kw)
    test_loader = DataLoader(test_set, batch_size=256, **loader_kw)

    in_features = train_set[0][0].numel()
    model = MLP(in_features, tuple(args.hidden)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
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
        _common.save_plot(args.plot, history, 'MLP on digits' if not args.data else f'MLP on {args.dataset}')
        print(f'wrote {args.plot}')
    if history['accuracy']:
        print(f"held-out accuracy {100 * history['accuracy'][-1]:.2f}% after {history['epoch'][-1]} epochs, "
              f"{sum(history['seconds']):.1f}s")
    return history


if __name__ == '__main__':
    main()
