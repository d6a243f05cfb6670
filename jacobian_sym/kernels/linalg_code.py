"""A product with an inverse in a kernel is a solve: A⁻¹ B is ``_solve(A, B)`` and B A⁻¹ is
``_solve(Aᵀ, Bᵀ).T`` (an LU factorisation and two triangular solves, no inverse formed — cheaper and
more accurate than inv(A) @ B). The runtime's ``_solve`` refuses a singular A."""

from __future__ import annotations

import sympy as sp


def _inverse_of(m):
    """(A, transposed) when ``m`` is A⁻¹ or (A⁻¹)ᵀ = (Aᵀ)⁻¹, else None."""
    transposed = isinstance(m, sp.Transpose)
    if transposed:
        m = m.arg
    if not isinstance(m, sp.Inverse):
        return None
    A = m.arg
    if isinstance(A, sp.Transpose):  # (Bᵀ)⁻¹ = (B⁻¹)ᵀ
        A, transposed = A.arg, not transposed
    return A, transposed


def inverse_code(m, operand) -> str:
    """A⁻¹ alone (the value itself is asked for, ∂ log|det X|/∂X = X⁻ᵀ): the runtime's checked ``_inv``."""
    A, transposed = _inverse_of(m)
    return f"_inv({operand(A)})" + (".T" if transposed else "")


def solve_chain(mats, chain, operand) -> str | None:
    """The code of the product ``mats`` with its first inverse as a solve, or None when it has none.
    ``chain`` prints a product of the other factors, ``operand`` one factor."""
    at = next((k for k, m in enumerate(mats) if _inverse_of(m) is not None), None)
    if at is None:
        return None
    A, transposed = _inverse_of(mats[at])
    a = f"{operand(A)}.T" if transposed else operand(A)
    a_t = operand(A) if transposed else f"{operand(A)}.T"
    left, right = mats[:at], mats[at + 1:]
    if right:  # L A⁻¹ R = L (A⁻¹ R)
        code = f"_solve({a}, {chain(right)})"
        return code if not left else f"({chain(left)} @ {code})"
    # L A⁻¹ = (A⁻ᵀ Lᵀ)ᵀ
    return f"_solve({a_t}, ({chain(left)}).T).T"
