"""The source of a standalone NumPy module for a model's loss and gradients.

The module imports only NumPy. Its one public function takes the arrays by name, checks them with
plain Python (names, dtypes, consistent sizes, one-hot labels) before any arithmetic, runs the
forward pass once and the backward pass from the derived closed forms (denominator layout, over a
batch), and returns {"J": loss, "<variable>": gradient, …}.

What reaches the source: the model's names (checked ASCII identifiers, see ``safe_text``), numbers
printed by Python's ``repr``, and the title only as a ``repr`` literal (``TITLE = '…'``). The
generator's own names all start with ``_`` (``_t1``, ``_log_yhat``, ``_size_n``), which a user's
name cannot, so nothing a model names can shadow them.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import re
from dataclasses import dataclass, field

import sympy as sp

from jacobian_sym.base.codetext import fill, fill_code, group
from jacobian_sym.base.sizes import as_size
from jacobian_sym.engine.inline import matrix_form
from jacobian_sym.engine.second import flat_product
from jacobian_sym.errors import BatchError, JacobianSymError
from jacobian_sym.graph.expr import one_hot_axis
from jacobian_sym.kernels import runtime as kernel_runtime
from jacobian_sym.kernels import window_runtime
from jacobian_sym.kernels.common import shared_subexpressions
from jacobian_sym.kernels.kernel_printer import KernelPrinter, py_name
from jacobian_sym.kernels.labels import HELPERS as LABEL_HELPERS
from jacobian_sym.kernels.labels import indexed, label_dims, label_inputs
from jacobian_sym.kernels.lowering import FUSED, NUMPY, Fused, with_axis_code
from jacobian_sym.kernels.products import backward_runs, column_sums_first, run_of, shared_products, with_runs
from jacobian_sym.kernels.shared_values import derivative_reading, forward_codes, shared_part
from jacobian_sym.kernels.size_numbers import size_number_code
from jacobian_sym.kernels.slicing import slice_code
from jacobian_sym.kernels.structure_checks import (
    symmetric_check_lines,
    symmetric_header,
    symmetric_helpers,
    symmetric_names,
)
from jacobian_sym.models.backprop import Backprop, backprop
from jacobian_sym.models.batch_sums import batch_name
from jacobian_sym.ops.table import UNDEFINED, get_op
from jacobian_sym.render.printers import plain


class KernelError(JacobianSymError):
    """A model whose kernel cannot be generated, or whose generated kernel failed its own checks."""


def _runtime_source() -> str:
    """The kernel runtime's source, without its docstring and import (the module brings its own)."""
    text = inspect.getsource(kernel_runtime)
    return "\n\n" + text.split("import numpy as np\n", 1)[1].strip("\n") + "\n"


RUNTIME_SOURCE = _runtime_source()
#: the windowed ops' helpers by name, each copied into a module whose lines call it
WINDOW_HELPERS = {name: inspect.getsource(fn).rstrip("\n") for name, fn in vars(window_runtime).items()
                  if name.startswith("_") and inspect.isfunction(fn)}
#: the names a generated module reads at its top level: a function named so would shadow one
_MODULE_NAMES = frozenset(dir(builtins)) | {"np", "numpy"} | {
    n.name if not isinstance(n, ast.Assign) else n.targets[0].id for n in ast.parse(RUNTIME_SOURCE).body
    if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    or isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)} | {"InputError", "TITLE", "SPEC", "check"} \
    | set(WINDOW_HELPERS)


def function_name(bp: Backprop) -> str:
    """The generated function's name: the model file's stem (or title) as a lower-case identifier,
    prefixed ``model_`` when it would be a keyword or shadow a name the module reads (``np.toml``,
    ``type.toml``, ``len.toml``: builtins, the runtime's and the module's own names)."""
    stem = bp.model.source or bp.model.title
    stem = re.sub(r".*[/\\]", "", stem).removesuffix(".toml")
    name = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_").lower()[:48] or "model"
    if not name[0].isalpha() or keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _MODULE_NAMES:
        return f"model_{name}"
    return name


def batched_backprop(bp: Backprop) -> Backprop:
    """The derivation a kernel is generated from: over a batch, in the denominator layout. A model
    whose loss over a batch would not be the sum of its one-example losses (``models.batch_sums``)
    gets a one-example kernel instead, which refuses a batch with the reason (``NO_BATCH``)."""
    if bp.model.batch is not None:
        return backprop(bp.model, layout="denominator")
    try:
        model = bp.model.batched(batch_name(bp.model))
    except BatchError as err:
        b = backprop(bp.model, layout="denominator")
        b.cache["no_batch"] = str(err)
        return b
    return backprop(model, layout="denominator")


def number_code(value) -> str:
    """A constant as Python source: an int, or the float nearest to it; negative ones in parentheses; a
    size as the kernel's ``_size_n`` (a quotient of sizes in float arithmetic, (1.0 * _size_n))."""
    if isinstance(value, sp.OneMatrix):
        return f"np.ones(({', '.join(_size_code(str(d)) for d in value.shape)}))"
    if isinstance(value, sp.Expr) and value.free_symbols:
        named = value.xreplace({s: sp.Symbol(f"_size_{s.name}") for s in value.free_symbols})
        return f"(1.0 * {named})" if not value.is_Symbol else f"_size_{value.name}"
    value = sp.Rational(value)
    code = str(int(value)) if value.q == 1 else repr(float(value))
    return f"({code})" if value < 0 else code


def _log_link_name(node, graph):
    """The log of a link node's output: _log_yhat, or _log_u3 for an unnamed one (unique)."""
    return f"_log_{graph.symbol(node).name}"


def _fused_loss_of(node, graph) -> Fused | None:
    """The fused lowering a link node takes part in (a softmax feeding a cross-entropy)."""
    for consumer in graph.consumers[id(node)]:
        fused = FUSED.get(consumer.op)
        if fused is not None and fused.link == node.op and fused.log_link is not None:
            return fused
    return None


def _fused(node, graph, names):
    """Stable lowerings of a loss fed by its link function (``lowering.FUSED``): log-sum-exp
    cross-entropy (the softmax is then exp of the log-probabilities, one exponential pass), softplus BCE."""
    if _fused_loss_of(node, graph) is not None:
        return f"np.exp({_log_link_name(node, graph)})"
    fused = FUSED.get(node.op)
    if fused is None:
        return None
    y, p = node.args
    if p.op != fused.link:
        return None
    return fill(fused.loss, y=names[id(graph.canonical(y))], z=names[id(graph.canonical(p.args[0]))],
                log=_log_link_name(p, graph))


def _centred_values(graph) -> dict:
    """var(X, axis) → the node X − mean(X, axis) when the graph computes it first (layer norm does):
    the variance is then the mean of its squares, two passes over X instead of np.var's four."""
    out = {}
    position = {id(n): k for k, n in enumerate(graph.nodes)}
    for node in graph.nodes:
        if node.op != "var":
            continue
        X = graph.canonical(node.args[0])
        for c in graph.nodes:
            if (c.op == "sub" and graph.canonical(c.args[0]) is X and c.args[1].op == "mean"
                    and graph.canonical(c.args[1].args[0]) is X and c.args[1].attr("axis") == node.attr("axis")
                    and position[id(c)] < position[id(node)]):
                out[id(node)] = c
                break
    return out


def _read_once(graph, node) -> bool:
    """Whether ``node``'s one consumer reads it once: its lowering writes the argument once (GELU's
    template reads it three times, so W x under a GELU gets a line of its own, computed once)."""
    (consumer,) = graph.consumers[id(node)]
    template = NUMPY.get(consumer.op, "")
    position = [graph.canonical(a) for a in consumer.args].index(node)
    return template.count("{" + str(position) + "}") <= 1


def _forward_lines(graph, wanted=frozenset()):
    """The forward pass: one line per named or shared node; a node read once is inlined. Also the
    matrix forms of the unnamed nodes that got a line, by their variable, for the backward pass to
    reuse (δ = GELU′(W x) reads the forward's W x, not a product of its own)."""
    names: dict = {}
    outputs: dict = {}
    known: dict = {}
    forms: dict = {}
    lines = []
    temp = 0
    centred = _centred_values(graph)  # var node → the centred node it is the mean square of
    read_by_var = {id(c) for c in centred.values()}
    for node in graph.nodes:
        if node.op == "const":
            names[id(node)] = number_code(node.attr("value"))
            continue
        if node.is_leaf:
            names[id(node)] = graph.canonical(node).name
            continue
        args = [names[id(graph.canonical(a))] for a in node.args]
        op = get_op(node.op)
        fused = _fused_loss_of(node, graph)
        if fused is not None:
            log_link = fill(fused.log_link, z=args[0], axis=str(int(node.attr("axis", 0))))
            lines.append(f"    {_log_link_name(node, graph)} = {log_link}")
        code = _fused(node, graph, names)
        if code is None and node.op == "transpose" and node.args[0].op == "const" and node.shape == (1, 1):
            code = args[0]  # a number is its own transpose
        if code is None and id(node) in centred and id(centred[id(node)]) in names:
            c = names[id(centred[id(node)])]  # var(X) = mean((X − μ)²) from the X − μ the forward has
            code = f"np.mean({c} * {c}, axis={int(node.attr('axis'))}, keepdims=True)"
        if code is None and node.op == "mse" and node is graph.root:
            # the squared error from its difference, which the backward's δ₁ = ŷ − y then reads
            temp += 1
            y, p = (names[id(graph.canonical(a))] for a in node.args)
            lines.append(f"    _t{temp} = {p} - {y}")
            known[sp.MatAdd(*(matrix_form(graph, a, forms) * w for a, w in zip(node.args[::-1], (1, -1))))] = \
                f"_t{temp}"
            code = f"0.5 * np.vdot(_t{temp}, _t{temp})"
        if code is None and node.op == "slice":
            code = slice_code(node, args[0])
        shared = forward_codes(node.op, args[0], f"_t{temp + 1}") if (
            code is None and shared_part(node.op) is not None and args[0].isidentifier()) else None
        if shared is not None:
            # the tanh of GELU gets a line, and GELU′ in the backward reads it (kernels/shared_values.py)
            temp += 1
            part, code = shared
            lines.append(f"    _t{temp} = {part}")
            u = sp.Dummy("u")
            reading = (f"_t{temp}", (u, derivative_reading(node.op, u)))
            # the backward names the argument by its matrix form, or by its line's variable (_t1, u)
            outputs[(node.op, matrix_form(graph, graph.canonical(node.args[0]), forms), "shared")] = reading
            outputs[(node.op, args[0], "shared")] = reading
        if code is None:
            axis = node.attr("axis")
            numbers = {k: str(v) for k, v in node.attrs if k in op.params and k != "axis"}  # (unfold's width)
            code = with_axis_code(fill_code(NUMPY[node.op], *args, **numbers), axis)
            if node.shape == (1, 1) and all(a.op == "const" for a in node.args) and op.function is not None:
                # √k of a size: Python arithmetic, a Python float (float32 arrays stay float32)
                value = op.matrix(*(a.attr("value") for a in node.args))
                code = size_number_code(value) if isinstance(value, sp.Expr) else None
                code = code or f"float({with_axis_code(fill_code(NUMPY[node.op], *args, **numbers), axis)})"
        if (not node.name and len(graph.consumers[id(node)]) == 1 and node is not graph.root
                and id(node) not in read_by_var
                and _read_once(graph, node) and op.function is None
                and not (node.op == "matmul" and run_of(matrix_form(graph, node, forms)) in wanted)):
            # (an activation's output always gets a line: its backward reads it, GELU(u)ᵀ δ₁; so does
            # a product the backward reads, h₁K₁ inside the scores)
            names[id(node)] = group(code)  # used once: inline it (z = W @ x + b1)
            continue
        if node.name:
            var = node.name
            if node.op == "matmul":  # a named product (o₁ = A₁ (h₁V₁)) is read, not recomputed
                known[get_op("matmul").matrix(*(matrix_form(graph, a, forms) for a in node.args))] = var
        else:
            temp += 1
            var = f"_t{temp}"
            known[matrix_form(graph, node, forms)] = var
        names[id(node)] = var
        if op.function is not None:
            outputs[(node.op, graph.symbol(graph.canonical(node.args[0])).name)] = var
        lines.append(f"    {var} = {code}")
    return names, outputs, lines, known


def _size_lines(body: str, spec: dict) -> list[str]:
    """``_size_n = W.shape[0]`` for every size the body uses, read from the first array that has it."""
    used = sorted(set(re.findall(r"\b_size_([A-Za-z][A-Za-z0-9_]*)", body)))
    lines = []
    for size in used:
        where = next(((name, axis) for name, dims in spec.items() for axis, d in enumerate(dims) if d == size), None)
        if where is None:  # a size only inside a sum (Wqkv: d × 3k): k = (shape − the rest) // 3
            line = _size_from_sum(size, spec)
            if line is None:
                raise KernelError(f"the kernel needs the size {size}, which no array of the model has")
            lines.append(line)
            continue
        lines.append(f"    _size_{size} = {where[0]}.shape[{where[1]}]")
    return lines


def _size_from_sum(size: str, spec: dict) -> str | None:
    """``_size_k = Wqkv.shape[1] // 3`` for a size the arrays have only inside a sum (3k; m + n, with n
    another array's axis: ``_size_m = x.shape[0] - W.shape[1]``)."""
    direct = {d: f"{name}.shape[{axis}]" for name, dims in reversed(spec.items()) for axis, d in enumerate(dims)}
    for name, dims in spec.items():
        for axis, d in enumerate(dims):
            terms = _compound(d) if isinstance(d, str) else None
            mine = [c for c, n in terms or () if n == size]
            others = [(c, n) for c, n in terms or () if n not in (size, None)]
            if len(mine) != 1 or any(n not in direct for _, n in others):
                continue
            rest = [f"{c} * {direct[n]}" if c != 1 else direct[n] for c, n in others]
            number = sum(c for c, n in terms if n is None)
            rest += [str(number)] if number else []
            shape = f"{name}.shape[{axis}]" if not rest else f"({name}.shape[{axis}] - {' - '.join(rest)})"
            return f"    _size_{size} = {shape} // {mine[0]}" if mine[0] != 1 else f"    _size_{size} = {shape}"
    return None


def _backward_lines(b: Backprop, printer) -> list[str]:
    """The error signals in order, each weight gradient as soon as the signals it uses exist (as a
    person writes backprop: ∂J/∂U right after δ₁, not after every δ), and a product that two of them
    share computed once (a residual's W₂ᵀΔ₁ feeds both Δ₂ and ∂J/∂x)."""
    signal_names = {b.delta_symbols[k].name for k in b.deltas}
    needs = {k: {s.name for s in v.atoms(sp.MatrixSymbol)} & signal_names for k, v in b.gradients.items()}
    plan, done = [], set()

    def ready_gradients():
        for k in [k for k in needs if needs[k] <= done]:
            plan.append((f"_g_{k}", b.gradients[k], k))
            del needs[k]

    ready_gradients()
    for k in _in_dependency_order(b, signal_names):
        plan.append((py_name(k), b.deltas[k], None))
        done.add(b.delta_symbols[k].name)
        ready_gradients()
    # what the forward pass computed (h₁K₁ inside the scores) is read from its line, not recomputed
    # (a product with a number in front, g/‖W‖ · W x, is not the run W x)
    computed = {tuple(flat_product(form)[1]): sp.MatrixSymbol(var, *form.shape)
                for form, var in printer.known.items() if isinstance(form, sp.MatMul) and flat_product(form)[0] == 1}
    exprs, temps = shared_products([with_runs(column_sums_first(expr), computed) for _, expr, _ in plan])
    out, defined = [], set()

    def define(expr):  # the temporaries ``expr`` reads, each before its first use
        for temp, product in temps.items():
            if temp.name not in defined and expr.has(temp):
                define(product)
                out.append(f"    {temp.name} = {printer.doprint(product)}")
                defined.add(temp.name)

    for (target, _, variable), expr in zip(plan, exprs):
        define(expr)
        code = printer.doprint(expr)
        out.append(f"    {target} = {_keeping_dtype(code, variable, b.model.variables) if variable else code}")
    return out


def _in_dependency_order(b: Backprop, signal_names: set) -> list:
    """The signals in their numbering order, except that a signal comes after those it reads (two
    paths into one node can number a later signal first: layer_norm(f(z)) + z)."""
    symbol = {k: b.delta_symbols[k].name for k in b.deltas}
    reads = {k: {s.name for s in v.atoms(sp.MatrixSymbol)} & signal_names - {symbol[k]} for k, v in b.deltas.items()}
    order, placed = [], set()
    pending = list(b.deltas)
    while pending:
        k = next((k for k in pending if reads[k] <= placed), pending[0])  # (a cycle cannot occur)
        order.append(k)
        placed.add(symbol[k])
        pending.remove(k)
    return order


def _freed(lines: list[str], keep: set) -> list[str]:
    """``lines`` with ``del name`` after the last use of each array they assign (but those in
    ``keep`` and the gradients): no signal or activation outlives its last use."""
    assigned, last_use = {}, {}
    for n, line in enumerate(lines):
        statement = ast.parse(line.strip()).body[0]
        for node in ast.walk(statement.value):
            if isinstance(node, ast.Name):
                last_use[node.id] = n
        target = statement.targets[0].id
        assigned.setdefault(target, n)
    frees: dict = {}
    for name, first in assigned.items():
        last = last_use.get(name, first)
        if name not in keep and not name.startswith("_g_") and last < len(lines) - 1:
            frees.setdefault(max(last, first), []).append(name)
    out = []
    for n, line in enumerate(lines):
        out.append(line)
        if n in frees:
            out.append(f"    del {', '.join(sorted(frees[n]))}")
    return out


def _keeping_dtype(code: str, name: str, variables: dict) -> str:
    """A gradient built from constants alone (∂ sum(x)/∂x = 1) would be float64 whatever the inputs:
    it is cast to its variable's dtype (float32 stays float32)."""
    if name in variables and re.search(r"np\.(ones|zeros|eye|full)\(", code):
        return f"np.asarray({code}, dtype={name}.dtype)"
    return code


def _size_code(dim: str) -> str:
    """A size in a kernel's code: 5, _size_T, or 2 * _size_k (its parts are checked size names)."""
    if dim.isdigit():
        return dim
    return " + ".join(str(c) if n is None else f"{c} * _size_{n}" if c != 1 else f"_size_{n}"
                      for c, n in _compound(dim) or [(1, dim)])


def _compound(dim: str):
    """A size written as a sum (``2*k + v + 1``) as [(2, "k"), (1, "v"), (1, None)]; None for a name or
    a number. Read by ``base.sizes.as_size``, the one reader of sizes (its names are checked there)."""
    if "+" not in dim and "*" not in dim:
        return None
    terms = [t.as_coeff_Mul() for t in sp.Add.make_args(as_size(dim))]
    return [(int(c), None if t == 1 else t.name) for c, t in terms]


def _fast_check(spec: dict, one_hot: dict, labels: dict | None = None) -> list[str]:
    """The happy path of the input checks as one condition over the model's own arrays (a few
    comparisons each, two lines per array): when it holds the arrays are fine; when not, ``_check``
    finds and names the problem. Finite values are checked through the loss (see the kernel's end)."""
    lines = ["not _extra"]
    first: dict = {}
    sums = []  # (axis code, size sum): checked once every array has bound its names
    labels = labels or {}
    for n, dims in spec.items():
        dtype = f'{n}.dtype.kind in "iu"' if n in labels else f"{n}.dtype.char in _FLOATS"
        lines.append(f"type({n}) is np.ndarray and {n}.ndim == 2 and {dtype}")
        terms = []
        for axis, d in enumerate(dims):
            here = f"{n}.shape[{axis}]"
            if d.isdigit():
                terms.append(f"{here} == {int(d)}")
            elif d in first:
                terms.append(f"{here} == {first[d]}")
            else:
                first[d] = here
                terms.append(f"{here} > 0")
                if _compound(d):
                    sums.append((here, d))
        lines.append(" and ".join(terms))
    for here, d in sums:  # Y's k + 1 columns against W's k, whichever array comes first
        if all(name in first for _, name in _compound(d) if name):
            total = " + ".join(str(c) if name is None else f"{c} * {first[name]}"  # checked size names
                               for c, name in _compound(d))
            lines.append(f"{here} == {total}")
    lines += [f"_sums_to_one({n}, {axis})" for n, axis in one_hot.items()]
    lines += [f"_labels_fit({n}, {c if c.isdigit() else first[c]})" for n, (_, c) in labels.items()]
    return [f"        {t} and" if k < len(lines) - 1 else f"        {t}" for k, t in enumerate(lines)]


@dataclass
class Plan:
    """A kernel as the planner leaves it for a backend's printer: the forward lines (one statement
    each, NumPy dialect: ``np.`` and the runtime's helpers), the backward lines, the constants the
    kernel builds, the sizes it reads, the loss's name and the gradients in order. Every backend
    prints the same plan; only the NumPy backend runs it as written (``backends/``)."""

    b: Backprop
    fname: str
    spec: dict  # array name -> its dims as size names
    one_hot: dict  # array name -> its classes' axis
    constant_lines: list  # ``M = _causal_mask(_size_T, X.dtype)``
    forward: list  # forward lines, unfreed
    backward: list  # backward lines, unfreed
    loss: str  # the forward's name of the loss
    helpers: dict  # module-level helper functions the lines call, by name
    docstring: str
    labels: dict = field(default_factory=dict)  # int input name -> (its one-hot matrix's class axis, classes)

    @property
    def gradients(self) -> list:
        return list(self.b.gradients)

    def size_lines(self, lines) -> list[str]:
        """``_size_n = W.shape[0]`` for every size ``lines`` read."""
        return _size_lines("\n".join(lines), self.spec)

    def body(self) -> list[str]:
        """Forward and backward with each array freed after its last use, and ``_out``."""
        compute = _freed([*self.constant_lines, *self.forward, *self.backward], keep={self.loss, *self.spec})
        grads = "".join(f"        {k!r}: _g_{k},\n" for k in self.gradients)
        return [*compute, f"    _out = {{\n        'J': {self.loss},\n{grads}    }}"]


def plan(bp: Backprop, b: Backprop | None = None) -> Plan:
    """The kernel plan for ``bp``'s model (deterministic); ``b`` is its batched backprop when the
    caller has it."""
    b = b or batched_backprop(bp)
    graph = b.graph
    for node in graph.nodes:
        if not node.is_leaf and node.op != "const" and node.op not in NUMPY:
            if node.op in UNDEFINED:
                raise KernelError(f"{node.op} is a generic function with no definition: a kernel needs defined ops")
            raise KernelError(f"the op {node.op} has no NumPy lowering (kernels/lowering.py)")
    spec, one_hot, constants = {}, {}, {}
    labels = label_inputs(b.model.variables)
    for name, node in b.model.variables.items():
        if node.attr("constant"):  # a constant mask is built by the kernel, not passed to it
            constants[name] = node
            continue
        spec[name] = label_dims(node) if name in labels else tuple(str(s) for s in node.shape)
        if node.attr("one_hot") and name not in labels:
            one_hot[name] = one_hot_axis(node)
    if "J" in b.gradients:
        raise KernelError("a variable named 'J' would clash with the loss, which the kernel returns as 'J'")
    if constants and not spec:
        raise KernelError("the model has constants only: a kernel needs an array to take their dtype from")
    names, outputs, lines, known = _forward_lines(graph, backward_runs(b))
    first = next(iter(spec))
    constant_lines = [f"    {name} = _{node.attr('constant')}_mask({_size_code(str(node.shape[0]))}, {first}.dtype)"
                      for name, node in constants.items()]
    sizes = {name for dims in spec.values() for s in dims for _, name in (_compound(s) or [(1, s)])
             if name and not name.isdigit()}
    printer = KernelPrinter(outputs=outputs, batch=b.model.batch, sizes=sizes, known=known, dtype_of=first)
    try:
        backward = _backward_lines(b, printer)
    except JacobianSymError as err:
        raise KernelError(f"cannot print the kernel: {err}") from None
    lines, backward = shared_subexpressions(lines, backward)
    helpers = dict(printer.helpers)
    if labels:  # the one-hot matrices' products by indexing on the int arrays
        floats = [n for n in spec if n not in labels]
        if not floats or any(not c.isdigit() and not any(c in spec[n] for n in floats) for _, c in labels.values()):
            raise KernelError("an int input's number of classes must be a size of a float array of the model "
                              "(the kernel reads it from that array's shape)")
        lines, backward = (indexed(x, labels, _size_code, f"{floats[0]}.dtype") for x in (lines, backward))
        helpers = {**LABEL_HELPERS, **helpers}
    return Plan(b, function_name(bp), spec, one_hot, constant_lines, lines, backward, names[id(graph.root)],
                helpers, _docstring(b, spec), labels)


def source(bp: Backprop, b: Backprop | None = None) -> str:
    """The generated NumPy module's source for ``bp``'s model (deterministic); ``b`` is its batched
    backprop when the caller has it."""
    return numpy_source(plan(bp, b), bp.model.title)


def numpy_source(p: Plan, title: str) -> str:
    """The NumPy backend's module: the plan as written, with the input checks and the runtime."""
    spec, one_hot, fname = p.spec, p.one_hot, p.fname
    symmetric = symmetric_names(p.b.model.variables.values(), spec)
    params = ", ".join(f"{n}=None" for n in spec)
    compute = p.body()
    arrays = f"{{{', '.join(f'{n!r}: {n}' for n in spec)}}}"
    body = "\n".join([
        f"def {fname}(*, {params}, check=True, **_extra):",
        p.docstring,
        "    if (check or _extra) and not (",
        *_fast_check(spec, one_hot, p.labels),
        "    ):",
        f"        _check({{**{arrays}, **_extra}}, SPEC, ONE_HOT, NO_BATCH)" if not p.labels else
        f"        _check_labels({{**{arrays}, **_extra}}, SPEC, ONE_HOT, NO_BATCH, LABELS)",
        *symmetric_check_lines(symmetric),
        *_size_lines("\n".join(compute), spec),
        *compute,
        "    if check and not (np.isfinite(_out['J']) and all(np.isfinite(_v).all() for _v in _out.values())):",
        f"        _not_finite({arrays}, _out)",
        "    return _out",
    ])
    header = ('"""Generated by jacobian_sym: the loss and gradients of the model named in TITLE.\n\n'
              "Standalone: imports NumPy only. Regenerate with `jacobian-sym codegen`; do not edit.\n\"\"\"\n\n"
              "import numpy as np\n\n"
              f"TITLE = {title!r}\n"
              f"SPEC = {{\n{''.join(f'    {k!r}: {v!r},{chr(10)}' for k, v in spec.items())}}}\n"
              f"ONE_HOT = {one_hot!r}\nFUNCTION = {fname!r}\n"
              f"NO_BATCH = {_no_batch(p.b)!r}\n" + (f"LABELS = {p.labels!r}\n" if p.labels else "")
              + symmetric_header(symmetric, p.b.model.variables.values()))
    called = "\n".join([*p.forward, *p.backward])
    helpers = "".join(f"\n\n{h}" for name, h in WINDOW_HELPERS.items() if f"{name}(" in called)
    helpers += "".join(f"\n\n{h}" for h in p.helpers.values()) + symmetric_helpers(symmetric)
    return header + RUNTIME_SOURCE + helpers + "\n\n" + body + "\n"


def _no_batch(b: Backprop):
    """None, or (the inputs that would have taken a batch, why the kernel takes one example)."""
    why = b.cache.get("no_batch")
    if why is None:
        return None
    return tuple(n for n, v in b.model.inputs.items() if 1 in v.shape and not v.attr("constant")), why


def _batch_words(b: Backprop, spec, shapes: str) -> list[str]:
    """What the docstring says of a batch: only when an array has the batch axis (a model whose data
    matrix X: T×d carries its own rows is taken as declared: batching gives it none)."""
    batch = str(b.model.batch)
    if b.cache.get("no_batch"):
        return ["    Loss and gradients of the model (see TITLE), for one example at a time (no batch: its",
                "    loss over a batch would not be the sum of the one-example losses).", "",
                f"    Shapes: {shapes}."]
    if not any(batch in dims for dims in spec.values()):
        return ["    Loss and gradients of the model (see TITLE), for the arrays as the model file declares them.",
                "", f"    Shapes: {shapes}."]
    return [f"    Loss and gradients of the model (see TITLE), over a batch of {batch} examples.", "",
            f"    Shapes: {shapes}.", "    The loss is summed over the batch, and so are the gradients."]


def _docstring(b: Backprop, spec) -> str:
    shapes = ", ".join(f"{n}: {'×'.join(d)}" for n, d in spec.items())
    forms = [f"        {py_name(k)} = {plain(v, py_name)}" for k, v in b.deltas.items()]
    forms += [f"        dJ/d{k} = {plain(v, py_name)}" for k, v in b.gradients.items()]
    text = "\n".join([
        *_batch_words(b, spec, shapes),
        "    With check=True (the default) every array is checked first (names, 2-D shapes, consistent",
        "    sizes, float dtype, one-hot labels) and a bad one raises InputError (a ValueError) before any",
        "    arithmetic; an input that is not finite is named when the loss or a gradient is not. check=False",
        "    skips the checks for a loop whose arrays were checked once.",
        "    Closed forms (derived by jacobian_sym, gradient layout):",
        *forms,
    ])
    # closed forms print names and operators only; escape anyway, so no text can end the docstring
    return '    """' + text.strip().replace("\\", "\\\\").replace('"', '\\"') + '\n    """'
