"""The engine's local derivative (cheap Kronecker deltas) agrees with SymPy's own diff on element
formulas of the op table, symbolic and concrete."""

import pytest
import sympy as sp

from jacobian_sym.base.sizes import index_symbol, size_symbol
from jacobian_sym.engine.local import delta, local_derivative
from jacobian_sym.ops.indexing import IndexContext
from jacobian_sym.ops.table import OPS

n, m = size_symbol("n"), size_symbol("m")
i, j, p, q = (index_symbol(s) for s in "ijpq")


@pytest.mark.parametrize("name", ["matmul", "add", "mul", "softmax", "sum", "norm", "sigmoid", "relu"])
def test_local_derivative_is_sympys(name):
    op = OPS[name]
    A = sp.MatrixSymbol("A", n, m)
    B = sp.MatrixSymbol("B", m, m) if name == "matmul" else sp.MatrixSymbol("B", n, m)
    args = (A, B)[: op.arity]
    element = op.element(IndexContext(), i, j, *args)
    ours = local_derivative(element, A[p, q])
    theirs = sp.diff(element, A[p, q])
    assert sp.simplify((ours - theirs).doit()) == 0, (ours, theirs)


def test_deltas():
    assert delta(i, i, n) == 1
    assert delta(sp.Integer(0), sp.Integer(2), n) == 0
    assert delta(i, i + 1, n) == 0
    assert delta(p, i, n) == delta(i, p, n) and delta(i, p, n).args[:2] == (i, p)
