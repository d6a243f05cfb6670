"""The recogniser on index structures, checked element by element against its input."""

import pytest
import sympy as sp

from jacobian_sym.base.sizes import index_symbol, size_symbol
from jacobian_sym.engine.closed_form import closed_form
from jacobian_sym.errors import ClosedFormError

n, m = size_symbol("n"), size_symbol("m")
i, j, k = (index_symbol(c) for c in "ijk")
W = sp.MatrixSymbol("W", n, m)
A = sp.MatrixSymbol("A", n, n)
x, a = sp.MatrixSymbol("x", m, 1), sp.MatrixSymbol("a", n, 1)
d = sp.MatrixSymbol("d", 1, n)

CASES = [
    (W[i, j], (i, j), (n, m)),
    (W[j, i], (i, j), (m, n)),
    (d[0, i] * x[j, 0], (i, j), (n, m)),
    (sp.Sum(d[0, k] * W[k, j], (k, 0, n - 1)), (None, j), (1, m)),
    (sp.Sum(d[0, k] * W[k, j], (k, 0, n - 1)), (j, None), (m, 1)),
    (sp.KroneckerDelta(i, j, (0, n - 1)) * sp.exp(a[i, 0]), (i, j), (n, n)),
    (a[j, 0] * sp.KroneckerDelta(i, j) - a[i, 0] * a[j, 0], (i, j), (n, n)),
    (sp.exp(a[i, 0]) * W[i, j], (i, j), (n, m)),
    (sp.Sum(d[0, k] * W[k, j], (k, 0, n - 1)) * sp.tanh(x[j, 0]), (None, j), (1, m)),
    (sp.Sum(A[k, k], (k, 0, n - 1)) * a[i, 0], (i, None), (n, 1)),
    (x[j, 0], (i, j), (n, m)),
]


@pytest.mark.parametrize("expr, target, shape", CASES)
def test_closed_form_matches_its_index_expression(expr, target, shape):
    M = closed_form(expr, target, shape)
    assert M.shape == shape
    sizes = {n: 3, m: 4}
    explicit = M.xreplace(sizes).as_explicit()
    tr, tc = target
    for r in range(explicit.rows):
        for c in range(explicit.cols):
            want = expr.xreplace(sizes).xreplace({s: v for s, v in ((tr, r), (tc, c)) if s is not None}).doit()
            got = explicit[r, c].replace(lambda e: isinstance(e, sp.Trace), lambda e: e.arg.as_explicit().trace())
            assert sp.simplify(got - want) == 0, (r, c)


def test_notes_forms():
    assert str(closed_form(d[0, i] * x[j, 0], (i, j), (n, m))) == "d.T*x.T"
    assert str(closed_form(sp.Sum(d[0, k] * W[k, j], (k, 0, n - 1)), (j, None), (m, 1))) == "(d*W).T"


def test_no_closed_form_is_an_error():
    with pytest.raises(ClosedFormError):
        closed_form(W[i, j] * W[j, i] * x[k, 0], (i, j), (n, n))


# ----- the post-passes that make forms the size a textbook writes -----

from jacobian_sym.engine.closed_form import factor_hadamard, merge_scalar_powers  # noqa: E402
from jacobian_sym.ops.table import OpApply  # noqa: E402

P, Q, R = (sp.MatrixSymbol(c, n, m) for c in "PQR")


def _explicit_equal(a, b, sizes=None):
    """Element-by-element equality at concrete sizes, through SymPy's explicit matrices."""
    sizes = sizes or {n: 2, m: 3}
    return sp.simplify(a.xreplace(sizes).as_explicit() - b.xreplace(sizes).as_explicit()) == sp.zeros(
        *(int(s.xreplace(sizes)) for s in a.shape))


@pytest.mark.parametrize("expr, common", [
    (sp.HadamardProduct(P, Q) - sp.HadamardProduct(P, R), 1),                       # P ∘ (Q − R)
    (sp.HadamardProduct(P, Q) - sp.HadamardProduct(sp.HadamardPower(Q, 2), P), 2),  # P ∘ Q ∘ (1 − Q)
    (sp.HadamardProduct(P, Q, R) + 3 * sp.HadamardProduct(R, P), 2),                 # P ∘ R ∘ (Q + 3)
])
def test_a_factor_every_term_has_is_taken_out(expr, common):
    out = factor_hadamard(expr)
    assert isinstance(out, sp.HadamardProduct) and len(out.args) == common + 1
    assert _explicit_equal(out, expr)


@pytest.mark.parametrize("expr", [
    sp.HadamardProduct(P, Q) + R,                         # R has no factor in common
    sp.HadamardProduct(P, Q) + sp.HadamardProduct(Q, R) - sp.HadamardProduct(R, P),  # no factor in all
    P @ sp.MatrixSymbol("S", m, m) + sp.HadamardProduct(P, Q),  # a matrix product is one factor, not P's
])
def test_nothing_is_taken_out_where_no_factor_is_common(expr):
    assert factor_hadamard(expr) == expr


def _norm(v):
    return OpApply("norm", (1, 1), v)


w, v = sp.MatrixSymbol("w", n, 1), sp.MatrixSymbol("v", n, 1)


@pytest.mark.parametrize("term, bases", [
    (sp.MatMul(w, sp.HadamardPower(_norm(w), -2), sp.HadamardPower(_norm(w), -1), w.T, v), 1),  # 1/‖w‖³
    (sp.MatMul(w, sp.HadamardPower(sp.MatMul(_norm(w), _norm(v)), -1), _norm(v)), 1),  # ‖v‖ cancels
    (sp.MatMul(2, w, sp.HadamardPower(_norm(w), -1), _norm(w)), 0),  # 2 w: finite at w = 0
])
def test_powers_of_one_by_one_factors_merge_by_base(term, bases):
    out = merge_scalar_powers(term)
    one_by_one = [a for a in (out.args if isinstance(out, sp.MatMul) else (out,))
                  if isinstance(a, sp.MatrixExpr) and a.shape == (1, 1) and a.has(OpApply)]
    assert len(one_by_one) == bases, out
    values = {w: sp.Matrix([[1], [2]]), v: sp.Matrix([[3], [-1]])}
    def at(e):
        return e.xreplace({n: 2}).xreplace(values).replace(
            lambda x: isinstance(x, OpApply), lambda x: sp.Matrix([[sp.sqrt(sum(c**2 for c in x.operands[0]))]]))
    assert sp.simplify(sp.Matrix(at(out).doit()) - sp.Matrix(at(term).doit())) == sp.zeros(2, 1)


def test_a_product_of_larger_matrices_is_not_merged():
    term = sp.MatMul(w, w.T, v, _norm(w))  # wᵀv is 1×1 but made of n-vectors: it stays where it is
    assert merge_scalar_powers(term) == term


def test_a_power_of_a_larger_product_is_left_where_it_is():
    """(W x)^∘(−3/4) is a power of an n×1 product, not a number: the term is unchanged, once."""
    Wm = sp.MatrixSymbol("W", n, n)
    term = sp.MatMul(sp.Rational(1, 4), sp.HadamardPower(Wm @ a, sp.Rational(-3, 4)), a.T)
    assert merge_scalar_powers(term) == term
