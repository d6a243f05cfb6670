"""The layout convention: the one place that decides where transposes go.

``numerator`` (the notes' layout): the derivative of a scalar J by a column vector z is a row δ
(1×n), by a matrix W it is arranged in W's shape; the Jacobian of a vector z by a vector x is
(∂z/∂x)ᵢⱼ = ∂zᵢ/∂xⱼ. ``denominator`` (gradient layout): the derivative of a scalar by any tensor
has that tensor's shape (δ a column), and Jacobians are the transposes of the numerator ones.
``shape`` is what the notes do to final gradients ("we transpose our answers … to follow the
shape convention"): every gradient in its variable's shape, whatever the layout of the signals.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.errors import JacobianSymError

LAYOUTS = ("numerator", "denominator")


def check_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise JacobianSymError(f"unknown layout {layout!r}; use 'numerator' or 'denominator'")
    return layout


def _is_column(shape) -> bool:
    return shape[1] == 1 and shape[0] != 1


def gradient_layout(shape, layout: str, *, to_shape: bool = False, batch=None):
    """The shape of ∂J/∂v for a tensor v of ``shape``, and where element v[p, q] sits in it.

    With a ``batch`` size, an n×B tensor is a batch of column vectors and its numerator-layout
    signal is B×n: one row δ per example, as the notes' δ is one row."""
    if layout == "numerator" and not to_shape and _is_column(shape):
        return (sp.Integer(1), shape[0]), lambda p, q: (0, p)
    if layout == "numerator" and not to_shape and batch is not None and shape[1] == batch != shape[0]:
        return (shape[1], shape[0]), lambda p, q: (q, p)
    return tuple(shape), lambda p, q: (p, q)


def _flat(shape, p, q):
    """The position of element (p, q) of a vector (or scalar) among its elements."""
    return p if shape[0] != 1 else q


def jacobian_layout(out_shape, in_shape, layout: str):
    """The shape of ∂f/∂x for vectors f and x, and where ∂f[r, s]/∂x[p, q] sits in it."""
    for what, shape in (("function", out_shape), ("variable", in_shape)):
        if shape[0] != 1 and shape[1] != 1:
            raise JacobianSymError(
                f"the Jacobian needs a vector {what}, not a {shape[0]}×{shape[1]} matrix; "
                "use gradient() of a scalar instead"
            )
    n_out = out_shape[0] * out_shape[1]
    n_in = in_shape[0] * in_shape[1]
    if layout == "numerator":
        return (n_out, n_in), lambda r, s, p, q: (_flat(out_shape, r, s), _flat(in_shape, p, q))
    return (n_in, n_out), lambda r, s, p, q: (_flat(in_shape, p, q), _flat(out_shape, r, s))
