"""Sliding windows over a sequence: ``unfold`` (im2col) and its adjoint ``_fold`` (col2im);
``max_pool1d`` and its adjoint ``_unpool``.

unfold(X, width, stride, padding) of a T×c sequence X is the T_out×(width·c) matrix whose row t is
the window of ``width`` rows of X starting at row s·t − p, side by side: tap k of the window fills
columns k·c … k·c + c − 1,

    unfold(X)_{t, k·c + j} = X_{s·t + k − p, j}      (0 outside X: the zero padding),
    T_out = (T + 2p − width)/s + 1.

A one-dimensional convolution is then a product, conv1d(X, W) = unfold(X) W (``graph/composites.py``),
whose backward the engine derives as for any product: ∂J/∂W = unfold(X)ᵀ δ, the correlation of the
signal with the input, and ∂J/∂unfold(X) = δ Wᵀ. unfold is linear, but its element formula has affine
indices (s·t + k) that the closed-form recogniser does not contract; its ``adjoint`` gives the closed
form it hands X: fold(G)_{a, j} = Σ_{t, k: s·t + k − p = a} G_{t, k·c + j}, the sum of the windows back
onto the rows they came from — so ∂J/∂X = fold(δ Wᵀ), the transposed convolution (the full correlation
of δ with the flipped kernel). The proofs check that adjoint at concrete sizes like every closed form.

max_pool1d(X, width, stride)_{t, j} = max_k X_{s·t + k, j}; its adjoint (the max's derivative, 1 at the
first maximum of each window, the rule of ``max``) is unpool(G; X): G_tj added onto the row of window
t's winner in column j.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.errors import DerivationError, ShapeError
from jacobian_sym.ops.indexing import Before, PartElement, element_of
from jacobian_sym.ops.table import Op, OpApply, declare


def _whole(name, value, least):
    if type(value) is not int or value < least:
        raise ShapeError(f"{name} must be a whole number ≥ {least}, not {value!r}")
    return value


def output_length(length, width, stride=1, padding=0, what="unfold"):
    """T_out = (T + 2p − width)/s + 1, refused unless it is a size for every T (≥ 1 row; s divides)."""
    width, stride, padding = _whole("width", width, 1), _whole("stride", stride, 1), _whole("padding", padding, 0)
    if padding >= width:
        raise ShapeError(f"{what}: padding {padding} must be less than the width {width}")
    span = sp.expand(length + 2 * padding - width)
    symbols = sorted(span.free_symbols, key=str)
    terms = sp.Poly(span, *symbols).coeffs() if symbols else [span]
    if any(not (c / stride).is_Integer for c in terms):
        raise ShapeError(f"{what}: stride {stride} does not divide {length} + 2·{padding} − {width} = {span} "
                         f"(the rows the windows step over)")
    out = sp.expand(span / stride + 1)
    growing = all(t.as_coeff_Mul()[0] > 0 for t in sp.Add.make_args(out) if t.free_symbols)
    if not growing or out.xreplace({s: 1 for s in symbols}) < 1:
        raise ShapeError(f"{what}: a sequence of {length} rows may be shorter than the window of width {width} "
                         f"(output length {out}); declare its length as at least the width, e.g. "
                         f"\"T + {width - 1 - 2 * padding}\"")
    return out


def _shifted(M, i, j):
    """M_ij at an index that is an expression (s·t + ⌊m/c⌋ − p), not range-checked: a matrix symbol's as
    a part element, an expression's (a signal handed back, δ ∘ ReLU′(Z)) element by element."""
    if isinstance(M, sp.MatrixSymbol) or not isinstance(M, sp.MatrixExpr):
        return PartElement(M, i, j)
    return M._entry(i, j)


def _unfold_shape(a, width=None, stride=1, padding=0):
    if width is None:
        raise ShapeError("unfold needs a width")
    return (output_length(a[0], width, stride, padding), width * a[1])


def _unfold_element(ix, t, m, X, width=None, stride=1, padding=0):
    """X_{s·t + k − p, j} for the column m = k·c + j; at concrete indices 0 in the padding."""
    c = ix.cols(X)
    if not (ix.explicit and isinstance(m, (int, sp.Integer)) and isinstance(t, (int, sp.Integer))):
        row = stride * t + sp.floor(m / c) - padding
        if not padding:
            return _shifted(X, row, sp.Mod(m, c))
        # in the padding: 0, by the brackets [0 ≤ row < T]; the row read is clamped into X, so that an
        # index form evaluated on arrays never reads past them
        inside = (1 - Before(row, 0)) * Before(row, ix.rows(X))
        return inside * _shifted(X, sp.Min(sp.Max(row, 0), ix.rows(X) - 1), sp.Mod(m, c))
    k, j = divmod(int(m), int(c))
    row = stride * int(t) + k - padding
    return ix.at(X, row, j) if 0 <= row < int(ix.rows(X)) else sp.Integer(0)


def _fold_shape(g, x, width=None, stride=1, padding=0):
    if g != _unfold_shape(x, width, stride, padding):
        raise ShapeError(f"_fold: a {fmt_shape(g)} signal is not the unfolding of a {fmt_shape(x)} sequence")
    return x


def _fold_element(ix, a, j, G, X, width=None, stride=1, padding=0):
    """Σ_{t, k: s·t + k − p = a} G_{t, k·c + j}: each window's rows added back where they came from."""
    c, t_out = ix.cols(X), ix.rows(G)
    if ix.explicit:
        return sp.Add(*(ix.at(G, t, k * int(c) + int(j)) for t in range(int(t_out)) for k in range(width)
                        if stride * t + k - padding == int(a)))
    return ix.sum(lambda t: ix.sum(lambda k: sp.KroneckerDelta(stride * t + k - padding, a)
                                   * _shifted(G, t, k * c + j), width), t_out)


declare(Op(
    "unfold", 1, _unfold_shape, element=_unfold_element,
    matrix=lambda X, width=None, stride=1, padding=0: OpApply(
        "unfold", _unfold_shape(X.shape, width, stride, padding), X, width=width, stride=stride, padding=padding),
    params=("width", "stride", "padding"), kind="window",
    adjoint=lambda G, operands, position, **params: OpApply("_fold", operands[0].shape, G, operands[0], **params),
))
declare(Op(
    "_fold", 2, _fold_shape, element=_fold_element,
    matrix=lambda G, X, **params: OpApply("_fold", X.shape, G, X, **params),
    params=("width", "stride", "padding"), kind="window",
    # (fold is linear in G, and its adjoint is unfold; X gives the length only)
    adjoint=lambda S, operands, position, **params: OpApply(
        "unfold", operands[0].shape, S, **params) if position == 0 else None,
))


# ----- max-pooling over windows -----
def _max_pool_shape(a, width=None, stride=None):
    if width is None or stride is None:
        raise ShapeError("max_pool1d needs a width and a stride")
    return (output_length(a[0], width, stride, 0, "max_pool1d"), a[1])


def _opaque(name, shape, operands, params, i, j):
    """The element (i, j) of an op's matrix form, kept whole: how the index forms (and their numeric
    check) read an op whose derivative is its declared adjoint, never its element formula."""
    return element_of(OpApply(name, shape, *operands, **params), i, j)


def _first_tap(ix, X, t, k, j, width, stride):
    """1[tap k is the first maximum of window t of column j]: Π_{m<k} [x_k > x_m] Π_{m>k} [x_k ≥ x_m]."""
    here = ix.at(X, stride * t + k, j)
    out = sp.Integer(1)
    for m in range(width):
        if m != k:
            x = here - ix.at(X, stride * t + m, j)
            out *= sp.Heaviside(x, 0) if m < k else 1 - sp.Heaviside(-x, 0)
    return out


def _max_pool_element(ix, t, j, X, width=None, stride=None):
    """max_k X_{s·t + k, j} (at concrete sizes SymPy's Max, whose derivative is the first winner's)."""
    if not ix.explicit:
        shape = _max_pool_shape(X.shape, width, stride)
        return _opaque("max_pool1d", shape, (X,), {"width": width, "stride": stride}, t, j)
    return sp.Max(*(ix.at(X, stride * int(t) + k, j) for k in range(width)))


def _unpool_element(ix, a, j, G, X, width=None, stride=None):
    """Σ_{t, k: s·t + k = a} 1[tap k wins window t] G_tj: each window's signal sent to its maximum."""
    if not ix.explicit:
        return _opaque("_unpool", X.shape, (G, X), {"width": width, "stride": stride}, a, j)
    return sp.Add(*(_first_tap(ix, X, t, k, j, width, stride) * ix.at(G, t, j)
                    for t in range(int(ix.rows(G))) for k in range(width) if stride * t + k == int(a)))


def _unpool_adjoint(S, operands, position, **params):
    if position == 1:  # piecewise constant in X: no signal (away from ties)
        return None
    raise DerivationError("a derivative through max-pooling's own backward (a second derivative of "
                          "max_pool1d) is not supported")


declare(Op(
    "max_pool1d", 1, _max_pool_shape, element=_max_pool_element,
    matrix=lambda X, width=None, stride=None: OpApply(
        "max_pool1d", _max_pool_shape(X.shape, width, stride), X, width=width, stride=stride),
    params=("width", "stride"), kind="window",
    # (∂J/∂X routes each window's signal to the window's first maximum)
    adjoint=lambda G, operands, position, **params: OpApply("_unpool", operands[0].shape, G, operands[0],
                                                            **params),
))
declare(Op(
    "_unpool", 2, lambda g, x, width=None, stride=None: x, element=_unpool_element,
    matrix=lambda G, X, **params: OpApply("_unpool", X.shape, G, X, **params),
    params=("width", "stride"), kind="window", adjoint=_unpool_adjoint,
))
