"""The 1-D convolution as a composite over the op table's ``unfold`` (``graph/composites.py`` registers
it): its backward is the product's, derived, with unfold's declared adjoint fold."""

from __future__ import annotations

import sympy as sp

from jacobian_sym.errors import ShapeError
from jacobian_sym.graph import expr as E


def conv1d(X: E.Node, W: E.Node, stride=1, padding=0) -> E.Node:
    """The 1-D convolution (cross-correlation, as deep-learning frameworks compute it) of a T×c_in
    sequence X with a kernel W of width w written as a (w·c_in)×c_out matrix, its w taps of c_in×c_out
    stacked (row k·c_in + j: tap k, input channel j): unfold(X, w, stride, padding) W, so
    Y_{t,o} = Σ_k Σ_j X_{s·t + k − p, j} W_{k·c_in + j, o}. The width is W's rows over X's columns."""
    width = sp.simplify(W.shape[0] / X.shape[1])
    if not (width.is_Integer and width > 0):
        raise ShapeError(f"the kernel's {W.shape[0]} rows are not a whole number of taps of the "
                         f"sequence's {X.shape[1]} channels (W is (width·c_in)×c_out)")
    for name, value in (("stride", stride), ("padding", padding)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ShapeError(f"{name} must be a whole number, not {value!r}")
    return E.apply("unfold", X, width=int(width), stride=stride, padding=padding) @ W
