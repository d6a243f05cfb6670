"""Composites: named functions that expand to the op table's primitives, so the engine derives their
backward from the primitives (the op table carries no hand-written derivative).

    layer_norm(X, axis=1, eps=1e-5) = (X − mean(X, axis)) ∘ rsqrt(var(X, axis) + eps)
    batch_norm(X, eps=1e-5)         = the same with the statistics over axis 0 (the batch, per feature)

A scale γ and a shift β are written by the model (``layer_norm(X, axis=1) * g + b``), as they are
parameters of the model, not of the normalisation. The normalised value and its statistics are
named nodes (``<name>_mu``, ``<name>_var`` …) when the composite is itself named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jacobian_sym.errors import ShapeError
from jacobian_sym.graph import expr as E
from jacobian_sym.graph.expr import exact_number

DEFAULT_EPS = 1e-5


@dataclass(frozen=True)
class Composite:
    name: str
    params: tuple
    build: Callable  # (node, **params) -> Node
    doc: str


def _eps(eps) -> object:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ShapeError(f"eps must be a positive number, not {eps!r}")
    return exact_number(eps)


def _axis(axis, node) -> int:
    if type(axis) is not int or axis not in (0, 1):
        raise ShapeError(f"axis must be 0 or 1, not {axis!r} (the operand is {node.shape[0]}×{node.shape[1]})")
    return axis


def layer_norm(X: E.Node, axis: int = 1, eps=DEFAULT_EPS) -> E.Node:
    """(X − mean(X, axis)) ∘ 1/√(var(X, axis) + eps): each row (axis 1) or column (axis 0) normalised."""
    axis, eps = _axis(axis, X), _eps(eps)
    centred = X - E.apply("mean", X, axis=axis)
    return centred * E.apply("rsqrt", E.apply("var", X, axis=axis) + E.constant(eps))


def batch_norm(X: E.Node, eps=DEFAULT_EPS) -> E.Node:
    """Layer norm's formula with the statistics over the batch (axis 0): each feature (column)
    normalised over the examples (rows)."""
    return layer_norm(X, axis=0, eps=eps)


COMPOSITES: dict[str, Composite] = {
    "layer_norm": Composite("layer_norm", ("axis", "eps"), layer_norm, layer_norm.__doc__),
    "batch_norm": Composite("batch_norm", ("eps",), batch_norm, batch_norm.__doc__),
}
