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
    return tied_form(out) if out != expr and isinstance(out, sp.MatrixExpr) else out


def _scalar_out_of_hadamard(e):
    """(c A) ∘ B → c (A ∘ B): a number in a Hadamard product's factor is a factor of the product."""
    coeffs, args = [], []
    for a in e.args:
        c, rest = a.as_coeff_mmul() if isinstance(a, sp.MatMul) else (sp.Integer(1), a)
        coeffs.append(c)
        args.append(rest.doit() if isinstance(rest, sp.MatMul) else rest)
    c = sp.Mul(*coeffs)
    return c * sp.HadamardProduct(*args) if c != 1 else None


def _distributed(e):
    """(c 1 1ᵀ + D) ∘ M → c M + D ∘ M: a ones matrix in a Hadamard factor (4 A − 2 I ∘ A, not
    (4 − 2 I) ∘ A, whose 4 reads as a number); None when there is none."""
    if not isinstance(e, sp.HadamardProduct) or len(e.args) != 2:
        return None
    for k, factor in enumerate(e.args):
        other = e.args[1 - k]
        terms = sp.MatAdd.make_args(factor) if isinstance(factor, sp.MatAdd) else ()
        if any(isinstance(t, sp.OneMatrix) or (isinstance(t, sp.MatMul) and any(
                isinstance(a, sp.OneMatrix) for a in t.args)) for t in terms):
            parts = []
            for t in terms:
                c, rest = t.as_coeff_mmul() if isinstance(t, sp.MatMul) else (sp.Integer(1), t)
                rest = rest.doit() if isinstance(rest, sp.MatMul) else rest
                parts.append(c * other if isinstance(rest, sp.OneMatrix) else c * sp.HadamardProduct(rest, other))
            return sp.MatAdd(*parts)
    return None


def tied_form(expr):
    """The closed form of a gradient by a symmetric S, tidied: G + Gᵀ − I ∘ G holds each term twice, once
    transposed ((½ xᵀ)ᵀ xᵀ and x ½ xᵀ), so the transposes are distributed and like terms collected
    (x xᵀ), and numbers are taken out of Hadamard products (½ diag(x ∘ x))."""
    out = expr.replace(lambda e: isinstance(e, sp.Transpose) and not e.arg.is_symbol, lambda e: e.doit())
    out = out.doit()
    out = out.replace(lambda e: isinstance(e, sp.HadamardProduct) and _scalar_out_of_hadamard(e) is not None,
                      _scalar_out_of_hadamard)
    out = out.replace(lambda e: _distributed(e) is not None, _distributed)
    # (diag(diagonal of M), which SymPy prints as DiagonalOf, is I ∘ M)
    out = out.replace(lambda e: isinstance(e, sp.DiagMatrix) and isinstance(e.args[0], sp.DiagonalOf),
                      lambda e: sp.HadamardProduct(sp.Identity(e.shape[0]), e.args[0].arg))
    return out if getattr(out, "shape", None) == expr.shape else expr
