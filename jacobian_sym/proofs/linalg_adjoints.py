"""Inverse, solve, det and log|det| at a point, in mpmath: their values by LU (mpmath's ``inverse``,
``det``) and their adjoints by the rule d(X⁻¹) = −X⁻¹ dX X⁻¹, for the pointwise truth.

The pointwise truth differentiates every other op's element formula; an explicit inverse's element
is the adjugate over the determinant, whose formula grows factorially with the size (a 7×7 took a
minute), so at the pointwise sizes (5 to 8) these ops are evaluated as matrices instead:

    Y = A⁻¹:      Ā = −Yᵀ Ȳ Yᵀ            Y = A⁻¹B:  B̄ = A⁻ᵀ Ȳ,  Ā = −B̄ Yᵀ
    y = det A:    Ā = ȳ y A⁻ᵀ              y = log|det A|:  Ā = ȳ A⁻ᵀ

The rule itself is proved against SymPy's explicit inverse and determinant (``tests/test_linalg.py``),
and the exact proofs at small sizes use those explicit formulas, not this module.
"""

from __future__ import annotations

import mpmath

from jacobian_sym.errors import DerivationError

OPS = ("inv", "solve", "det", "logdet")


def _matrix(rows, cols, numbers):
    return mpmath.matrix([[numbers[r * cols + c] for c in range(cols)] for r in range(rows)])


def _numbers(M) -> list:
    return [M[r, c] for r in range(M.rows) for c in range(M.cols)]


def _inverse(A):
    if mpmath.det(A) == 0:
        raise DerivationError("a matrix to invert is singular at the random point (draw another)")
    return mpmath.inverse(A)


def forward(op: str, args: list) -> list:
    """The node's elements, row-major, from its arguments as (rows, cols, numbers)."""
    A = _matrix(*args[0])
    if op == "inv":
        return _numbers(_inverse(A))
    if op == "solve":
        return _numbers(_inverse(A) * _matrix(*args[1]))
    if op == "det":
        return [mpmath.det(A)]
    return [mpmath.log(abs(mpmath.det(A)))]


def adjoints(op: str, args: list, value: list, G: list) -> list:
    """Σ_pq G_pq ∂node_pq/∂arg for each argument (in the node's argument order), row-major numbers."""
    A = _matrix(*args[0])
    inverse_t = _inverse(A).T
    if op == "inv":
        n = A.rows
        Y = _matrix(n, n, value)
        return [_numbers(-(Y.T * _matrix(n, n, G) * Y.T))]
    if op == "solve":
        rows, cols = args[1][0], args[1][1]
        Y, bar = _matrix(rows, cols, value), _matrix(rows, cols, G)
        b_bar = inverse_t * bar
        return [_numbers(-(b_bar * Y.T)), _numbers(b_bar)]
    scale = G[0] * (value[0] if op == "det" else 1)
    return [_numbers(scale * inverse_t)]
