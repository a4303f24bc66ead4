"""Train LSTMs: a character-level language model and a digits classifier that reads images row by row.

``--task charlm``: next-character prediction on a text read offline (``--text FILE``; by default the
source of Python's own ``textwrap`` module). Prints held-out perplexity and a generated sample.
``--task digits``: each 8x8 digit is a sequence of 8 rows of 8 pixels; the last hidden state is classified.
Without ``--task`` both run (``--plot``/``--checkpoint``/``--resume`` paths then get ``-charlm``/``-digits``
inserted before the extension).

    python examples/lstm.py
    python examples/lstm.py --task charlm --text my_book.txt --epochs 30 --plot charlm.png
"""
import io
import os
import sys
import contextlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import npnn as torch  # noqa: E402
import npnn.nn as nn  # noqa: E402
import npnn.nn.functional as F  # noqa: E402
import npnn.optim as optim  # noqa: E402
from npnn.utils.data import Dataset  # noqa: E402
from npnn.data.datasets import Digits  # noqa: E402

import _common  # noqa: E402


# ---------------------------------------------------------------- character-level language model

def default_text():
    """A text every Python installation has: the ``textwrap`` source, else the license, else the Zen."""
    import textwrap
    candidates = [getattr(textwrap, '__file__', None),
                  os.path.join(sys.base_prefix, 'lib', f'python{sys.version_info[0]}.{sys.version_info[1]}',
                               'LICENSE.txt')]
    for path in candidates:
        if path and path.endswith(('.py', '.txt')) and os.path.isfile(path):
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
            if len(text) > 5000:
                return text, os.path.basename(path)
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the Zen
        import this
    return ''.join(this.d.get(c, c) for c in this.s), 'the Zen of Python'


class CharWindows(Dataset):
    """Windows of ``seq_len`` character ids and the same window shifted by one (the targets)."""

    def __init__(self, ids, seq_len, stride):
        self.ids, self.seq_len = ids, seq_len
        self.starts = list(range(0, len(ids) - seq_len - 1, stride))

    def __len__(self):
        return len(self.starts)

    def __getitem__(self, i):
        s = self.starts[i]
        return self.ids[s:s + self.seq_len], self.ids[s + 1:s + self.seq_len + 1]


class CharLM(nn.Module):
    def __init__(self, vocab_size, embed=64, hidden=256, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def generate(model, prompt_ids, length, device, temperature=0.6):
    """Sample ``length`` character ids after ``prompt_ids``, carrying the LSTM state."""
    model.eval()
    out = list(prompt_ids)
    with torch.no_grad():
        logits, state = model(torch.tensor([prompt_ids], device=device))
        for _ in range(length):
            probs = F.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1).item()
            out.append(nxt)
            logits, state = model(torch.tensor([[nxt]], device=device), state)
    return out


def run_charlm(args, device, paths):
    if args.text:
        with open(args.text, encoding='utf-8', errors='replace') as f:
            text, source = f.read(), args.text
    else:
        text, source = default_text()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(0.9 * len(ids))
    train_set = CharWindows(ids[:cut], args.seq_len, stride=args.stride or args.seq_len)
    val_set = CharWindows(ids[cut:], args.seq_len, stride=args.seq_len)
    print(f'charlm: {len(text)} characters of {source}, vocabulary {len(chars)}, '
          f'{len(train_set)} training / {len(val_set)} held-out windows of {args.seq_len}')
    train_loader, val_loader = _common.make_loaders(args, device, train_set, val_set, test_batch_size=64,
                                                    drop_last=True)

    model = CharLM(len(chars), hidden=args.hidden).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr or 5e-3)
    epochs = args.epochs or 16
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start, history = _common.start_or_resume(torch, paths['resume'], model, optimizer, scheduler, device,
                                             'perplexity')

    for epoch in range(start, epochs + 1):
        progress = _common.epoch_progress(args, train_loader, f'charlm {epoch:>2}/{epochs}')
        model.train()
        for step, (x, y) in enumerate(train_loader):
            if args.limit_batches and step >= args.limit_batches:
                break
            x, y = x.to(device), y.to(device)
            logits, _ = model(x)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            progress.update(x.shape[0], loss.item())
        progress.close()
        scheduler.step()

        model.eval()
        nll = count = 0
        with torch.no_grad():
            for step, (x, y) in enumerate(val_loader):
                if args.limit_batches and step >= args.limit_batches:
                    break
                logits, _ = model(x.to(device))
                nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(device).reshape(-1),
                                       reduction='sum').item()
                count += y.numel()
        _common.log_epoch(history, epoch, progress.loss, _common.perplexity(nll / max(count, 1)),
                          progress.elapsed)
        _common.save_checkpoint(torch, paths['checkpoint'], model, optimizer, scheduler, epoch, history)

    _common.summarize(history, paths['plot'], 'LSTM character model', 'held-out ppl', 'held-out perplexity')
    prompt = [index[c] for c in text[:16]]
    sample = ''.join(chars[i] for i in generate(model, prompt, args.sample_len, device, args.temperature))
    print(f'--- sample (prompt: the first 16 characters) ---\n{sample}\n---')
    if history['perplexity']:
        print(f"charlm: held-out perplexity {history['perplexity'][-1]:.2f} "
              f"(vocabulary {len(chars)}), {sum(history['seconds']):.1f}s")
    return history


# ---------------------------------------------------------------- digits, one row per time step

class RowClassifier(nn.Module):
    """Reads an image row by row with an LSTM and classifies the final hidden state."""

    def __init__(self, row_size=8, hidden=64, num_classes=10):
        super().__init__()
        self.lstm = nn.LSTM(row_size, hidden, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, images):
        rows = images.squeeze(1)  # (N, 1, H, W) -> (N, H, W): H steps of W features
        _, (h, _) = self.lstm(rows)
        return self.head(h[-1])


def run_digits(args, device, paths):
    train_set, test_set = Digits(train=True), Digits(train=False)
    print(f'digits: {len(train_set)} training / {len(test_set)} held-out images, 8 steps of 8 pixels')
    train_loader, test_loader = _common.make_loaders(args, device, train_set, test_set)
    model = RowClassifier(hidden=args.hidden // 2).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr or 1e-2)
    epochs = args.epochs or 20
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 2), gamma=0.3)
    start, history = _common.start_or_resume(torch, paths['resume'], model, optimizer, scheduler, device)

    for epoch in range(start, epochs + 1):
        progress = _common.epoch_progress(args, train_loader, f'digits {epoch:>2}/{epochs}')
        train_loss = _common.train_epoch(model, train_loader, loss_fn, optimizer, device, progress,
                                         args.limit_batches)
        scheduler.step()
        # the whole held-out set every epoch: --limit-batches only shortens training here
        accuracy = _common.evaluate_accuracy(model, test_loader, device)
        _common.log_epoch(history, epoch, train_loss, accuracy, progress.elapsed)
        _common.save_checkpoint(torch, paths['checkpoint'], model, optimizer, scheduler, epoch, history)

    _common.summarize(history, paths['plot'], 'LSTM on digits rows')
    _common.print_final_accuracy(history, prefix='digits: ')
    return history


def _task_path(path, task, several):
    if not path or not several:
        return path
    root, ext = os.path.splitext(path)
    return f'{root}-{task}{ext}'


def main(argv=None):
    parser = _common.make_parser(__doc__.splitlines()[0], epochs=None, batch_size=32, lr=None)
    parser.add_argument('--task', choices=['charlm', 'digits', 'both'], default='both')
    parser.add_argument('--text', metavar='FILE', help='text for the language model (default: shipped with Python)')
    parser.add_argument('--seq-len', type=int, default=32, help='characters per training window (default: 32)')
    parser.add_argument('--stride', type=int, default=0,
                        help='characters from one training window to the next (default: --seq-len)')
    parser.add_argument('--hidden', type=int, default=128, help='LSTM hidden size for charlm, half for digits')
    parser.add_argument('--sample-len', type=int, default=300, help='characters to generate (default: 300)')
    parser.add_argument('--temperature', type=float, default=0.6, help='sampling temperature (default: 0.6)')
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    tasks = ['charlm', 'digits'] if args.task == 'both' else [args.task]
    results = {}
    for task in tasks:
        torch.manual_seed(args.seed)
        paths = {k: _task_path(getattr(args, k), task, len(tasks) > 1) for k in ('plot', 'checkpoint', 'resume')}
        results[task] = (run_charlm if task == 'charlm' else run_digits)(args, device, paths)
    return results


if __name__ == '__main__':
    main()
