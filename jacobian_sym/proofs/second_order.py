"""The proofs of a second-order closed form (a Hessian, a Hessian block, an HVP, a Kronecker form).

(a) **exact**: at concrete, distinct sizes every variable is a ``Matrix`` of symbols, the forward pass
    is explicit, and SymPy's own ``diff`` taken twice (``sp.hessian`` for a vector variable; the
    gradient's derivative along the direction's symbols for an HVP; the Hessian by vec W, stacked by
    columns, for a Kronecker form) must equal the closed form evaluated on the same matrices exactly;
(b) **finite differences**: at larger random sizes and values, central differences of the gradient —
    the first-order closed form, evaluated by the kernels' NumPy printer — along each unit vector (or
    along the direction V) agree with the closed form, norm-wise.

ReLU's second derivative is 0 away from its kink: the explicit forward pass has a Heaviside there,
whose derivative SymPy leaves as a DiracDelta at 0 — never hit at random points — so both proofs
see 0, as the closed form says.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from jacobian_sym.engine.derive import gradient
from jacobian_sym.engine.inline import in_variables
from jacobian_sym.kernels.numpy_printer import numeric_function
from jacobian_sym.ops.functions import explicit
from jacobian_sym.proofs.exact import vanishes
from jacobian_sym.proofs.explicit import Explicit, _elements, concrete_sizes, evaluate_explicit, guarded
from jacobian_sym.proofs.report import Check, Report

KINDS = ("hessian", "hvp", "kronecker", "jvp")


def _vec(M: sp.Matrix) -> list:
    """vec M: the columns stacked."""
    return [M[r, c] for c in range(M.cols) for r in range(M.rows)]


def _truth(d, ex: Explicit) -> sp.Matrix:
    """SymPy's own second derivative of the explicit loss, in the closed form's layout."""
    graph = d.graph
    a = ex.values[graph.symbol(d.wrt)]
    if d.kind == "jvp":
        V = ex.values[d.upstream]
        root = ex.values[graph.symbol(d.expr)].applyfunc(explicit)
        return root.applyfunc(lambda e: sum(sp.diff(e, a[r, c]) * V[r, c] for r in range(a.rows)
                                            for c in range(a.cols)))
    J = ex.values[graph.symbol(d.expr)].applyfunc(explicit)[0, 0]
    if d.kind == "hessian":
        b = ex.values[graph.symbol(d.other or d.wrt)]
        grad = [sp.diff(J, s) for s in _vec(a)]
        return sp.Matrix(len(grad), len(_vec(b)), lambda r, c: sp.diff(grad[r], _vec(b)[c]))
    if d.kind == "kronecker":
        return sp.hessian(J, _vec(a))
    V = ex.values[d.upstream]
    grad = a.applyfunc(lambda s: sp.diff(J, s))
    return grad.applyfunc(lambda g: sum(sp.diff(g, a[r, c]) * V[r, c] for r in range(a.rows)
                                        for c in range(a.cols)))


def _off_the_kinks(M: sp.Matrix) -> sp.Matrix:
    """The truth at every point off a kink: a Dirac delta of a kink's argument is 0 there (the
    convention ReLU″ = 0 of ``ops.functions``, stated, not assumed)."""
    return M.applyfunc(lambda e: e.replace(lambda f: isinstance(f, sp.DiracDelta), lambda f: sp.Integer(0)))


#: past this many nonlinear ops the variables not differentiated are fixed at a random rational point
#: before SymPy differentiates (the §3 network's b₂ block: 66 s symbolic, 1 s this way)
MAX_SYMBOLIC_NONLINEAR = 1


def _fixed_point(d, ex, rng) -> dict:
    """Random rationals for every leaf element not differentiated by (a one-hot label stays one-hot)."""
    graph = d.graph
    moving = {graph.symbol(d.wrt).name, graph.symbol(d.other or d.wrt).name}
    nonlinear = [n for n in graph.nodes if not n.is_leaf and n.op != "const" and n.op not in (
        "matmul", "add", "sub", "neg", "copy", "transpose", "mul", "sum")]
    if len(nonlinear) <= MAX_SYMBOLIC_NONLINEAR:
        return {}
    point = {}
    for node in graph.nodes:
        M = ex.env.get(node.name) if node.is_leaf else None
        if not isinstance(M, sp.MatrixBase) or node.name in moving:
            continue
        if node.attr("one_hot"):
            hot = int(rng.integers(0, M.rows))
            point.update({M[r, c]: sp.Integer(int(r == hot)) for r in range(M.rows) for c in range(M.cols)
                          if isinstance(M[r, c], sp.Symbol)})
        else:
            point.update({s: sp.Rational(int(rng.integers(-40, 41)), int(rng.integers(7, 31)))
                          for s in M.free_symbols})
    return point


def exact_check(d, sizes, rng) -> Check:
    ex = Explicit(d, sizes)
    fixed = _fixed_point(d, ex, rng)
    if fixed:
        return _at_a_point(d, ex, fixed, sizes, rng)
    truth = _off_the_kinks(_truth(d, ex))
    closed = evaluate_explicit(d.closed_form, ex.values, sizes)
    if truth.shape != closed.shape:
        return Check("exact", False, sizes, detail=f"shape {closed.shape} vs true {truth.shape}")
    bad = [(r, c) for r in range(truth.rows) for c in range(truth.cols)
           if not vanishes(sp.expand(explicit(closed[r, c], True) - explicit(truth[r, c], True)), rng)]
    return Check("exact", not bad, sizes, detail="" if not bad else f"differs at {bad[:3]}")


def _at_a_point(d, ex, fixed, sizes, rng) -> Check:
    """SymPy's own second derivative (the other variables fixed at random rationals first, the
    differentiated ones symbolic), then both sides at a random rational point in 50-digit arithmetic:
    a false closed form passes with probability 0."""
    ex.values = {k: (v.xreplace(fixed) if isinstance(v, sp.MatrixBase) else v) for k, v in ex.values.items()}
    truth = _off_the_kinks(_truth(d, ex))
    closed = evaluate_explicit(d.closed_form, ex.values, sizes)
    free = sorted((truth.free_symbols | closed.free_symbols), key=lambda s: s.name)
    point = {s: sp.Rational(int(rng.integers(-40, 41)), int(rng.integers(7, 31))) for s in free}
    a = truth.applyfunc(lambda e: sp.N(explicit(e, True).xreplace(point), 50))
    b = closed.applyfunc(lambda e: sp.N(explicit(e, True).xreplace(point), 50))
    scale = max([abs(v) for v in a] + [sp.Integer(1)])
    bad = [(r, c) for r in range(a.rows) for c in range(a.cols) if abs(a[r, c] - b[r, c]) > 1e-30 * scale]
    return Check("exact at a rational point", not bad, sizes, detail="" if not bad else f"differs at {bad[:3]}")


def _values(symbols, sizes, rng, positive=()) -> dict:
    return {s: (rng.uniform(0.2, 1.2, size=_elements(s.shape, sizes)) if s.name in positive else
                rng.uniform(-1.2, 1.2, size=_elements(s.shape, sizes))) for s in symbols}


def _jvp_fd_check(d, sizes, rng, h=1e-6) -> Check:
    """The derivative along V against central differences of the explicit expression along V."""
    ex = Explicit(d, sizes)
    root = ex.values[d.graph.symbol(d.expr)].applyfunc(lambda e: explicit(e, True))
    leaves = sorted(root.free_symbols, key=lambda s: s.name)
    W = ex.values[d.graph.symbol(d.wrt)]
    point = {s: rng.uniform(-1.2, 1.2) for s in leaves}
    V = rng.uniform(-1, 1, size=(W.rows, W.cols))
    f = sp.lambdify(leaves, root, modules="numpy")

    def at(t):
        moved = dict(point)
        for r in range(W.rows):
            for c in range(W.cols):
                if W[r, c] in moved:
                    moved[W[r, c]] += t * V[r, c]
        return np.asarray(f(*[moved[s] for s in leaves]), dtype=float)

    fd = (at(h) - at(-h)) / (2 * h)
    closed = evaluate_explicit(d.closed_form, {**ex.values, d.upstream: sp.Matrix(V)}, sizes)
    got = np.asarray(explicit(closed, True).xreplace(point).evalf(), dtype=float)
    err = float(np.linalg.norm(got - fd) / max(np.linalg.norm(fd), 1e-300))
    return Check("finite differences", err < 1e-5, sizes, err)


def fd_check(d, sizes, rng, h=1e-6) -> Check:
    """Central differences of the gradient along unit vectors (or the direction) against the closed form."""
    graph = d.graph
    var = graph.symbol(d.wrt)
    other = graph.symbol(d.other or d.wrt)
    first = in_variables(gradient(d.expr, d.wrt, layout="denominator").closed_form, graph)
    mapping = dict(sizes)
    grad, closed = first.xreplace(mapping), in_variables(d.closed_form, graph).xreplace(mapping)
    symbols = sorted(grad.atoms(sp.MatrixSymbol) | closed.atoms(sp.MatrixSymbol) | {var.xreplace(mapping),
                                                                                      other.xreplace(mapping)},
                     key=lambda s: s.name)
    positive = {s.name for s in symbols if _needs_positive(s, d)}
    values = _values(symbols, sizes, rng, positive)
    g = numeric_function(symbols, grad)
    H = np.asarray(numeric_function(symbols, closed)(*[values[s] for s in symbols]), dtype=float)
    name_b = other.name
    sym_b = next(s for s in symbols if s.name == name_b)

    def gradient_at(shifted):
        return np.asarray(g(*[shifted.get(s.name, values[s]) for s in symbols]), dtype=float)

    if d.kind == "hvp":
        V = values[next(s for s in symbols if s.name == d.upstream.name)]
        base = values[sym_b]
        fd = (gradient_at({name_b: base + h * V}) - gradient_at({name_b: base - h * V})) / (2 * h)
    else:
        base = values[sym_b]
        columns = []
        for c in range(base.shape[1]):
            for r in range(base.shape[0]):
                step = np.zeros_like(base)
                step[r, c] = h
                diff = (gradient_at({name_b: base + step}) - gradient_at({name_b: base - step})) / (2 * h)
                columns.append(diff.reshape(-1, order="F"))
        fd = np.stack(columns, axis=1)
    # relative to the larger side, floored at the differences' own noise (ε‖g‖/h ≈ 1e-10 ‖g‖): an
    # exactly-zero Hessian against differences of 1e-11 is a pass, not a relative error of 1
    floor = 1e-4 * max(1.0, float(np.linalg.norm(gradient_at({}))))
    err = float(np.linalg.norm(H.reshape(fd.shape) - fd) / max(np.linalg.norm(fd), np.linalg.norm(H), floor))
    return Check("finite differences", err < 1e-5, sizes, err)


def _needs_positive(symbol, d) -> bool:
    """A variable under a log (BCE's label, a log's argument) gets values in (0.2, 1.2)."""
    for node in d.graph.nodes:
        if node.op in ("log", "binary_cross_entropy", "cross_entropy") and any(
                a.is_leaf and a.name == symbol.name for a in node.args):
            return True
    return False


def larger_sizes(d, seed: int) -> dict:
    """Random sizes 5–9, distinct, for the finite-difference proof."""
    rng = np.random.default_rng(seed)
    names = sorted({s for s in concrete_sizes(d)[0]}, key=str)
    picks = rng.choice(np.arange(5, 10), size=len(names), replace=len(names) > 5)
    return {s: int(v) for s, v in zip(names, picks)}


def verify_second(d, *, sizes=None, seed: int = 0) -> Report:
    """The exact proof at two small concrete sizes and finite differences at larger random sizes (a
    Gauss–Newton product: each of its derived factors, and the composition end to end)."""
    rng = np.random.default_rng(seed)
    report = Report(d.title)
    if d.kind == "jvp":
        for s in concrete_sizes(d) if sizes is None else sizes:
            report.checks.append(guarded("exact", s, lambda s=s: exact_check(d, s, rng)))
            report.checks.append(guarded("finite differences", s, lambda s=s: _jvp_fd_check(d, s, rng)))
        return report
    for block in _blocks(d):
        assignments = concrete_sizes(block) if sizes is None else sizes
        for s in assignments:
            report.checks.append(guarded("exact", s, lambda s=s, b=block: exact_check(b, s, rng)))
        big = larger_sizes(block, seed)
        report.checks.append(guarded("finite differences", big, lambda b=block, big=big: fd_check(b, big, rng)))
    return report


def _blocks(d) -> list:
    return [b for row in d.blocks for b in row] if d.blocks else [d]



def _leaf_values(graph, ex, rng) -> dict:
    """Random values of the explicit leaves: a one-hot label is one-hot, a label under a log positive."""
    point = {}
    for node in graph.nodes:
        if not node.is_leaf or node.name is None:
            continue
        M = ex.env.get(node.name)
        if not isinstance(M, sp.MatrixBase):
            continue
        if node.attr("one_hot"):
            hot = np.zeros((M.rows, M.cols))
            hot[rng.integers(0, M.rows), 0] = 1.0
            point.update({M[r, c]: hot[r, c] for r in range(M.rows) for c in range(M.cols)
                          if isinstance(M[r, c], sp.Symbol)})
        else:
            point.update({s: rng.uniform(-1.0, 1.0) for s in M.free_symbols})
    return point


def gauss_newton_fd(d, sizes, rng, h=1e-6) -> Check:
    """G V against Jᵀ H J V computed numerically: J by central differences of the explicit output θ
    in W, H by central differences of SymPy's exact gradient of the explicit loss in θ."""
    Jv, Hr = d.parts["J V"], d.parts["H R"]
    ex = Explicit(Jv, sizes)
    theta = ex.values[Jv.graph.symbol(Jv.expr)].applyfunc(lambda e: explicit(e, True))
    W = ex.values[Jv.graph.symbol(Jv.wrt)]
    point = _leaf_values(d.graph, Explicit(d, sizes), rng)
    point.update({s: v for s, v in _leaf_values(Jv.graph, ex, rng).items() if s not in point})
    leaves = sorted(theta.free_symbols, key=lambda s: s.name)
    f_theta = sp.lambdify(leaves, theta, modules="numpy")
    w_syms = _vec(W)
    n_out = theta.rows * theta.cols

    def theta_at(moved):
        return np.asarray(f_theta(*[moved.get(s, point[s]) for s in leaves]), dtype=float).reshape(-1, order="F")

    jac = np.zeros((n_out, len(w_syms)))
    for k, s in enumerate(w_syms):
        jac[:, k] = (theta_at({s: point[s] + h}) - theta_at({s: point[s] - h})) / (2 * h)
    ex_loss = Explicit(Hr, sizes)
    out_matrix = ex_loss.values[Hr.graph.symbol(Hr.wrt)]
    loss = ex_loss.values[Hr.graph.symbol(Hr.expr)].applyfunc(lambda e: explicit(e, True))[0, 0]
    theta_syms = _vec(out_matrix)
    label_point = {s: v for s, v in _leaf_values(Hr.graph, ex_loss, rng).items() if s not in set(theta_syms)}
    grad_theta = sp.lambdify(theta_syms + sorted(set(label_point), key=lambda s: s.name),
                             [sp.diff(loss, t) for t in theta_syms], modules="numpy")
    labels = [label_point[s] for s in sorted(set(label_point), key=lambda s: s.name)]
    theta0 = theta_at({})
    hess = np.zeros((n_out, n_out))
    for k in range(n_out):
        step = np.zeros(n_out)
        step[k] = h
        hess[:, k] = (np.asarray(grad_theta(*(theta0 + step), *labels), dtype=float)
                      - np.asarray(grad_theta(*(theta0 - step), *labels), dtype=float)) / (2 * h)
    V = rng.uniform(-1, 1, size=(W.rows, W.cols))
    expected = jac.T @ hess @ jac @ V.reshape(-1, order="F")
    closed = evaluate_explicit(in_variables(d.closed_form, d.graph), {**Explicit(d, sizes).values,
                                                                       d.upstream: sp.Matrix(V)}, sizes)
    values = {**point, **{s: v for s, v in label_point.items()}}
    got = np.asarray(explicit(closed, True).xreplace(values).evalf(), dtype=float).reshape(-1, order="F")
    err = float(np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-300))
    return Check("G V end to end", err < 1e-5, sizes, err)
