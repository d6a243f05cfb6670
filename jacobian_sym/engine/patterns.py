"""The recogniser's combining steps: Hadamard merges of factors on the same indices, and the summation
patterns (``SUMMATION_PATTERNS``, one entry per number of factors holding the summation index), each
with the identity it implements."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from jacobian_sym.engine.factors import Factor, _Term, transpose
from jacobian_sym.errors import ClosedFormError


def _orient(f: Factor, first, second=None) -> Factor:
    """f with its slots in the order (first, second) when it has those indices."""
    if f.r == first or (second is not None and f.c == second):
        return f
    if f.c == first or (second is not None and f.r == second):
        return f.T
    return f


def _merge_hadamard(factors, target, dummies=()):
    for a in range(len(factors)):
        for b in range(a + 1, len(factors)):
            f, g = factors[a], factors[b]
            if f.indices and f.indices == g.indices and not _inner_product(f, factors, dummies):
                if _is_elementwise(f.M) and not _is_elementwise(g.M):
                    f, g = g, f  # the notes' order: δ₁U ∘ ReLU′(z)
                f = _toward(f, target)
                g = g if (g.r, g.c) == (f.r, f.c) else g.T
                merged = Factor(sp.HadamardProduct(f.M, g.M), f.r, f.c)
                return factors[:a] + [merged] + factors[a + 1:b] + factors[b + 1:]
    return None


def _inner_product(f, factors, dummies) -> bool:
    """Two vectors that alone hold a summation index: Σ_j u_j v_j is uᵀv, not 1ᵀ(u ∘ v)."""
    (k,) = f.indices if len(f.indices) == 1 else (None,)
    return k is not None and k in dummies and len([x for x in factors if k in x.indices]) == 2


def _is_elementwise(M) -> bool:
    return isinstance(M.arg if isinstance(M, sp.Transpose) else M, ElementwiseApplyFunction)


def _toward(f: Factor, target) -> Factor:
    """Prefer the orientation that puts a target index where the target has it."""
    tr, tc = target
    if (f.r is not None and f.r == tc) or (f.c is not None and f.c == tr):
        return f.T
    if f.r is None and f.c is not None and tr is not None and tc is None and f.c == tr:
        return f.T
    return f


def _contract(f: Factor, g: Factor, k, target) -> Factor:
    options = []
    for a, b in ((f, g), (g, f)):
        for ta in (False, True):
            for tb in (False, True):
                A, B = (a.T if ta else a), (b.T if tb else b)
                if A.c == k and B.r == k:
                    res = Factor(sp.MatMul(A.M, B.M), A.r, B.c)
                    agree = (res.r == target[0] and res.r is not None) + (res.c == target[1] and res.c is not None)
                    flipped = (res.r is not None and res.r == target[1]) or (res.c is not None and res.c == target[0])
                    # a final transpose of a product of two matrices reads worse than ΔᵀXᵀ; of a
                    # vector–matrix product it is the notes' own (δ₂W)ᵀ
                    matrices = all(x.r is not None and x.c is not None for x in (a, b))
                    cost = ta + tb + (3 if flipped and matrices else 1 if flipped else 0)
                    options.append((cost, -agree, res))
    options.sort(key=lambda o: (o[0], o[1]))
    return options[0][2]


def _sum_out(f: Factor, k, size, target=(None, None)) -> Factor:
    """Σ_k over one factor: a trace, or a product with a ones vector on the side that keeps the
    remaining index where the target wants it (Δᵀ1 rather than (1ᵀΔ)ᵀ)."""
    if f.r == k and f.c is None and isinstance(f.M, sp.DiagonalOf):
        return Factor(sp.Trace(f.M.arg), None, None)
    if f.r == k:
        if f.c is not None and f.c == target[0]:
            return Factor(sp.MatMul(transpose(f.M), sp.OneMatrix(size, 1)), f.c, None)
        return Factor(sp.MatMul(sp.OneMatrix(1, size), f.M), None, f.c)
    if f.r is not None and f.r == target[1]:
        return Factor(sp.MatMul(sp.OneMatrix(1, size), transpose(f.M)), None, f.r)
    return Factor(sp.MatMul(f.M, sp.OneMatrix(size, 1)), f.r, None)


def _absorb_diagonal(factors, k):
    """A vector factor v_k next to a matrix factor with k becomes diag(v) inside it."""
    vectors = [f for f in factors if f.indices == {k}]
    mats = [f for f in factors if k in f.indices and len(f.indices) == 2]
    if not vectors or not mats:
        return None
    v, m = vectors[0], mats[0]
    col = v.M if v.r == k else transpose(v.M)
    D = sp.DiagMatrix(col)
    new = Factor(sp.MatMul(D, m.M), m.r, m.c) if m.r == k else Factor(sp.MatMul(m.M, D), m.r, m.c)
    return [new if f is m else f for f in factors if f is not v]


def _diagonal(f: Factor) -> Factor:
    """A_ii (both slots on one index) is the i-th element of the vector diag(A), an n×1 column: it
    must not be merged or contracted as if it were a matrix with two indices."""
    if f.r is not None and f.r == f.c:
        return Factor(sp.DiagonalOf(f.M), f.r, None)
    return f


# ----- the summation patterns: one per number of factors that hold the index -----
# Each entry removes the summation index k from a term and returns the new factors. Which entry
# applies is decided by how many factors hold k; the loop in ``_reduce`` (procedural, because the
# order matters: a contraction can make two factors Hadamard-mergeable) picks k and dispatches.
def count_unheld(term, factors, k, size, target):
    """Σ_k c → n·c for a summand free of k (the sum counts its terms)."""
    term.coeff *= size
    return factors


def sum_out_one(term, factors, k, size, target):
    """Σ_k A_kj → (1ᵀA)_j, Σ_k A_ik → (A1)_i, Σ_k A_kk → tr A: a sum over one factor."""
    (f,) = [x for x in factors if k in x.indices]
    return [_sum_out(f, k, size, target) if x is f else x for x in factors]


def contract_two(term, factors, k, size, target):
    """Σ_k A_ik B_kj → (AB)_ij, with the transposes the slots need (Σ_k δ_k W_kj → δW)."""
    f, g = [x for x in factors if k in x.indices]
    return [x for x in factors if x is not f and x is not g] + [_contract(f, g, k, target)]


def absorb_into_diagonal(term, factors, k, size, target):
    """Σ_k v_k A_ik B_kj → (A diag(v) B)_ij: a vector on a shared index becomes a diagonal matrix,
    then the sum over k is the product of what still holds it (Σ_k W_ki f(u_k) W_kj → Wᵀdiag(f(u))W)."""
    out = _absorb_diagonal(factors, k)
    if out is None:
        holders = [x for x in factors if k in x.indices]
        names = sorted({s.name for x in holders for s in x.M.atoms(sp.MatrixSymbol)})
        raise ClosedFormError(f"no matrix closed form: a sum runs over an index held by {len(holders)} factors "
                              f"(made of {', '.join(names)}), which no product of matrices and diagonals arranges")
    pattern = SUMMATION_PATTERNS[min(len([x for x in out if k in x.indices]), len(SUMMATION_PATTERNS) - 1)]
    return pattern(term, out, k, size, target)


#: the patterns by the number of factors holding the summation index (3 or more: the last entry)
SUMMATION_PATTERNS = [count_unheld, sum_out_one, contract_two, absorb_into_diagonal]


def _reduce(term: _Term, target) -> list[Factor]:
    """The factors of one term with every summation index removed: Hadamard merges first (a_ij b_ij →
    (a ∘ b)_ij), then one index at a time by ``SUMMATION_PATTERNS``; an index held by one or two
    factors goes before one held by more, since contracting it may merge two factors on the same
    indices, which lets a third one in (Σ_k x_k (u ∘ Σ_v Δ_v W_v)_k). Shrinks: each step removes a
    factor or an index."""
    factors = [_diagonal(f) for f in term.factors]
    dummies = dict(term.dummies)
    while True:
        merged = _merge_hadamard(factors, target, dummies)
        if merged is not None:
            factors = merged
            continue
        if not dummies:
            break
        k = min(dummies, key=lambda k: len([f for f in factors if k in f.indices]) > 2)
        holders = len([f for f in factors if k in f.indices])
        pattern = SUMMATION_PATTERNS[min(holders, len(SUMMATION_PATTERNS) - 1)]
        factors = pattern(term, factors, k, dummies[k], target)
        dummies.pop(k)
    for f in factors:
        if not f.indices:
            if isinstance(f.M, sp.MatrixExpr) and f.M.shape == (1, 1):
                term.units.append(f.M)
            else:
                term.coeff *= f.M
    return [f for f in factors if f.indices]

