"""The autograd profiler: per-op wall time and call counts, forward and backward (``torch.autograd.profiler``).

While a :class:`profile` is active, the op functions (``npnn.<op>``, ``nn.functional``, creation functions), the
Tensor methods that run them, ``nn.Module.__call__`` and every backward node are swapped for timing wrappers;
leaving the context puts the originals back, so nothing is paid when no profiler runs.
"""
import json
import os
import sys
import threading
import time
import types
from collections import OrderedDict

__all__ = ['profile', 'record_function', 'emit_nvtx', 'EventList', 'FunctionEvent', 'FunctionEventAvg']

_active = None            # the running profile, if any
_now = time.perf_counter_ns

# Tensor methods defined on the class itself that are op-like (besides the in-place ``x.op_()`` family)
_TENSOR_CLASS_OPS = frozenset('''
to cpu cuda type type_as float double half bfloat16 long int short char byte bool cfloat item tolist numpy
detach conj new_tensor new_zeros new_ones new_empty new_full pin_memory
'''.split())
_NOT_OPS = frozenset({'requires_grad_', 'detach_', 'share_memory_', 'set_'})


# ------------------------------------------------------------------------------------------------------------
# events

class FunctionEvent:
    """One recorded call: name, start/end (microseconds), thread, input shapes, self and total CPU time."""

    __slots__ = ('id', 'name', 'start_us', 'end_us', 'thread', 'input_shapes', 'self_cpu_time_total',
                 'cpu_memory_usage', 'self_cpu_memory_usage', 'is_backward', 'is_user_annotation',
                 'cpu_parent', 'cpu_children', 'count')

    def __init__(self, id, name, start_us, end_us, thread, input_shapes, self_us, mem=0, self_mem=0,
                 is_backward=False, is_user_annotation=False):
        self.id, self.name, self.start_us, self.end_us, self.thread = id, name, start_us, end_us, thread
        self.input_shapes = input_shapes
        self.self_cpu_time_total = self_us
        self.cpu_memory_usage, self.self_cpu_memory_usage = mem, self_mem
        self.is_backward, self.is_user_annotation = is_backward, is_user_annotation
        self.cpu_parent = None
        self.cpu_children = []
        self.count = 1

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.end_us - self.start_us)
    cpu_time = cpu_time_total

    @property
    def time_range(self):
        return (self.start_us, self.end_us)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_fmt_time(self.cpu_time_total)} "
                f"self_cpu_time={_fmt_time(self.self_cpu_time_total)} input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """Events of one key (and input shapes when grouped so) summed: totals, count and averages."""

    def __init__(self, key=None, input_shapes=None):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.is_backward = False
        self.is_user_annotation = False

    def add(self, ev):
        if self.count == 0:
            self.key = ev.key if self.key is None else self.key
            self.is_backward, self.is_user_annotation = ev.is_backward, ev.is_user_annotation
        self.count += ev.count
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total
        self.cpu_memory_usage += ev.cpu_memory_usage
        self.self_cpu_memory_usage += ev.self_cpu_memory_usage
        return self

    __iadd__ = add

    @property
    def name(self):
        return self.key

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self):
        return self.self_cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt_time(self.self_cpu_time_total)} "
                f"cpu_time={_fmt_time(self.cpu_time_total)} count={self.count} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of events (or averages) with PyTorch's reporting methods."""

    def __init__(self, *args, profile_memory=False, with_shapes=False):
        super().__init__(*args)
        self._profile_memory = profile_memory
        self._with_shapes = with_shapes

    @property
    def self_cpu_time_total(self):
        """Sum of every event's self time (microseconds): the time spent in recorded ops."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """Events summed per name (and per input shapes when ``group_by_input_shape``), in first-seen order."""
        groups = OrderedDict()
        for e in self:
            k = (e.key, _shape_key(e.input_shapes)) if group_by_input_shape else e.key
            g = groups.get(k)
            if g is None:
                g = groups[k] = FunctionEventAvg(e.key, e.input_shapes if group_by_input_shape else None)
            g.add(e)
        return EventList(groups.values(), profile_memory=self._profile_memory,
                         with_shapes=group_by_input_shape)

    def total_average(self):
        """All events summed into one ``FunctionEventAvg`` keyed 'Total'."""
        t = FunctionEventAvg('Total')
        for e in self:
            t.count += e.count
            t.cpu_time_total += e.cpu_time_total
            t.self_cpu_time_total += e.self_cpu_time_total
            t.cpu_memory_usage += e.cpu_memory_usage
            t.self_cpu_memory_usage += e.self_cpu_memory_usage
        return t

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        """The events as a PyTorch-style text table, sorted descending by the attribute ``sort_by``."""
        return _build_table(self, sort_by, row_limit, max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only)

    def export_chrome_trace(self, path):
        """Write the (raw) events as Chrome trace JSON (chrome://tracing, Perfetto)."""
        pid = os.getpid()
        evs = []
        for e in self:
            if not isinstance(e, FunctionEvent):
                raise RuntimeError("export_chrome_trace needs raw events, not key averages")
            d = {'name': e.name, 'ph': 'X', 'ts': e.start_us, 'dur': e.cpu_time_total, 'pid': pid,
                 'tid': e.thread, 'cat': 'user_annotation' if e.is_user_annotation else 'cpu_op', 'args': {}}
            if e.input_shapes is not None:
                d['args']['Input Dims'] = e.input_shapes
            if e.is_backward:
                d['args']['backward'] = True
            evs.append(d)
        with open(path, 'w') as f:
            json.dump({'traceEvents': evs, 'displayTimeUnit': 'ms'}, f)

    def __str__(self):
        return self.table()


def _shape_key(s):
    return None if s is None else repr(s)


def _fmt_time(us):
    if us >= 1e6:
        return f'{us / 1e6:.3f}s'
    if us >= 1e3:
        return f'{us / 1e3:.3f}ms'
    return f'{us:.3f}us'


def _fmt_mem(b):
    for unit, size in (('Gb', 1 << 30), ('Mb', 1 << 20), ('Kb', 1 << 10)):
        if abs(b) >= size:
            return f'{b / size:.2f} {unit}'
    return f'{b} b'


_SORT_KEYS = ('cpu_time_total', 'self_cpu_time_total', 'cpu_time', 'self_cpu_time', 'count',
              'cpu_memory_usage', 'self_cpu_memory_usage')


def _build_table(events, sort_by, row_limit, name_w, shapes_w, header, top_level_only):
    rows = list(events)
    if top_level_only:
        rows = [e for e in rows if getattr(e, 'cpu_parent', None) is None]
    if sort_by is not None:
        key = {'cuda_time_total': 'cpu_time_total', 'self_cuda_time_total': 'self_cpu_time_total',
               'device_time_total': 'cpu_time_total', 'self_device_time_total': 'self_cpu_time_total',
               'cuda_time': 'cpu_time', 'device_time': 'cpu_time'}.get(sort_by, sort_by)
        if key not in _SORT_KEYS:
            raise ValueError(f"sort_by must be one of {', '.join(_SORT_KEYS)}, got {sort_by!r}")
        rows.sort(key=lambda e: getattr(e, key), reverse=True)
    if row_limit is not None and row_limit > 0:
        rows = rows[:row_limit]
    total_self = events.self_cpu_time_total if isinstance(events, EventList) else \
        sum(e.self_cpu_time_total for e in events)
    with_shapes = getattr(events, '_with_shapes', False) or any(
        isinstance(e, FunctionEvent) and e.input_shapes is not None for e in rows)
    with_mem = getattr(events, '_profile_memory', False)
    nw = min(max([len(e.key) for e in rows] + [len('Name')]) + 4, name_w)
    cols = [('Name', nw, 'l'), ('Self CPU %', 12, 'r'), ('Self CPU', 12, 'r'), ('CPU total %', 12, 'r'),
            ('CPU total', 12, 'r'), ('CPU time avg', 12, 'r')]
    if with_mem:
        cols += [('CPU Mem', 12, 'r'), ('Self CPU Mem', 12, 'r')]
    cols.append(('# of Calls', 12, 'r'))
    if with_shapes:
        sw = min(max([len(str(e.input_shapes)) for e in rows] + [len('Input Shapes')]) + 2, shapes_w)
        cols.append(('Input Shapes', sw, 'l'))
    sep = '  '.join('-' * w for _, w, _ in cols)

    def line(vals):
        out = []
        for v, (_, w, al) in zip(vals, cols):
            v = str(v)
            if len(v) > w:
                v = v[:w - 3] + '...'
            out.append(v.ljust(w) if al == 'l' else v.rjust(w))
        return '  '.join(out).rstrip()

    def pct(x):
        return f'{100.0 * x / total_self:.2f}%' if total_self > 0 else '0.00%'
    lines = []
    if header:
        lines.append('=' * len(sep))
        lines.append(header)
    lines += [sep, line([c for c, _, _ in cols]), sep]
    for e in rows:
        cnt = e.count
        vals = [e.key, pct(e.self_cpu_time_total), _fmt_time(e.self_cpu_time_total), pct(e.cpu_time_total),
                _fmt_time(e.cpu_time_total), _fmt_time(e.cpu_time_total / cnt if cnt else 0.0)]
        if with_mem:
            vals += [_fmt_mem(e.cpu_memory_usage), _fmt_mem(e.self_cpu_memory_usage)]
        vals.append(cnt)
        if with_shapes:
            vals.append(e.input_shapes if e.input_shapes is not None else '')
        lines.append(line(vals))
    lines.append(sep)
    lines.append(f'Self CPU time total: {_fmt_time(total_self)}')
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------------------------------------------------
# recording

def _shapes(args):
    from ..tensor import Tensor
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(list(a._data.shape))
        elif isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
            out.append([list(x._data.shape) for x in a])
        else:
            out.append([])
    return out


def _nbytes(r):
    from ..tensor import Tensor
    if isinstance(r, Tensor):
        return r._data.nbytes
    if isinstance(r, (tuple, list)):
        return sum(x._data.nbytes for x in r if isinstance(x, Tensor))
    return 0


def _cuda_sync():
    cp = sys.modules.get('cupy')
    if cp is not None:
        try:
            cp.cuda.Device().synchronize()
        except Exception:  # no usable device: nothing to wait for
            pass


class _Recorder:
    """Timing state of one profile: the per-thread stacks of open calls and the finished records."""

    def __init__(self, record_shapes, profile_memory, use_cuda):
        self.records = []   # (name, t0_ns, t1_ns, self_ns, tid, shapes, mem, self_mem, kind)
        self.tls = threading.local()
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.sync = _cuda_sync if use_cuda else None

    def stack(self):
        try:
            return self.tls.stack
        except AttributeError:
            s = self.tls.stack = []
            return s

    def call(self, name, fn, args, kwargs, kind=0, shape_args=None):
        """Run ``fn(*args, **kwargs)`` as one timed event (kind 0: op, 1: backward node, 2: user range)."""
        stack = self.stack()
        shapes = _shapes(args if shape_args is None else shape_args) if self.record_shapes else None
        frame = [0, 0]                          # children's total ns, children's memory
        stack.append(frame)
        sync = self.sync
        if sync is not None:
            sync()
        r = None
        t0 = _now()
        try:
            r = fn(*args, **kwargs)
        finally:
            if sync is not None:
                sync()
            t1 = _now()
            stack.pop()
            dt = t1 - t0
            mem = frame[1]
            self_mem = 0
            if self.profile_memory and kind != 2:
                self_mem = _nbytes(r)
                mem += self_mem
            if stack:
                stack[-1][0] += dt
                stack[-1][1] += mem
            self.records.append((name, t0, t1, dt - frame[0], threading.get_ident(), shapes, mem, self_mem, kind))
        return r

    def open_range(self):
        stack = self.stack()
        frame = [0, 0, _now()]
        stack.append(frame)
        return frame

    def close_range(self, name, frame):
        t1 = _now()
        stack = self.stack()
        # ranges closed out of order (a generator left open): drop frames above this one
        while stack and stack[-1] is not frame:
            stack.pop()
        if stack:
            stack.pop()
        dt = t1 - frame[2]
        if stack:
            stack[-1][0] += dt
            stack[-1][1] += frame[1]
        self.records.append((name, frame[2], t1, dt - frame[0], threading.get_ident(), None, frame[1], 0, 2))


def _wrap(rec, name, fn):
    call = rec.call

    def timed(*args, **kwargs):
        return call(name, fn, args, kwargs)
    timed.__name__ = getattr(fn, '__name__', name)
    timed.__qualname__ = getattr(fn, '__qualname__', name)
    timed.__doc__ = getattr(fn, '__doc__', None)
    timed.__wrapped__ = fn
    return timed


def _optimizer_wrap(rcall, k, fn):
    def timed(self, *args, **kwargs):
        return rcall(f'Optimizer.{k}#{type(self).__name__}.{k}', fn, (self,) + args, kwargs, 0, args)
    timed.__name__, timed.__doc__, timed.__wrapped__ = fn.__name__, fn.__doc__, fn
    return timed


def _op_functions():
    """name -> function for every op to time: the op functions, nn.functional, creation functions."""
    from . import ops
    from .. import creation
    from ..nn import functional as F
    fns = {}
    for n in ops.__all__:
        v = getattr(ops, n)
        if not (getattr(v, '__module__', None) or '').endswith('._util'):   # array helpers, not ops
            fns.setdefault(id(v), (n, v))
    for n in ('getitem', 'setitem'):
        if hasattr(ops, n):
            fns.setdefault(id(getattr(ops, n)), (n, getattr(ops, n)))
    f_names = set()
    for mname, mod in list(sys.modules.items()):
        if mname.startswith(F.__name__ + '.') and mod is not None:
            f_names.update(getattr(mod, '__all__', ()))
    for mod, names in ((F, sorted(f_names)), (creation, dir(creation))):
        for n in names:
            v = getattr(mod, n, None)
            if n.startswith('_') or not isinstance(v, types.FunctionType):
                continue
            if mod is creation and v.__module__ != creation.__name__:
                continue
            fns.setdefault(id(v), (n, v))
    return fns


class _Instrumentation:
    """Swaps timing wrappers into every npnn module namespace and the Tensor/Module classes; undoes it."""

    def __init__(self, rec):
        self.rec = rec
        self.saved = []     # (owner, attribute, original)

    def install(self):
        from .ops.elementwise import _MethodForm
        from ..tensor import Tensor
        from ..nn.modules.module import Module
        from . import engine
        rec = self.rec
        wrappers = {}
        for key, (name, fn) in _op_functions().items():
            if isinstance(fn, _MethodForm):
                w = _MethodForm(_wrap(rec, name, fn.fn), _wrap(rec, name, fn.method))
            else:
                w = _wrap(rec, name, fn)
            wrappers[key] = (fn, w)
        me = __name__
        classes = {}
        for mname, mod in list(sys.modules.items()):
            if mod is None or mname == me or not (mname == 'npnn' or mname.startswith('npnn.')):
                continue
            d = getattr(mod, '__dict__', None)
            if not d:
                continue
            for k, v in list(d.items()):
                hit = wrappers.get(id(v))
                if hit is not None and hit[0] is v:
                    self._swap(mod, k, v, hit[1])
                elif isinstance(v, type) and (getattr(v, '__module__', None) or '').startswith('npnn'):
                    classes[id(v)] = v
        # op functions held in class bodies (methods, ``_fn = staticmethod(F.relu)``)
        for cls in classes.values():
            for k, v in list(cls.__dict__.items()):
                f = v.__func__ if isinstance(v, staticmethod) else v
                hit = wrappers.get(id(f))
                if hit is not None and hit[0] is f:
                    self._swap(cls, k, v, staticmethod(hit[1]) if f is not v else hit[1])
        for k, v in list(Tensor.__dict__.items()):
            if isinstance(v, types.FunctionType) and not k.startswith('_') and k not in _NOT_OPS and (
                    k in _TENSOR_CLASS_OPS or k.endswith('_')) and id(v) not in wrappers:
                self._swap(Tensor, k, v, _wrap(rec, k, v))
        call = Module.__dict__['__call__']
        rcall = rec.call

        def module_call(self, *args, **kwargs):
            return rcall('nn.Module: ' + type(self).__name__, call, (self,) + args, kwargs, 0, args)
        module_call.__wrapped__ = call
        self._swap(Module, '__call__', call, module_call)

        optim = sys.modules.get('npnn.optim.optimizer')
        if optim is not None:   # Optimizer.step#SGD.step, Optimizer.zero_grad#SGD.zero_grad (PyTorch's names)
            for cls in classes.values():
                if issubclass(cls, optim.Optimizer):
                    for k in ('step', 'zero_grad'):
                        f = cls.__dict__.get(k)
                        if isinstance(f, types.FunctionType):
                            self._swap(cls, k, f, _optimizer_wrap(rcall, k, f))

        def observe(node, grads):
            return rcall(node.name(), node.backward, (grads,), {}, 1,
                         grads if type(grads) is list else (grads,))
        self._swap(engine, '_node_observer', engine._node_observer, observe)

    def _swap(self, owner, k, orig, new):
        self.saved.append((owner, k, orig))
        setattr(owner, k, new)

    def uninstall(self):
        for owner, k, orig in reversed(self.saved):
            setattr(owner, k, orig)
        self.saved = []


# ------------------------------------------------------------------------------------------------------------
# the public context managers

class profile:
    """Context manager that records op and backward-node times while active.

    ``use_cuda`` synchronises the GPU around each op so times include device work; ``record_shapes`` keeps
    input shapes; ``profile_memory`` counts the bytes of each op's outputs. ``with_stack`` and the other
    keyword arguments are accepted for compatibility.
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled = enabled
        self.use_cuda = bool(use_cuda or (use_device is not None and 'cuda' in str(use_device)))
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.use_cpu = use_cpu
        self.function_events = None
        self._rec = None
        self._inst = None
        self.entered = False

    def __enter__(self):
        global _active
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        if _active is not None:
            raise RuntimeError("Profiler is already enabled on this thread")
        self.entered = True
        self._rec = _Recorder(self.record_shapes, self.profile_memory, self.use_cuda)
        self._inst = _Instrumentation(self._rec)
        try:
            self._inst.install()
        except BaseException:
            self._inst.uninstall()
            raise
        _active = self
        if self.use_cuda:
            _cuda_sync()
        self._t_start = _now()
        return self

    def __exit__(self, *exc):
        global _active
        if not self.enabled:
            return False
        if self.use_cuda:
            _cuda_sync()
        self._inst.uninstall()
        _active = None
        self.function_events = self._build(self._rec.records)
        self._rec = None
        return False

    def _build(self, records):
        evs = []
        base = self._t_start
        for i, (name, t0, t1, self_ns, tid, shapes, mem, self_mem, kind) in enumerate(records):
            evs.append(FunctionEvent(i, name, (t0 - base) / 1e3, (t1 - base) / 1e3, tid, shapes, self_ns / 1e3,
                                     mem, self_mem, kind == 1, kind == 2))
        evs.sort(key=lambda e: (e.thread, e.start_us, -e.end_us))
        # parents and children: per thread, an event is inside the closest open event that covers it
        open_ = []
        cur = None
        for e in evs:
            if e.thread != cur:
                cur, open_ = e.thread, []
            while open_ and open_[-1].end_us < e.end_us:
                open_.pop()
            if open_:
                e.cpu_parent = open_[-1]
                open_[-1].cpu_children.append(e)
            open_.append(e)
        evs.sort(key=lambda e: e.start_us)
        for i, e in enumerate(evs):
            e.id = i
        return EventList(evs, profile_memory=self.profile_memory, with_shapes=False)

    def _check(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def events(self):
        """Every recorded event, in start order."""
        self._check()
        return self.function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """Events summed per op name (and input shapes when ``group_by_input_shape``)."""
        self._check()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        """The raw events' table (see ``EventList.table``)."""
        self._check()
        return self.function_events.table(sort_by, row_limit, max_src_column_width, max_name_column_width,
                                          max_shapes_column_width, header, top_level_events_only)

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace JSON."""
        self._check()
        return self.function_events.export_chrome_trace(path)

    def total_average(self):
        """All events summed into one average."""
        self._check()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        """Total self CPU time of all events (microseconds)."""
        self._check()
        return self.function_events.self_cpu_time_total

    def __str__(self):
        return self.key_averages().table() if self.function_events is not None else '<unfinished profile>'


class record_function:
    """A named user range recorded by the active profiler (context manager or decorator); free without one."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._frames = []

    def __enter__(self):
        p = _active
        rec = p._rec if p is not None else None
        self._frames.append((rec, rec.open_range() if rec is not None else None))
        return self

    def __exit__(self, *exc):
        rec, frame = self._frames.pop()
        if rec is not None and _active is not None and _active._rec is rec:
            rec.close_range(self.name, frame)
        return False

    def __call__(self, fn):
        name = self.name

        def ranged(*args, **kwargs):
            with record_function(name):
                return fn(*args, **kwargs)
        ranged.__name__ = getattr(fn, '__name__', name)
        ranged.__doc__ = getattr(fn, '__doc__', None)
        ranged.__wrapped__ = fn
        return ranged


class emit_nvtx:
    """Accepted for compatibility; emits nothing (there is no NVTX here)."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
