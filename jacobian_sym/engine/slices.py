"""Slices of a matrix expression: the part of a concatenation's signal that one part fills.

A slice is taken inside what it can go through — a sum, a Hadamard product, a number times a matrix,
ones vectors, the last or first factor of a product — so that ∂J/∂V₂ reads δ₁ (W_o[k+1:2k, :])ᵀ,
the rows of W_o that head 2 feeds, and a slice of ones stays ones (no float64 array of ones in a
float32 kernel). What cannot be entered is SymPy's ``MatrixSlice``.
"""

from __future__ import annotations

import sympy as sp


def slice_of(M, rows, cols):
    """M[rows, cols] (spans (start, stop, step)), taken inside a sum, a Hadamard product, a transpose
    and a product (its first factor's rows, its last factor's columns): a slice of 1 1ᵀ is 1 1ᵀ of the
    slice's shape, of δ₁W_oᵀ it is δ₁ (W_o[rows, :])ᵀ. What it cannot enter is SymPy's ``MatrixSlice``."""
    n_rows, n_cols = rows[1] - rows[0], cols[1] - cols[0]
    whole_rows, whole_cols = (rows[0], rows[1]) == (0, M.shape[0]), (cols[0], cols[1]) == (0, M.shape[1])
    if whole_rows and whole_cols:
        return M
    if is_ones(M):
        return sp.OneMatrix(n_rows, n_cols)
    if isinstance(M, sp.MatAdd):
        return sp.MatAdd(*(slice_of(a, rows, cols) for a in M.args))
    if isinstance(M, sp.HadamardProduct):
        return sp.HadamardProduct(*(slice_of(a, rows, cols) for a in M.args))
    if isinstance(M, sp.Transpose):
        return sp.Transpose(slice_of(M.arg, cols, rows))
    if isinstance(M, sp.MatMul):  # (A ⋯ B)[r, c] = A[r, :] ⋯ B[:, c]
        coeff, mats = M.as_coeff_matrices()
        first, last = mats[0], mats[-1]
        if len(mats) == 1:
            return coeff * slice_of(first, rows, cols)
        head = slice_of(first, rows, (0, first.shape[1], 1))
        tail = slice_of(last, (0, last.shape[0], 1), cols)
        product = sp.MatMul(head, *mats[1:-1], tail)
        return product if coeff == 1 else sp.MatMul(coeff, product)
    return sp.MatrixSlice(M, rows, cols)


def is_ones(M) -> bool:
    """Whether M is a matrix of ones: 1 1ᵀ, or a product of ones vectors (1_B 1ᵀ)."""
    if isinstance(M, sp.OneMatrix):
        return True
    return isinstance(M, sp.MatMul) and all(isinstance(a, sp.OneMatrix) for a in M.args)


def without_ones(h):
    """A Hadamard product without its factors of ones (of its own shape): 1 1ᵀ ∘ z = z."""
    rest = [a for a in h.args if not is_ones(a)]
    if not rest:
        return sp.OneMatrix(*h.shape)
    return rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest)
