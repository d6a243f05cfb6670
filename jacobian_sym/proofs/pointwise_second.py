"""Second derivatives at a point: central differences of the pointwise truth, in 50-digit arithmetic.

A Hessian block, a Hessian–vector product, a Kronecker form and a directional derivative (JVP) are
each the derivative of a first-order quantity that ``pointwise`` computes exactly at a point: the
gradient (reverse accumulation over the graph) or the expression's value. Their truth at a point is
its central difference along the direction, with a step of 10⁻¹⁵ in 50-digit arithmetic: the
truncation error is O(h²) ≈ 10⁻³⁰ and the rounding error 10⁻⁵⁰ / h = 10⁻³⁵, both far below
``TOLERANCE`` (10⁻¹⁸ of the largest entry), which is itself far below any real difference. A point
where the gradient is not smooth (a ReLU's argument exactly 0) is seen as two step sizes disagreeing
(``smooth``): a caller that finds a form disagreeing asks, and draws another point. Nothing here
reads the engine's closed forms.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.proofs.explicit import evaluate_explicit
from jacobian_sym.proofs.pointwise import DIGITS, PointwiseGraph, _number, concrete

STEP = sp.Rational(1, 10**15)
TOLERANCE = sp.Float("1e-18", DIGITS)
#: the kinds whose truth is a second derivative (or the JVP, a first derivative of a value)
KINDS = ("hessian", "hvp", "kronecker", "jvp")


def _rational_matrix(rows, cols, rng):
    return sp.Matrix(rows, cols, [sp.Rational(int(rng.integers(-9, 10)), 7) for _ in range(rows * cols)])


def _vec(M: sp.Matrix) -> list:
    """vec M: the columns stacked (as the Kronecker form's vec)."""
    return [M[r, c] for c in range(M.cols) for r in range(M.rows)]


class PointwiseSecond:
    """The truth of a second-order derivation ``d`` at one random rational point (``leaves``)."""

    def __init__(self, d, sizes: dict, leaves: dict, rng):
        self.d, self.sizes, self.leaves = d, sizes, leaves
        self._truth = None
        graph = d.graph
        at = PointwiseGraph(graph, sizes, leaves)
        self.values = {graph.symbol(n): at.value(n) for n in graph.nodes if n.op != "const"}
        if d.upstream is not None:
            rows, cols = concrete(d.upstream.shape, sizes)
            self.values[d.upstream] = _rational_matrix(rows, cols, rng)

    # ----- first-order quantities at a moved point -----
    def _moved(self, name, step: sp.Matrix) -> dict:
        leaves = dict(self.leaves)
        leaves[name] = leaves[name] + step
        return leaves

    def _first(self, leaves) -> sp.Matrix:
        """The quantity differentiated: ∂J/∂a in a's own shape, or the expression's value (JVP)."""
        d = self.d
        g = PointwiseGraph(d.graph, self.sizes, leaves)
        if d.kind == "jvp":
            return g.value(d.graph.root)
        return g.gradient(d.wrt, "denominator", to_shape=True)

    def _along(self, name, direction: sp.Matrix, h) -> sp.Matrix:
        """d/dt of the first-order quantity at (name + t·direction), t = 0: the central difference."""
        up, down = self._first(self._moved(name, h * direction)), self._first(self._moved(name, -h * direction))
        return ((up - down) / (2 * h)).applyfunc(lambda e: sp.N(e, DIGITS))

    def truth(self, name=None, step=STEP) -> sp.Matrix:
        """The second derivative (a JVP: the first) at the point, in the derivation's arrangement."""
        if step == STEP and self._truth is not None:
            return self._truth
        d = self.d
        if d.kind in ("hvp", "jvp"):
            out = self._along(d.graph.canonical(d.wrt).name, self.values[d.upstream], step)
        else:
            b_node = d.graph.canonical(d.other or d.wrt)
            rows, cols = concrete(b_node.shape, self.sizes)
            columns = []
            for c in range(cols):
                for r in range(rows):
                    unit = sp.zeros(rows, cols)
                    unit[r, c] = 1
                    columns.append(_vec(self._along(b_node.name, unit, step)))
            out = sp.Matrix(len(columns[0]), len(columns), lambda i, j: columns[j][i])
        if step == STEP:
            self._truth = out
        return out

    def smooth(self) -> bool:
        """Whether the point is off the kinks: the difference quotient does not depend on the step
        (asked only when a form disagrees, to tell a kink from a wrong form)."""
        return not differ(self.truth(), self.truth(step=10 * STEP))

    def evaluate(self, expr) -> sp.Matrix:
        return evaluate_explicit(expr, self.values, self.sizes, number=_number).applyfunc(_number)


def differ(a: sp.Matrix, b: sp.Matrix) -> list[tuple[int, int]]:
    """Entries that differ by more than the difference quotient's error, relative to the larger side."""
    scale = max([abs(x) for x in b] + [abs(x) for x in a] + [sp.Float("1e-300", DIGITS)])
    return [(r, c) for r in range(a.rows) for c in range(a.cols) if abs(a[r, c] - b[r, c]) > TOLERANCE * scale]
