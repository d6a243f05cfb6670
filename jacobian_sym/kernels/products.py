"""Which matrix products a kernel computes, and how many times (the kernel generator's planning).

A closed form's products are read as runs of factors (A B C is the run A, B, C; 1ᵀ δ₂ W₁ᵀ holds the
run δ₂, W₁ᵀ): the forward pass gives a line to every product the backward reads (``backward_runs``),
a run two signals or gradients share is computed once (``shared_products``, longest first,
recounted after each choice), and 1ᵀ(P ∘ (Bᵀ C)) is summed as 1ᵀ((B P) ∘ C) so that B P is a
product the backward has anyway (``column_sums_first``). Each step is measured in
``benchmarks/transformer.py``.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.engine.second import flat_product
from jacobian_sym.models.backprop import Backprop


def column_sums_first(expr):
    """1ᵀ(P ∘ (Bᵀ C)) → 1ᵀ((B P) ∘ C): the same column sums (Σ_a P_aj Σ_t B_ta C_tj = Σ_t (BP)_tj C_tj),
    with the product B P the backward computes anyway (δ₂W₁ᵀ) in place of a product of its own (δ₂ᵀ n₂:
    a third of an MLP layer's flops for the scale γ of a layer norm)."""
    def rewrite(e):
        coeff, mats = flat_product(e)
        if len(mats) != 2 or not isinstance(mats[0], sp.OneMatrix) or not isinstance(mats[1], sp.HadamardProduct):
            return e
        parts = list(mats[1].args)
        for n, part in enumerate(parts):
            scale, inner = flat_product(part)
            if len(inner) == 2 and isinstance(inner[0], sp.Transpose) and len(parts) == 2:
                B, C, P = inner[0].arg, inner[1], parts[1 - n]
                ones = sp.OneMatrix(1, B.shape[0])
                out = sp.MatMul(ones, sp.HadamardProduct(sp.MatMul(B, P), C))
                return out if coeff * scale == 1 else sp.MatMul(coeff * scale, out)
        return e

    return expr.replace(lambda e: isinstance(e, sp.MatMul), rewrite)


def run_of(form) -> tuple:
    return tuple(flat_product(form)[1])


def backward_runs(b: Backprop) -> set:
    """Every run of two or more factors of a product in ``b``'s signals and gradients."""
    runs = set()
    for expr in [*b.deltas.values(), *b.gradients.values()]:
        for mats in _chains(expr):
            runs |= _runs(mats)
    return runs


def _chains(expr):
    """The flattened matrix products in ``expr``, each once: [M₁, M₂, …] for every run of matrices in a
    product between its ones vectors and diagonals (which the printer lowers by pattern); a product's
    nested products are its factors, not products of their own."""
    out, stack = [], [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, sp.MatMul):
            _, mats = flat_product(e)
            segment = []  # the runs between ones vectors and diagonals (1ᵀ δ₂ W₁ᵀ holds δ₂ W₁ᵀ)
            for m in [*mats, None]:
                if m is None or isinstance(m, (sp.OneMatrix, sp.DiagMatrix)):
                    if len(segment) >= 2:
                        out.append(segment)
                    segment = []
                else:
                    segment.append(m)
            stack.extend(mats)
        elif isinstance(e, sp.Basic):
            stack.extend(e.args)
    return out


def _runs(mats) -> set:
    return {tuple(mats[i:j]) for i in range(len(mats)) for j in range(i + 2, len(mats) + 1)}


def shared_products(exprs) -> tuple[list, dict]:
    """Runs of two or more factors of a matrix product (A B in A B C) that occur in more than one
    place among ``exprs``, each computed once: the longest first, then (counted again on what is
    left) the shorter ones — δ₆ h₁K₁ for ∂J/∂Q₁ = h₁ᵀ δ₆ h₁K₁ and δ₇ = δ₆ h₁K₁ Q₁ᵀ + …, δ₄W_oᵀ for every
    head. Returns the expressions over temporaries ``_p1``, ``_p2``, … (names no model can use) and
    each temporary's product, in the order they were found."""
    exprs, defs = list(exprs), {}
    while True:
        counts: dict = {}
        for expr in [*exprs, *defs.values()]:
            for mats in _chains(expr):
                for run in _runs(mats):
                    counts[run] = counts.get(run, 0) + 1
        shared = [r for r, c in counts.items() if c > 1]
        if not shared:
            return exprs, defs
        best = min(shared, key=lambda r: (-len(r), sp.default_sort_key(sp.MatMul(*r))))
        temp = sp.MatrixSymbol(f"_p{len(defs) + 1}", best[0].shape[0], best[-1].shape[1])
        exprs = [with_runs(e, {best: temp}) for e in exprs]
        defs = {t: with_runs(d, {best: temp}) for t, d in defs.items()}
        defs[temp] = sp.MatMul(*best)


def with_runs(expr, runs: dict):
    """``expr`` with every occurrence of a run of ``runs`` in a product replaced by its symbol."""
    if not runs:
        return expr

    def rebuild(product):
        coeff, mats = flat_product(product)
        for run, symbol in runs.items():
            n, i = len(run), 0
            while i + n <= len(mats):
                if tuple(mats[i:i + n]) == run:
                    mats = [*mats[:i], symbol, *mats[i + n:]]
                i += 1
        rest = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
        return rest if coeff == 1 else sp.MatMul(coeff, rest)

    return expr.replace(lambda e: isinstance(e, sp.MatMul), rebuild)
