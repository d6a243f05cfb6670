"""The source of a standalone NumPy module for a model's loss and gradients.

The module imports only NumPy. Its one public function takes the arrays by name, checks them with
plain Python (names, dtypes, finiteness, consistent sizes, one-hot labels) before any arithmetic,
runs the forward pass once and the backward pass from the derived closed forms (denominator layout,
over a batch), and returns {"J": loss, "<variable>": gradient, …}.
"""

from __future__ import annotations

import re

from .backprop import Backprop, backprop
from .chain import one_hot_axis
from .kernel_printer import KernelPrinter, py_name
from .ops import fill, get_op
from .render import plain

RUNTIME_SOURCE = '''

class InputError(ValueError):
    """An array that does not fit the model (raised before any arithmetic)."""


def _check(arrays, spec, one_hot):
    extra = [n for n in arrays if n not in spec and arrays[n] is not None]
    if extra:
        raise InputError(f"unexpected array(s): {', '.join(extra)}; expected {', '.join(spec)}")
    missing = [n for n in spec if arrays.get(n) is None]
    if missing:
        raise InputError(f"missing array(s): {', '.join(missing)}")
    sizes = {}
    for name, dims in spec.items():
        a = arrays[name]
        if not isinstance(a, np.ndarray):
            raise InputError(f"{name} must be a NumPy array, not {type(a).__name__}")
        if a.ndim != 2:
            raise InputError(f"{name} must be 2-D ({'×'.join(dims)}), but has shape {a.shape}")
        if a.dtype.kind != "f":
            raise InputError(f"{name} has dtype {a.dtype}; pass floating-point arrays (float32 or float64)")
        flat = a.ravel()
        # a·a is finite exactly when every element is (or it overflowed: then look element-wise)
        if not np.isfinite(flat @ flat) and not np.isfinite(a).all():
            raise InputError(f"{name} has non-finite values (inf or nan)")
        for axis, (dim, n) in enumerate(zip(dims, a.shape)):
            if dim.isdigit():
                if n != int(dim):
                    raise InputError(f"{name} has shape {a.shape} but its axis {axis} must be {dim}")
            elif dim in sizes and sizes[dim][0] != n:
                other, other_axis = sizes[dim][1], sizes[dim][2]
                what = "rows" if other_axis == 0 else "columns"
                raise InputError(f"{name} has shape {a.shape} but {other} has {sizes[dim][0]} {what} ({dim})")
            else:
                sizes.setdefault(dim, (n, name, axis))
    for name, axis in one_hot.items():
        a = arrays[name]
        if not (np.isin(a, (0.0, 1.0)).all() and (a.sum(axis=axis) == 1).all()):
            raise InputError(f"{name} is declared one-hot but is not (one 1 per example along axis {axis})")


def _mm(a, b):
    """a @ b; an outer product (inner dimension 1) as a broadcast multiply."""
    return a * b if a.shape[1] == 1 else a @ b


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def _cross_entropy(y, p):
    return -np.sum(y * np.log(p))


def _binary_cross_entropy(y, p):
    return -np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))
'''


def function_name(bp: Backprop) -> str:
    stem = bp.model.source or bp.model.title
    stem = re.sub(r".*/", "", stem).removesuffix(".toml")
    name = re.sub(r"\W+", "_", stem).strip("_").lower() or "model"
    return name if name[0].isalpha() else f"model_{name}"


def batched_backprop(bp: Backprop) -> Backprop:
    """The derivation a kernel is generated from: over a batch, in the denominator layout."""
    model = bp.model if bp.model.batch is not None else bp.model.batched("B")
    return backprop(model, layout="denominator")


def _log_probs_name(node):
    return f"log_{node.name or 'p'}"


def _feeds_cross_entropy(node, graph) -> bool:
    return node.op == "softmax" and any(c.op == "cross_entropy" for c in graph.consumers[id(node)])


def _fused(node, graph, names):
    """Stable lowerings of a loss fed by its link function: log-sum-exp cross-entropy (the softmax is
    then exp of the log-probabilities, one exponential pass), softplus BCE."""
    if _feeds_cross_entropy(node, graph):
        return f"np.exp({_log_probs_name(node)})"
    if node.op == "cross_entropy":
        y, p = node.args
        if p.op == "softmax":
            return f"-np.sum({names[id(y)]} * {_log_probs_name(p)})"
    if node.op == "binary_cross_entropy":
        y, p = node.args
        if p.op == "sigmoid":
            z = names[id(p.args[0])]
            return f"np.sum(np.logaddexp(0, {z}) - {names[id(y)]} * {z})"
    return None


def source(bp: Backprop) -> str:
    """The generated module's source for ``bp``'s model (deterministic)."""
    b = batched_backprop(bp)
    graph = b.graph
    batch = b.model.batch
    names: dict = {}
    outputs: dict = {}
    lines = []
    temp = 0
    for node in graph.nodes:
        if node.op == "const":
            names[id(node)] = str(node.attr("value"))
            continue
        if node.is_leaf:
            names[id(node)] = node.name
            continue
        args = [names[id(graph.canonical(a))] for a in node.args]
        op = get_op(node.op)
        if _feeds_cross_entropy(node, graph):
            axis = dict(node.attrs).get("axis", 0)
            lines.append(f"    {_log_probs_name(node)} = _log_softmax({args[0]}, {axis})")
        code = _fused(node, graph, names)
        if code is None:
            axis = dict(node.attrs).get("axis")
            code = fill(op.numpy, *args).replace("{np}", "np.").replace("{axis}", str(axis if axis is not None else 0))
        if not node.name and len(graph.consumers[id(node)]) == 1 and node.args[0].is_leaf is not None:
            names[id(node)] = f"({code})"  # used once: inline it (z = W @ x + b1)
            continue
        if node.name:
            var = node.name
        else:
            temp += 1
            var = f"t{temp}"
        names[id(node)] = var
        if op.function is not None:
            outputs[(node.op, graph.symbol(graph.canonical(node.args[0])).name)] = var
        lines.append(f"    {var} = {code}")
    printer = KernelPrinter(outputs=outputs, batch=batch)
    signal_lines = [f"    {py_name(k)} = {printer.doprint(v)}" for k, v in b.deltas.items()]
    grads = "".join(f'        "{k}": {printer.doprint(v)},\n' for k, v in b.gradients.items())
    loss = names[id(graph.root)]
    spec, one_hot = {}, {}
    for name, node in b.model.variables.items():
        spec[name] = tuple(str(s) for s in node.shape)
        if node.attr("one_hot"):
            one_hot[name] = one_hot_axis(node)
    fname = function_name(bp)
    params = ", ".join(f"{n}=None" for n in spec)
    doc = _docstring(b, spec)
    body = "\n".join([
        f"def {fname}(*, {params}, check=True, **extra):",
        doc,
        "    if check or extra:",
        f"        arrays = {{{', '.join(f'{n!r}: {n}' for n in spec)}}}",
        "        _check({**arrays, **extra}, SPEC, ONE_HOT)",
        *lines,
        *signal_lines,
        f'    return {{\n        "J": {loss},\n{grads}    }}',
    ])
    header = (f'"""Generated by jacobian_sym from {bp.model.title!r}.\n\n'
              f"Standalone: imports NumPy only. Regenerate with `jacobian-sym codegen`; do not edit.\n\"\"\"\n\n"
              "import numpy as np\n\n"
              f"SPEC = {{\n{''.join(f'    {k!r}: {v!r},{chr(10)}' for k, v in spec.items())}}}\n"
              f"ONE_HOT = {one_hot!r}\nFUNCTION = {fname!r}\n")
    return header + RUNTIME_SOURCE + "\n\n" + body + "\n"


def _docstring(b: Backprop, spec) -> str:
    title = b.model.title.removesuffix(f" (a batch of {b.model.batch})")
    shapes = ", ".join(f"{n}: {'×'.join(d)}" for n, d in spec.items())
    forms = [f"        {py_name(k)} = {plain(v, py_name)}" for k, v in b.deltas.items()]
    forms += [f"        dJ/d{k} = {plain(v, py_name)}" for k, v in b.gradients.items()]
    return "\n".join([
        f'    """Loss and gradients of {title!r}, over a batch of {b.model.batch} examples.',
        "",
        f"    Shapes: {shapes}.",
        "    The loss is summed over the batch, and so are the gradients. With check=True (the default)",
        "    every array is checked first (names, 2-D shapes, consistent sizes, float dtype, finite values,",
        "    one-hot labels) and a bad one raises InputError (a ValueError) before any arithmetic;",
        "    check=False skips that for a loop whose arrays were checked once.",
        "    Closed forms (derived by jacobian_sym, gradient layout):",
        *forms,
        '    """',
    ])
