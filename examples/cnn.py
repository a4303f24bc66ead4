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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import npnn as torch  # noqa: E402
import npnn.nn as nn  # noqa: E402
import npnn.nn.functional as F  # noqa: E402
import npnn.optim as optim  # noqa: E402

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


def main(argv=None):
    parser = _common.make_parser(__doc__.splitlines()[0], epochs=15, batch_size=64, lr=2e-3)
    _common.add_image_data_args(parser)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_set, test_set = _common.image_datasets(args)
    train_loader, test_loader = _common.make_loaders(args, device, train_set, test_set)

    model = (LeNet() if train_set[0][0].shape[-1] >= 28 else DigitsCNN()).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.3)
    print(f'{len(train_set)} training / {len(test_set)} held-out examples on {device}')
    print(model)

    start_epoch, history = _common.start_or_resume(torch, args.resume, model, optimizer, scheduler, device)
    if args.resume:
        print(f'resumed from {args.resume} at epoch {start_epoch}')

    for epoch in range(start_epoch, args.epochs + 1):
        progress = _common.epoch_progress(args, train_loader, f'epoch {epoch:>2}/{args.epochs}')
        train_loss = _common.train_epoch(model, train_loader, loss_fn, optimizer, device, progress,
                                         args.limit_batches)
        scheduler.step()
        accuracy = _common.evaluate_accuracy(model, test_loader, device, args.limit_batches)
        _common.log_epoch(history, epoch, train_loss, accuracy, progress.elapsed)
        _common.save_checkpoint(torch, args.checkpoint, model, optimizer, scheduler, epoch, history)

    _common.summarize(history, args.plot, f"CNN on {args.dataset if args.data else 'digits'}")
    _common.print_final_accuracy(history)
    return history


if __name__ == '__main__':
    main()
