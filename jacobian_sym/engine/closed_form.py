"""Closed-form recovery: an index expression with free indices → a SymPy matrix expression.

The algorithm works on index structure only. Each term of the (expanded) index expression is a
product of factors, each a matrix element M[r, c] (or an element-wise function of one), read as a
matrix with two index slots; a slot of a length-1 axis is a *unit* slot (None). Then, until no
summation index is left:

* factors with the same indices merge into a Hadamard product (a ∘ b, a ∘ bᵀ);
* a summation index shared by two factors is contracted into a matrix product (with transposes
  where the slots need them: Σ_k δ_k W_kj → δW, Σ_k W_kj δ_k → Wᵀδ);
* a summation index in one factor only sums it out (a product with a ones vector; a trace when it
  is both slots of one factor); in three or more, a vector factor becomes a diagonal matrix.

What is left is oriented to the target slots: one factor (M or Mᵀ), two vectors (an outer product,
a unit slot is the inner dimension: δᵀxᵀ), a vector and a matrix sharing an index (diag(v)·M), and a
Kronecker delta on the two free indices makes a diagonal matrix (diag(f′(x)), or the identity).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import is_index
from jacobian_sym.errors import ClosedFormError
from jacobian_sym.ops.functions import _S, ElementFunction, element_class
from jacobian_sym.ops.table import OpApply


@dataclass(frozen=True)
class Factor:
    M: sp.MatrixExpr
    r: sp.Symbol | None
    c: sp.Symbol | None

    @property
    def T(self) -> Factor:
        return Factor(transpose(self.M), self.c, self.r)

    @property
    def indices(self) -> frozenset:
        return frozenset(x for x in (self.r, self.c) if x is not None)


def transpose(M):
    """Mᵀ, kept unevaluated (as the notes write (δ₂W)ᵀ) except where it is free."""
    if isinstance(M, sp.Transpose):
        return M.arg
    if isinstance(M, (sp.Identity, sp.DiagMatrix)) or M.shape == (1, 1) and not isinstance(M, sp.MatMul):
        return M
    if isinstance(M, sp.OneMatrix):
        return sp.OneMatrix(M.shape[1], M.shape[0])
    if isinstance(M, sp.HadamardProduct):
        return sp.HadamardProduct(*(transpose(a) for a in M.args))
    return sp.Transpose(M)


def _slot(index, size):
    if size == 1:
        if index != 0:
            raise ClosedFormError(f"index {index} on a length-1 axis")
        return None
    return index


def _scale(coeff, M):
    if coeff == 1:
        return M
    return sp.MatMul(coeff, M)


# ----- reading a term -----
class _Term:
    def __init__(self, dummies):
        self.coeff = sp.Integer(1)
        self.factors: list[Factor] = []
        self.dummies: dict = dict(dummies)  # index -> size
        self.deltas: list = []
        self.units: list = []  # 1×1 matrices (a scalar node such as p = σ(z) in logistic regression)

    def read(self, e):
        if isinstance(e, sp.Mul):
            for f in e.args:
                self.read(f)
        elif isinstance(e, sp.Sum):
            for k, lo, hi in e.limits:
                if lo != 0:
                    raise ClosedFormError(f"a sum from {lo} has no matrix form")
                self.dummies[k] = hi + 1
            self.read(sp.expand(e.function, power_exp=False, log=False))
        elif isinstance(e, sp.Add):
            if _index_free(e):
                self.coeff *= e
            else:
                raise ClosedFormError(f"no matrix form for the sum inside {e}")
        elif isinstance(e, sp.KroneckerDelta):
            self.deltas.append(e.args[:2])
        elif _unit_factor(e):
            self.factors.append(_as_factor(e))
        elif _index_free(e):
            self.coeff *= e
        else:
            self.factors.append(_as_factor(e))


def _unit_factor(e) -> bool:
    """A factor made of one element of a 1×1 matrix: s[0, 0], σ′(z[0, 0]), 1/p[0, 0]."""
    elements = e.atoms(MatrixElement)
    return (len(elements) == 1 and next(iter(elements)).parent.shape == (1, 1)
            and not any(is_index(s) for s in e.free_symbols))


def _index_free(e) -> bool:
    """No free index: a scalar such as 2, s[0, 0] or Σ_kl A_kl² (its indices are bound)."""
    return not any(is_index(s) for s in e.free_symbols)


def _as_factor(e) -> Factor:
    if isinstance(e, MatrixElement):
        M = e.parent
        return Factor(M, _slot(e.indices[0], M.shape[0]), _slot(e.indices[1], M.shape[1]))
    if isinstance(e, sp.Pow) and isinstance(e.base, MatrixElement) and e.exp.is_number:
        inner = _as_factor(e.base)
        return Factor(sp.HadamardPower(inner.M, e.exp), inner.r, inner.c)
    if isinstance(e, sp.Function) and len(e.args) == 1 and isinstance(e.args[0], MatrixElement):
        inner = _as_factor(e.args[0])
        fn = type(e) if isinstance(e, (ElementFunction, sp.exp, sp.log, sp.tanh)) else _lambda_of(e)
        return Factor(ElementwiseApplyFunction(fn, inner.M), inner.r, inner.c)
    elements = e.atoms(MatrixElement)
    if len(elements) == 1:
        (el,) = elements
        inner = _as_factor(el)
        d = sp.Dummy("s")
        return Factor(ElementwiseApplyFunction(sp.Lambda(d, e.xreplace({el: d})), inner.M), inner.r, inner.c)
    raise ClosedFormError(f"no matrix form for the factor {e}")


def _lambda_of(e):
    d = sp.Dummy("s")
    return sp.Lambda(d, e.func(d))


# ----- combining factors -----
def _orient(f: Factor, first, second=None) -> Factor:
    """f with its slots in the order (first, second) when it has those indices."""
    if f.r == first or (second is not None and f.c == second):
        return f
    if f.c == first or (second is not None and f.r == second):
        return f.T
    return f


def _merge_hadamard(factors, target):
    for a in range(len(factors)):
        for b in range(a + 1, len(factors)):
            f, g = factors[a], factors[b]
            if f.indices and f.indices == g.indices:
                if _is_elementwise(f.M) and not _is_elementwise(g.M):
                    f, g = g, f  # the notes' order: δ₁U ∘ ReLU′(z)
                f = _toward(f, target)
                g = g if (g.r, g.c) == (f.r, f.c) else g.T
                merged = Factor(sp.HadamardProduct(f.M, g.M), f.r, f.c)
                return factors[:a] + [merged] + factors[a + 1:b] + factors[b + 1:]
    return None


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
    """Σ_k v_k A_ik B_kj → (A diag(v) B)_ij: a vector on a shared index becomes a diagonal matrix."""
    out = _absorb_diagonal(factors, k)
    if out is None:
        holders = len([x for x in factors if k in x.indices])
        raise ClosedFormError(f"index {k} is shared by {holders} matrices")
    return out


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
        merged = _merge_hadamard(factors, target)
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


def _with_units(M, units):
    """A result times the 1×1 factors, on the side where the shapes fit (x·δ, δ·xᵀ)."""
    if not units:
        return M
    S = units[0] if len(units) == 1 else sp.MatMul(*units)
    if isinstance(M, sp.OneMatrix) and M.shape == (1, 1):
        return S
    if M.shape[1] == 1:
        return sp.MatMul(M, S)
    if M.shape[0] == 1:
        return sp.MatMul(S, M)
    return sp.MatMul(_unit_scalar(S), M)


def _unit_scalar(S):
    """The one element of a 1×1 matrix expression, without expanding an op's element formula (S[0, 0]
    of ‖u‖ would write the sum back)."""
    if isinstance(S, OpApply):
        return MatrixElement(S, 0, 0)
    if isinstance(S, (sp.HadamardPower, sp.MatPow)):
        return _unit_scalar(S.base) ** S.exp
    if isinstance(S, (sp.MatMul, sp.HadamardProduct)):
        return sp.Mul(*(_unit_scalar(a) if isinstance(a, sp.MatrixExpr) else a for a in S.args))
    return S[0, 0]


def _final(factors, target, shape) -> sp.MatrixExpr:
    tr, tc = target
    free = [x for x in (tr, tc) if x is not None]
    for idx in free:
        while len([f for f in factors if idx in f.indices]) > 1:
            out = _absorb_diagonal(factors, idx)
            if out is None:
                break
            factors = out
    if len(factors) == 1:
        f = factors[0]
        if (f.r, f.c) == (tr, tc):
            return f.M
        if (f.c, f.r) == (tr, tc):
            return transpose(f.M)
    by_index = {}
    for f in factors:
        if len(f.indices) != 1:
            raise ClosedFormError("the free indices are not covered by an outer product")
        by_index.setdefault(next(iter(f.indices)), []).append(f)
    if any(len(v) > 1 for v in by_index.values()) or set(by_index) - set(free):
        raise ClosedFormError("the factors do not form a matrix in the free indices")
    left = _orient(by_index[tr][0], tr) if tr in by_index else None
    right = _orient(by_index[tc][0], None, tc) if tc in by_index else None
    if left is None and tr is not None:
        left = Factor(sp.OneMatrix(shape[0], 1), tr, None)
    if right is None and tc is not None:
        right = Factor(sp.OneMatrix(1, shape[1]), None, tc)
    if left is not None and left.r != tr:
        left = left.T
    if right is not None and right.c != tc:
        right = right.T
    if left is None and right is None:
        return sp.OneMatrix(1, 1)
    if left is None:
        return right.M
    if right is None:
        return left.M
    return sp.MatMul(left.M, right.M)


def _term_matrix(e, target, shape) -> sp.MatrixExpr:
    term = _Term({})
    term.read(e)
    tr, tc = target
    diagonal = False
    for a, b in term.deltas:
        if {a, b} == {tr, tc} and tr is not None:
            diagonal = True
            continue
        dummy = a if a in term.dummies else b if b in term.dummies else None
        if dummy is None:
            raise ClosedFormError(f"a Kronecker delta δ({a}, {b}) on free indices has no matrix form")
        other = b if dummy == a else a
        term.dummies.pop(dummy)
        term.factors = [Factor(f.M, other if f.r == dummy else f.r, other if f.c == dummy else f.c)
                        for f in term.factors]
    if diagonal:
        term.factors = [Factor(f.M, tr if f.r == tc else f.r, tr if f.c == tc else f.c) for f in term.factors]
        factors = _reduce(term, (tr, None))
        if not factors:
            return _scale(term.coeff, _with_units(sp.Identity(shape[0]), term.units))
        vec = _final(factors, (tr, None), (shape[0], 1))
        return _scale(term.coeff, _with_units(sp.DiagMatrix(vec), term.units))
    factors = _reduce(term, target)
    return _scale(term.coeff, _with_units(_final(factors, target, shape), term.units))


def _whole_sum_of(s: sp.Sum):
    """(M, f) when the sum runs over every element of one matrix M, Σ_jk f(M_jk); else None."""
    elements = s.function.atoms(MatrixElement)
    parents = {e.parent for e in elements}
    if len(parents) != 1:
        return None
    (M,) = parents
    bound = {k: (lo, hi) for k, lo, hi in s.limits}
    indices = {tuple(e.indices) for e in elements}
    if len(indices) != 1:
        return None
    (slots,) = indices
    for slot, size in zip(slots, M.shape):
        if size == 1:
            if slot != 0:
                return None
        elif slot not in bound or bound[slot] != (0, size - 1):
            return None
    if len(bound) != sum(size != 1 for size in M.shape):
        return None
    d = sp.Dummy("s")
    return M, s.function.xreplace({next(iter(elements)): d}), d


def _reduction(M, name):
    return MatrixElement(OpApply(name, (1, 1), M), 0, 0)


def name_reductions(expr):
    """Sums over a whole matrix in an index expression as the reductions they are: Σ M_k² under a
    square root → ‖M‖, Σ M_k → sum(M), Σ f(M_k) → sum(f(M)) (no index sum left in a closed form)."""
    def norm_power(e):
        if isinstance(e, sp.Pow) and isinstance(e.base, sp.Sum) and (2 * e.exp).is_Integer:
            found = _whole_sum_of(e.base)
            if found is not None and found[1] == found[2] ** 2:
                return _reduction(found[0], "norm") ** (2 * e.exp)
        return None

    def total(e):
        found = _whole_sum_of(e) if isinstance(e, sp.Sum) else None
        if found is None:
            return None
        M, f, d = found
        return _reduction(M if f == d else ElementwiseApplyFunction(sp.Lambda(d, f), M), "sum")

    expr = expr.replace(lambda e: norm_power(e) is not None, norm_power)
    return expr.replace(lambda e: total(e) is not None, total)


def closed_form(index_expr, target, shape) -> sp.MatrixExpr:
    """The matrix M of ``shape`` with M[target] = ``index_expr`` (target: the free indices, None on a
    length-1 axis)."""
    expr = sp.expand(name_reductions(index_expr), power_exp=False, log=False)
    if expr == 0:
        return sp.ZeroMatrix(*shape)
    terms = merge_like([_drop_unit_ones(_term_matrix(t, target, shape)) for t in sp.Add.make_args(expr)])
    if not terms:
        return sp.ZeroMatrix(*shape)
    terms.sort(key=_is_negative)  # stable: ŷ − y, not −y + ŷ
    if len(terms) == 1:
        return terms[0]
    inner = [_untransposed(t) for t in terms]
    if all(t is not None for t in inner):
        return sp.Transpose(sp.MatAdd(*inner))
    return sp.MatAdd(*terms)


def merge_like(terms) -> list:
    """c₁·M + c₂·M → (c₁ + c₂)·M: like terms merged, in the order they first appear."""
    coeffs: dict = {}
    shown: dict = {}  # each term is written as it first appeared (the notes' order of factors)
    for t in map(_monomials_as_powers, terms):
        coeff, mats = t.as_coeff_matrices() if isinstance(t, sp.MatMul) else (sp.Integer(1), [t])
        M = sp.MatMul(*mats) if len(mats) > 1 else mats[0]
        key = _canonical(M)
        shown.setdefault(key, M)
        coeffs[key] = coeffs.get(key, 0) + coeff
    return [_scale(c, shown[key]) for key, c in coeffs.items() if c != 0]


def _canonical(M):
    """The key of a term: Hadamard factors in a fixed order (Δ ∘ z² and z² ∘ Δ are one term)."""
    return M.replace(lambda e: isinstance(e, sp.HadamardProduct),
                     lambda e: sp.HadamardProduct(*sorted(e.args, key=sp.default_sort_key)))


def _monomials_as_powers(M):
    """square.(A) → A∘² (one spelling of a power, so that x³ = square(x)∘x meets 2·x∘²)."""
    def power(e):
        cls = element_class(e.function)
        if cls is None or cls.form is None or cls.order != 0 or not cls.form.is_polynomial(_S):
            return None
        terms = sp.Poly(cls.form, _S).terms()  # [((k,), c)]: a monomial c·s^k has one
        if len(terms) != 1 or terms[0][1] != 1:
            return None
        return sp.HadamardPower(e.expr, terms[0][0][0])

    return M.replace(lambda e: isinstance(e, ElementwiseApplyFunction) and power(e) is not None, power)


def _drop_unit_ones(M):
    """A 1×1 ones matrix is the number 1: 1·δ → δ."""
    if isinstance(M, sp.MatMul):
        kept = [a for a in M.args if not (isinstance(a, sp.OneMatrix) and a.shape == (1, 1))]
        if len(kept) < len(M.args):
            return sp.MatMul(*kept) if len(kept) > 1 else kept[0] if kept else sp.OneMatrix(1, 1)
    return M


def _is_negative(t) -> bool:
    return bool(isinstance(t, sp.MatMul) and t.args[0].is_number and t.args[0].is_negative)


def _untransposed(t):
    """Aᵀ → A and c·Aᵀ → c·A; None for a term that is not a transpose."""
    if isinstance(t, sp.Transpose):
        return t.arg
    if isinstance(t, sp.MatMul) and len(t.args) == 2 and not isinstance(t.args[0], sp.MatrixExpr):
        if isinstance(t.args[1], sp.Transpose):
            return sp.MatMul(t.args[0], t.args[1].arg)
    return None


def target_slots(index_pair, shape):
    """The target slots for element (p, q) of a result of ``shape``."""
    return (_slot(index_pair[0], shape[0]), _slot(index_pair[1], shape[1]))
