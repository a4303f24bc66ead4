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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import npnn as torch  # noqa: E402
import npnn.nn as nn  # noqa: E402
import npnn.optim as optim  # noqa: E402

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


def main(argv=None):
    parser = _common.make_parser(__doc__.splitlines()[0], epochs=20, batch_size=64, lr=0.05)
    _common.add_image_data_args(parser)
    parser.add_argument('--hidden', type=int, nargs='+', default=[256, 128], help='hidden layer widths')
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_set, test_set = _common.image_datasets(args)
    train_loader, test_loader = _common.make_loaders(args, device, train_set, test_set)

    in_features = train_set[0][0].numel()
    model = MLP(in_features, tuple(args.hidden)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
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

    _common.summarize(history, args.plot, f"MLP on {args.dataset if args.data else 'digits'}")
    _common.print_final_accuracy(history)
    return history


if __name__ == '__main__':
    main()
