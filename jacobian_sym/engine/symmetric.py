"""Symmetric variables in a derivation: the chain rule through a tied entry, and Sᵀ = S in closed forms.

A symmetric S has one free entry s_ij = S_ij = S_ji for each i ≤ j. The sweep differentiates by the
element S_ij as if it were free (G_ij); the entry s_ij reaches J through S_ij and through S_ji, so
∂J/∂s_ij = G_ij + G_ji, and on the diagonal, where the two places are one, G_ii:
∂J/∂S_ij = G_ij + G_ji − [i=j] G_ij (The Matrix Cookbook §2.8.2; ``graph.structure``).
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.graph.structure import is_symmetric


def tied_index(index: sp.Expr, i, j, n) -> sp.Expr:
    """G_ij + G_ji − [i=j] G_ij for the index form G_ij of the gradient by an unconstrained n×n S."""
    swapped = index.xreplace({i: j, j: i})
    delta = sp.KroneckerDelta(i, j, (0, n - 1))
    return sp.expand(index + swapped - delta * index).replace(lambda e: e == delta ** 2, lambda e: delta)


def symmetric_symbols(graph) -> tuple:
    """The matrix symbols of the graph's variables declared symmetric, in the graph's order."""
    return tuple(dict.fromkeys(graph.symbol(n) for n in graph.nodes if is_symmetric(n)))


def with_symmetry(expr, symbols: tuple):
    """A closed form with Sᵀ written S for every symmetric S (then (S + Sᵀ) x is 2 S x)."""
    if not symbols or not isinstance(expr, sp.Basic):
        return expr
    chosen = set(symbols)
    # (a transpose over a product or sum holding S is distributed first: (A x)ᵀ = xᵀ Aᵀ = xᵀ A)
    out = expr.replace(lambda e: isinstance(e, sp.Transpose) and not e.arg.is_symbol and chosen & e.arg.free_symbols,
                       lambda e: e.doit())
    out = out.replace(lambda e: isinstance(e, sp.Transpose) and e.arg in chosen, lambda e: e.arg)
    return out.doit(deep=False) if out != expr and isinstance(out, sp.MatrixExpr) else out
