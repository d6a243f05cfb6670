"""Brackets and deltas decided by the ranges of their indices.

An element index runs over its axis: a free index i of an n₁-vector result over 0 … n₁ − 1, a summed
one over its sum's limits. A concatenation's element picks its part with the bracket [i < a]; where
the index is known to lie in range, the bracket is a number — [i < n₁] is 1 for i < n₁, [i + n₁ < n₁]
is 0 — and a delta δ(j, i − n₁) with both indices in 0 … n₁ − 1 is 0. SymPy decides neither (its
indices are integers of unknown sign), and the recogniser has no matrix form for them.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import is_index
from jacobian_sym.ops.indexing import Before


def _bounds(d, ranges: dict):
    """The lowest and highest value of ``d``, linear in indices that all have ranges; else None."""
    lowest = highest = d
    for s in d.free_symbols:
        if not is_index(s):
            continue
        if s not in ranges:
            return None
        slope = sp.diff(d, s)
        if slope.has(s):
            return None
        lo, hi = ranges[s]
        if slope.is_nonnegative:
            lowest, highest = lowest.xreplace({s: lo}), highest.xreplace({s: hi})
        elif slope.is_nonpositive:
            lowest, highest = lowest.xreplace({s: hi}), highest.xreplace({s: lo})
        else:
            return None
    return sp.expand(lowest), sp.expand(highest)


def _part_of(e, ranges) -> bool:
    """Whether the element's indices, over their ranges, reach only part of an axis of its matrix
    (h[i] of a 2k-vector h for i < k): then it is written out, and its part picked."""
    for index, size in zip(e.indices, e.parent.shape):
        bounds = _bounds(sp.Integer(index) if isinstance(index, int) else index, ranges)
        if bounds is not None and (bounds[0].is_positive or (size - 1 - bounds[1]).is_positive):
            return True
    return False


def _decided(e, ranges):
    if isinstance(e, Before):  # [a < n]: 1 if a − n < 0 everywhere, 0 if a − n ≥ 0 everywhere
        bounds = _bounds(e.args[0] - e.args[1], ranges)
        if bounds is not None and bounds[1].is_negative:
            return sp.Integer(1)
        if bounds is not None and bounds[0].is_nonnegative:
            return sp.Integer(0)
    elif isinstance(e, sp.KroneckerDelta):  # δ(a, b): 0 if a − b never vanishes
        bounds = _bounds(e.args[0] - e.args[1], ranges)
        if bounds is not None and (bounds[0].is_positive or bounds[1].is_negative):
            return sp.Integer(0)
    return None


def _undecided(expr) -> bool:
    return any(not (a.args[0] - a.args[1]).is_number for a in expr.atoms(Before, sp.KroneckerDelta))


def settle(expr, ranges: dict, write=None):
    """``expr`` with every bracket and delta its index ranges decide replaced by 0 or 1; ``ranges``
    maps the free indices to (lowest, highest), a sum adds its own. ``write(element)``, if given,
    may return an element's formula in brackets (a concatenation's element): it replaces the element
    where the ranges there decide every bracket in it (h₀[i] for i < n₁ is its first part's u[i])."""
    if not isinstance(expr, sp.Basic) or not (write or _undecided(expr)):
        return expr
    return _settle(expr, ranges, write)


def _settle(expr, ranges, write):
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    if isinstance(expr, MatrixElement):
        formula = write(expr) if write and _part_of(expr, ranges) else None
        if formula is None:
            return expr
        picked = _settle(formula, ranges, write)
        return expr if picked.atoms(Before) else picked
    decided = _decided(expr, ranges)
    if decided is not None:
        return decided
    if isinstance(expr, sp.Sum):
        inner = {**ranges, **{k: (lo, hi) for k, lo, hi in expr.limits}}
        body = _settle(expr.function, inner, write)
        return expr if body == expr.function else sp.Sum(body, *expr.limits)
    args = [_settle(a, ranges, write) for a in expr.args]
    return expr if all(a is b for a, b in zip(args, expr.args)) else expr.func(*args)


def index_ranges(target, shape) -> dict:
    """The ranges of a result's free indices: its row index over its rows, its column over its columns."""
    return {i: (sp.Integer(0), size - 1) for i, size in zip(target, shape) if is_index(i)}
