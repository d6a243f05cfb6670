"""A closed form is right or refused: every form a result carries is checked before it is handed out.

``js.gradient``, ``js.jacobian``, ``js.derive``, ``js.backprop``, ``js.hessian``, ``js.hvp``, ``js.jvp``
and ``js.gauss_newton`` are the engine's functions followed by ``checked``: every closed form of the
result — each gradient and error signal of a backprop, each Hessian block, each factor of a
Gauss–Newton product — is evaluated at one random rational point, at small distinct sizes
(``SIZES``, so that a transpose or a swapped size shows), and compared with the truth there:
reverse accumulation over the graph for first order (``pointwise``), its central difference in
50-digit arithmetic for second order (``pointwise_second``); neither reads the engine's forms. A
form that disagrees raises ``ClosedFormError`` naming the quantity, the sizes, the entry and both
values; nothing wrong reaches a printer, a page, a claim or a kernel. The check is made once and
recorded on the result (``result.form_check``); its cost is in ``benchmarks/form_check.py``.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from sympy.matrices.exceptions import ShapeError as MatrixShapeError

from jacobian_sym.engine import derive, second
from jacobian_sym.errors import ClosedFormError, SizeError
from jacobian_sym.models import backprop as models_backprop
from jacobian_sym.models import gauss_newton as models_gauss_newton
from jacobian_sym.notes import identities
from jacobian_sym.proofs.pointwise import (
    PointwiseDerivation,
    PointwiseModel,
    concrete,
    differ,
    informative,
    precision,
    random_point,
)
from jacobian_sym.proofs.pointwise_second import KINDS as SECOND_KINDS
from jacobian_sym.proofs.pointwise_second import PointwiseSecond
from jacobian_sym.proofs.pointwise_second import differ as differ_second

#: sizes cycled over the size symbols (sorted by name): small, distinct, not square
SIZES = (3, 2, 4, 5)
#: the most element-level terms the check may handle (Σ over nodes of its elements times its
#: arguments' elements); a model with a literal size in the hundreds passes it
MAX_TERMS = 400_000
#: draws for a point where the truth does not vanish (a ReLU layer all off tells nothing)
DRAWS = 8


def _size_symbols(graph) -> list:
    return sorted({s for n in graph.nodes for x in n.shape for s in x.free_symbols}, key=lambda s: s.name)


def check_sizes(graph) -> dict:
    return {s: sp.Integer(SIZES[k % len(SIZES)]) for k, s in enumerate(_size_symbols(graph))}


def _cost(graph, sizes) -> int:
    def elements(node):
        rows, cols = concrete(node.shape, sizes)
        return rows * cols

    return sum(elements(n) * (1 + sum(elements(a) for a in n.args)) for n in graph.nodes
               if not n.is_leaf and n.op != "const")


def _affordable(graph, sizes, what: str, passes: int = 1) -> None:
    """Refuse before any work a check whose ``passes`` evaluations of the graph would be too many terms."""
    cost = _cost(graph, sizes) * passes
    if cost > MAX_TERMS:
        raise SizeError(f"{what} cannot be checked before it is returned: at {_shown_sizes(sizes)} its elements "
                        f"make {cost} terms (limit {MAX_TERMS}); write large literal sizes as size names")


def _shown_sizes(sizes) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items()) or "its literal sizes"


def _refuse(label: str, sizes, got, truth, bad, seed) -> None:
    r, c = bad[0]
    raise ClosedFormError(
        f"the derived closed form of {label} is wrong, so it is not returned: at {_shown_sizes(sizes)} and a "
        f"random rational point (seed {seed}), entry ({r + 1}, {c + 1}) is {float(got[r, c]):.6g} where the "
        f"truth is {float(truth[r, c]):.6g} (please report this input)")


def _finite(M) -> bool:
    return all(x.is_finite for x in M)


def _disagree(got, truth, compare) -> bool:
    return not (_finite(got) and _finite(truth)) or bool(compare(got, truth))


def _gap(got, truth):
    """The largest entry-wise difference, or None where it cannot be measured."""
    if got.shape != truth.shape or not (_finite(got) and _finite(truth)):
        return None
    return max((abs(a - b) for a, b in zip(got, truth)), default=sp.Integer(0))


def _rounding(before, after) -> bool:
    """A gap that shrank by more than 60 orders of magnitude when the digits went from 50 to 150 is
    rounding: a quantity that cancels to 0 (∂J/∂var(x) when J sums a layer norm) is noise of size
    10⁻⁵⁰ in the truth at 50 digits and 10⁻¹⁵⁰ at 150, while a wrong form's gap is a fixed number."""
    if before is None or after is None or before == 0:
        return False
    return bool(after < before * sp.Float("1e-60", 150))


def _evaluated(label, form, point, sizes):
    try:
        return point.evaluate(form)
    except MatrixShapeError:  # a factor the recogniser wrote at the wrong shape (a whole h where a part belongs)
        raise ClosedFormError(f"the derived closed form of {label.text} is wrong, so it is not returned: its "
                              f"shapes do not agree at {_shown_sizes(sizes)} (please report this input)") from None


def _compare(label, form, point, sizes, seed, compare=differ):
    got, truth = _evaluated(label, form, point, sizes), point.truth(label.name)
    if got.shape == truth.shape and _disagree(got, truth, compare) and hasattr(point, "bp"):
        # rounding or a wrong form? the same point at 150 digits (a saturated σ loses 30 digits in
        # 1 − σ at 50): a wrong form disagrees at any precision
        before = _gap(got, truth)
        with precision(150):
            again = type(point)(point.bp, point.sizes, point.leaves)
            got, truth = _evaluated(label, form, again, sizes), again.truth(label.name)
        if _rounding(before, _gap(got, truth)):
            return
    if got.shape != truth.shape:
        raise ClosedFormError(f"the derived closed form of {label.text} is {got.rows}×{got.cols} at "
                              f"{_shown_sizes(sizes)} but the truth is {truth.rows}×{truth.cols}")
    if not _finite(truth):  # not finite even at 150 digits: this point cannot judge (the caller avoids it)
        return
    if not _finite(got):
        bad = [next((r, c) for r in range(got.rows) for c in range(got.cols) if not got[r, c].is_finite)]
        _refuse(label.text, sizes, got, truth, bad, seed)
    bad = compare(got, truth)
    if bad:
        _refuse(label.text, sizes, got, truth, bad, seed)


class _Label:
    def __init__(self, name, text):
        self.name, self.text = name, text


def _check_backprop(bp, seed) -> str:
    graph = bp.graph
    sizes = check_sizes(graph)
    _affordable(graph, sizes, f"the backprop of {bp.model.title!r}")
    rng = np.random.default_rng(seed)
    names = [*bp.gradients, *bp.deltas]

    def draw():
        return PointwiseModel(bp, sizes, random_point(graph, sizes, rng))

    # a point where the truth is finite (a saturated σ under a log is −∞ in 50 digits) and not all 0
    point = informative(draw, lambda p: [x for n in names for x in p.truth(n)] if all(
        _finite(p.truth(n)) for n in names) else [0]) or draw()
    for name, form in [*bp.deltas.items(), *bp.gradients.items()]:
        text = name.replace("_", "") if name in bp.deltas else f"∂J/∂{name}"
        _compare(_Label(name, text), form, point, sizes, seed)
    return f"every closed form checked at {_shown_sizes(sizes)}, a random rational point (seed {seed}), 50 digits"


def _check_first(d, seed) -> None:
    sizes = check_sizes(d.graph)
    _affordable(d.graph, sizes, d.title)
    rng = np.random.default_rng(seed)

    def draw():
        return PointwiseDerivation(d, sizes, random_point(d.graph, sizes, rng), rng)

    point = informative(draw, lambda p: p.truth()) or draw()
    _compare(_Label(None, d.title), d.closed_form, point, sizes, seed)


def _second_passes(d, sizes) -> int:
    """Gradient evaluations the second-order truth takes: two per direction (a Hessian's columns: every
    element of the variable; an HVP or a JVP: one direction)."""
    if d.kind in ("hvp", "jvp"):
        return 2
    rows, cols = concrete(d.graph.canonical(d.other or d.wrt).shape, sizes)
    return 2 * rows * cols


def _check_second(d, seed) -> None:
    sizes = check_sizes(d.graph)
    _affordable(d.graph, sizes, d.title, _second_passes(d, sizes))
    rng = np.random.default_rng(seed)
    for attempt in range(3):
        point = PointwiseSecond(d, sizes, random_point(d.graph, sizes, rng), rng)
        try:
            _compare(_Label(None, d.title), d.closed_form, point, sizes, seed, differ_second)
            return
        except ClosedFormError:
            if point.smooth() or attempt == 2:  # not a kink: the form is wrong
                raise


def _parts(d) -> list:
    if d.kind == "gauss_newton":
        return list(d.parts.values())
    if d.blocks:
        return [b for row in d.blocks for b in row]
    return [d]


def _check_derivation(d, seed) -> str:
    for part in _parts(d):
        if part.kind in SECOND_KINDS:
            _check_second(part, seed)
        else:
            _check_first(part, seed)
    return f"closed form checked at {_shown_sizes(check_sizes(d.graph))}, a random rational point (seed {seed})"


def checked(result, *, seed: int = 0):
    """``result`` (a ``Derivation`` or a ``Backprop``) once every closed form in it agrees with the truth
    at a random rational point; ``ClosedFormError`` (or ``SizeError``, when the check would cost too
    much) otherwise. Made once: the outcome is recorded on the result."""
    if getattr(result, "form_check", None):
        return result
    with sp.evaluate(True):
        if hasattr(result, "deltas"):
            note = _check_backprop(result, seed)
        else:
            note = _check_derivation(result, seed)
    result.form_check = note
    return result


def checking(function):
    """``function`` (one of the engine's) whose result is ``checked`` before it is returned."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        return checked(function(*args, **kwargs))

    return call


# ----- the public functions: the engine's, checked -----
gradient = checking(derive.gradient)
jacobian = checking(derive.jacobian)
hessian = checking(second.hessian)
hvp = checking(second.hvp)
jvp = checking(second.jvp)
backprop = checking(models_backprop.backprop)
gauss_newton = checking(models_gauss_newton.gauss_newton)
derive_identity = checking(identities.derive)
