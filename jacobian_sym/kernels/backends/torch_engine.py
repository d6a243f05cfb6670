"""The PyTorch backend: the plan printed over ``torch``, as a standalone module.

PyTorch's names differ from NumPy's, so the table writes each ``np.`` call the planner emits in torch
terms (``np.mean(a, axis=1, keepdims=True)`` → ``torch.mean(a, dim=1, keepdim=True)``, a constant
built with the dtype *and device* of an input). The module holds

* ``<name>(*, X=…, check=True)``: the checked door (tensors checked in torch's terms), the loss and
  every derived gradient in one pass under ``torch.no_grad``;
* ``<Name>Function``: a ``torch.autograd.Function`` — its forward saves what the derived backward
  reads, its backward returns the derived gradients (scaled by the incoming gradient); asking for the
  gradient of a tensor the model does not differentiate raises ``InputError``;
* ``<Name>Module``: an ``nn.Module`` holding the model's parameters (``torch.nn.Parameter``), called
  with the data tensors by name; device- and dtype-agnostic (``.to(device, dtype)`` moves it).
"""

from __future__ import annotations

from jacobian_sym.kernels.backends.jax_engine import runtime
from jacobian_sym.kernels.backends.split import backward_body, forward_body, saved
from jacobian_sym.kernels.backends.translate import call, float_inputs_only, translate
from jacobian_sym.kernels.generate import Plan, _no_batch

NAME = "torch"
IMPORTS = (("torch", None),)
MODULE_NAMES = frozenset({"torch"})
#: the dunder names a module's class needs (nn.Module's constructor); no other is accepted
DUNDERS = frozenset({"__init__"})


def _kw(keywords: dict, *, dim="axis") -> str:
    """NumPy's axis=/keepdims= as torch's dim=/keepdim=."""
    out = []
    for k, v in keywords.items():
        out.append(f"dim={v}" if k == dim else f"keepdim={v}" if k == "keepdims" else f"{k}={v}")
    return "".join(f", {o}" for o in out)


def _like(keywords: dict) -> str:
    """dtype=X.dtype as dtype=X.dtype, device=X.device (a constant lives where the inputs do)."""
    dtype = keywords.get("dtype")
    if dtype is None:
        return ""
    device = dtype[:-len(".dtype")] + ".device" if dtype.endswith(".dtype") else None
    return f", dtype={dtype}" + (f", device={device}" if device else "")


def _reduction(name):
    return lambda a, k: f"torch.{name}({a[0]}{_kw(k)})"


def _logaddexp(a, k):
    if a[0] in ("0", "0.0"):
        return f"torch.nn.functional.softplus({a[1]})"
    return f"torch.logaddexp(torch.as_tensor({a[0]}), {a[1]})"


def _number(code: str) -> bool:
    try:
        float(code)
    except ValueError:
        return False
    return True


def _bound(name: str, clamp: str):
    """np.maximum / np.minimum: torch's take two tensors; a number on either side is a clamp."""
    def rewrite(a, k):
        if _number(a[1]):
            return f"torch.{clamp}({a[0]}, {a[1]})"
        if _number(a[0]):
            return f"torch.{clamp}({a[1]}, {a[0]})"
        return f"torch.{name}({a[0]}, {a[1]})"
    return rewrite


def _mask(name):
    # the planner passes X.dtype; torch's mask takes X itself, for its device too
    return lambda a, k: f"{name}({a[0]}, {a[1].removesuffix('.dtype')})"


TABLE = {
    **{f"np.{n}": call(f"torch.{n}({{0}})") for n in (
        "abs", "cos", "cosh", "diagflat", "exp", "expm1", "log", "log1p", "sign", "sin", "sinh", "sqrt", "tan", "tanh",
        "trace")},
    "np.sum": _reduction("sum"),
    "np.mean": _reduction("mean"),
    "np.max": _reduction("amax"),
    "np.min": _reduction("amin"),
    "np.argmax": _reduction("argmax"),
    "np.argmin": _reduction("argmin"),
    "np.var": lambda a, k: f"torch.var({a[0]}{_kw(k)}, correction=0)",
    "np.vdot": lambda a, k: f"torch.sum({a[0]} * {a[1]})",
    "np.maximum": _bound("maximum", "clamp_min"),
    "np.minimum": _bound("minimum", "clamp_max"),
    "np.where": call("torch.where({0}, {1}, {2})"),
    "np.clip": call("torch.clamp({0}, {1}, {2})"),
    "np.logaddexp": _logaddexp,
    "np.concatenate": lambda a, k: f"torch.cat({a[0]}{_kw(k)})",
    "np.repeat": lambda a, k: f"torch.repeat_interleave({a[0]}, {a[1]}{_kw(k)})",
    "np.reshape": call("torch.reshape({0}, {1})"),
    "np.linalg.multi_dot": call("torch.linalg.multi_dot({0})"),
    "np.linalg.norm": call("torch.linalg.norm({0})"),
    "np.heaviside": call("_heaviside({0}, {1})"),
    "np.pad": call("_pad({0}, {1})"),
    "np.power": call("torch.pow({0}, {1})"),
    "np.eye": lambda a, k: f"torch.eye({a[0]}{_like(k)})",
    "np.ones": lambda a, k: f"torch.ones({a[0]}{_like(k)})",
    "np.zeros": lambda a, k: f"torch.zeros({a[0]}{_like(k)})",
    "np.full": lambda a, k: f"torch.full({a[0]}, {a[1]}{_like(k)})",
    "np.asarray": lambda a, k: f"torch.as_tensor({a[0]}{_like(k)})",
    "_causal_mask": _mask("_causal_mask"),
    "_lower_mask": _mask("_lower_mask"),
}


def runtime_source() -> str:
    return runtime("checks_runtime.py") + "\n\n\n" + runtime("torch_runtime.py")


def class_name(fname: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in fname.split("_") if part) or "Model"


def source(p: Plan, title: str) -> str:
    float_inputs_only(p.labels, "PyTorch")
    fname, cls = p.fname, class_name(p.fname)
    args = list(p.spec)
    arglist = ", ".join(args)
    tr = lambda lines: translate("\n".join(lines), TABLE, NAME).split("\n")  # noqa: E731
    body = p.body()
    keep = saved(p)
    fwd, bwd = forward_body(p), backward_body(p)
    not_derived = [n for n in args if n not in p.gradients]
    params = [n for n in args if n in p.b.model.params]
    data = [n for n in args if n not in params]
    grads = ", ".join(f"_g * _grads[{n!r}]" if n in p.gradients else "None" for n in args)
    arrays = f"{{{', '.join(f'{n!r}: {n}' for n in args)}}}"
    lines = [
        f"def _{fname}_all({arglist}):",
        *p.size_lines(body),
        *tr(body),
        "    return _out",
        "",
        "",
        f"def _{fname}_forward({arglist}):",
        *p.size_lines(fwd),
        *tr(fwd),
        f"    return {p.loss}, ({', '.join(keep)},)",
        "",
        "",
        f"def _{fname}_backward({', '.join(keep)}):",
        *p.size_lines(bwd),
        *tr(bwd),
        "    return {" + ", ".join(f"{n!r}: _g_{n}" for n in p.gradients) + "}",
        "",
        "",
        f"def {fname}(*, {', '.join(f'{n}=None' for n in args)}, check=True, **_extra):",
        p.docstring,
        "    if check or _extra:",
        f"        _check({{**{arrays}, **_extra}}, SPEC, ONE_HOT, NO_BATCH)",
        "    with torch.no_grad():",
        f"        _out = _{fname}_all({arglist})",
        "        _out['J'] = _scalar(_out['J'])  # (a loss that ends in a 1×1 product is a number too)",
        "    if check and not _host(torch.isfinite(_out['J']).all()):",
        f"        _not_finite({arrays})",
        "    return _out",
        "",
        "",
        f"class {cls}Function(torch.autograd.Function):",
        '    """The loss as an autograd Function: the forward saves what the derived backward reads; the',
        '    backward returns the derived gradients (not differentiable again: once_differentiable)."""',
        "",
        "    @staticmethod",
        f"    def forward(ctx, {arglist}):",
        *([f"        _asked = [n for n, d in zip({tuple(args)!r}, ctx.needs_input_grad) if d and n not in GRADIENTS]",
           "        if _asked:",
           "            _not_derived(_asked, GRADIENTS)"] if not_derived else []),
        f"        _loss, _saved = _{fname}_forward({arglist})",
        "        ctx.save_for_backward(*_saved)",
        "        return _loss",
        "",
        "    @staticmethod",
        "    @torch.autograd.function.once_differentiable",
        "    def backward(ctx, _g):",
        f"        _grads = _{fname}_backward(*ctx.saved_tensors)",
        f"        return ({grads},)",
        "",
        "",
        f"class {cls}Module(torch.nn.Module):",
        f'    """The model\'s parameters ({", ".join(params) or "none"}) as torch.nn.Parameter; called',
        f'    with the data tensors by name ({", ".join(data) or "none"}), it returns the loss, whose backward',
        '    is the derived one."""',
        "",
        f"    def __init__(self, *, {', '.join(f'{n}' for n in params)}):" if params else "    def __init__(self):",
        "        torch.nn.Module.__init__(self)",
        *[f"        self.{n} = torch.nn.Parameter(torch.as_tensor({n}).clone())" for n in params],
        "",
        f"    def forward(self, *, {', '.join(data)}):" if data else "    def forward(self):",
        f"        return {cls}Function.apply({', '.join(n if n in data else f'self.{n}' for n in args)})",
    ]
    header = ('"""Generated by jacobian_sym (PyTorch backend): the loss and gradients of the model named in TITLE.\n\n'
              f"{fname}(...) checks the tensors and returns the loss and gradients; {cls}Function is a\n"
              f"torch.autograd.Function whose backward is the derived one; {cls}Module holds the parameters.\n"
              "Regenerate with `jacobian-sym codegen --backend torch`; do not edit.\n\"\"\"\n\n"
              "import torch\n\n"
              f"TITLE = {title!r}\n"
              f"SPEC = {{\n{''.join(f'    {k!r}: {v!r},{chr(10)}' for k, v in p.spec.items())}}}\n"
              f"ONE_HOT = {p.one_hot!r}\nNO_BATCH = {_no_batch(p.b)!r}\nFUNCTION = {fname!r}\nCLASS = {cls!r}\n"
              f"GRADIENTS = {tuple(p.gradients)!r}\n\n\n")
    helpers = "".join(f"\n\n\n{translate(h, TABLE, NAME)}" for h in p.helpers.values())
    return header + runtime_source() + helpers + "\n\n\n" + "\n".join(lines) + "\n"


def statements(fname: str) -> frozenset[str]:
    """No module-level call: the Function and the Module are classes."""
    return frozenset()
