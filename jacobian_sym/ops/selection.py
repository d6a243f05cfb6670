"""Reductions that select: the max and min along an axis (global max-pooling is ``max(X, axis=0)``).

max(A, axis=1)_i = Σ_k 1[k = argmax_m A_im] A_ik: the element selected, written as a sum against
the indicator of the arg-max. The indicator is piecewise constant in A, so its derivative is 0
wherever it is defined (everywhere but at ties), and the engine's derivative of the sum is the
indicator itself — the gradient of a max is routed to the element that won, as every textbook and
framework has it. Ties: the *first* index wins (NumPy's ``argmax``), one documented rule; the
proofs' random points never tie.

The indicators are ops of their own (``_argmax``, ``_argmin``: private, a model file cannot call them)
so that they print (𝟏[argmax]), lower to NumPy and evaluate at concrete sizes like any other op.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.ops.reductions import _reduced_shape
from jacobian_sym.ops.table import Op, OpApply, declare


class SelectedElement(MatrixElement):
    """An element of an arg-max indicator: piecewise constant, so ∂/∂A of it is 0 (away from ties)."""

    def _eval_derivative(self, v):
        return sp.Integer(0)

    def doit(self, **hints):
        return self


def _strict(which, x):
    """1 when x is past 0 in the direction that wins (x > 0 for a max), else 0."""
    return sp.Heaviside(x if which == "max" else -x, 0)


def _indicator_element(which):
    def element(ix, i, j, A, axis=None):
        """1[A_ij is the first maximum (minimum) along ``axis``]: Π_{m<k} [A_k > A_m] Π_{m>k} [A_k ≥ A_m]."""
        if not ix.explicit:
            return sp.Expr.__new__(SelectedElement, OpApply(f"_arg{which}", A.shape, A, axis=axis), i, j)
        n = int(ix.rows(A) if axis == 0 else ix.cols(A))
        k = int(i if axis == 0 else j)
        here = ix.at(A, i, j)

        def other(m):
            return ix.at(A, m, j) if axis == 0 else ix.at(A, i, m)

        out = sp.Integer(1)
        for m in range(n):
            if m != k:
                x = here - other(m)
                out *= _strict(which, x) if m < k else 1 - _strict(which, -x)
        return out

    return element


def _selected_element(which):
    def element(ix, i, j, A, axis=None):
        """Σ_k 1[k wins] A_kj (axis 0) or Σ_k 1[k wins] A_ik (axis 1); at concrete sizes Max(A_0j, …)."""
        n = ix.rows(A) if axis == 0 else ix.cols(A)

        def at(k):
            return ix.at(A, k, j) if axis == 0 else ix.at(A, i, k)

        if ix.explicit:
            pick = sp.Max if which == "max" else sp.Min
            return pick(*(at(sp.Integer(k)) for k in range(int(n))))
        indicator = OpApply(f"_arg{which}", A.shape, A, axis=axis)

        def term(k):
            r, c = (k, j) if axis == 0 else (i, k)
            return sp.Expr.__new__(SelectedElement, indicator, r, c) * at(k)

        return ix.sum(term, n)

    return element


for _which in ("max", "min"):
    declare(Op(
        _which, 1, _reduced_shape(_which), element=_selected_element(_which),
        matrix=lambda A, axis=None, _w=_which: OpApply(_w, _reduced_shape(_w)(A.shape, axis), A, axis=axis),
        kind="reduction", params=("axis",),
    ))
    declare(Op(
        f"_arg{_which}", 1, lambda a, axis=None, _w=_which: _reduced_shape(_w)(a, axis) and a,
        element=_indicator_element(_which),
        matrix=lambda A, axis=None, _w=_which: OpApply(f"_arg{_w}", A.shape, A, axis=axis),
        kind="indicator", params=("axis",),
    ))
