"""How an op's element formula is read: ``IndexContext`` gives the formula its sums and elements.

The op table writes each op's forward as the (i, j) element of its result (``ix.sum(lambda k: …,
size)``, ``ix.at(A, i, k)``); the context decides whether a sum is a symbolic ``Sum`` over a fresh
index (the engine) or an explicit ``Add`` at concrete sizes (the proofs).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import IndexPool


class IndexContext:
    """How an op's element formula is read: with symbolic sums, or explicitly at concrete sizes."""

    def __init__(self, pool: IndexPool | None = None, explicit: bool = False):
        self.pool = pool or IndexPool()
        self.explicit = explicit

    @staticmethod
    def rows(A):
        return A.shape[0] if hasattr(A, "shape") else 1

    @staticmethod
    def cols(A):
        return A.shape[1] if hasattr(A, "shape") else 1

    def at(self, A, i, j):
        """Element (i, j) of A, broadcasting along length-1 axes; a number is its own element."""
        if not hasattr(A, "shape"):
            return A
        rows, cols = A.shape
        r, c = 0 if rows == 1 else i, 0 if cols == 1 else j
        return element_of(A, r, c) if isinstance(A, sp.MatrixSymbol) else A[r, c]

    def sum(self, body, size):
        """Σ_k body(k) for k in 0 … size−1 (no sum at all over a length-1 axis)."""
        if size == 1:
            return body(sp.Integer(0))
        if self.explicit:
            return sp.Add(*(body(sp.Integer(k)) for k in range(int(size))))
        k = self.pool.fresh()
        return sp.Sum(body(k), (k, 0, size - 1))


def element_of(M, i, j):
    """The element (i, j) of the matrix symbol M, built without asking whether the indices lie in
    range: SymPy's MatrixElement asks the assumptions system (``valid_index``) each time, which was
    a quarter of a deep derivation, and here every index lies in its range by construction. A symbol
    class may name its own element class (``element_class``: a scalar's prints as its name)."""
    cls = getattr(M, "element_class", MatrixElement)
    return sp.Expr.__new__(cls, M, _index(i), _index(j))


def _index(i):
    """An index as a SymPy object (the engine passes 0 for a length-1 axis as a Python int)."""
    return sp.Integer(i) if isinstance(i, int) else i
