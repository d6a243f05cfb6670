"""Rewrite rules on index expressions.

Each rule is a small function ``rule(expr, facts) -> expr | None`` that looks at one node of the
expression tree (None: it does not apply there). :func:`simplify_index` applies the list bottom-up
until nothing changes, with SymPy's ``doit`` and a gentle ``expand`` in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import is_index
from jacobian_sym.ops.functions import _S, ElementFunction, derivative_of
from jacobian_sym.ops.table import OpApply


@dataclass
class Facts:
    """What the rules may assume: softmax definitions and one-hot label vectors."""

    #: (θ, ŷ, axis): ŷ = softmax(θ) along ``axis``
    softmax: list = field(default_factory=list)
    #: (y, axis): the elements of y along ``axis`` sum to 1
    one_hot: list = field(default_factory=list)
    #: (f, A, U, g): U = f(A) element-wise and f′ = g(f), so f′(A) may be written g(U)
    outputs: list = field(default_factory=list)
    #: the A of ``outputs`` entries whose A is an unnamed node and U a named one: f′(A) is always
    #: written g(U) there, since A would be inlined (tanh′(x W + (r ∘ h) U) where 1 − n² is at hand)
    unnamed_args: set = field(default_factory=set)
    #: (A, M, axis): M = mean(A, axis), so a sum of A along ``axis`` is its size times M
    means: list = field(default_factory=list)
    #: (A, N): N = ‖A‖, the element of a 1×1 node, so √(Σ A_ij²) may be written N
    norms: list = field(default_factory=list)
    #: (A, M, C): C = A − M for M = mean(A, axis) broadcast back, so A − M may be written C
    centred: list = field(default_factory=list)


def _limits(s: sp.Sum):
    (k, lo, hi), = s.limits
    return k, lo, hi


# ----- sums -----
def _resum(body, limits):
    return sp.Sum(body, *limits) if limits else body


def split_sum(e, facts):
    """Σ (a + b) → Σ a + Σ b. Shrinks: the sums' bodies get smaller."""
    if isinstance(e, sp.Sum) and isinstance(e.function, sp.Add):
        return sp.Add(*(sp.Sum(t, *e.limits) for t in e.function.args))
    return None


def factor_sum(e, facts):
    """Σ_k c·f(k) → c·Σ_k f(k) for c free of k, and Σ_k c → c·(hi − lo + 1). Shrinks the body or
    removes a limit."""
    if not isinstance(e, sp.Sum):
        return None
    body = e.function
    unused = [lim for lim in e.limits if not body.has(lim[0])]
    if unused:
        count = sp.Mul(*(hi - lo + 1 for _, lo, hi in unused))
        return count * _resum(body, [lim for lim in e.limits if lim not in unused])
    if isinstance(body, sp.Mul):
        bound = [lim[0] for lim in e.limits]
        inside = [f for f in body.args if any(f.has(k) for k in bound)]
        outside = [f for f in body.args if not any(f.has(k) for k in bound)]
        if outside:
            return sp.Mul(*outside) * sp.Sum(sp.Mul(*inside), *e.limits)
    return None


def collapse_kronecker(e, facts):
    """Σ_a δ_ab f(a) → f(b). Shrinks: removes one summation index (b lies in the sum's range by
    construction)."""
    if not isinstance(e, sp.Sum):
        return None
    factors = sp.Mul.make_args(e.function)
    for lim in e.limits:
        k = lim[0]
        for n, f in enumerate(factors):
            if isinstance(f, sp.KroneckerDelta) and k in f.args[:2]:
                other = f.args[1] if f.args[0] == k else f.args[0]
                if other.has(k):
                    continue
                rest = sp.Mul(*(factors[:n] + factors[n + 1:])).xreplace({k: other})
                return _resum(rest, [m for m in e.limits if m is not lim])
    return None


def drop_range_guards(e, facts):
    """Piecewise((f, lo ≤ i ≤ hi), (0, True)) → f when the condition only bounds indices, which lie in
    their ranges by construction. Shrinks: removes a Piecewise."""
    if not isinstance(e, sp.Piecewise) or len(e.args) != 2:
        return None
    (value, cond), (other, otherwise) = e.args
    if other != 0 or otherwise is not sp.true:
        return None
    if cond.atoms(MatrixElement):
        return None
    atoms = cond.atoms(sp.Symbol)
    if atoms and all(is_index(a) or a.is_positive for a in atoms) and any(is_index(a) for a in atoms):
        return value
    return None


def kronecker_same(e, facts):
    """δ_aa → 1. Shrinks: removes a factor."""
    if isinstance(e, sp.KroneckerDelta) and e.args[0] == e.args[1]:
        return sp.Integer(1)
    return None


# ----- declared facts -----
def _element_of(e, M):
    return isinstance(e, MatrixElement) and e.parent == M


def one_hot_sum(e, facts):
    """Σ_k y_k → 1 for a label vector declared one-hot (along its class axis). Shrinks: removes a sum."""
    if not (isinstance(e, sp.Sum) and len(e.limits) == 1):
        return None
    k, lo, hi = _limits(e)
    for y, axis in facts.one_hot:
        body = e.function
        if _element_of(body, y) and body.indices[axis] == k and lo == 0 and hi == y.shape[axis] - 1:
            return sp.Integer(1)
    return None


def mean_sum(e, facts):
    """Σ_s A_is → n μ_i for μ = mean(A, axis=1) a node of the graph (and Σ_s A_sj → n μ_j along axis
    0): the sum a layer norm's backward meets is the statistic its forward computed. Shrinks: removes
    a sum."""
    if not (isinstance(e, sp.Sum) and len(e.limits) == 1) or not facts.means:
        return None
    k, lo, hi = _limits(e)
    body = e.function
    for A, M, axis in facts.means:
        if _element_of(body, A) and body.indices[axis] == k and lo == 0 and hi == A.shape[axis] - 1 and \
                not body.indices[1 - axis].has(k):
            other = body.indices[1 - axis]
            return A.shape[axis] * (M[other, 0] if axis == 1 else M[0, other])
    return None


def centred_values(e, facts):
    """c A_ij R − c μ_i R → c C_ij R for C = A − μ a node (μ = mean(A) broadcast back): two terms a
    layer norm's backward leaves apart are the centred values its forward computed. Shrinks: two
    terms become one."""
    if not isinstance(e, sp.Add) or not facts.centred:
        return None
    terms = list(e.args)
    for A, M, C in facts.centred:
        for t in terms:
            for x in t.atoms(MatrixElement):
                if x.parent != A:
                    continue
                i, j = x.indices
                m = M[i, 0] if M.shape[1] == 1 else M[0, j]
                partner = -t.xreplace({x: m})
                if partner in terms and partner != -t:
                    rest = [u for u in terms if u is not t and u != partner]
                    return sp.Add(t.xreplace({x: C[i, j]}), *rest)
    return None


def softmax_quotient(e, facts):
    """exp(θ_a) / Σ_l exp(θ_l) → ŷ_a for ŷ = softmax(θ): names the normaliser Z = Σ_l exp(θ_l) and
    writes exp(θ_a) = ŷ_a·Z, so that Z cancels. Shrinks: removes the normaliser sums."""
    for theta, yhat, axis in facts.softmax:
        normalisers = [s for s in e.atoms(sp.Sum) if _is_normaliser(s, theta, axis)]
        exps = [x for x in e.atoms(sp.exp) if _element_of(x.args[0], theta)]
        if not normalisers:
            continue
        Z = sp.Function(f"Z_{theta.name}", positive=True)
        named = e.xreplace({s: Z(_other_index(s.function.args[0], axis)) for s in normalisers})
        named = named.xreplace({
            x: yhat[x.args[0].indices] * Z(_other_index(x.args[0], axis)) for x in exps
            if not any(s.has(x) for s in normalisers)
        })
        # Z out of the sums that do not run over its index (Σ_j R_j ŷ_j Z → Z Σ_j R_j ŷ_j), so it cancels
        named = rewrite(sp.expand(named, power_exp=False, log=False), [split_sum, factor_sum], facts)
        out = sp.expand(sp.powsimp(sp.expand(named, power_exp=False, log=False)), power_exp=False, log=False)
        if not out.has(Z):
            return out
    return None


def _other_index(element, axis):
    return element.indices[1 - axis]


def _is_normaliser(s, theta, axis):
    if not (isinstance(s, sp.Sum) and len(s.limits) == 1 and isinstance(s.function, sp.exp)):
        return False
    k, lo, hi = _limits(s)
    inner = s.function.args[0]
    return _element_of(inner, theta) and inner.indices[axis] == k and lo == 0 and hi == theta.shape[axis] - 1


def name_softmax(e, facts=None):
    """exp(A_aj) / Σ_k exp(A_kj) → softmax(A)_aj for any matrix A (along either axis): the same
    normaliser trick as ``softmax_quotient``, for a softmax the graph does not name (log-softmax's
    gradient). Used once, after the fixed point: the element of an ``OpApply`` would expand again
    under ``doit``."""
    out = e
    for s in sorted(e.atoms(sp.Sum), key=sp.default_sort_key):
        if not (len(s.limits) == 1 and isinstance(s.function, sp.exp) and isinstance(s.function.args[0],
                                                                                    MatrixElement)):
            continue
        inner = s.function.args[0]
        A = inner.parent
        axis = next((ax for ax in (0, 1) if _is_normaliser(s, A, ax)), None)
        if axis is None or not isinstance(A, sp.MatrixSymbol) or not out.has(s):
            continue
        S = OpApply("softmax", A.shape, A, axis=axis)
        Z = sp.Function("Z_softmax", positive=True)
        named = out.xreplace({t: Z(_other_index(t.function.args[0], axis)) for t in out.atoms(sp.Sum)
                              if _is_normaliser(t, A, axis)})
        named = named.xreplace({x: MatrixElement(S, *x.args[0].indices) * Z(_other_index(x.args[0], axis))
                                for x in named.atoms(sp.exp) if _element_of(x.args[0], A)})
        new = sp.expand(sp.powsimp(sp.expand(named, power_exp=False, log=False)), power_exp=False, log=False)
        if not new.has(Z):
            out = new
    return out


def polynomial_function(e, facts):
    """f(a) → its definition when that is a polynomial (square(a) → a²), so that like terms meet
    (x³ = square(x)·x differentiates to 3x², not 2x² + square(x)). Shrinks: removes a function."""
    if isinstance(e, ElementFunction) and e.form is not None and e.order == 0 and e.form.is_polynomial(_S):
        return e.explicit()
    return None


def norm_value(e, facts):
    """(Σ_ij A_ij²)^(k/2) → N^k for N = ‖A‖ computed by the forward pass: the norm's derivative
    A/√(Σ A²) meets the N of an outer ‖A‖², and 2N · A/N cancels to 2A — finite at A = 0, where the
    function is smooth. Shrinks: removes a sum."""
    if not (isinstance(e, sp.Pow) and isinstance(e.base, sp.Sum) and e.exp.is_Rational and e.exp.q == 2):
        return None
    for A, N in facts.norms:
        if _is_square_sum(e.base, A):
            return N ** (2 * e.exp)
    return None


def _is_square_sum(s, A) -> bool:
    """Whether ``s`` is Σ over every element of A of its square (each index over its whole range)."""
    limits, body = [], s
    while isinstance(body, sp.Sum):
        limits.extend(body.limits)
        body = body.function
    if not (isinstance(body, sp.Pow) and body.exp == 2 and isinstance(body.base, MatrixElement)
            and body.base.parent == A):
        return False
    ranges = {k: (lo, hi) for k, lo, hi in limits}
    if len(ranges) != len(limits):
        return False
    used = []
    for index, size in zip(body.base.indices, A.shape):
        if size == 1:
            if index != 0:
                return False
        elif ranges.get(index) != (0, size - 1):
            return False
        else:
            used.append(index)
    return len(set(used)) == len(used) == len(limits)


RULES = [polynomial_function, kronecker_same, drop_range_guards, split_sum, collapse_kronecker, factor_sum, one_hot_sum,
         mean_sum, norm_value]
GLOBAL_RULES = [softmax_quotient, centred_values]


def rewrite(expr, rules, facts):
    """Apply ``rules`` bottom-up, once over the tree."""
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    if isinstance(expr, MatrixElement):
        return expr
    args = [rewrite(a, rules, facts) for a in expr.args]
    new = expr.func(*args) if any(a is not b for a, b in zip(args, expr.args)) else expr
    for rule in rules:
        out = rule(new, facts)
        if out is not None:
            return rewrite(out, rules, facts)
    return new


def through_outputs(e, facts, monomials_only=False, unnamed_only=False):
    """f′(a) → g(u) and f(a) → u where u = f(a) is a node and f′ = g(f) (σ′(z) = ŷ(1 − ŷ)). Used
    when it makes the expression smaller (it turns BCE∘σ into ŷ − y), and always when g is one term
    (rsqrt′(s) = −½ r³: the output the forward pass has already computed, cubed) or when a is an
    unnamed node and u a named one (``unnamed_only``: z ∘ (1 − z), not σ′(x W_z + h U_z))."""
    mapping = {}
    for fn, A, U, g in facts.outputs:
        if monomials_only and len(sp.Add.make_args(g.expr)) != 1:
            continue
        if unnamed_only and A not in facts.unnamed_args:
            continue
        prime = derivative_of(fn)
        for x in e.atoms(fn, prime):
            if isinstance(x.args[0], MatrixElement) and x.args[0].parent == A:
                u = U[x.args[0].indices]
                mapping[x] = u if isinstance(x, fn) else g(u)
    return e.xreplace(mapping) if mapping else None


def simplify_index(expr, facts: Facts | None = None, *, max_rounds: int = 40) -> sp.Expr:
    """Apply the rules to a fixed point: the index expression in its simplest sum-of-products form."""
    facts = facts or Facts()
    out = _fixed_point(expr, facts, max_rounds)
    for only in ({"monomials_only": True}, {"unnamed_only": True}):
        rewritten = through_outputs(out, facts, **only)
        if rewritten is not None:
            out = _fixed_point(rewritten, facts, max_rounds)
    alternative = through_outputs(out, facts)
    if alternative is not None:
        alternative = _fixed_point(sp.cancel(alternative), facts, max_rounds)
        if sp.count_ops(alternative) < sp.count_ops(out):
            out = alternative
    return name_softmax(out)


def _literal(s) -> bool:
    """A sum over a literal range in one of its indices (ten classes: Σ_{k<10})."""
    return isinstance(s, sp.Sum) and any(lo.is_number and hi.is_number for _, lo, hi in s.limits)


def _split_literal_sums(expr):
    """Σ (a + b) → Σ a + Σ b for every sum over a literal range, its body expanded first: SymPy's
    doit writes such a sum out term by term (y₀ + … + y₉) unless the rules have taken its deltas."""
    return expr.replace(lambda e: _literal(e) and isinstance(sp.expand(e.function), sp.Add),
                        lambda e: sp.Add(*(sp.Sum(t, *e.limits) for t in sp.expand(e.function).args)))


def _doit_keeping_sums(expr):
    """SymPy's doit, except that a sum over a literal range with neither a Kronecker delta nor a
    derivative inside stays a sum: Σ_{k<10} y_k written out as y₀ + … + y₉ would hide it from the
    rules that know it (a one-hot column sums to 1). A symbolic range is left to doit as it is."""
    kept = [s for s in expr.atoms(sp.Sum) if _literal(s) and not s.has(sp.KroneckerDelta, sp.Derivative)]
    if not kept:
        return expr.doit()
    # each kept sum stands in as an undefined function of its free indices, so that doit's
    # substitutions reach them (Σ_t δ_ft Σ_{v<3} z_tv is Σ_{v<3} z_fv, not Σ_{v<3} z_tv)
    stand_ins, sums = {}, {}
    for n, s in enumerate(kept):
        free = tuple(sorted((x for x in s.free_symbols if isinstance(x, sp.Symbol)), key=sp.default_sort_key))
        stand_in = sp.Function(f"_kept{n}")
        stand_ins[s], sums[stand_in] = stand_in(*free), (s, free)
    out = expr.xreplace(stand_ins).doit()
    return out.replace(lambda e: type(e) in sums,
                       lambda e: sums[type(e)][0].xreplace(dict(zip(sums[type(e)][1], e.args))))


def _delta_sums(e) -> bool:
    return e.has(sp.Derivative) or any(s.has(sp.KroneckerDelta) for s in e.atoms(sp.Sum))


def _fixed_point(expr, facts, max_rounds):
    for _ in range(max_rounds):
        # the own rules first (Σ_a δ_ab f(a) → f(b) is one substitution); SymPy's doit, which
        # evaluates derivatives and the sums it can but re-checks every KroneckerDelta's range through
        # the assumptions system (70 % of a 32-layer derivation), only for what they leave
        new = rewrite(expr, RULES, facts)
        if _delta_sums(new) and any(_literal(s) for s in new.atoms(sp.Sum)):
            new = rewrite(_split_literal_sums(new), RULES, facts)
        if _delta_sums(new):
            new = rewrite(_doit_keeping_sums(new), RULES, facts)
        for rule in GLOBAL_RULES:
            out = rule(new, facts)
            if out is not None:
                new = out
        new = sp.expand(new, power_exp=False, log=False)
        if new == expr:
            return new
        expr = new
    return expr
