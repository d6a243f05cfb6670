"""Proofs of whole models: exact equality with SymPy's diff of the whole explicit loss at small sizes,
and central finite differences of the NumPy forward pass at larger ones."""

from __future__ import annotations

import numpy as np
import sympy as sp

from jacobian_sym.base.bounds import MAX_EXPLICIT_ELEMENTS
from jacobian_sym.graph.indexed import explicit_matrix
from jacobian_sym.graph.structure import is_symmetric
from jacobian_sym.kernels.numeric import (
    NumericGraph,
    central_difference,
    evaluate,
    random_inputs,
    rel_error,
    sample_indices,
)
from jacobian_sym.ops.functions import explicit
from jacobian_sym.proofs import pointwise
from jacobian_sym.proofs.exact import is_zero_smooth, kink_symbols, random_rational_point
from jacobian_sym.proofs.explicit import (
    check_explicit_cost,
    checked_sizes,
    evaluate_explicit,
    explicit_elements,
    guarded,
    leaf_matrix,
    without_dirac,
)
from jacobian_sym.proofs.pointwise import (
    PointwiseModel,
    differ,
    exact_affordable,
    explicit_affordable,
    informative,
    point_sizes,
    random_point,
)
from jacobian_sym.proofs.report import Check, Report


class ExplicitModel:
    """A model's forward pass at concrete sizes, and its derived closed forms evaluated on it."""

    def __init__(self, bp, sizes):
        self.bp, self.sizes = bp, sizes
        graph = bp.graph
        env = {"__sizes__": sizes}
        for node in graph.nodes:
            if node.is_leaf and node.name not in env:
                env[node.name] = leaf_matrix(node, sizes)
        self.env = env
        self.values = {}
        for node in graph.nodes:
            if node.op != "const":
                self.values[graph.symbol(node)] = explicit_matrix(node, graph, env)
        for name, closed in bp.deltas.items():  # δ₁ first: later signals use earlier ones
            self.values[bp.delta_symbols[name]] = self._evaluate(closed)

    def _evaluate(self, closed) -> sp.Matrix:
        return evaluate_explicit(closed, self.values, self.sizes)

    def loss(self):
        return self.values[self.bp.graph.symbol(self.bp.model.loss)][0, 0]

    def truth(self, name) -> sp.Matrix:
        var = self.env[name]
        J = explicit(self.loss())
        return without_dirac(var.applyfunc(lambda s: sp.diff(J, s)))

    def closed(self, name) -> sp.Matrix:
        return self._evaluate(self.bp.gradients[name])


def explicit_small(bp, sizes: list[dict]) -> bool:
    """Whether the explicit loss is small enough for the exact proof at every one of ``sizes`` (counted
    before it is built: at a literal N_c = 1000 building it to measure it was the cost)."""
    if any(explicit_elements(bp.graph, s) > MAX_EXPLICIT_ELEMENTS for s in sizes):
        return False
    return all(explicit_affordable(explicit(ExplicitModel(bp, s).loss())) for s in sizes)


def model_exact_check(bp, sizes, rng, names=None) -> list[Check]:
    """Exact equality of every derived gradient with SymPy's diff of the whole explicit loss."""
    ex = ExplicitModel(bp, sizes)
    J = explicit(ex.loss())
    kinks = kink_symbols(J)
    points = [{}] if not kinks else [random_rational_point(kinks, rng) for _ in range(3)]
    checks = []
    for name in names or list(bp.gradients):
        truth, closed = ex.truth(name), ex.closed(name)
        bad = set()
        for point in points:  # kinks first become numbers, then the smooth rest is decided symbolically
            diff = closed.xreplace(point).applyfunc(explicit) - truth.xreplace(point)
            bad |= {(r, c) for r in range(diff.rows) for c in range(diff.cols) if not is_zero_smooth(diff[r, c])}
        detail = f"differs at {sorted(bad)[:3]}" if bad else (
            "ReLU kinks decided at 3 rational points" if kinks else "")
        checks.append(Check(f"exact ∂J/∂{name}", not bad, sizes, detail=detail))
    return checks


def model_point_check(bp, sizes, rng, names=None) -> list[Check]:
    """Every derived gradient against the truth at ``pointwise.POINTS`` random rational points, in 50-digit
    arithmetic (``pointwise``): the closed forms evaluated on the point's values, δ included."""
    points = informative_points(bp, sizes, rng)
    checks = []
    # the error signals too: here a gradient is evaluated with the true δ, so each δ's closed form is
    # checked on its own
    targets = [(f"points {k}", k, bp.deltas[k]) for k in bp.deltas] if names is None else []
    targets += [(f"points ∂J/∂{k}", k, bp.gradients[k]) for k in names or list(bp.gradients)]
    for label, name, closed in targets:
        bad = sorted({rc for p in points for rc in differ(p.evaluate(closed), p.truth(name))})
        seen = sum(any(x != 0 for x in p.truth(name)) for p in points)
        if bad:
            checks.append(Check(label, False, sizes, detail=f"differs at {bad[:3]}"))
        elif not seen:
            detail = f"undecided: the truth vanished at all {pointwise.MAX_DRAWS} points tried (units never on)"
            checks.append(Check(label, None, sizes, detail=detail))
        else:
            checks.append(Check(label, True, sizes, detail=f"at {len(points)} random rational points, 50 digits"))
    return checks


def informative_points(bp, sizes, rng) -> list:
    """``pointwise.POINTS`` random rational points where the gradients do not all vanish (see ``pointwise``)."""
    def draw():
        return PointwiseModel(bp, sizes, random_point(bp.graph, sizes, rng))

    def truth(point):
        return [x for name in bp.gradients for x in point.truth(name)]

    points = [informative(draw, truth) for _ in range(pointwise.POINTS)]
    return [p for p in points if p is not None]


def verify_model(bp, *, sizes: list[dict] | None = None, fd_sizes: list[dict] | None = None,
                 seed: int = 0) -> Report:
    """Proofs of every gradient of a model: exact at small concrete sizes (at random rational points in
    50-digit arithmetic past ``pointwise.MAX_EXACT_NONLINEAR``), and central finite differences at larger ones."""
    rng = np.random.default_rng(seed)
    symbols = sorted({s for n in bp.graph.nodes for x in n.shape for s in x.free_symbols},
                     key=lambda s: s.name)
    given = sizes is not None
    if sizes is None:
        sizes = [{s: sp.Integer((2, 3, 4, 5)[k % 4]) for k, s in enumerate(symbols)}]
    else:
        sizes = checked_sizes(symbols, sizes)
    if fd_sizes is None:
        fd_sizes = [{s: sp.Integer(int(rng.integers(5, 12))) for s in symbols}]
    else:
        fd_sizes = checked_sizes(symbols, fd_sizes)
    exact = exact_affordable(bp.graph)
    for s in sizes if exact else ():
        check_explicit_cost(bp.graph, s)
    if exact:  # few nonlinear ops, but the explicit loss may still be large (attention's softmax of products)
        exact = explicit_small(bp, sizes)
    report = Report(bp.model.title)
    for s in sizes:
        if exact:
            report.checks.extend(_guarded_all("exact", s, lambda s=s: model_exact_check(bp, s, rng)))
    if not exact:
        for s in sizes if given else point_sizes(symbols):
            report.checks.extend(_guarded_all("points", s, lambda s=s: model_point_check(bp, s, rng)))
    for s in fd_sizes:
        report.checks.extend(_guarded_all("fd", s, lambda s=s: model_fd_check(bp, s, rng)))
    return report


def _guarded_all(kind, sizes, run) -> list[Check]:
    """The checks ``run`` returns, or the one failed check ``guarded`` makes when it cannot finish."""
    out = guarded(kind, sizes, run)
    return out if isinstance(out, list) else [out]


def backprop_values(bp, numeric, arrays) -> dict:
    """Forward values, then the error signals in order, then nothing else: all by symbol name."""

    values = numeric.forward(arrays)
    for name, closed in bp.deltas.items():
        values[bp.delta_symbols[name].name] = evaluate(closed, values, numeric.sizes)
    return values


def model_fd_check(bp, sizes, rng, h=1e-6, max_elements=120) -> list[Check]:
    """Central differences of the numeric loss against every derived gradient, at ``sizes``."""
    numeric = NumericGraph(bp.graph, sizes)
    arrays = random_inputs(bp.graph, sizes, rng)
    values = backprop_values(bp, numeric, arrays)
    loss = float(numeric.loss(arrays))
    checks = []
    for name, closed in bp.gradients.items():
        if name not in arrays:  # (a gradient by a forward line: the exact and pointwise proofs check it)
            continue
        G = evaluate(closed, values, sizes)
        indices = sample_indices(arrays[name].shape, max_elements, rng)
        symmetric = is_symmetric(bp.graph.node_named(name))
        want = [central_difference(numeric.loss, arrays, name, idx, h, symmetric) for idx in indices]
        got = [G[idx] for idx in indices]
        err = rel_error(got, want)
        # a central difference carries rounding of about ε·|J|/h per element: a deep network's
        # gradient can be smaller than that, and is then compared down to that floor only
        floor = 10 * np.finfo(float).eps * max(abs(loss), 1.0) / h * np.sqrt(len(indices))
        gap = float(np.linalg.norm(np.subtract(got, want)))
        ok = err < 1e-5 or gap <= 1e-5 * float(np.linalg.norm(want)) + floor
        detail = "" if err < 1e-5 or not ok else f"within the rounding floor {floor:.0e} of the differences"
        checks.append(Check(f"fd ∂J/∂{name}", ok, sizes, err, detail))
    return checks
