"""The JAX backend: the plan printed over ``jax.numpy``, as a standalone module.

``jax.numpy`` mirrors NumPy's names, so the table maps every ``np.`` name the planner writes to its
``jnp.`` twin (an override where the two differ: none so far). The module holds

* ``<name>_loss_and_grads(X, …)``: pure and ``jax.jit``-compiled, the loss and every derived gradient
  in one forward and one backward pass (no Python control flow on values);
* ``<name>_loss(X, …)``: the loss as a ``jax.custom_vjp`` whose backward is the derived one (the
  forward hands it the activations it reads); asking it for the gradient of an array the model does
  not differentiate raises ``InputError`` rather than returning a zero;
* ``<name>(*, X=…, check=True)``: the checked door, as the NumPy kernel's (the arrays checked in
  JAX's terms, then the jitted function).
"""

from __future__ import annotations

from pathlib import Path

from jacobian_sym.kernels.backends.split import backward_body, forward_body, saved
from jacobian_sym.kernels.backends.translate import float_inputs_only, same, translate
from jacobian_sym.kernels.generate import Plan, _no_batch

NAME = "jax"
IMPORTS = (("jax", None), ("jax.numpy", "jnp"), ("numpy", "np"))
MODULE_NAMES = frozenset({"jax", "jnp", "np"})

_same = same("jnp.")
#: every NumPy name the planner writes (kernels/lowering.py, generate.py, kernel_printer.py, SymPy's
#: NumPy printer for derived forms), in jax.numpy
NUMPY_NAMES = (
    "abs", "asarray", "concatenate", "cos", "cosh", "diagflat", "exp", "expm1", "eye", "heaviside", "linalg.multi_dot",
    "linalg.norm", "log", "log1p", "logaddexp", "maximum", "mean", "ones", "repeat", "reshape", "sign", "sin",
    "sinh", "sqrt", "sum", "tan", "tanh", "clip", "trace", "var", "vdot", "where", "zeros", "power", "minimum", "full",
    "pad",
    "max", "min", "argmax", "argmin",
)
TABLE = {f"np.{n}": _same(n) for n in NUMPY_NAMES}

_HERE = Path(__file__).parent


def runtime(name: str) -> str:
    """A runtime file of this package as module text: without its docstring and imports."""
    body = (_HERE / name).read_text().split('"""', 2)[2]
    return "\n".join(line for line in body.split("\n") if not line.startswith(("import ", "from "))).strip("\n")


def runtime_source() -> str:
    """The checks and the JAX runtime, without their docstrings and imports."""
    return runtime("checks_runtime.py") + "\n\n\n" + runtime("jax_runtime.py")


def statements(fname: str) -> frozenset[str]:
    """The module-level calls the audit accepts in this backend's modules (and no other)."""
    return frozenset({f"{fname}_loss.defvjp(_{fname}_fwd, _{fname}_bwd, symbolic_zeros=True)"})


def source(p: Plan, title: str) -> str:
    float_inputs_only(p.labels, "JAX")
    fname = p.fname
    args = list(p.spec)
    arglist = ", ".join(args)
    tr = lambda lines: translate("\n".join(lines), TABLE, NAME).split("\n")  # noqa: E731
    body = p.body()
    keep = saved(p)
    fwd, bwd = forward_body(p), backward_body(p)
    not_derived = [n for n in args if n not in p.gradients]
    grads = ", ".join(f"_g * _g_{n}" if n in p.gradients else "None" for n in args)
    perturbed = ", ".join(f"{n}.perturbed" for n in not_derived)
    arrays = f"{{{', '.join(f'{n!r}: {n}' for n in args)}}}"
    lines = [
        "@jax.jit",
        f"def {fname}_loss_and_grads({arglist}):",
        '    """The loss and its derived gradients: {"J": loss, "<variable>": gradient, …} (pure, jit-compiled)."""',
        *p.size_lines(body),
        *tr(body),
        "    _out['J'] = _scalar(_out['J'])  # (a loss that ends in a 1×1 product is a number too)",
        "    return _out",
        "",
        "",
        "@jax.custom_vjp",
        f"def {fname}_loss({arglist}):",
        '    """The loss, differentiable by jax.grad through the derived backward (custom_vjp)."""',
        f"    return _{fname}_forward({arglist})[0]",
        "",
        "",
        f"def _{fname}_forward({arglist}):",
        *p.size_lines(fwd),
        *tr(fwd),
        f"    return {p.loss}, ({', '.join(keep)},)",
        "",
        "",
        f"def _{fname}_fwd({arglist}):",
        *([f"    if {' or '.join(f'{n}.perturbed' for n in not_derived)}:",
           f"        _not_derived([n for n, d in zip({tuple(not_derived)!r}, ({perturbed},)) if d], GRADIENTS)"]
          if not_derived else []),
        f"    return _{fname}_forward({', '.join(f'{n}.value' for n in args)})",
        "",
        "",
        f"def _{fname}_bwd(_res, _g):",
        f"    ({', '.join(keep)},) = _res",
        *p.size_lines(bwd),
        *tr(bwd),
        f"    return ({grads},)",
        "",
        "",
        f"{fname}_loss.defvjp(_{fname}_fwd, _{fname}_bwd, symbolic_zeros=True)",
        "",
        "",
        f"def {fname}(*, {', '.join(f'{n}=None' for n in args)}, check=True, **_extra):",
        p.docstring,
        "    if check or _extra:",
        f"        _check({{**{arrays}, **_extra}}, SPEC, ONE_HOT, NO_BATCH)",
        f"    _out = {fname}_loss_and_grads({arglist})",
        "    if check and not _host(jnp.isfinite(_out['J']).all()):",
        f"        _not_finite({arrays})",
        "    return _out",
    ]
    header = ('"""Generated by jacobian_sym (JAX backend): the loss and gradients of the model named in TITLE.\n\n'
              f"{fname}_loss_and_grads is pure and jit-compiled; {fname}_loss is a jax.custom_vjp whose backward\n"
              f"is the derived one; {fname}(...) checks the arrays first. Regenerate with\n"
              "`jacobian-sym codegen --backend jax`; do not edit.\n\"\"\"\n\n"
              "import jax\nimport jax.numpy as jnp\nimport numpy as np\n\n"
              f"TITLE = {title!r}\n"
              f"SPEC = {{\n{''.join(f'    {k!r}: {v!r},{chr(10)}' for k, v in p.spec.items())}}}\n"
              f"ONE_HOT = {p.one_hot!r}\nNO_BATCH = {_no_batch(p.b)!r}\nFUNCTION = {fname!r}\n"
              f"GRADIENTS = {tuple(p.gradients)!r}\n\n\n")
    helpers = "".join(f"\n\n\n{translate(h, TABLE, NAME)}" for h in p.helpers.values())
    return header + runtime_source() + helpers + "\n\n\n" + "\n".join(lines) + "\n"
