"""Symbolic verification: ``check`` a claimed gradient, and audit the notes (``errata``).

A claim is compared with the truth — SymPy's own derivative of the explicit forward pass — exactly at
concrete sizes (ReLU's kinks at random rational points, the rest symbolically), after a quick
symbolic comparison with the derived closed form at symbolic sizes. A claim that does not hold gets
a reason (shape, a missing transpose, a wrong sign, a wrong scale, a missing or extra term, or a
plain mismatch), a counterexample with both numbers, and the derived closed form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.claims.symmetric import symmetric_hint
from jacobian_sym.claims.syntax import ClaimError, parse_claim
from jacobian_sym.engine.derive import Derivation
from jacobian_sym.engine.layout import gradient_layout, jacobian_layout
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.expr import Node
from jacobian_sym.models.backprop import Backprop
from jacobian_sym.models.model import Model
from jacobian_sym.ops.functions import explicit, with_surrogates
from jacobian_sym.ops.table import UNDEFINED, get_op
from jacobian_sym.proofs import pointwise
from jacobian_sym.proofs.exact import (
    RANDOM_POINTS,
    exact_budget,
    is_zero_at,
    kink_symbols,
    random_rational_point,
    recording,
    too_large,
    tree_depth,
    value_at,
    vanishes_at_random_points,
)
from jacobian_sym.proofs.explicit import Explicit, evaluate_explicit
from jacobian_sym.proofs.guard import backprop, gradient, jacobian
from jacobian_sym.proofs.model_proofs import ExplicitModel, explicit_small
from jacobian_sym.proofs.pointwise import (
    PointwiseDerivation,
    PointwiseModel,
    differ,
    exact_affordable,
    informative,
    point_sizes,
    random_point,
    relative_error,
)
from jacobian_sym.proofs.pointwise_second import KINDS as SECOND_KINDS
from jacobian_sym.proofs.pointwise_second import PointwiseSecond
from jacobian_sym.proofs.pointwise_second import differ as differ_second
from jacobian_sym.render.display import Displayed
from jacobian_sym.render.printers import latex, plain


@dataclass(repr=False)
class Verdict(Displayed):
    """Whether a claim holds; when it does not: why, where (a counterexample, its entry and element
    names counted from 1 as in the notes), and the truth."""

    #: True when it holds, False when it does not (or holds only in the other layout: ``status``),
    #: None when undecided — the symbolic and the numeric comparison disagree, or neither settles it
    ok: bool | None
    claim: str
    wrt: str
    reason: str = ""
    counterexample: dict | None = None
    expected: sp.MatrixExpr | None = None
    decided: str = ""
    details: dict = field(default_factory=dict)
    #: what is differentiated: the loss J, or a Jacobian's output (identity 2.1's z)
    of: str = "J"

    @property
    def status(self) -> str:
        """"holds", "does not hold", "holds in the denominator layout" (or numerator), "undecided"."""
        if self.ok is None:
            return "undecided"
        if self.ok:
            return "holds"
        layout = self.details.get("holds in layout")
        if self.details.get("holds if symmetric"):
            return f"holds only for symmetric {self.details['holds if symmetric']}"
        return f"holds in the {layout} layout" if layout else "does not hold"

    def __str__(self):
        if self.ok:
            return f"holds: {lhs_label(self.wrt, self.of)} = {self.claim}  ({self.decided})"
        lines = [f"{self.status}: {lhs_label(self.wrt, self.of)} = {self.claim}", f"  reason: {self.reason}"]
        if self.counterexample:
            lines.append(f"  counterexample: {self._counterexample()}")
        if self.expected is not None:
            lines.append(f"  derived: {lhs_label(self.wrt, self.of)} = {plain(self.expected)}")
        return "\n".join(lines)

    def _counterexample(self) -> str:
        c = self.counterexample
        sizes = ", ".join(f"{k}={v}" for k, v in c["sizes"].items())
        return f"at {sizes}, entry {c['entry']}: claim {c['claim']:.6g}, true {c['true']:.6g}"

    def summary(self) -> str:
        head = f"{self.status}: {lhs_label(self.wrt, self.of)} = {self.claim}"
        return head + (f" ({self.decided})" if self.ok else f" ({self.reason})")

    def markdown(self) -> str:
        lines = [f"**{self.status}**: `{lhs_label(self.wrt, self.of)} = {self.claim}`"
                 + (f" ({self.decided})" if self.decided else "")]
        if not self.ok:
            lines += ["", f"- reason: {self.reason}"]
            if self.counterexample:
                lines.append(f"- counterexample: {self._counterexample()}")
        if self.expected is not None:
            lines += ["", f"derived: $\\displaystyle {latex_label(self.wrt, self.of)} = {latex(self.expected)}$"]
        return "\n".join(lines)


def one_based(name: str) -> str:
    """An element's name from 1, as the notes count (the explicit matrices' W_0_1 is W[1,2])."""
    element = re.fullmatch(r"(.+)_([0-9]+)_([0-9]+)", name)
    return f"{element.group(1)}[{int(element.group(2)) + 1},{int(element.group(3)) + 1}]" if element else name


def _label_symbol(name: str, of: str = "J"):
    """δ₂ for delta2 or delta_2, ∂J/∂W for W (∂z/∂x for ``of`` z): what a claim is about, as the notes
    write it."""
    signal = re.fullmatch(r"(delta|Delta)_?([0-9]+)", name)
    if signal:
        return sp.Symbol(f"{signal.group(1)}_{signal.group(2)}")
    return sp.Derivative(sp.Symbol(of), sp.Symbol(name))


def latex_label(name: str, of: str = "J") -> str:
    return latex(_label_symbol(name, of))


def lhs_label(name: str, of: str = "J") -> str:
    return plain(_label_symbol(name, of))


# ----- targets -----
def _aliases(name: str) -> list[str]:
    out = [name]
    if name.startswith(("delta_", "Delta_")):
        out += [name.replace("_", ""), name.replace("_", "").lower(), name.lower()]
    return out


class ClaimTarget:
    """What a claim is checked against: names, the derived form, and explicit values at sizes."""

    def __init__(self, target, wrt, layout):
        if isinstance(target, Model):
            target = backprop(target, layout=layout)
        if isinstance(target, Node):
            if wrt is None or not isinstance(wrt, Node):
                raise JacobianSymError("checking an expression needs wrt= the variable (a node)")
            target = gradient(target, wrt, layout=layout) if target.shape == (1, 1) else jacobian(
                target.named(target.name or "f"), wrt, layout=layout)
            wrt = wrt.name
        self.target = target
        self.layout = layout
        self.of = "J"
        #: 2 for a Hessian, a Hessian–vector product, a Kronecker form or a JVP: the truth is that
        #: derivative (``pointwise_second``), never the gradient it is taken of
        self.order = 1
        if isinstance(target, Backprop):
            self.kind = "backprop"
            graph = target.graph
            signals = {a: k for k in target.deltas for a in _aliases(k)}
            if wrt in signals:
                self.wrt, self.expected = signals[wrt], target.deltas[signals[wrt]]
            elif wrt in target.gradients:
                self.wrt, self.expected = wrt, target.gradients[wrt]
            else:
                raise JacobianSymError(f"wrt={wrt!r} is neither a derived gradient ({', '.join(target.gradients)}) "
                                       f"nor an error signal ({', '.join(target.deltas)})")
            names = {n.name: graph.symbol(n) for n in graph.nodes if n.name}
            for k, sym in target.delta_symbols.items():
                for a in _aliases(k):
                    names[a] = sym
        elif isinstance(target, Derivation):
            self.kind = "derivation"
            if target.kind == "gauss_newton" or target.blocks:
                what = "a Gauss–Newton product" if target.kind == "gauss_newton" else "a Hessian by several variables"
                raise JacobianSymError(f"claims about {what} are not checked as a whole: check each of its "
                                       "derivations (its blocks, or the factors J V, H R and Jᵀ δ)")
            if target.kind in SECOND_KINDS:
                self.order = 2
            graph = target.graph
            self.wrt = target.wrt.name if wrt is None or isinstance(wrt, Node) else wrt
            if self.wrt != target.wrt.name:
                raise JacobianSymError(f"the derivation is by {target.wrt.name}, not {self.wrt}")
            self.expected = target.closed_form
            if target.upstream is None and target.expr.name:  # else J, known by its upstream signal
                self.of = target.expr.name
            names = {n.name: graph.symbol(n) for n in graph.nodes if n.name}
            if target.upstream is not None:
                names[target.upstream.name] = target.upstream
        else:
            raise JacobianSymError(f"check takes a Backprop, a Derivation, a Model or an expression, not "
                                   f"{type(target).__name__}")
        self.names = names
        self.graph = graph
        self._exact = None
        #: the generic functions (the notes' f) the target uses: a claim may name them, and their f′
        self.functions = {n.op: get_op(n.op) for n in graph.nodes if n.op in UNDEFINED}

    def sizes(self):
        symbols = sorted({s for n in self.graph.nodes for x in n.shape for s in x.free_symbols},
                         key=lambda s: s.name)
        small = (3, 2, 4, 5, 3, 2)
        return [{s: sp.Integer(small[(k + shift) % len(small)]) for k, s in enumerate(symbols)} for shift in (0, 2)]

    def exact_affordable(self) -> bool:
        """Whether the whole explicit expansion is affordable (always for a single first-order derivation;
        a second-order target is decided at points against its own derivative)."""
        if self.order == 2:
            return False
        if self.kind == "derivation":
            return True
        if self._exact is None:  # few nonlinear ops, and an explicit loss small enough at every size tried
            self._exact = exact_affordable(self.graph) and explicit_small(self.target, self.sizes())
        return self._exact

    def differ(self, a, b):
        """Entries where two values at a point differ beyond the truth's own error."""
        return differ_second(a, b) if self.order == 2 else differ(a, b)

    def other_layout_shape(self):
        """The shape the truth has in the other layout (None when the layout does not change it)."""
        other = "denominator" if self.layout == "numerator" else "numerator"
        target = self.target
        if self.order == 2:
            return None
        if self.kind == "backprop":
            if self.wrt not in target.deltas:
                return None
            node = target.delta_nodes[self.wrt]
            return tuple(gradient_layout(node.shape, other, batch=target.model.batch)[0])
        if target.kind == "jacobian":
            return tuple(jacobian_layout(target.expr.shape, target.wrt.shape, other)[0])
        return tuple(gradient_layout(target.wrt.shape, other)[0])

    def point_sizes(self):
        symbols = sorted({s for n in self.graph.nodes for x in n.shape for s in x.free_symbols},
                         key=lambda s: s.name)
        return point_sizes(symbols, shifts=(0, 1))

    def informative_point(self, sizes, rng):
        """A random point where the truth does not vanish (else None)."""
        return informative(lambda: self.pointwise(sizes, rng), lambda point: point.truth(self.wrt))

    def pointwise(self, sizes, rng) -> PointwiseModel | PointwiseDerivation:
        """The truth and the values of every name at one random rational point (see ``pointwise``)."""
        leaves = random_point(self.graph, sizes, rng)
        if self.kind == "backprop":
            return PointwiseModel(self.target, sizes, leaves)
        if self.order == 2:
            return PointwiseSecond(self.target, sizes, leaves, rng)
        return PointwiseDerivation(self.target, sizes, leaves, rng)

    def explicit(self, sizes):
        """(values of every symbol, the true derivative) at concrete sizes."""
        if self.kind == "backprop":
            ex = ExplicitModel(self.target, sizes)
            if self.wrt in self.target.deltas:
                truth = ex.values[self.target.delta_symbols[self.wrt]]
            else:
                truth = ex.truth(self.wrt)
            return ex.values, truth, kink_symbols(explicit(ex.loss()))
        ex = Explicit(self.target, sizes)
        root = ex.values[self.target.graph.symbol(self.target.expr)]
        return ex.values, ex.truth(), sorted({s for e in root for s in kink_symbols(explicit(e))}, key=lambda s: s.name)


def _evaluate(expr, values, sizes):
    return evaluate_explicit(expr, values, sizes).applyfunc(explicit)


MAX_SYMBOLIC_DEPTH = 12


def _zero(m: sp.Matrix, points) -> bool:
    return all(is_zero_at(e, p) for p in points for e in m)


def _zero_at_random_points(m: sp.Matrix, points) -> bool:
    """The test behind a reason ("a wrong sign", "2 times the truth"): the claim is already known to
    be false, so the kind of error is read at random points, not proved (an exact proof of the
    rescaled identity can take minutes on a deep model)."""
    return all(vanishes_at_random_points(with_surrogates(e), fixed=p) for p in points for e in m)


def by_name(symbols) -> list:
    """Symbols in a fixed order (random draws must not depend on set order)."""
    return sorted(symbols, key=lambda s: (s.name, str(s.assumptions0)))


# ----- check -----
def check(target, wrt=None, claim=None, *, layout: str = "numerator", seed: int = 0) -> Verdict:
    """Whether ``claim`` (text, LaTeX, or a SymPy matrix expression) equals ∂J/∂wrt of ``target`` — or,
    for a Hessian, an HVP, a Kronecker form or a JVP, that derivative.

    "holds" needs two independent sides to agree: a symbolic or exact decision, and a numeric
    comparison at a random rational point against the truth of the target's own order (never the
    engine's closed form). When they disagree the verdict is undecided (``ok`` is None) with both."""
    with exact_budget(CLAIM_EXACT_OPS):
        t = ClaimTarget(target, wrt, layout)
        verdict = _check(t.target, t.wrt, claim, layout, seed)
        if verdict.ok is False and not verdict.details.get("holds in layout") and not verdict.reason.startswith(
                "shape"):
            found = symmetric_hint(t, claim, layout, seed, _check)
            if found is not None:
                name, holds = found
                verdict.details["holds if symmetric"] = name
                verdict.reason = (f"holds only for symmetric {name}, which the target does not declare symmetric "
                                  f"(declared so, it {holds.decided}); as declared: {verdict.reason}")
        return verdict


#: a claim's exact zero tests stop here (then: random rational points, 50 digits), so that one claim
#: is decided in seconds (``benchmarks/claims.py``)
CLAIM_EXACT_OPS = 600


def _check(target, wrt, claim, layout, seed) -> Verdict:
    t = ClaimTarget(target, wrt, layout)
    text = claim if isinstance(claim, str) else str(claim)
    built = parse_claim(claim, t.names, t.functions) if isinstance(claim, str) else claim
    if not isinstance(built, sp.MatrixExpr):
        raise ClaimError("the claim is a number, not a matrix expression", source="claim")
    verdict = Verdict(False, text, t.wrt, expected=t.expected, of=t.of)
    if _symbolically_equal(built, t.expected):
        return _cross_checked(t, built, seed, verdict, "decided symbolically at symbolic sizes")
    if built.shape != t.expected.shape:
        transposed = built.shape == t.expected.shape[::-1]
        if transposed and _holds(t, sp.Transpose(built), seed):
            if t.other_layout_shape() == tuple(built.shape):
                other = "denominator" if t.layout == "numerator" else "numerator"
                verdict.details["holds in layout"] = other
                verdict.reason = (f"a notation: the claim is {lhs_label(t.wrt, t.of)} in the {other} layout (the "
                                  f"{t.layout} layout, asked for, arranges it as its transpose; check with "
                                  f"layout={other!r})")
            else:
                verdict.reason = "a missing transpose: the claim is the transpose of the truth"
        else:
            verdict.reason = (f"shape: the claim is {fmt_shape(built.shape)} but {lhs_label(t.wrt, t.of)} is "
                              f"{fmt_shape(t.expected.shape)}")
        verdict.decided = "shapes compared at symbolic sizes"
        return verdict
    if not t.exact_affordable():
        return _decide_at_points(t, built, seed, verdict)
    rng = np.random.default_rng(seed)
    sizes_seen = []
    for sizes in t.sizes():
        values, truth, kinks = t.explicit(sizes)
        points = [{}] if not kinks else [random_rational_point(kinks, rng) for _ in range(3)]
        methods = set()
        for point in points:
            at, truth_at = _at_point(values, truth, point)
            if not sizes_seen and point is points[0] and any(map(too_large, truth_at)):
                # the zero tests would be made at random points entry by entry: the pointwise route
                # decides as strongly, in a fraction of the time (a true claim costs what a false one does)
                return _decide_at_points(t, built, seed, verdict)
            claimed = _evaluate(built, at, sizes)
            with recording() as found:
                zero = _zero(claimed - truth_at, [{}])
            methods |= found
            if not zero:
                _disproved(t, built, claimed, truth_at, at, sizes, [point], seed, verdict)
                return verdict
        sizes_seen.append((sizes, methods))
    return _cross_checked(t, built, seed, verdict, _strength(sizes_seen))


def _at_point(values, truth, point):
    """The explicit values and the truth with the kinks' symbols at ``point`` first (then max(z, 0) of
    a number is a number, where the element-wise definitions written out on symbols first made SymPy
    compare every pair of arguments of every max: seconds per claim), element-wise functions written
    out."""
    if not point:
        return values, truth.applyfunc(explicit)
    at = {k: v.xreplace(point) if isinstance(v, (sp.Basic, sp.MatrixBase)) else v for k, v in values.items()}
    return at, truth.xreplace(point).applyfunc(explicit)


def _symbolically_equal(built, expected) -> bool:
    """Whether SymPy settles claim = derived form at symbolic sizes (False also when it cannot)."""
    # SymPy's simplify takes exponential time in nesting (σ(σ(…)) 20 deep ran for minutes): a deep
    # claim goes straight to the concrete sizes, where a random point screens it first
    if tree_depth(built) > MAX_SYMBOLIC_DEPTH or built.shape != expected.shape:
        return False
    try:
        return sp.simplify((built.doit() - expected.doit()).doit()) == sp.ZeroMatrix(*expected.shape)
    except (TypeError, ValueError, sp.ShapeError, AttributeError, NotImplementedError):
        return False


def _cross_checked(t, built, seed, verdict, how: str) -> Verdict:
    """A claim one side found equal to the truth, compared numerically with the truth of the target's own
    order at a random rational point: it holds only when both agree."""
    error = _numeric_error(t, built, seed)
    verdict.details["numeric error"] = error
    verdict.decided = f"{how}; cross-checked at a random rational point in 50-digit arithmetic, rel. error {error:.1e}"
    if error < 1e-9:
        verdict.ok = True
        return verdict
    verdict.ok = None
    verdict.reason = (f"undecided: {how.replace('decided ', 'equal ', 1)}, but at a random rational point the claim "
                      f"and the truth differ (rel. error {error:.2g}); the two sides disagree, so neither is taken")
    return verdict


def _disproved(t, built, claimed, truth, values, sizes, points, seed, verdict) -> None:
    """The verdict of a claim shown false at concrete sizes: the reason, and a counterexample."""
    diff = claimed - truth
    # a reason is read at one exact point (the claim is already known to be false)
    verdict.reason = _reason(t, built, claimed, truth, values, sizes, points[:1])
    verdict.decided = "decided exactly at concrete sizes"
    point = points[0]
    for r in range(diff.rows):
        for c in range(diff.cols):
            if is_zero_at(diff[r, c], point):
                continue
            shown = {str(k): int(v) for k, v in sizes.items()}
            rng_c = np.random.default_rng(seed + 1)
            names = by_name((claimed[r, c].free_symbols | truth[r, c].free_symbols) - set(point))
            for _ in range(8):  # values where the two sides visibly differ (no zero entries)
                free = {s: sp.Rational(int(rng_c.choice((-1, 1)) * rng_c.integers(1, 10)), 7) for s in names}
                got = _real(value_at(claimed[r, c], {**point, **free}))
                want = _real(value_at(truth[r, c], {**point, **free}))
                if abs(got - want) > 1e-9 * max(1.0, abs(want)):
                    break
            verdict.counterexample = {
                "sizes": shown, "entry": (r + 1, c + 1), "claim": got, "true": want,
                "values": {one_based(str(k)): str(v) for k, v in {**point, **free}.items()},
            }
            return


def _decide_at_points(t, built, seed, verdict) -> Verdict:
    """The claim against the truth at ``pointwise.POINTS`` random rational points per size, in 50-digit
    arithmetic (``proofs.pointwise``): linear in the model's depth."""
    rng = np.random.default_rng(seed)
    shown, decided = [], 0
    for sizes in t.point_sizes():
        shown.append(", ".join(f"{k}={v}" for k, v in sizes.items()) or "its literal sizes")
        for _ in range(pointwise.POINTS):
            point = t.informative_point(sizes, rng)
            if point is None:
                break
            decided += 1
            claimed, truth = point.evaluate(built), point.truth(t.wrt)
            bad = t.differ(claimed, truth)
            if not bad or (t.order == 2 and not point.smooth()):  # (a kink between the differences' steps)
                continue
            verdict.reason = _pointwise_reason(t, built, claimed, truth, point)
            r, c = bad[0]
            verdict.counterexample = {
                "sizes": {str(k): int(v) for k, v in sizes.items()}, "entry": (r + 1, c + 1),
                "claim": float(claimed[r, c]), "true": float(truth[r, c]),
                "values": {name: str(m.tolist()) for name, m in point.leaves.items()},
            }
            verdict.decided = f"disproved at a random rational point at {shown[-1]}, in 50-digit arithmetic ({_how(t)})"
            return verdict
    if not decided:
        verdict.ok = None
        verdict.reason = (f"undecided: {lhs_label(t.wrt, t.of)} vanished at all {pointwise.MAX_DRAWS} random points "
                          "tried (units that never activate), so no point could tell the claim from the truth")
        verdict.decided = "not decided"
        return verdict
    verdict.ok = True
    verdict.details["numeric error"] = 0.0
    why = "a second derivative" if t.order == 2 else "an exact expansion of the model is too large"
    verdict.decided = (f"decided at {pointwise.POINTS} random rational points at each of {' and '.join(shown)}, "
                       f"in 50-digit arithmetic, {_how(t)} (a false identity passes with probability 0; {why})")
    return verdict


def _how(t) -> str:
    if t.order == 2:
        return "the truth by central differences of the exact gradient, never the gradient itself"
    return "the truth by reverse accumulation over the graph"


def _terms(expected) -> list:
    """The terms of the derived closed form (of the sum under a transpose too): a claim lacking one
    of them gets "a missing term"."""
    if isinstance(expected, sp.MatAdd):
        return list(expected.args)
    if isinstance(expected, sp.Transpose) and isinstance(expected.arg, sp.MatAdd):
        return [sp.Transpose(a) for a in expected.arg.args]
    return []


def _pointwise_reason(t, built, claimed, truth, point) -> str:
    """The kind of error, read where the claim failed and confirmed at a second random point (one point
    cannot tell a scale from a mismatch: at 1×1 every pair of numbers has a ratio)."""
    second = t.informative_point(point.sizes, np.random.default_rng(len(claimed) + 11))
    points = [(claimed, truth, point)]
    if second is not None:
        points.append((second.evaluate(built), second.truth(t.wrt), second))

    def everywhere(test) -> bool:
        return all(test(c, tr, p) for c, tr, p in points)

    if claimed.shape == truth.shape[::-1] and everywhere(lambda c, tr, p: not t.differ(c.T, tr)):
        return "a missing transpose: the claim is the transpose of the truth"
    if everywhere(lambda c, tr, p: not t.differ(-c, tr)):
        return "a wrong sign: the claim is the negative of the truth"
    r, c = max(((r, c) for r in range(truth.rows) for c in range(truth.cols)), key=lambda rc: abs(truth[rc]))
    if truth[r, c] != 0:
        ratio = sp.nsimplify(float(claimed[r, c] / truth[r, c]), rational=True, tolerance=1e-9)
        if ratio not in (0, 1) and abs(ratio.q) <= 1000 and everywhere(
                lambda cl, tr, p: not t.differ(cl, ratio * tr)):
            return f"a wrong scale: the claim is {ratio} times the truth"
    for term in _terms(t.expected):
        if everywhere(lambda cl, tr, p, term=term: not t.differ(tr - cl, p.evaluate(term))):
            return f"a missing term: the claim lacks {plain(term)}"
    for term in (sp.MatAdd.make_args(built) if isinstance(built, sp.MatAdd) else ()):
        if everywhere(lambda cl, tr, p, term=term: not t.differ(cl - tr, p.evaluate(term))):
            return f"an extra term: {plain(term)} should not be there"
    return "a mismatch: the claim and the truth differ"


def _strength(sizes_seen) -> str:
    """How a claim was established at concrete sizes: exactly, or at random points (too large)."""
    shown = " and ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s, _ in sizes_seen)
    if not any(s for s, _ in sizes_seen):  # every size a number: nothing to choose
        shown = "the given sizes"
    if any("random points" in m for _, m in sizes_seen):
        return (f"decided at {shown} at {RANDOM_POINTS} random rational points to 50 digits (an exact expansion "
                "was too large; a false identity passes with probability 0)")
    return f"decided exactly at {shown}"


def _numeric_error(t, built, seed) -> float:
    """‖claim − truth‖ / ‖truth‖ at a random rational point (concrete sizes), to 50 digits: the truth by
    reverse accumulation over the graph (``proofs.pointwise``), so the cost grows linearly with depth."""
    rng = np.random.default_rng(seed + 2)
    point = t.informative_point(t.point_sizes()[0], rng) or t.pointwise(t.point_sizes()[0], rng)
    return relative_error(point.evaluate(built), point.truth(t.wrt))


def _holds(t, built, seed) -> bool:
    rng = np.random.default_rng(seed)
    if not t.exact_affordable():
        point = t.informative_point(t.point_sizes()[0], rng)
        return point is not None and not t.differ(point.evaluate(built), point.truth(t.wrt))
    sizes = t.sizes()[0]
    values, truth, kinks = t.explicit(sizes)
    points = [{}] if not kinks else [random_rational_point(kinks, rng) for _ in range(2)]
    for point in points:
        at, truth_at = _at_point(values, truth, point)
        if not _zero_at_random_points(_evaluate(built, at, sizes) - truth_at, [{}]):
            return False
    return True


def _reason(t, built, claimed, truth, values, sizes, points) -> str:
    if claimed.shape == truth.shape[::-1] and _zero_at_random_points(claimed.T - truth, points):
        return "a missing transpose: the claim is the transpose of the truth"
    if _zero_at_random_points(claimed + truth, points):
        return "a wrong sign: the claim is the negative of the truth"
    ratio = _constant_ratio(claimed, truth, points)
    if ratio is not None:
        return f"a wrong scale: the claim is {ratio} times the truth"
    for term in _terms(t.expected):
        if _zero_at_random_points(truth - claimed - _evaluate(term, values, sizes), points):
            return f"a missing term: the claim lacks {plain(term)}"
    for term in (sp.MatAdd.make_args(built) if isinstance(built, sp.MatAdd) else ()):
        if _zero_at_random_points(claimed - truth - _evaluate(term, values, sizes), points):
            return f"an extra term: {plain(term)} should not be there"
    return "a mismatch: the claim and the truth differ"


def _real(value) -> float:
    """A number from ``value_at`` as a float; nan for none or a complex one (no comparison passes)."""
    return value.real if value is not None and value.imag == 0 else float("nan")


def _constant_ratio(claimed, truth, points):
    """c when claimed = c · truth for a number c ≠ 0, 1 (read off one nonzero entry, then checked)."""
    point = points[0]
    rng = np.random.default_rng(7)
    for a, b in zip(claimed, truth):
        free = {s: sp.Rational(int(rng.integers(1, 20)), 11)
                for s in by_name((a.free_symbols | b.free_symbols) - set(point))}
        assignment = {**point, **free}
        bv, av = value_at(b, assignment), value_at(a, assignment)
        if bv is None or av is None or abs(bv) < 1e-12:
            continue
        value = av / bv
        if abs(value.imag) > 1e-12:
            return None
        # read the ratio off numerically, as a simple rational, then check it at random points
        if not np.isfinite(value.real):
            return None
        ratio = sp.nsimplify(value.real, rational=True, tolerance=1e-9)
        if not ratio.is_Rational or ratio in (0, 1) or abs(ratio.q) > 1000:
            return None
        return ratio if _zero_at_random_points(claimed - ratio * truth, points) else None
    return None
