"""Finite-difference checks of first and second derivatives (``gradcheck``, ``gradgradcheck``).

Complex numbers are checked as pairs of reals, as PyTorch does: a complex input is perturbed along its
real and its imaginary part, and a complex output counts as two real outputs (its real and imaginary
parts). The analytical side follows PyTorch's convention: backpropagating ``1`` (or ``1j``) into an output
element gives, for a complex input, ``d/dx + i d/dy`` of that element's real (or imaginary) part.
"""
import numpy as np

from .functions import grad as _grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    if isinstance(x, list):
        return tuple(x)
    return x if isinstance(x, tuple) else (x,)


def _diff_inputs(inputs):
    from ..tensor import Tensor
    return [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]


def _outputs(fn, inputs):
    from ..tensor import Tensor
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex())]


def _parts(t):
    """The real components a tensor is checked as: ('re',) or, for complex tensors, ('re', 'im')."""
    return ('re', 'im') if t._data.dtype.kind == 'c' else ('re',)


def _host(o):
    a = np.asarray(o.detach().cpu().numpy()).reshape(-1)
    return a.astype(np.complex128 if a.dtype.kind == 'c' else np.float64)


def _split(d, part):
    """The real or imaginary part of a (possibly complex) host array as float64."""
    if part == 're':
        return d.real if d.dtype.kind == 'c' else d
    return d.imag if d.dtype.kind == 'c' else np.zeros_like(d)


def _numerical_jacobian(fn, inputs, eps):
    """J[i][j][(pin, pout)]: d part_pout(output j) / d part_pin(input i), (numel_in, numel_out) arrays by
    central differences."""
    from ..autograd.grad_mode import no_grad
    diff = _diff_inputs(inputs)
    with no_grad():
        outs = _outputs(fn, inputs)
    jac = []
    for t in diff:
        arr = t._data  # perturbed in place, element by element (works for any strides)
        n = arr.size
        blocks = [{(pi, po): np.zeros((n, o.numel())) for pi in _parts(t) for po in _parts(o)} for o in outs]
        for k in range(n):
            idx = np.unravel_index(k, arr.shape)
            orig = arr[idx].item()
            for pi in _parts(t):
                step = eps if pi == 're' else 1j * eps
                arr[idx] = orig + step
                with no_grad():
                    plus = [_host(o) for o in _outputs(fn, inputs)]
                arr[idx] = orig - step
                with no_grad():
                    minus = [_host(o) for o in _outputs(fn, inputs)]
                arr[idx] = orig
                for j, o in enumerate(outs):
                    d = (plus[j] - minus[j]) / (2 * eps)
                    for po in _parts(o):
                        blocks[j][(pi, po)][k] = _split(d, po)
        jac.append(blocks)
    return jac


def _analytical_jacobian(fn, inputs):
    from ..tensor import Tensor
    from ..backend.device import array_module
    diff = _diff_inputs(inputs)
    outs = _outputs(fn, inputs)
    jac = [[{(pi, po): np.zeros((t.numel(), o.numel())) for pi in _parts(t) for po in _parts(o)} for o in outs]
           for t in diff]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        xp = array_module(o._data)
        for po in _parts(o):
            unit = 1 if po == 're' else 1j
            for m in range(o.numel()):
                e = xp.zeros(o._data.size, dtype=o._data.dtype)
                e[m] = unit
                gs = _grad([o], diff, [Tensor._make(e.reshape(o._data.shape))], retain_graph=True,
                           allow_unused=True)
                for i, g in enumerate(gs):
                    if g is None:
                        continue
                    h = _host(g)
                    for pi in _parts(diff[i]):
                        jac[i][j][(pi, po)][:, m] = _split(h, pi)
    return jac


def _where(pi, po, out_complex):
    """PyTorch's prefix naming the real part of a complex pair that disagrees."""
    s = ''
    if out_complex:
        s += f"While considering the {'real' if po == 're' else 'imaginary'} part of complex outputs only, "
    if pi == 'im':
        s += "While considering the imaginary part of complex inputs only, "
    return s


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False, fast_mode=False,
              masked=None):
    """Compare the analytical Jacobian of ``func`` at ``inputs`` with finite differences (use float64 or
    complex128). Complex inputs are perturbed along both parts; complex outputs are checked as their real
    and imaginary parts."""
    inputs = _as_tuple(inputs)
    diff = _diff_inputs(inputs)
    for t in diff:
        if t.dtype.name not in ('float64', 'complex128'):
            import warnings
            warnings.warn(f"Input #{inputs.index(t)} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point. ")
    with _no_grad():
        out_complex = [o.is_complex() for o in _outputs(func, inputs)]
    num = _numerical_jacobian(func, inputs, eps)
    ana = _analytical_jacobian(func, inputs)
    for i, (nrow, arow) in enumerate(zip(num, ana)):
        for j, (nb, ab) in enumerate(zip(nrow, arow)):
            for key in nb:
                n, a = nb[key], ab[key]
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    if raise_exception:
                        raise GradcheckError(f"{_where(key[0], key[1], out_complex[j])}Jacobian mismatch for "
                                             f"output {j} with respect to input {i},\n"
                                             f"numerical:{n}\nanalytical:{a}\n")
                    return False
    return True


def _no_grad():
    from .grad_mode import no_grad
    return no_grad()


def _random_like(o):
    """A random grad_output for ``o`` requiring grad: both parts random when ``o`` is complex."""
    from ..creation import randn
    from ..tensor import Tensor
    if o._data.dtype.kind != 'c':
        return randn(o.shape, dtype=o.dtype, device=o.device).requires_grad_()
    rdt = np.float32 if o._data.dtype == np.complex64 else np.float64
    from ..backend import dtypes
    rd = dtypes.from_numpy_dtype(rdt)
    re = randn(o.shape, dtype=rd, device=o.device)._data
    im = randn(o.shape, dtype=rd, device=o.device)._data
    return Tensor._make((re + 1j * im).astype(o._data.dtype)).requires_grad_()


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: gradcheck of the function ``inputs, grad_outputs -> grad(func)``."""
    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(_random_like(o) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_grad(*args):
        from .grad_mode import enable_grad
        ins, gos = args[:n_in], args[n_in:]
        diff = _diff_inputs(ins)
        with enable_grad():
            outs_ = _outputs(func, ins)
            gs = _grad(outs_, diff, list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)
    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
