"""How a claim writes an inverse, a solve and the determinants: inv(X), solve(A, b), det(X),
logdet(X) in Python; X^{-1}, X^{-T}, \\det X, \\log\\det X, \\log|X| in LaTeX (the reader maps them here).

Each is the SymPy matrix expression the engine's closed forms use (``Inverse``, and the opaque ``Det``
and ``LogDet`` of ``ops.linalg``), so that a claim and a derived form compare term by term.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.ops.linalg import Det, LogDet


def _shape(e):
    return e.shape if isinstance(e, sp.MatrixExpr) else (1, 1)


def is_square_matrix(e) -> bool:
    """A matrix (not a number, not 1×1) with as many rows as columns: what X^{-1} inverts."""
    return isinstance(e, sp.MatrixExpr) and e.shape[0] == e.shape[1] and e.shape != (1, 1)


def _square(name, A, fail, pos):
    if not isinstance(A, sp.MatrixExpr) or A.shape[0] != A.shape[1]:
        fail(f"{name} takes a square matrix, not a {fmt_shape(_shape(A))} value", pos)


def inverse(A, fail, pos):
    _square("an inverse", A, fail, pos)
    return sp.Inverse(A)


def solved(A, B, fail, pos):
    """solve(A, b) = A⁻¹ b."""
    _square("solve", A, fail, pos)
    if not isinstance(B, sp.MatrixExpr) or B.shape[0] != A.shape[1]:
        fail(f"solve(A, b): A is {fmt_shape(A.shape)} but b is {fmt_shape(_shape(B))}", pos)
    return sp.MatMul(sp.Inverse(A), B)


def linalg_call(name, A, fail, pos):
    """inv(X), det(X) or logdet(X) of a square matrix X (solve takes two arguments: ``solved``)."""
    if name == "solve":
        fail("solve takes two arguments: solve(A, b)", pos)
    _square(name, A, fail, pos)
    if name == "inv":
        return sp.Inverse(A)
    return Det(A) if name == "det" else LogDet(A)
