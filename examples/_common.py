"""Shared plumbing for the example scripts: arguments, data loaders, the per-epoch train/evaluate passes,
progress bar, summary table, plots, checkpoints.

The scripts keep what a PyTorch user reads first (the model, loss, optimizer, scheduler and the epoch
loop); what every script repeats lives here. The checkpoint helpers use ``torch.save``/``torch.load`` on
the framework passed in (``import npnn as torch``); the data and training helpers import npnn themselves.
"""
import argparse
import math
import os
import struct
import sys
import time
import zlib


def make_parser(description, epochs, batch_size, lr):
    """An ``argparse`` parser with the options every example shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--device', default=os.environ.get('NPNN_DEVICE', 'cpu'),
                   help='cpu, cuda or cuda:N (default: $NPNN_DEVICE or cpu)')
    p.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    p.add_argument('--epochs', type=int, default=epochs,
                   help=f"training epochs (default: {'per task' if epochs is None else epochs})")
    p.add_argument('--batch-size', type=int, default=batch_size, help=f'batch size (default: {batch_size})')
    p.add_argument('--lr', type=float, default=lr,
                   help=f"learning rate (default: {'per task' if lr is None else lr})")
    p.add_argument('--workers', type=int, default=0, help='DataLoader worker processes (default: 0)')
    p.add_argument('--plot', metavar='PATH', help='write a PNG of the loss/accuracy curves')
    p.add_argument('--checkpoint', metavar='PATH', help='save model/optimizer/scheduler state after each epoch')
    p.add_argument('--resume', metavar='PATH', help='continue training from a checkpoint')
    p.add_argument('--limit-batches', type=int, default=0, metavar='N',
                   help='stop each epoch after N batches (quick checks; default: no limit)')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p


def add_image_data_args(parser):
    """``--data``/``--dataset``: the handwritten-digit image sets the MLP and CNN examples read."""
    parser.add_argument('--data', metavar='DIR', help='folder with MNIST IDX files (default: scikit-learn digits)')
    parser.add_argument('--dataset', choices=['mnist', 'fashion'], default='mnist', help='which IDX set --data holds')


def image_datasets(args):
    """(train, held-out) datasets of ``(image (1, H, W), label)`` pairs: the scikit-learn digits, or
    MNIST / Fashion-MNIST read from the IDX files in ``args.data``."""
    from npnn.data.datasets import Digits, MNIST, FashionMNIST
    if args.data:
        cls = FashionMNIST if args.dataset == 'fashion' else MNIST
        return cls(args.data, train=True), cls(args.data, train=False)
    return Digits(train=True), Digits(train=False)


def make_loaders(args, device, train_set, test_set, test_batch_size=256, drop_last=False):
    """(train, held-out) ``DataLoader``s: the training one shuffled by a generator seeded with
    ``args.seed`` (the same batches on every run), the held-out one in order."""
    import npnn as torch
    from npnn.utils.data import DataLoader
    loader_kw = dict(num_workers=args.workers, pin_memory=device.type == 'cuda')
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=drop_last,
                              generator=torch.Generator().manual_seed(args.seed), **loader_kw)
    return train_loader, DataLoader(test_set, batch_size=test_batch_size, **loader_kw)


def epoch_progress(args, loader, desc):
    """The progress bar for one pass over ``loader``, cut to ``--limit-batches``. Its clock starts
    here, so ``progress.elapsed`` after evaluating is the epoch's time."""
    return Progress(min(len(loader), args.limit_batches or len(loader)), desc, quiet=args.quiet)


def train_epoch(model, loader, loss_fn, optimizer, device, progress, limit=0):
    """One training pass of a classifier (``loss_fn(model(inputs), labels)``); return the mean loss."""
    model.train()
    for step, (inputs, labels) in enumerate(loader):
        if limit and step >= limit:
            break
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        progress.update(labels.shape[0], loss.item())
    progress.close()
    return progress.loss


def evaluate_accuracy(model, loader, device, limit=0):
    """Fraction of the examples in ``loader`` (the first ``limit`` batches, if set) classified correctly."""
    import npnn as torch
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for step, (inputs, labels) in enumerate(loader):
            if limit and step >= limit:
                break
            inputs, labels = inputs.to(device), labels.to(device)
            correct += (model(inputs).argmax(dim=1) == labels).sum().item()
            total += labels.shape[0]
    return correct / max(total, 1)


class Progress:
    """A one-line progress bar on stderr: batches done, running loss and samples per second."""

    def __init__(self, total, desc, quiet=False, stream=None):
        self.total, self.desc, self.quiet = total, desc, quiet
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, 'isatty') and self.stream.isatty()
        self.done = self.samples = 0
        self.loss_sum = 0.0
        self.start = self.last = time.perf_counter()

    def update(self, samples, loss):
        """Record one batch of ``samples`` examples with mean ``loss``."""
        self.done += 1
        self.samples += samples
        self.loss_sum += loss * samples
        now = time.perf_counter()
        if self.tty and not self.quiet and (now - self.last > 0.1 or self.done == self.total):
            self.last = now
            self._draw(end='')

    @property
    def loss(self):
        return self.loss_sum / max(self.samples, 1)

    @property
    def elapsed(self):
        return time.perf_counter() - self.start

    def _draw(self, end):
        width = 24
        frac = self.done / self.total if self.total else 1.0
        bar = '#' * int(frac * width)
        rate = self.samples / max(self.elapsed, 1e-9)
        self.stream.write(f'\r{self.desc} [{bar:<{width}}] {self.done}/{self.total} '
                          f'loss {self.loss:.4f} {rate:,.0f} samples/s {self.elapsed:.1f}s{end}')
        self.stream.flush()

    def close(self):
        """Finish the line (on a terminal), or print it once (in a log)."""
        if not self.quiet:
            self._draw(end='\n')


def print_table(rows, cols, stream=None):
    """Print ``rows`` (dicts) as an aligned table under the column names ``cols``."""
    stream = stream or sys.stdout

    def fmt(v):
        if isinstance(v, float):
            return f'{v:.4f}'
        return '-' if v is None else str(v)
    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    line = '-+-'.join('-' * w for w in widths)
    print(' | '.join(c.rjust(w) for c, w in zip(cols, widths)), file=stream)
    print(line, file=stream)
    for row in cells:
        print(' | '.join(v.rjust(w) for v, w in zip(row, widths)), file=stream)


def save_checkpoint(torch, path, model, optimizer, scheduler, epoch, history):
    """Save everything needed to continue training after ``epoch`` (tensors and plain containers only).
    Does nothing when ``path`` is empty (no ``--checkpoint`` given)."""
    if not path:
        return
    torch.save({'epoch': epoch, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                'scheduler': scheduler.state_dict() if scheduler is not None else None,
                'history': history}, path)


def load_checkpoint(torch, path, model, optimizer, scheduler, device):
    """Restore a checkpoint written by :func:`save_checkpoint`; return (next epoch, history)."""
    state = torch.load(path, map_location=device)
    model.load_state_dict(state['model'])
    optimizer.load_state_dict(state['optimizer'])
    if scheduler is not None and state.get('scheduler') is not None:
        scheduler.load_state_dict(state['scheduler'])
    return int(state['epoch']) + 1, state['history']


def start_or_resume(torch, path, model, optimizer, scheduler, device, metric='accuracy'):
    """(first epoch, history): from the checkpoint at ``path`` when given, else epoch 1 and a new history."""
    if path:
        return load_checkpoint(torch, path, model, optimizer, scheduler, device)
    return 1, new_history(metric)


def new_history(metric='accuracy'):
    """Per-epoch records: epoch, train loss, the held-out ``metric`` and seconds."""
    return {'epoch': [], 'train_loss': [], metric: [], 'seconds': []}


def log_epoch(history, epoch, train_loss, metric, seconds):
    for key, value in zip(history, (epoch, train_loss, metric, seconds)):
        history[key].append(value)


def _metric_key(history):
    return list(history)[2]


def print_summary(history, label='held-out acc'):
    """The end-of-run table: one row per epoch."""
    metric = history[_metric_key(history)]
    rows = [{'epoch': e, 'train loss': l, label: m, 'time (s)': f'{s:.1f}'}
            for e, l, m, s in zip(history['epoch'], history['train_loss'], metric, history['seconds'])]
    print_table(rows, ['epoch', 'train loss', label, 'time (s)'])


def summarize(history, plot_path, title, label='held-out acc', plot_label='held-out accuracy'):
    """The end of a run: the per-epoch table, then the curves written to ``plot_path`` if given."""
    print_summary(history, label)
    if plot_path:
        save_plot(plot_path, history, title, plot_label)
        print(f'wrote {plot_path}')


def print_final_accuracy(history, prefix=''):
    """The last line of a classifier's run: final held-out accuracy, epochs and total seconds."""
    if history['accuracy']:
        print(f"{prefix}held-out accuracy {100 * history['accuracy'][-1]:.2f}% after {history['epoch'][-1]} "
              f"epochs, {sum(history['seconds']):.1f}s")


def save_plot(path, history, title, label='held-out accuracy'):
    """Write the loss and metric curves as a PNG: with matplotlib when installed, else a plain drawing."""
    x, loss, metric = history['epoch'], history['train_loss'], history[_metric_key(history)]
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        _plain_png(path, x, [loss, metric])
        return path
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(x, loss, marker='o')
    a1.set_xlabel('epoch')
    a1.set_ylabel('train loss')
    a2.plot(x, metric, marker='o', color='tab:green')
    a2.set_xlabel('epoch')
    a2.set_ylabel(label)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# A 3x5 bitmap font for the axis labels of the plain plot (each glyph: 5 rows of 3 bits).
_GLYPHS = {
    '0': (7, 5, 5, 5, 7), '1': (2, 6, 2, 2, 7), '2': (7, 1, 7, 4, 7), '3': (7, 1, 7, 1, 7),
    '4': (5, 5, 7, 1, 1), '5': (7, 4, 7, 1, 7), '6': (7, 4, 7, 5, 7), '7': (7, 1, 1, 1, 1),
    '8': (7, 5, 7, 5, 7), '9': (7, 5, 7, 1, 7), '.': (0, 0, 0, 0, 2), '-': (0, 0, 7, 0, 0),
}


def _plain_png(path, x, series, panel=(320, 220), scale=2):
    """Draw each series in its own panel (axes, min/max labels, polyline) and write an RGB PNG."""
    colors = [(31, 119, 180), (44, 160, 44)]
    pw, ph = panel
    w, h = pw * len(series), ph
    img = bytearray(b'\xff' * (w * h * 3))

    def put(px, py, c):
        if 0 <= px < w and 0 <= py < h:
            i = (py * w + px) * 3
            img[i:i + 3] = bytes(c)

    def line(x0, y0, x1, y1, c, thick=1):
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in range(n + 1):
            px, py = round(x0 + (x1 - x0) * k / n), round(y0 + (y1 - y0) * k / n)
            for d in range(thick):
                put(px, py + d, c)

    def text(s, px, py):
        for ch in s:
            for r, bits in enumerate(_GLYPHS.get(ch, (0,) * 5)):
                for col in range(3):
                    if bits >> (2 - col) & 1:
                        for dy in range(scale):
                            for dx in range(scale):
                                put(px + col * scale + dx, py + r * scale + dy, (0, 0, 0))
            px += 4 * scale

    for k, ys in enumerate(series):
        left, top, right, bottom = k * pw + 50, 15, (k + 1) * pw - 15, ph - 30
        line(left, top, left, bottom, (0, 0, 0))
        line(left, bottom, right, bottom, (0, 0, 0))
        if not ys:
            continue
        lo, hi = min(ys), max(ys)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        text(f'{hi:.3g}', k * pw + 4, top)
        text(f'{lo:.3g}', k * pw + 4, bottom - 5 * scale)
        text(str(x[0]), left, bottom + 8)
        text(str(x[-1]), right - 4 * scale * len(str(x[-1])), bottom + 8)
        x0, x1 = x[0], x[-1] if x[-1] != x[0] else x[0] + 1
        pts = [(round(left + (xi - x0) / (x1 - x0) * (right - left)),
                round(bottom - (yi - lo) / (hi - lo) * (bottom - top))) for xi, yi in zip(x, ys)]
        if len(pts) == 1:
            pts = pts * 2
        for (a, b), (c, d) in zip(pts, pts[1:]):
            line(a, b, c, d, colors[k % len(colors)], thick=2)
    raw = b''.join(b'\x00' + bytes(img[r * w * 3:(r + 1) * w * 3]) for r in range(h))

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def perplexity(mean_nll):
    return math.exp(min(mean_nll, 50.0))
