"""Each rewrite rule: one case where it applies, one where it must not."""

import sympy as sp

from jacobian_sym.base.sizes import index_symbol, size_symbol
from jacobian_sym.engine import rules as R

n = size_symbol("n")
i, j, k, q = (index_symbol(c) for c in "ijkl")
x, y, yhat, theta = (sp.MatrixSymbol(s, n, 1) for s in ("x", "y", "yhat", "theta"))
F = R.Facts(softmax=[(theta, yhat, 0)], one_hot=[(y, 0)])
NONE = R.Facts()


def test_split_sum():
    assert R.split_sum(sp.Sum(x[k, 0] + y[k, 0], (k, 0, n - 1)), NONE) == \
        sp.Sum(x[k, 0], (k, 0, n - 1)) + sp.Sum(y[k, 0], (k, 0, n - 1))
    assert R.split_sum(sp.Sum(x[k, 0] * y[k, 0], (k, 0, n - 1)), NONE) is None


def test_factor_sum():
    assert R.factor_sum(sp.Sum(x[i, 0] * y[k, 0], (k, 0, n - 1)), NONE) == x[i, 0] * sp.Sum(y[k, 0], (k, 0, n - 1))
    assert R.factor_sum(sp.Sum(x[i, 0], (k, 0, n - 1)), NONE) == n * x[i, 0]
    assert R.factor_sum(sp.Sum(x[k, 0] * y[k, 0], (k, 0, n - 1)), NONE) is None


def test_collapse_kronecker():
    s = sp.Sum(sp.KroneckerDelta(k, i) * x[k, 0], (k, 0, n - 1))
    assert R.collapse_kronecker(s, NONE) == x[i, 0]
    assert R.collapse_kronecker(sp.Sum(sp.KroneckerDelta(j, i) * x[k, 0], (k, 0, n - 1)), NONE) is None


def test_drop_range_guards():
    guarded = sp.Piecewise((x[i, 0], (i >= 0) & (i <= n - 1)), (0, True))
    assert R.drop_range_guards(guarded, NONE) == x[i, 0]
    other = sp.Piecewise((x[i, 0], x[i, 0] > 0), (0, True))
    assert R.drop_range_guards(other, NONE) is None


def test_one_hot_sum():
    assert R.one_hot_sum(sp.Sum(y[k, 0], (k, 0, n - 1)), F) == 1
    assert R.one_hot_sum(sp.Sum(x[k, 0], (k, 0, n - 1)), F) is None
    assert R.one_hot_sum(sp.Sum(y[k, 0], (k, 0, n - 1)), NONE) is None


def test_softmax_quotient():
    quotient = sp.exp(theta[i, 0]) / sp.Sum(sp.exp(theta[q, 0]), (q, 0, n - 1))
    assert R.softmax_quotient(quotient, F) == yhat[i, 0]
    assert R.softmax_quotient(quotient, NONE) is None
    assert R.softmax_quotient(sp.exp(theta[i, 0]), F) is None


def test_kronecker_same():
    assert R.kronecker_same(sp.KroneckerDelta(i, i, evaluate=False), NONE) in (1, None)
    assert R.kronecker_same(sp.KroneckerDelta(i, j), NONE) is None


def test_fixed_point_reaches_yhat_minus_y():
    dJ = -y[k, 0] / yhat[k, 0]
    dsm = sp.KroneckerDelta(i, k, (0, n - 1)) * yhat[k, 0] - yhat[i, 0] * yhat[k, 0]
    assert R.simplify_index(sp.Sum(dJ * dsm, (k, 0, n - 1)), F) == yhat[i, 0] - y[i, 0]
    # without the one-hot fact the general form ŷ·Σy − y stays
    general = R.simplify_index(sp.Sum(dJ * dsm, (k, 0, n - 1)), R.Facts(softmax=F.softmax))
    assert general.has(sp.Sum) and general != yhat[i, 0] - y[i, 0]
