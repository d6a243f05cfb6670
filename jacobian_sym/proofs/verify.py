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

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.engine.chain import one_hot_axis
from jacobian_sym.engine.index import explicit_matrix, inline_unnamed_elements
from jacobian_sym.engine.layout import gradient_layout, jacobian_layout
from jacobian_sym.errors import JacobianSymError, SizeError
from jacobian_sym.kernels.numpy_printer import numeric_function
from jacobian_sym.ops.functions import explicit
from jacobian_sym.proofs.exact import vanishes

MAX_EXPLICIT_DERIVATIVES = 6000
MAX_EXPLICIT_ELEMENTS = 2000
SIZE_CYCLE = (3, 4, 2, 5, 6, 7)


@dataclass
class Check:
    name: str
    ok: bool
    sizes: dict
    error: float | None = None
    detail: str = ""

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        err = "" if self.error is None else f"  rel. error {self.error:.1e}"
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name:<18} at {sizes}{err}  {self.detail}".rstrip()


@dataclass
class Report:
    """Which proofs ran, at which sizes, with what error."""

    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def __str__(self):
        return "\n".join([self.title, *(f"  {c}" for c in self.checks)])


# ----- concrete sizes -----
def size_symbols(derivation) -> list[sp.Symbol]:
    found = set()
    for node in derivation.graph.nodes:
        for s in node.shape:
            found |= set(s.free_symbols)
    return sorted(found, key=lambda s: s.name)


def concrete_sizes(derivation, count: int = 2) -> list[dict]:
    """``count`` assignments of distinct sizes (so no matrix is accidentally square)."""
    symbols = size_symbols(derivation)
    out = []
    for shift in range(count):
        values = SIZE_CYCLE[shift:] + SIZE_CYCLE[:shift]
        out.append({s: sp.Integer(values[n % len(values)]) for n, s in enumerate(symbols)})
    return out


def _elements(shape, sizes):
    return tuple(int(s.xreplace(sizes)) if isinstance(s, sp.Basic) else int(s) for s in shape)


def _check_cost(derivation, sizes):
    out = int(np.prod(_elements(derivation.expr.shape, sizes)))
    wrt = int(np.prod(_elements(derivation.wrt.shape, sizes)))
    check_explicit_cost(derivation.graph, sizes, out * wrt)


def check_explicit_cost(graph, sizes, derivatives: int = 0):
    """Refuse, before any work, an explicit proof whose symbolic matrices or derivatives would be
    too many to finish in seconds (the cost grows with every element of every node)."""
    elements = sum(int(np.prod(_elements(n.shape, sizes))) for n in graph.nodes if n.op != "const")
    shown = ", ".join(f"{k}={v}" for k, v in sizes.items()) or "these sizes"
    if derivatives > MAX_EXPLICIT_DERIVATIVES:
        raise SizeError(f"the explicit check at {shown} would take {derivatives} symbolic derivatives "
                        f"(limit {MAX_EXPLICIT_DERIVATIVES}); use smaller sizes, or the numeric checks")
    if elements > MAX_EXPLICIT_ELEMENTS:
        raise SizeError(f"the explicit check at {shown} would build {elements} symbolic elements "
                        f"(limit {MAX_EXPLICIT_ELEMENTS}); use smaller sizes, or the numeric checks")


def checked_sizes(symbols, assignments) -> list[dict]:
    """User-given sizes by name, checked against the target's size symbols (missing ones get the
    default values; an unknown name or a value that is not a positive integer is refused)."""
    known = {s.name: s for s in symbols}
    out = []
    for n, given in enumerate(assignments):
        if not isinstance(given, dict):
            raise SizeError(f"sizes are dicts of size name → positive integer, not {type(given).__name__}")
        values = {s: sp.Integer(SIZE_CYCLE[(k + n) % len(SIZE_CYCLE)]) for k, s in enumerate(symbols)}
        for key, value in given.items():
            name = str(key)
            if name not in known:
                raise SizeError(f"sizes names {name!r}, which the target does not have "
                                f"(it has: {', '.join(known) or 'no symbolic sizes'})")
            if isinstance(value, bool) or not isinstance(value, (int, sp.Integer)) or not 0 < int(value) < 10**6:
                raise SizeError(f"the size {name}={value!r} is not a positive integer")
            values[known[name]] = sp.Integer(int(value))
        out.append(values)
    return out


def guarded(name, sizes, run) -> Check:
    """A proof that cannot be carried out fails cleanly, with the reason, instead of crashing;
    a refusal on cost (SizeError) and other errors of the user's input still stop the run."""
    try:
        return run()
    except JacobianSymError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure to evaluate is a failed proof, not a crash
        return Check(name, False, sizes, detail=f"could not be carried out ({type(err).__name__}: {err})"[:300])


# ----- explicit values -----
def leaf_matrix(node, sizes):
    rows, cols = _elements(node.shape, sizes)
    if node.attr("one_hot"):  # one 1 per example along the class axis, in varying places
        if one_hot_axis(node) == 0:
            return sp.Matrix(rows, cols, lambda i, j: 1 if i == (rows // 2 + j) % rows else 0)
        return sp.Matrix(rows, cols, lambda i, j: 1 if j == (cols // 2 + i) % cols else 0)
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{node.name}_{i}_{j}", real=True))


class Explicit:
    """The forward pass of a derivation's graph at concrete sizes, with symbols for the variables."""

    def __init__(self, derivation, sizes):
        self.d, self.sizes = derivation, sizes
        graph = derivation.graph
        self.env = {"__sizes__": sizes}
        for node in graph.nodes:
            if node.is_leaf and node.name not in self.env:
                self.env[node.name] = leaf_matrix(node, sizes)
        self.values = {}
        for node in graph.nodes:
            if node.op != "const":
                self.values[graph.symbol(node)] = explicit_matrix(node, graph, self.env)
        if derivation.upstream is not None:
            up = derivation.upstream
            rows, cols = _elements(up.shape, sizes)
            self.values[up] = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"delta_{i}_{j}", real=True))

    def variable(self):
        return self.values[self.d.graph.symbol(self.d.wrt)]

    def truth(self) -> sp.Matrix:
        """The true derivative, by SymPy's own diff on the explicit forward pass."""
        d = self.d
        root = self.values[d.graph.symbol(d.expr)].applyfunc(explicit)
        var = self.variable()
        if d.kind == "jacobian":
            shape, where = jacobian_layout(d.expr.shape, d.wrt.shape, d.layout)
            jac = sp.Matrix(list(root)).jacobian(sp.Matrix(list(var)))
            return jac if d.layout == "numerator" else jac.T
        if d.upstream is not None:
            _, where_root = gradient_layout(d.expr.shape, d.layout)
            delta = self.values[d.upstream]
            J = sum(delta[where_root(p, q)] * root[p, q]
                    for p in range(root.rows) for q in range(root.cols))
        else:
            J = root[0, 0]
        shape, where = gradient_layout(d.wrt.shape, d.layout)
        G = sp.zeros(*_elements(shape, self.sizes))
        for p in range(var.rows):
            for q in range(var.cols):
                G[where(p, q)] = sp.diff(J, var[p, q])
        return G

    def closed(self) -> sp.Matrix:
        """The closed form evaluated on the explicit matrices."""
        return evaluate_explicit(self.d.closed_form, self.values, self.sizes)


def evaluate_explicit(expr, values: dict, sizes: dict) -> sp.Matrix:
    """A matrix expression with its symbols replaced by explicit matrices (``values``) at concrete
    ``sizes``, multiplied out. Ones matrices and diagonals become explicit first: SymPy multiplies
    them with explicit matrices only then."""
    mapping = {k: sp.ImmutableMatrix(v) if isinstance(v, sp.MatrixBase) else v for k, v in values.items()}
    # (SymPy's DiagonalOf cannot even hold an explicit matrix: it is made explicit before the rest)
    out = expr.replace(lambda e: isinstance(e, sp.DiagonalOf) and e.arg in mapping,
                       lambda e: sp.ImmutableMatrix(mapping[e.arg].diagonal()).T)
    mapping.update(sizes)
    out = out.xreplace(mapping)
    out = out.replace(lambda e: isinstance(e, sp.OneMatrix), lambda e: sp.ImmutableMatrix.ones(*e.shape))
    out = out.doit()
    return sp.Matrix(out.as_explicit() if hasattr(out, "as_explicit") else out)


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
    out = set()
    for f in expr.atoms(sp.log, sp.Pow):
        base = f.args[0]
        if isinstance(f, sp.log) or (f.exp.is_number and f.exp < 0):
            out |= base.atoms(sp.MatrixSymbol)
    return out


def _random_values(symbols, positive, sizes, rng):
    vals = {}
    for s in symbols:
        shape = _elements(s.shape, sizes)
        v = rng.uniform(0.2, 1.2, size=shape) if s in positive else rng.uniform(-1.2, 1.2, size=shape)
        vals[s] = v
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
    symbols = sorted(closed.atoms(sp.MatrixSymbol) | {m.parent for m in elementwise.atoms(MatrixElement)},
                     key=lambda s: s.name)
    positive = _symbols_needing_positive(index) | _symbols_needing_positive(d.closed_form.xreplace(mapping))
    # sizes were substituted into the symbols, so the positive ones are matched by name
    positive_names = {p.name for p in positive}
    vals = _random_values(symbols, {s for s in symbols if s.name in positive_names}, sizes, rng)
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
    for v in ex.values.values():
        if not isinstance(v, sp.MatrixBase):
            continue
        for e in v:
            e = explicit(e)
            for f in e.atoms(sp.log):
                if f.args[0].has(symbol) and f.args[0].is_Symbol:
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
        from jacobian_sym.proofs.model_proofs import verify_model

        return verify_model(derivation, sizes=sizes, seed=seed)
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
