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

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.engine.factors import Factor, _scale, _slot, _Term, transpose
from jacobian_sym.engine.patterns import _absorb_diagonal, _orient, _reduce
from jacobian_sym.errors import ClosedFormError
from jacobian_sym.ops.functions import _S, element_class
from jacobian_sym.ops.table import OpApply, whole_element


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
        return whole_element(S)
    if isinstance(S, (sp.HadamardPower, sp.MatPow)):
        return _unit_scalar(S.base) ** S.exp
    if isinstance(S, (sp.MatMul, sp.HadamardProduct)):
        if all(a.shape == (1, 1) for a in S.args if isinstance(a, sp.MatrixExpr)):
            return sp.Mul(*(_unit_scalar(a) if isinstance(a, sp.MatrixExpr) else a for a in S.args))
        return _contraction_scalar(S)
    return S[0, 0]


def _contraction_scalar(S):
    """The element of a 1×1 product of larger matrices, kept whole: 1ᵀ A 1 is sum(A), uᵀ A v stays a
    product (its [0, 0] would read single entries, W₀₀ X₀₀, where the contraction belongs)."""
    if isinstance(S, sp.HadamardProduct):
        return whole_element(S)
    coeff, mats = flat_product(S)
    if len(mats) > 2 and all(isinstance(m, sp.OneMatrix) for m in (mats[0], mats[-1])):
        middle = mats[1] if len(mats) == 3 else sp.MatMul(*mats[1:-1])
        return coeff * whole_element(OpApply("sum", (1, 1), middle))
    return coeff * whole_element(sp.MatMul(*mats))


def flat_product(term) -> tuple:
    """c · M₁ M₂ … with nested products flattened: (c, [M₁, M₂, …])."""
    if not isinstance(term, sp.MatMul):
        return sp.Integer(1), [term]
    coeff, mats = sp.Integer(1), []
    for a in term.args:
        if isinstance(a, sp.MatMul):
            c, inner = flat_product(a)
            coeff, mats = coeff * c, mats + inner
        elif isinstance(a, sp.MatrixExpr):
            mats.append(a)
        else:
            coeff *= a
    return coeff, mats


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
    return whole_element(OpApply(name, (1, 1), M))


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
    terms = merge_like([merge_scalar_powers(_drop_unit_ones(_term_matrix(t, target, shape)))
                        for t in sp.Add.make_args(expr)])
    if not terms:
        return sp.ZeroMatrix(*shape)
    terms.sort(key=_is_negative)  # stable: ŷ − y, not −y + ŷ
    if len(terms) == 1:
        return terms[0]
    inner = [_untransposed(t) for t in terms]
    if all(t is not None for t in inner):
        return sp.Transpose(factor_hadamard(sp.MatAdd(*inner)))
    return factor_hadamard(sp.MatAdd(*terms))


def _scalar_powers(M):
    """A 1×1 factor as {base: exponent} over 1×1 bases that commute as numbers (‖v‖, sum(A), tr(X),
    a scalar parameter g): ‖v‖^∘(−2) → {‖v‖: −2}, (‖w‖ ‖x‖)^∘(−1) → {‖w‖: −1, ‖x‖: −1}; None for
    any other factor (a product uᵀv of larger matrices is left alone)."""
    if not isinstance(M, sp.MatrixExpr) or M.shape != (1, 1):
        return None
    if isinstance(M, (OpApply, sp.MatrixSymbol)):
        return {M: 1}
    if isinstance(M, sp.HadamardPower) and M.exp.is_Integer:
        inner = _scalar_powers(M.base)
        return None if inner is None else {b: e * M.exp for b, e in inner.items()}
    if isinstance(M, sp.MatMul) and all(isinstance(a, sp.MatrixExpr) for a in M.args):
        out: dict = {}
        for a in M.args:
            inner = _scalar_powers(a)
            if inner is None:
                return None
            for b, e in inner.items():
                out[b] = out.get(b, 0) + e
        return out
    return None


def merge_scalar_powers(term):
    """The 1×1 factors of a product, which commute as numbers, merged by base: x 1/(‖w‖ ‖x‖) … and
    ‖v‖^∘(−2) 1/‖v‖ → 1/‖v‖³; a base whose exponents cancel is gone (‖r‖ · 1/‖r‖: the form is then
    finite at r = 0 where the function is). The merged factor stands where the first of them stood."""
    coeff, mats = flat_product(_monomials_as_powers(term))  # square.(‖w‖) is ‖w‖∘²
    powers: dict = {}
    kept, place, factors = [], None, 0
    for m in mats:
        p = _scalar_powers(m)
        if p is None:
            kept.append(m)
            continue
        factors += len(p)
        place = len(kept) if place is None else place
        for b, e in p.items():
            powers[b] = powers.get(b, 0) + e
    if place is None or (factors == len(powers) and not any(
            isinstance(m, sp.HadamardPower) and isinstance(m.base, sp.MatMul) and _scalar_powers(m) is not None
            for m in mats)):
        return term  # nothing to merge: no 1×1 factor, or each base once and no power of a product of them
    up = [b if e == 1 else sp.HadamardPower(b, e) for b, e in powers.items() if e > 0]
    down = [b if e == -1 else sp.HadamardPower(b, -e) for b, e in powers.items() if e < 0]
    if len(down) == 1 and isinstance(down[0], sp.HadamardPower):
        up.append(sp.HadamardPower(down[0].base, -down[0].exp))
    elif down:
        up.append(sp.HadamardPower(down[0] if len(down) == 1 else sp.MatMul(*down), -1))
    chain = kept[:place] + up + kept[place:]
    if not chain:
        return _scale(coeff, sp.OneMatrix(1, 1))
    return _scale(coeff, chain[0] if len(chain) == 1 else sp.MatMul(*chain))


def _hadamard_powers(term, diagonals=False):
    """c · A^∘a ∘ B^∘b ∘ … as (c, {A: a, B: b, …}); None for a term that is not a Hadamard product of
    such factors with a number in front (a matrix product is one factor). With ``diagonals``,
    diag(v) M is read as (v 1ᵀ) ∘ M and M diag(v) as (1 vᵀ) ∘ M."""
    coeff, body = sp.Integer(1), term
    if isinstance(term, sp.MatMul):
        numbers = [a for a in term.args if not isinstance(a, sp.MatrixExpr)]
        mats = [a for a in term.args if isinstance(a, sp.MatrixExpr)]
        if not all(n.is_number for n in numbers):
            return None
        coeff, body = sp.Mul(*numbers), mats[0] if len(mats) == 1 else sp.MatMul(*mats)
    powers: dict = {}
    for f in _hadamard_factors(body):
        for g in (_diagonal_as_hadamard(f) or [f]) if diagonals else [f]:
            whole_power = isinstance(g, sp.HadamardPower) and g.exp.is_Integer and g.exp > 0
            base, exp = (g.base, g.exp) if whole_power else (g, 1)
            powers[base] = powers.get(base, 0) + exp
    return coeff, powers


def _diagonal_as_hadamard(M):
    """diag(v) M → [v 1ᵀ, M] and M diag(v) → [1 vᵀ, M] for a column v (the repeated vector as a
    Hadamard factor, so that a factor M other terms have can be taken out); None otherwise."""
    if not isinstance(M, sp.MatMul) or len(M.args) != 2 or not all(isinstance(a, sp.MatrixExpr) for a in M.args):
        return None
    left, right = M.args
    if isinstance(left, sp.DiagMatrix) and not isinstance(right, sp.DiagMatrix):
        v = left.args[0]
        v = v if v.shape[1] == 1 else v.T
        return [sp.MatMul(v, sp.OneMatrix(1, right.shape[1])), right]
    if isinstance(right, sp.DiagMatrix) and not isinstance(left, sp.DiagMatrix):
        v = right.args[0]
        v = v.T if v.shape[1] == 1 else v
        return [sp.MatMul(sp.OneMatrix(left.shape[0], 1), v), left]
    return None


def _hadamard_factors(M) -> list:
    """The factors of a Hadamard product, nested products flattened (A ∘ (B ∘ C) → [A, B, C])."""
    if not isinstance(M, sp.HadamardProduct):
        return [M]
    return [f for a in M.args for f in _hadamard_factors(a)]


def _hadamard_of(powers: dict, shape):
    factors = [base if exp == 1 else sp.HadamardPower(base, exp) for base, exp in powers.items()]
    if not factors:
        return sp.OneMatrix(*shape)
    return factors[0] if len(factors) == 1 else sp.HadamardProduct(*factors)


def factor_hadamard(M):
    """Σ_t c_t (F ∘ R_t) → F ∘ Σ_t c_t R_t for the Hadamard factors F every term has (powers counted:
    δ ∘ z − z∘² ∘ δ → δ ∘ z ∘ (1 − z), δ₁ ∘ h − δ₁ ∘ n → δ₁ ∘ (h − n)); a factor a term lacks in
    whole is 1 (a ones matrix). A diagonal scaling diag(v) A is read as (v 1ᵀ) ∘ A where that finds a
    common factor (the row-softmax signal A ∘ (G − (A ∘ G) 1 1ᵀ)). Only where every term is such a
    product and something is common."""
    if not isinstance(M, sp.MatAdd):
        return M
    for diagonals in (False, True):
        out = _factored(M, diagonals)
        if out is not None:
            return out
    return M


def _factored(M, diagonals):
    read = [_hadamard_powers(t, diagonals) for t in M.args]
    if any(r is None for r in read):
        return None
    common = dict(read[0][1])
    for _, powers in read[1:]:
        common = {b: min(e, powers[b]) for b, e in common.items() if b in powers}
    if not common:
        return None
    rests = [_scale(c, _hadamard_of({b: e - common.get(b, 0) for b, e in p.items() if e > common.get(b, 0)},
                                    M.shape)) for c, p in read]
    if all(isinstance(r, sp.OneMatrix) for r in rests):
        return None
    return sp.HadamardProduct(*[_hadamard_of({b: e}, M.shape) for b, e in common.items()],
                              factor_hadamard(sp.MatAdd(*rests)))


def merge_like(terms) -> list:
    """c₁·M + c₂·M → (c₁ + c₂)·M: like terms merged, in the order they first appear."""
    coeffs: dict = {}
    shown: dict = {}  # each term is written as it first appeared (the notes' order of factors)
    spellings: dict = {}
    for t in map(_monomials_as_powers, terms):
        coeff, mats = t.as_coeff_matrices() if isinstance(t, sp.MatMul) else (sp.Integer(1), [t])
        M = sp.MatMul(*mats) if len(mats) > 1 else mats[0]
        key = _canonical(M)
        shown.setdefault(key, M)
        spellings.setdefault(key, set()).add(M)
        coeffs[key] = coeffs.get(key, 0) + coeff
    # (X X)ᵀ + 2 Xᵀ Xᵀ met as one term: written once, its repeated factors as a power, 3 (X²)ᵀ
    return [_scale(c, shown[key] if len(spellings[key]) == 1 else _as_powers(key)) for key, c in coeffs.items()
            if c != 0]


def _transposes_inward(M):
    """(A B)ᵀ → Bᵀ Aᵀ, (Aᵀ)ᵀ → A and X³ → X X X, down to the factors: one spelling of a product and
    its transpose. Shrinks: each step moves a transpose one level down."""
    def inward(e):
        a = e.arg
        if isinstance(a, sp.Transpose):
            return a.arg
        coeff, mats = a.as_coeff_matrices()
        factors = [inward(sp.Transpose(m)) if isinstance(m, (sp.MatMul, sp.Transpose)) else sp.Transpose(m)
                   for m in reversed(mats)]
        flat = [f for g in factors for f in (g.args if isinstance(g, sp.MatMul) else (g,))]
        return sp.MatMul(*([coeff] if coeff != 1 else []), *flat)

    M = M.replace(lambda e: isinstance(e, sp.MatPow) and e.exp.is_Integer and e.exp > 1,
                  lambda e: sp.MatMul(*[e.base] * int(e.exp)))  # X³ is X X X
    inner = M.replace(lambda e: isinstance(e, sp.Transpose) and isinstance(e.arg, (sp.MatMul, sp.Transpose)), inward)
    return inner.replace(lambda e: isinstance(e, sp.MatMul) and any(isinstance(a, sp.MatMul) for a in e.args),
                         lambda e: sp.MatMul(*(f for a in e.args for f in (a.args if isinstance(a, sp.MatMul)
                                                                           else (a,)))))


def _as_powers(M):
    """A run of one square factor in a product as its power: X X X → X³, Xᵀ Xᵀ → (X²)ᵀ."""
    if not isinstance(M, sp.MatMul):
        return M
    coeff, mats = M.as_coeff_matrices()
    runs: list = []
    for m in mats:
        if runs and runs[-1][0] == m and m.shape[0] == m.shape[1]:
            runs[-1][1] += 1
        else:
            runs.append([m, 1])

    def power(m, k):
        if k == 1:
            return m
        return sp.Transpose(sp.MatPow(m.arg, k)) if isinstance(m, sp.Transpose) else sp.MatPow(m, k)

    factors = [power(m, k) for m, k in runs]
    return sp.MatMul(coeff, *factors) if coeff != 1 or len(factors) > 1 else factors[0]


def _canonical(M):
    """The key of a term: Hadamard factors in a fixed order (Δ ∘ z² and z² ∘ Δ are one term), transposes
    on the factors ((X X)ᵀ and Xᵀ Xᵀ are one term)."""
    return _transposes_inward(M).replace(lambda e: isinstance(e, sp.HadamardProduct),
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
    """A 1×1 ones matrix is the number 1: 1·δ → δ; and c·I of size 1 with c a product of 1×1
    matrices' elements is that product of matrices (∂½(z − y)²/∂b is z − y, not z I − y)."""
    if isinstance(M, sp.MatMul) and M.shape == (1, 1) and any(isinstance(a, sp.Identity) for a in M.args):
        unit = _unit_product(M)
        if unit is not None:
            return unit
    if isinstance(M, sp.MatMul):
        kept = [a for a in M.args if not (isinstance(a, sp.OneMatrix) and a.shape == (1, 1))]
        if len(kept) < len(M.args):
            return sp.MatMul(*kept) if len(kept) > 1 else kept[0] if kept else sp.OneMatrix(1, 1)
    return M


def _unit_product(M):
    """A 1×1 product of numbers, the identity and the elements of 1×1 matrices, as numbers times those
    matrices (None when another factor is in it)."""
    number, mats = sp.Integer(1), []
    for a in M.args:
        if isinstance(a, sp.Identity):
            continue
        for f in sp.Mul.make_args(a) if not isinstance(a, sp.MatrixExpr) else (a,):
            if f.is_number:
                number *= f
            elif isinstance(f, MatrixElement) and f.parent.shape == (1, 1):
                mats.append(f.parent)
            elif isinstance(f, sp.MatrixExpr) and f.shape == (1, 1):
                mats.append(f)
            else:
                return None
    if not mats:
        return None
    body = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
    return body if number == 1 else sp.MatMul(number, body)


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
