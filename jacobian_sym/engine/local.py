"""The local derivative of an element formula by one element of an argument, with cheap deltas.

SymPy's ``diff`` of a matrix element by another makes ``KroneckerDelta(i, p, (0, n − 1))`` and checks
that range through the assumptions system for every delta — most of a deep model's derivation. The
indices here lie in their ranges by construction, so the argument's elements are swapped for
elements that build their deltas directly (δ_aa = 1, δ between two different numbers 0, else an
unevaluated δ in canonical order, range attached), differentiated, and swapped back.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.sorting import default_sort_key
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.ops.indexing import element_of


def delta(a, b, size):
    """δ_ab for indices in 0 … size − 1."""
    if a == b:
        return sp.Integer(1)
    difference = a - b
    if difference.is_Number:
        return sp.Integer(0)
    if default_sort_key(b) < default_sort_key(a):
        a, b = b, a
    return sp.KroneckerDelta(a, b, sp.Tuple(0, size - 1), evaluate=False)


class _Element(MatrixElement):
    """An element whose derivative by an element of the same matrix is a product of cheap deltas."""

    def _eval_derivative(self, v):
        if isinstance(v, MatrixElement) and v.parent == self.parent:
            rows, cols = self.parent.shape
            return delta(self.indices[0], v.indices[0], rows) * delta(self.indices[1], v.indices[1], cols)
        return super()._eval_derivative(v)


def local_derivative(element: sp.Expr, by: MatrixElement) -> sp.Expr:
    """∂ element / ∂ by, for ``by`` an element of a matrix symbol."""
    M = by.parent
    swapped = element.replace(lambda e: type(e) is not _Element and isinstance(e, MatrixElement) and e.parent == M,
                              lambda e: sp.Expr.__new__(_Element, M, *e.indices))
    out = sp.diff(swapped, sp.Expr.__new__(_Element, M, *by.indices))
    return out.replace(lambda e: isinstance(e, _Element), lambda e: element_of(M, *e.indices))
