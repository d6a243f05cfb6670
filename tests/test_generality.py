"""Gradients the notes do not contain, derived by the same engine with no per-expression code."""

import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.proofs.explicit import Explicit, concrete_sizes

x, a = js.vector("x", "n"), js.vector("a", "n")
A, W = js.matrix("A", "n", "n"), js.matrix("W", "n", "m")
X, b = js.matrix("X", "n", "m"), js.vector("b", "m")


def _ms(name, r, c):
    sz = lambda s: s if isinstance(s, int) else sp.Symbol(s, integer=True, positive=True)
    return sp.MatrixSymbol(name, sz(r), sz(c))


CASES = {
    "a^T x by x": (lambda: js.gradient(a.T @ x, x), _ms("a", "n", 1).T),
    "W^T x by x": (lambda: js.jacobian(W.T @ x, x), _ms("W", "n", "m").T),
    "x^T A x by x": (lambda: js.gradient(x.T @ A @ x, x),
                     _ms("x", "n", 1).T * (_ms("A", "n", "n") + _ms("A", "n", "n").T)),
    "a^T X b by X": (lambda: js.gradient(a.T @ X @ b, X), _ms("a", "n", 1) * _ms("b", "m", 1).T),
    "sum sigmoid(Wb) by W": (lambda: js.gradient(js.sum(js.sigmoid(W @ b)), W), None),
    "tr(A X W^T) by X": (lambda: js.gradient(js.tr(A @ X @ W.T), X), _ms("A", "n", "n").T * _ms("W", "n", "m")),
    "||X W^T - A||^2 by W": (lambda: js.gradient(js.sum(js.square(X @ W.T - A)), W),
                             2 * (_ms("X", "n", "m") * _ms("W", "n", "m").T - _ms("A", "n", "n")).T
                             * _ms("X", "n", "m")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_derived_and_proved(case):
    build, claim = CASES[case]
    d = build()
    report = js.verify(d)
    assert report.ok, str(report)
    if claim is not None:
        for sizes in concrete_sizes(d):
            ex = Explicit(d, sizes)
            mapping = {k: sp.ImmutableMatrix(v) for k, v in ex.values.items() if isinstance(v, sp.MatrixBase)}
            mapping.update(sizes)
            want = sp.Matrix(claim.xreplace(mapping).doit().as_explicit())
            assert (want - ex.closed()).applyfunc(sp.expand) == sp.zeros(*want.shape)


def test_denominator_layout_gives_the_column_gradient():
    d = js.gradient(x.T @ A @ x, x, layout="denominator")
    assert d.closed_form.shape == (sp.Symbol("n", integer=True, positive=True), 1)
    assert js.verify(d).ok
