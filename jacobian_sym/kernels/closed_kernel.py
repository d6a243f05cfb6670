"""Kernels of single derivations: a gradient, a Jacobian, a Hessian, an HVP or a Kronecker form as one
NumPy function of the arrays its closed form reads.

The module has the shape every generated module has (a docstring, ``import numpy as np``, literal
constants, the runtime, one function), passes the same static audit, is loaded from memory, and is
checked before it is handed out: at small random sizes its value must equal the closed form through
another printer, and a second-order result must agree with central differences of the gradient —
the first-order closed form, derived again — along a random direction (H v) or along V (an HVP).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from jacobian_sym.base.safe_text import check_name
from jacobian_sym.engine.derive import gradient
from jacobian_sym.engine.inline import in_variables
from jacobian_sym.engine.second import flat_product
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.expr import one_hot_axis
from jacobian_sym.graph.structure import is_symmetric, symmetric_array
from jacobian_sym.kernels.generate import RUNTIME_SOURCE, KernelError, _fast_check, _size_lines
from jacobian_sym.kernels.kernel_printer import KernelPrinter
from jacobian_sym.kernels.numpy_printer import numeric_function
from jacobian_sym.kernels.structure_checks import (
    symmetric_check_lines,
    symmetric_header,
    symmetric_helpers,
    symmetric_names,
)
from jacobian_sym.render.printers import plain

#: the generated function's name by the derivation's kind
FUNCTION = {"gradient": "gradient", "jacobian": "jacobian", "hessian": "hessian", "hvp": "hvp",
            "kronecker": "hessian_vec"}


def _closed(d):
    """The closed form in the variables alone (ŷ computed from θ, not asked for)."""
    return in_variables(d.closed_form, d.graph)


def _inputs(d) -> list:
    """The arrays the closed form reads, and the variable (and direction) whenever a size needs them."""
    closed = _closed(d)
    symbols = set(closed.atoms(sp.MatrixSymbol))
    if d.kind == "hvp" and d.upstream is not None:  # H V takes its V, also where the form reads none (H = 0)
        symbols.add(d.upstream)
    sizes = {s for m in symbols for s in m.shape if isinstance(s, sp.Symbol)}
    # sizes are positive integer symbols (an OpApply's name is a plain symbol, not a size)
    needed = {s for s in closed.free_symbols if isinstance(s, sp.Symbol) and s.is_integer and s.is_positive}
    needed |= {s for e in closed.atoms(sp.Identity, sp.OneMatrix, sp.ZeroMatrix) for s in e.shape
               if isinstance(s, sp.Symbol)}
    needed |= {s for s in closed.shape if isinstance(s, sp.Symbol)}
    for extra in (d.graph.symbol(d.wrt), d.upstream, d.graph.symbol(d.other) if d.other is not None else None):
        if extra is not None and not needed <= sizes:
            symbols.add(extra)
            sizes |= {s for s in extra.shape if isinstance(s, sp.Symbol)}
    if not needed <= sizes:
        missing = ", ".join(sorted(str(s) for s in needed - sizes))
        raise KernelError(f"the closed form needs the size(s) {missing}, which no array it reads has")
    return sorted(symbols, key=lambda s: s.name)


def _worth_naming(e) -> bool:
    """A matrix subexpression that is computed, not just read: a candidate for a temporary (a diagonal
    stays inline: the printer turns A diag(v) into a broadcast, which a temporary would make dense)."""
    return (isinstance(e, sp.MatrixExpr) and not isinstance(e, (sp.MatrixSymbol, sp.OneMatrix, sp.Identity,
                                                                  sp.ZeroMatrix, sp.DiagMatrix))
            and not (isinstance(e, sp.Transpose) and isinstance(e.arg, sp.MatrixSymbol)))


def _occurrences(expr) -> dict:
    counts: dict = {}

    def visit(e):
        if _worth_naming(e):
            counts[e] = counts.get(e, 0) + 1
        for a in e.args:
            if isinstance(a, sp.Basic):
                visit(a)
    visit(expr)
    return counts


_D = sp.Dummy("d")


def _one_dummy(expr):
    """Every λd. f(d) over the same dummy, so that two applications of f to one matrix are equal."""
    return expr.replace(lambda e: isinstance(e, sp.Lambda) and len(e.variables) == 1 and e.variables[0] != _D,
                        lambda e: sp.Lambda(_D, e.expr.xreplace({e.variables[0]: _D})))


def _split(term, side):
    """(coefficient, the term without its last (side=-1) or first (side=0) factor, that factor), or None."""
    if isinstance(term, sp.MatMul):
        coeff, mats = flat_product(term)
        if len(mats) >= 2:
            rest = mats[:-1] if side == -1 else mats[1:]
            return coeff, (sp.MatMul(*rest) if len(rest) > 1 else rest[0]), mats[side]
    if isinstance(term, sp.HadamardProduct) and len(term.args) == 2:
        return sp.Integer(1), term.args[0], ("∘", term.args[1])
    return None


def _factored_sum(e):
    """P C + Q C → (P + Q) C, C P + C Q → C (P + Q), P ∘ C + Q ∘ C → (P + Q) ∘ C: a sum of two
    products by one matrix costs one product (a Hessian–vector product's two terms end in the same xᵀ)."""
    if not isinstance(e, sp.MatAdd):
        return None
    for side in (-1, 0):
        groups: dict = {}
        for term in e.args:
            split = _split(term, side)
            key = split[2] if split else None
            groups.setdefault(key, []).append((term, split))
        for key, members in groups.items():
            if key is None or len(members) < 2:
                continue
            inner = sp.MatAdd(*[c * rest for _, (c, rest, _) in members])
            if isinstance(key, tuple):
                merged = sp.HadamardProduct(inner, key[1])
            else:
                merged = sp.MatMul(inner, key) if side == -1 else sp.MatMul(key, inner)
            others = [t for t, split in members]
            rest_terms = [t for t in e.args if t not in others]
            return sp.MatAdd(merged, *rest_terms) if rest_terms else merged
    return None


def _reassociated(e, everything):
    """1ᵀ(A ∘ (M V)ᵀ) → 1ᵀ((V A) ∘ Mᵀ): the same Σ_ij A_ib M_bj V_ji summed the other way round, taken
    when V A is computed elsewhere anyway (a Hessian–vector product's V x), so the product is shared."""
    if not (isinstance(e, sp.MatMul) and len(e.args) == 2 and isinstance(e.args[0], sp.OneMatrix)
            and isinstance(e.args[1], sp.HadamardProduct) and len(e.args[1].args) == 2):
        return None
    for A, T in (e.args[1].args, e.args[1].args[::-1]):
        if isinstance(T, sp.Transpose) and isinstance(T.arg, sp.MatMul):
            coeff, mats = flat_product(T.arg)
            if len(mats) < 2 or coeff != 1:
                continue
            M = sp.MatMul(*mats[:-1]) if len(mats) > 2 else mats[0]
            shared = sp.MatMul(mats[-1], A)
            if everything.has(shared):
                ones = sp.OneMatrix(1, M.shape[1])
                return sp.MatMul(ones, sp.HadamardProduct(shared, sp.Transpose(M)))
    return None


def factored(expr):
    """``expr`` with every sum of products by a shared factor written once (to a fixed point)."""
    for _ in range(20):
        new = expr.replace(lambda e: _factored_sum(e) is not None, _factored_sum)
        new = new.replace(lambda e, whole=new: _reassociated(e, whole) is not None,
                          lambda e, whole=new: _reassociated(e, whole))
        if new == expr:
            return expr
        expr = new
    return expr


def common_subexpressions(expr) -> tuple[list, sp.Basic]:
    """(temporaries, expr): every matrix subexpression that occurs twice or more, computed once — the
    largest first, then inside it — so a Hessian of a network computes its forward pass once."""
    temporaries: list = []
    expr = _one_dummy(expr)
    while True:
        everything = sp.Tuple(expr, *(value for _, value in temporaries))
        repeated = [e for e, n in _occurrences(everything).items() if n > 1]
        if not repeated:
            break
        largest = max(repeated, key=lambda e: (sp.count_ops(e), sp.default_sort_key(e)))
        name = sp.MatrixSymbol(f"_c{len(temporaries)}", *largest.shape)
        expr = expr.xreplace({largest: name})
        temporaries = [(s, v.xreplace({largest: name})) for s, v in temporaries] + [(name, largest)]
    return _in_definition_order(temporaries), expr


def _in_definition_order(temporaries) -> list:
    """The temporaries, each after every temporary its value reads (one named later may read one named
    before it, f(_c0), as well as be read by it)."""
    by_symbol = dict(temporaries)
    order, placed = [], set()

    def place(symbol):
        if symbol in placed:
            return
        placed.add(symbol)
        for used in sorted(by_symbol[symbol].atoms(sp.MatrixSymbol), key=lambda m: m.name):
            if used in by_symbol:
                place(used)
        order.append((symbol, by_symbol[symbol]))

    for symbol, _ in temporaries[::-1]:
        place(symbol)
    return order


def derivation_source(d) -> tuple[str, str]:
    """The generated module's source for derivation ``d``, and its function's name."""
    if d.kind not in FUNCTION:
        raise KernelError(f"no kernel for a derivation of kind {d.kind!r}")
    symbols = _inputs(d)
    for s in symbols:
        check_name(s.name, "variable")
    spec = {s.name: tuple(str(x) for x in s.shape) for s in symbols}
    sizes = {x for dims in spec.values() for x in dims if not x.isdigit()}
    printer = KernelPrinter(outputs={}, sizes=sizes, dtype_of=symbols[0].name if symbols else None,
                            stable_derivatives=True)
    closed = _closed(d)
    try:
        if isinstance(closed, sp.BlockMatrix):
            rows = [f"[{', '.join(printer.doprint(b) for b in row)}]" for row in closed.blocks.tolist()]
            code, temporaries = f"np.block([{', '.join(rows)}])", []
        else:
            temporaries, closed = common_subexpressions(factored(closed))
            temporaries = [f"    {s.name} = {printer.doprint(v)}" for s, v in temporaries]
            code = printer.doprint(closed)
    except JacobianSymError as err:
        raise KernelError(f"cannot print the kernel: {err}") from None
    name = FUNCTION[d.kind]
    params = "".join(f"{n}=None, " for n in spec)  # none for a constant (the Hessian of ‖x‖² + ‖b‖²)
    arrays = f"{{{', '.join(f'{n!r}: {n}' for n in spec)}}}"
    shapes = ", ".join(f"{n}: {'×'.join(dims)}" for n, dims in spec.items()) or "no inputs"
    doc = (f"{d.title}: {plain(d.steps[-1].lhs)} = {plain(closed)}, derived by jacobian_sym. Shapes: {shapes}. "
           "check=False skips the input checks.")
    doc = doc.replace("\\", "\\\\").replace('"', '\\"')
    rows, cols = (printer.doprint(x) for x in closed.shape)
    result = f"    _out = {code}"
    body = "\n".join([
        f"def {name}(*, {params}check=True, **_extra):",
        f'    """{doc}"""',
        "    if (check or _extra) and not (",
        *_fast_check(spec, {}),
        "    ):",
        f"        _check({{**{arrays}, **_extra}}, SPEC, ONE_HOT)",
        *symmetric_check_lines(symmetric_names(d.graph.nodes, spec)),
        *_size_lines(" ".join([*temporaries, result, rows, cols]), spec),
        *temporaries,
        result,
        f"    return np.broadcast_to(_out, ({rows}, {cols})) if np.ndim(_out) < 2 else _out",
    ])
    header = ('"""Generated by jacobian_sym: one derivation (see TITLE) as a NumPy function.\n\n'
              "Standalone: imports NumPy only; do not edit.\n\"\"\"\n\n"
              "import numpy as np\n\n"
              f"TITLE = {d.title!r}\n"
              f"SPEC = {{\n{''.join(f'    {k!r}: {v!r},{chr(10)}' for k, v in spec.items())}}}\n"
              f"ONE_HOT = {{}}\nFUNCTION = {name!r}\n" + symmetric_header(
                  symmetric_names(d.graph.nodes, spec), d.graph.nodes))
    helpers = "".join(f"\n\n{h}" for h in printer.helpers.values()) + symmetric_helpers(
        symmetric_names(d.graph.nodes, spec))
    return header + RUNTIME_SOURCE + helpers + "\n\n" + body + "\n", name


def check_derivation_kernel(fn, d, seed: int = 0) -> str | None:
    """None when the kernel is right at small random sizes, else what disagreed."""
    rng = np.random.default_rng(seed)
    symbols = _inputs(d)
    # every size of the graph (a gradient the differences below evaluate may read a leaf the closed
    # form does not: a size that only it has, or one written as a sum, 2·n)
    shapes = [s.shape for s in symbols] + [n.shape for n in d.graph.nodes if n.is_leaf]
    size_symbols = sorted({x for shape in shapes for dim in shape for x in getattr(dim, "free_symbols", ())},
                          key=str)
    sizes = {x: int(v) for x, v in zip(size_symbols, rng.choice(np.arange(2, 7), len(size_symbols)))}
    values = {s: _random_value(d, s, sizes, rng) for s in symbols}
    closed = _closed(d).xreplace(sizes)
    concrete = [s.xreplace(sizes) for s in symbols]
    reference = numeric_function(concrete, closed)
    for _ in range(8):  # values where the closed form is finite (exp of exp overflows at 0.9): halved
        with np.errstate(all="ignore"):
            want = np.asarray(reference(*values.values()), dtype=float)
        if np.all(np.isfinite(want)):
            break
        values = {s: v / 2 for s, v in values.items()}
    with np.errstate(all="ignore"):
        got = np.asarray(fn(**{s.name: v for s, v in values.items()}), dtype=float)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
        return "its value differs from the closed form's"
    if d.kind in ("hessian", "hvp") and d.blocks:  # each block against the differences of its gradient
        rows = [int(np.prod([int(x.xreplace(sizes)) for x in row[0].wrt.shape])) for row in d.blocks]
        starts = np.concatenate([[0], np.cumsum(rows)])
        for i, row in enumerate(d.blocks):
            for j, block in enumerate(row):
                part = got[starts[i]:starts[i + 1], starts[j]:starts[j + 1]]
                problem = _check_by_differences(block, part, values, sizes, rng)
                if problem:
                    return f"block ({i + 1}, {j + 1}): {problem}"
        return None
    if d.kind in ("hessian", "hvp"):
        return _check_by_differences(d, got, values, sizes, rng)
    return None


def _random_value(d, symbol, sizes, rng):
    """A random array for ``symbol``: a one-hot label one-hot along its class axis (the closed form may
    use that its classes sum to 1), anything else uniform in [0.2, 0.9]."""
    shape = tuple(int(x.xreplace(sizes)) for x in symbol.shape)
    node = next((n for n in d.graph.nodes if n.is_leaf and n.name == symbol.name), None)
    if node is not None and is_symmetric(node):
        return symmetric_array(rng.uniform(0.2, 0.9, size=shape), bool(node.attr("positive_definite")))
    if node is None or not node.attr("one_hot"):
        return rng.uniform(0.2, 0.9, size=shape)
    axis = one_hot_axis(node)
    classes, examples = (shape[0], shape[1]) if axis == 0 else (shape[1], shape[0])
    hot = np.eye(classes)[:, rng.integers(0, classes, size=examples)]
    return hot if axis == 0 else hot.T


def _check_by_differences(d, got, values, sizes, rng) -> str | None:
    """H v (or the HVP) against central differences of the gradient along v (or V)."""
    graph = d.graph
    first = in_variables(gradient(d.expr, d.wrt, layout="denominator").closed_form, graph).xreplace(sizes)
    leaves = sorted({s for s in first.atoms(sp.MatrixSymbol)} | {graph.symbol(n).xreplace(sizes)
                                                                for n in graph.nodes if n.is_leaf},
                    key=lambda s: s.name)
    by_name = {s.name: v for s, v in values.items()}
    point = {s: by_name.get(s.name, rng.uniform(0.2, 0.9, size=tuple(int(x) for x in s.shape))) for s in leaves}
    g = numeric_function(leaves, first)
    moved = graph.symbol(d.other or d.wrt).name
    target = next(s for s in leaves if s.name == moved)
    if d.kind == "hvp":
        # (a form that reads no V, an HVP of 0 where step′ = 0, holds for any: one is drawn)
        direction = by_name.get(d.upstream.name)
        if direction is None:
            shape = tuple(int(x.xreplace(sizes)) if isinstance(x, sp.Basic) else int(x) for x in d.upstream.shape)
            direction = rng.uniform(-1, 1, size=shape)
        predicted = got
    else:
        direction = rng.uniform(-1, 1, size=point[target].shape)
        predicted = got @ direction.reshape(-1, 1, order="F")
    h = 1e-4

    def at(shift):
        return np.asarray(g(*[point[s] + shift if s is target else point[s] for s in leaves]), dtype=float)

    # five-point differences (error O(h⁴)); their rounding, eps·|g|/h, is the floor of what they can
    # tell: a Hessian far smaller than the gradient (silu″ at a logit of 12 against silu′ ≈ 1) is
    # compared down to that floor, not relative to its own size
    fd = (8 * (at(h * direction) - at(-h * direction)) - (at(2 * h * direction) - at(-2 * h * direction))) / (12 * h)
    noise = np.finfo(float).eps * float(np.linalg.norm(at(0 * direction))) / h
    gap = float(np.linalg.norm(predicted.reshape(-1) - fd.reshape(-1)))
    err = gap / max(float(np.linalg.norm(fd)), 1e-300)
    if err < 1e-5 or gap < 100 * noise:
        return None
    return f"it disagrees with central differences of the gradient (rel. error {err:.1e})"
