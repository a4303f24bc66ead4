"""PyTorch-style printing of tensors."""
import numpy as np

from .backend import dtypes

PRINT_OPTS = {'precision': 4, 'threshold': 1000, 'edgeitems': 3, 'linewidth': 80, 'sci_mode': None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Set print options like ``torch.set_printoptions``."""
    if profile == 'default':
        PRINT_OPTS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == 'short':
        PRINT_OPTS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == 'full':
        PRINT_OPTS.update(precision=4, threshold=np.inf, edgeitems=3, linewidth=80)
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth).items():
        if v is not None:
            PRINT_OPTS[k] = v
    PRINT_OPTS['sci_mode'] = sci_mode


def _float_formatter(a):
    fin = a[np.isfinite(a)] if a.size else a
    prec = PRINT_OPTS['precision']
    if fin.size == 0:
        return lambda v: _special(v) or f'{v:.{prec}f}', False
    ints = bool(np.all(fin == np.round(fin)))
    sci = PRINT_OPTS['sci_mode']
    if ints:
        if sci is None:
            # as PyTorch: whole numbers print in scientific form too when they span more than 1000x
            nz = np.abs(fin[fin != 0])
            sci = nz.size > 0 and (float(nz.max()) / float(nz.min()) > 1000.0 or float(nz.max()) > 1e8)
        if not sci:
            width = max(len(f'{v:.0f}.') for v in fin.ravel())
            return (lambda v: (_special(v) or f'{v:.0f}.').rjust(width)), True
    if sci is None:
        nz = np.abs(fin[fin != 0])
        sci = nz.size > 0 and (float(nz.max()) / max(float(nz.min()), 1e-300) > 1000.0 or float(nz.max()) > 1e8
                               or float(nz.max()) < 1e-4)
    if sci:
        width = max(len(f'{v:.{prec}e}') for v in fin.ravel())
        return (lambda v: (_special(v) or f'{v:.{prec}e}').rjust(width)), True
    width = max(len(f'{v:.{prec}f}') for v in fin.ravel())
    return (lambda v: (_special(v) or f'{v:.{prec}f}').rjust(width)), True


def _special(v):
    if np.isnan(v):
        return 'nan'
    if np.isinf(v):
        return 'inf' if v > 0 else '-inf'
    return None


def format_array(a, indent):
    """The body of a tensor's repr: nested brackets, aligned, summarised past the threshold."""
    summarize = a.size > PRINT_OPTS['threshold']
    sample = _summary_sample(a) if summarize else a
    if a.dtype.kind == 'f':
        fmt, _ = _float_formatter(sample.astype(np.float64))
        width = max([len(fmt(float(v))) for v in a.ravel()[:1]] or [0])
        fmt_el = lambda v: fmt(float(v))  # noqa: E731
    elif a.dtype.kind == 'b':
        width = 5 if a.size and not a.all() else 4
        fmt_el = lambda v: str(bool(v)).rjust(width)  # noqa: E731
    elif a.dtype.kind == 'c':
        fmt_el = lambda v: str(complex(v))  # noqa: E731
    else:
        width = max([len(str(int(v))) for v in sample.ravel()] or [1])
        fmt_el = lambda v: str(int(v)).rjust(width)  # noqa: E731
    if a.ndim == 0:
        return fmt_el(a.item()).strip()
    return _fmt(a, fmt_el, indent, summarize)


def _summary_sample(a):
    """The elements a summarised print shows (edges of every dim), to size the number format."""
    edge = PRINT_OPTS['edgeitems']
    for d in range(a.ndim):
        if a.shape[d] > 2 * edge:
            a = np.concatenate([np.take(a, range(edge), axis=d), np.take(a, range(a.shape[d] - edge, a.shape[d]), axis=d)],
                               axis=d)
    return a


def _fmt(a, fmt_el, indent, summarize):
    edge = PRINT_OPTS['edgeitems']
    if a.ndim == 1:
        if summarize and a.shape[0] > 2 * edge:
            items = [fmt_el(v) for v in a[:edge]] + [' ...'] + [fmt_el(v) for v in a[-edge:]]
        else:
            items = [fmt_el(v) for v in a]
        width = PRINT_OPTS['linewidth'] - indent
        el_w = max((len(s) for s in items), default=1) + 2
        per_line = max(1, width // el_w)
        lines = [', '.join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'
    rows = range(a.shape[0])
    if summarize and a.shape[0] > 2 * edge:
        parts = [_fmt(a[i], fmt_el, indent + 1, summarize) for i in range(edge)] + ['...'] + \
                [_fmt(a[i], fmt_el, indent + 1, summarize) for i in range(a.shape[0] - edge, a.shape[0])]
    else:
        parts = [_fmt(a[i], fmt_el, indent + 1, summarize) for i in rows]
    sep = ',' + '\n' * (a.ndim - 1) + ' ' * (indent + 1)
    return '[' + sep.join(parts) + ']'


def tensor_repr(t, prefix='tensor('):
    from .backend.device import array_to, CPU
    a = array_to(t._data, CPU)
    suffixes = []
    dev = t.device
    if dev.type != 'cpu':
        suffixes.append(f"device='{dev}'")
    if a.size == 0:
        body = '[]'
        if a.ndim != 1:
            suffixes.insert(0, f'size={tuple(a.shape)}')
    else:
        body = format_array(a, len(prefix))
    d = dtypes.from_numpy_dtype(a.dtype)
    if d not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
        suffixes.append(f'dtype={d!r}')
    if t._node is not None:
        suffixes.append(f'grad_fn=<{t._node.name()}>')
    elif t._rg:
        suffixes.append('requires_grad=True')
    return prefix + body + ''.join(', ' + s for s in suffixes) + ')'
