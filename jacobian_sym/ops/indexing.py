"""How an op's element formula is read: ``IndexContext`` gives the formula its sums and elements.

The op table writes each op's forward as the (i, j) element of its result (``ix.sum(lambda k: …,
size)``, ``ix.at(A, i, k)``); the context decides whether a sum is a symbolic ``Sum`` over a fresh
index (the engine) or an explicit ``Add`` at concrete sizes (the proofs).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import IndexPool, is_index


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

    def part(self, A, i, j):
        """Element (i, j) of A as a part of a concatenation: the index of the part not taken may lie
        outside A (B's row i − a for i < a), so it is not range-checked until it is a number (see
        ``PartElement``)."""
        if not hasattr(A, "shape"):
            return A
        rows, cols = A.shape
        return PartElement(A, 0 if rows == 1 else i, 0 if cols == 1 else j)

    def sum(self, body, size):
        """Σ_k body(k) for k in 0 … size−1 (no sum at all over a length-1 axis)."""
        if size == 1:
            return body(sp.Integer(0))
        if self.explicit:
            return sp.Add(*(body(sp.Integer(k)) for k in range(int(size))))
        k = self.pool.fresh()
        return sp.Sum(body(k), (k, 0, size - 1))


class Before(sp.Function):
    """The Iverson bracket [i < n] of an index and a size: 1 or 0 once both are numbers. A product
    with it is how a concatenation's element picks its part (a Piecewise would be pulled out of
    the sums around it by SymPy, although its condition is on their index)."""

    nargs = 2
    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, i, n):
        difference = i - n
        if difference.is_number:
            return sp.Integer(1) if difference < 0 else sp.Integer(0)
        indices = [s for s in difference.free_symbols if is_index(s)]
        if indices:  # an element index is ≥ 0: [i + a < a] is 0 (the second part's own element, shifted)
            lowest = difference.xreplace({s: sp.Dummy(integer=True, nonnegative=True) for s in indices})
            if lowest.is_nonnegative:
                return sp.Integer(0)
        return None

    def _latex(self, printer):
        return rf"[{printer._print(self.args[0])} < {printer._print(self.args[1])}]"

    def _sympystr(self, printer):
        return f"[{printer._print(self.args[0])} < {printer._print(self.args[1])}]"


class PartElement(MatrixElement):
    """An element of one part of a concatenation (see ``IndexContext.part``)."""

    def __new__(cls, M, i, j):
        i, j = _index(i), _index(j)
        if isinstance(M, sp.MatrixBase) and i.is_Integer and j.is_Integer and 0 <= i < M.rows and 0 <= j < M.cols:
            return M[i, j]  # an explicit matrix's element, once the indices are numbers in range
        return sp.Expr.__new__(cls, M, i, j)

    def doit(self, **hints):  # (MatrixElement.doit indexes its parent, which range-checks)
        return PartElement(*(a.doit(**hints) if hints.get("deep", True) else a for a in self.args))


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
