"""Finite-difference checks of first and second derivatives (``gradcheck``, ``gradgradcheck``)."""
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
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical_jacobian(fn, inputs, eps):
    """J[i][j]: d outputs_j / d inputs_i as (numel_in, numel_out) arrays, by central differences."""
    from ..autograd.grad_mode import no_grad
    diff = _diff_inputs(inputs)
    with no_grad():
        outs = _outputs(fn, inputs)
    jac = []
    for t in diff:
        flat = t._data.reshape(-1)  # a view: perturb in place
        cols = [np.zeros((flat.size, o.numel())) for o in outs]
        for k in range(flat.size):
            orig = flat[k].item()
            flat[k] = orig + eps
            with no_grad():
                plus = [np.array(o.detach().cpu().numpy(), dtype=np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = orig - eps
            with no_grad():
                minus = [np.array(o.detach().cpu().numpy(), dtype=np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            flat[k] = orig
            for j in range(len(outs)):
                cols[j][k] = (plus[j] - minus[j]) / (2 * eps)
        jac.append(cols)
    return jac


def _analytical_jacobian(fn, inputs):
    from ..tensor import Tensor
    from ..backend.device import array_module
    diff = _diff_inputs(inputs)
    outs = _outputs(fn, inputs)
    jac = [[np.zeros((t.numel(), o.numel())) for o in outs] for t in diff]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        xp = array_module(o._data)
        for m in range(o.numel()):
            e = xp.zeros(o._data.size, dtype=o._data.dtype)
            e[m] = 1
            gs = _grad([o], diff, [Tensor._make(e.reshape(o._data.shape))], retain_graph=True, allow_unused=True)
            for i, g in enumerate(gs):
                if g is not None:
                    jac[i][j][:, m] = np.asarray(g.detach().cpu().numpy(), dtype=np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False, fast_mode=False,
              masked=None):
    """Compare the analytical Jacobian of ``func`` at ``inputs`` with finite differences (use float64)."""
    inputs = _as_tuple(inputs)
    diff = _diff_inputs(inputs)
    for t in diff:
        if t.dtype.name not in ('float64', 'complex128'):
            import warnings
            warnings.warn(f"Input #{inputs.index(t)} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point. ")
    num = _numerical_jacobian(func, inputs, eps)
    ana = _analytical_jacobian(func, inputs)
    for i, (nrow, arow) in enumerate(zip(num, ana)):
        for j, (n, a) in enumerate(zip(nrow, arow)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                                         f"numerical:{n}\nanalytical:{a}\n")
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: gradcheck of the function ``inputs, grad_outputs -> grad(func)``."""
    from ..creation import randn
    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn(o.shape, dtype=o.dtype, device=o.device).requires_grad_() for o in outs)
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
