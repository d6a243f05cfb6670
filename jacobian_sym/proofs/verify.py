"""The three proofs of a closed form.

(a) **exact**: at two or more concrete, non-square sizes, every variable becomes a ``Matrix`` of
    symbols, the forward pass is evaluated explicitly, SymPy's own ``diff``/``jacobian`` gives the
    true derivative, and the closed form evaluated on the same matrices must equal it exactly;
(b) **numeric**: the lambdified closed form agrees with the lambdified element-wise result on random
    data;
(c) **finite differences**: central differences of the explicit forward pass agree with the closed
    form evaluated on consistent data.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.engine.inline import inline_unnamed_elements
from jacobian_sym.engine.layout import gradient_layout, jacobian_layout
from jacobian_sym.engine.symmetric import symmetric_symbols
from jacobian_sym.graph.structure import symmetric_array
from jacobian_sym.kernels.numpy_printer import numeric_function
from jacobian_sym.ops.functions import explicit
from jacobian_sym.proofs.exact import vanishes
from jacobian_sym.proofs.explicit import (
    Explicit,
    _check_cost,
    _elements,
    checked_sizes,
    concrete_sizes,
    guarded,
    size_symbols,
)
from jacobian_sym.proofs.model_proofs import verify_model
from jacobian_sym.proofs.report import Check, Report
from jacobian_sym.proofs.second_order import KINDS as SECOND_ORDER
from jacobian_sym.proofs.second_order import gauss_newton_fd, verify_second


# ----- the three proofs -----
def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.linalg.norm(b), 1e-300)
    return float(np.linalg.norm(a - b) / scale) if np.linalg.norm(b) else float(np.linalg.norm(a))


def exact_check(derivation, sizes, rng) -> Check:
    _check_cost(derivation, sizes)
    ex = Explicit(derivation, sizes)
    truth, closed = ex.truth(), ex.closed()
    if truth.shape != closed.shape:
        return Check("exact", False, sizes, detail=f"shape {closed.shape} vs true {truth.shape}")
    bad = [(r, c) for r in range(truth.rows) for c in range(truth.cols)
           if not vanishes(closed[r, c] - truth[r, c], rng)]
    detail = "" if not bad else f"differs at {bad[:3]}"
    return Check("exact", not bad, sizes, detail=detail)


def _symbols_needing_positive(expr):
    """The matrix symbols under a log or a root (√, 1/√, also inside an element-wise function)."""
    out = set()
    for f in expr.atoms(ElementwiseApplyFunction):
        s = sp.Dummy("s", positive=True)
        if _symbols_needing_positive_scalar(explicit(f.function(s))):
            out |= f.expr.atoms(sp.MatrixSymbol)
    for f in expr.atoms(sp.log, sp.Pow):
        base = f.args[0]
        if isinstance(f, sp.log) or (f.exp.is_number and (f.exp < 0 or not f.exp.is_integer)):
            out |= base.atoms(sp.MatrixSymbol)
    return out


def _symbols_needing_positive_scalar(e) -> bool:
    return any(isinstance(f, sp.log) or (f.exp.is_number and not f.exp.is_integer) for f in e.atoms(sp.log, sp.Pow))


def _random_values(symbols, positive, sizes, rng, symmetric=()):
    vals = {}
    for s in symbols:
        shape = _elements(s.shape, sizes)
        v = rng.uniform(0.2, 1.2, size=shape) if s in positive else rng.uniform(-1.2, 1.2, size=shape)
        vals[s] = symmetric_array(v) if s.name in symmetric else v
    return vals


def numeric_check(derivation, sizes, rng) -> Check:
    """Closed form vs element-wise index result, both lambdified, on random values of every symbol."""
    d = derivation
    mapping = dict(sizes)
    closed = d.closed_form.xreplace(mapping)
    index = inline_unnamed_elements(d.index_form, d.graph).xreplace(mapping)
    rows, cols = _elements(d.closed_form.shape, sizes)
    r_idx, c_idx = d.free
    elementwise = sp.Matrix(rows, cols, lambda r, c: index.xreplace(
        {k: v for k, v in ((r_idx, r), (c_idx, c)) if isinstance(k, sp.Symbol)}).doit())
    # (an element of an op's matrix form, max's 1[argmax(A)]_ij, is computed from that op's operands)
    symbols = sorted(closed.atoms(sp.MatrixSymbol) | {m.parent for m in elementwise.atoms(MatrixElement)
                                                      if isinstance(m.parent, sp.MatrixSymbol)}
                     | elementwise.atoms(sp.MatrixSymbol), key=lambda s: s.name)
    positive = _symbols_needing_positive(explicit(index)) | _symbols_needing_positive(d.closed_form.xreplace(mapping))
    # sizes were substituted into the symbols, so the positive ones are matched by name
    positive_names = {p.name for p in positive}
    symmetric = {s.name for s in symmetric_symbols(d.graph)}
    vals = _random_values(symbols, {s for s in symbols if s.name in positive_names}, sizes, rng, symmetric)
    args = [vals[s] for s in symbols]
    a = np.asarray(numeric_function(symbols, closed)(*args), dtype=float).reshape(rows, cols)
    b = np.asarray(numeric_function(symbols, elementwise)(*args), dtype=float).reshape(rows, cols)
    err = _rel(a, b)
    return Check("numeric", err < 1e-10, sizes, err)


def fd_check(derivation, sizes, rng, h=1e-6) -> Check:
    """Central finite differences of the explicit forward pass against the closed form."""
    d = derivation
    ex = Explicit(d, sizes)
    leaves = sorted({s for v in ex.values.values() if isinstance(v, sp.MatrixBase)
                     for s in v.free_symbols}, key=lambda s: s.name)
    positive = {s for s in leaves if _under_log(s, ex)}
    point = {s: (rng.uniform(0.2, 1.2) if s in positive else rng.uniform(-1.2, 1.2)) for s in leaves}
    truth_fn = sp.lambdify(leaves, _objective(ex).applyfunc(lambda e: explicit(e, True)), modules="numpy")
    closed_fn = sp.lambdify(leaves, ex.closed().applyfunc(lambda e: explicit(e, True)),
                            modules=[{"Heaviside": _heaviside}, "numpy"])
    var = ex.variable()
    x0 = [point[s] for s in leaves]
    G = np.asarray(closed_fn(*x0), dtype=float)
    shape_layout = _positions(d, sizes)
    fd = np.zeros_like(G)
    for p in range(var.rows):
        for q in range(var.cols):
            s = var[p, q]
            if not isinstance(s, sp.Symbol):
                continue
            k = leaves.index(s)
            up, down = list(x0), list(x0)
            up[k] += h
            down[k] -= h
            diff = (np.asarray(truth_fn(*up), dtype=float) - np.asarray(truth_fn(*down), dtype=float)) / (2 * h)
            for (r, c), value in shape_layout(p, q, diff):
                fd[r, c] = value
    err = _rel(G, fd)
    return Check("finite differences", err < 1e-5, sizes, err)


def _heaviside(x, h0=0.5):
    return np.heaviside(x, h0)


def _under_log(symbol, ex):
    """Whether the symbol is the argument of a log or of a root (√s): its values must be positive."""
    for v in ex.values.values():
        if not isinstance(v, sp.MatrixBase):
            continue
        for e in v:
            e = explicit(e)
            for f in e.atoms(sp.log, sp.Pow):
                root = isinstance(f, sp.Pow) and f.exp.is_number and not f.exp.is_integer
                if (isinstance(f, sp.log) or root) and f.args[0].has(symbol) and f.args[0].is_Symbol:
                    return True
    return False


def _objective(ex):
    d = ex.d
    root = ex.values[d.graph.symbol(d.expr)]
    if d.kind == "jacobian":
        return sp.Matrix(list(root))
    if d.upstream is not None:
        _, where_root = gradient_layout(d.expr.shape, d.layout)
        delta = ex.values[d.upstream]
        return sp.Matrix([[sum(delta[where_root(p, q)] * root[p, q]
                               for p in range(root.rows) for q in range(root.cols))]])
    return root


def _positions(d, sizes):
    """Where ∂(objective)/∂var[p, q] (an array over the objective's entries) goes in the result."""
    if d.kind == "jacobian":
        _, where = jacobian_layout(d.expr.shape, d.wrt.shape, d.layout)
        out_rows, out_cols = _elements(d.expr.shape, sizes)

        def place(p, q, diff):
            flat = np.asarray(diff).reshape(-1)
            for n, value in enumerate(flat):
                r, s = (n, 0) if out_cols == 1 else (0, n)
                yield where(r, s, p, q), value
        return place
    _, where = gradient_layout(d.wrt.shape, d.layout)
    return lambda p, q, diff: [(where(p, q), float(np.asarray(diff).reshape(-1)[0]))]


def verify(derivation, *, sizes: list[dict] | None = None, seed: int = 0) -> Report:
    """Run the three proofs of ``derivation.closed_form`` and report them (for a ``Backprop``:
    exact and finite-difference proofs of every gradient, see :func:`verify_model`)."""
    if hasattr(derivation, "gradients"):
        return verify_model(derivation, sizes=sizes, seed=seed)
    if derivation.kind in SECOND_ORDER:
        return verify_second(derivation, sizes=sizes, seed=seed)
    if derivation.kind == "gauss_newton":
        return _verify_composite(derivation, seed)
    rng = np.random.default_rng(seed)
    assignments = concrete_sizes(derivation) if sizes is None else checked_sizes(size_symbols(derivation), sizes)
    for s in assignments:
        _check_cost(derivation, s)
    report = Report(derivation.title)
    for s in assignments:
        report.checks.append(guarded("exact", s, lambda s=s: exact_check(derivation, s, rng)))
    for s in assignments:
        report.checks.append(guarded("numeric", s, lambda s=s: numeric_check(derivation, s, rng)))
        report.checks.append(guarded("finite differences", s, lambda s=s: fd_check(derivation, s, rng)))
    return report


def _verify_composite(d, seed: int) -> Report:
    """A Gauss–Newton product: each derived factor proved on its own (J V, H R, Jᵀ δ), then G V end
    to end against Jᵀ H J V computed numerically (``second_order.gauss_newton_fd``)."""
    report = Report(d.title)
    for role, part in d.parts.items():
        for check in verify(part, seed=seed).checks:
            report.checks.append(Check(f"{role}: {check.name}", check.ok, check.sizes, check.error, check.detail))
    sizes = concrete_sizes(d)[0]
    rng = np.random.default_rng(seed)
    report.checks.append(guarded("G V end to end", sizes, lambda: gauss_newton_fd(d, sizes, rng)))
    return report
