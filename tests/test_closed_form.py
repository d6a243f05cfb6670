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
