"""Declared structure of a variable: a symmetric matrix (S = Sᵀ), optionally positive definite.

The convention for the gradient by a symmetric S, fixed here once: S_ij and S_ji are one variable,
and ∂J/∂S holds at (i, j) and at (j, i) the derivative of J by that one free entry — The Matrix
Cookbook §2.8.2, "∂f/∂A = [∂f/∂A] + [∂f/∂A]ᵀ − diag[∂f/∂A]" for symmetric A, where [∂f/∂A] is the
gradient G of J as a function of an unconstrained A: ∂J/∂S = G + Gᵀ − I ∘ G. (The gradient in the
space of symmetric matrices under the Frobenius product is the other common choice, (G + Gᵀ)/2; it
differs off the diagonal by a factor of 2.) A directional derivative along a symmetric V is then
Σ_{i≤j} (∂J/∂S)_ij V_ij (``pairing``).

Positive definiteness changes nothing in a derivation; it only makes random test values SPD (R Rᵀ/n + I).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from jacobian_sym.errors import ShapeError

#: the structure a variable may declare, with what it means, for messages and pages
STRUCTURES = {"symmetric": "S = Sᵀ", "positive_definite": "symmetric positive definite"}


def structure_attrs(name: str, shape, symmetric: bool = False, positive_definite: bool = False) -> tuple:
    """The node attributes of a declared structure, checked: both flags are booleans, a positive
    definite matrix is symmetric, and a symmetric matrix is square with more than one row."""
    for key, flag in (("symmetric", symmetric), ("positive_definite", positive_definite)):
        if not isinstance(flag, bool):
            raise ShapeError(f"{name}: {key} = {flag!r}; it is true or false")
    if not (symmetric or positive_definite):
        return ()
    rows, cols = shape
    if rows != cols or rows == 1:
        raise ShapeError(f"{name}: a symmetric matrix is square with more than one row, not {rows}×{cols}")
    return (("symmetric", True),) + ((("positive_definite", True),) if positive_definite else ())


def is_symmetric(node) -> bool:
    """Whether ``node`` is a variable declared symmetric (or positive definite)."""
    return node.is_leaf and bool(node.attr("symmetric"))


def declared_words(node) -> str | None:
    """What a page says after the name of a variable declared symmetric (None for any other)."""
    if not is_symmetric(node):
        return None
    kind = "symmetric positive definite" if node.attr("positive_definite") else "symmetric"
    return (f" is {kind}: its entries at (i, j) and (j, i) are one variable, and the gradient by it holds the "
            "derivative by that entry at both places (The Matrix Cookbook §2.8.2: G + Gᵀ − I ∘ G, for G the "
            "gradient in an unconstrained matrix).")


def tied_gradient(G):
    """∂J/∂S = G + Gᵀ − I ∘ G for a symmetric S, from the gradient G of J in an unconstrained S (a
    SymPy Matrix or a NumPy array): the derivative by each free entry, at both of its places."""
    if isinstance(G, np.ndarray):
        return G + G.T - np.diag(np.diag(G))
    return G + G.T - sp.diag(*[G[k, k] for k in range(G.rows)])


def pairing(grad: np.ndarray, V: np.ndarray) -> float:
    """The directional derivative ⟨∂J/∂S, V⟩ along a symmetric V for a free-entry gradient:
    Σ_{i≤j} (∂J/∂S)_ij V_ij (each free entry once)."""
    return float(np.sum(np.triu(grad) * V))


def symmetric_array(R: np.ndarray, positive_definite: bool = False) -> np.ndarray:
    """A symmetric matrix made from a random square R: (R + Rᵀ)/2, or R Rᵀ/n + I when positive definite."""
    if positive_definite:
        return R @ R.T / R.shape[0] + np.eye(R.shape[0])
    return (R + R.T) / 2


def symmetric_exact(R: sp.Matrix, positive_definite: bool = False) -> sp.Matrix:
    """``symmetric_array`` in exact rational arithmetic."""
    if positive_definite:
        return R * R.T / R.rows + sp.eye(R.rows)
    return (R + R.T) / 2


def asymmetry(A: np.ndarray) -> float:
    """max |A − Aᵀ| relative to max |A| (0 for a symmetric matrix)."""
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    return float(np.max(np.abs(A - A.T))) / scale if scale > 0 else 0.0
