"""Structural ops: products, transposes, sums and differences, Hadamard products and quotients, powers by a number,
concatenation along an axis (heads side by side).

Each is spelled by a Python operator in the graph API (``@``, ``.T``, ``+``, ``-``, ``*``, ``/``,
unary ``-``), with broadcasting along length-1 axes (a bias over a batch, a scalar times a matrix).
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.errors import ShapeError
from jacobian_sym.ops.indexing import Before
from jacobian_sym.ops.table import Op, OpApply, declare, same_shape, whole_element


# ----- shape rules -----
def _same_or_broadcast(name):
    def rule(a, b):
        out = []
        for x, y in zip(a, b):
            if x == y or y == 1:
                out.append(x)
            elif x == 1:
                out.append(y)
            else:
                raise ShapeError(f"{name}: shapes {fmt_shape(a)} and {fmt_shape(b)} do not match")
        return tuple(out)

    return rule


def _matmul_shape(a, b):
    if a[1] != b[0]:
        raise ShapeError(f"matmul: {fmt_shape(a)} @ {fmt_shape(b)}: inner sizes {a[1]} and {b[0]} differ")
    return (a[0], b[1])


# ----- matrix-level forms -----
def _broadcast(M, shape):
    """M stretched to ``shape`` along its length-1 axes (b → b 1ᵀ for a bias over a batch)."""
    if isinstance(M, sp.Expr) and not isinstance(M, sp.MatrixExpr):
        return M * sp.OneMatrix(*shape)
    rows, cols = M.shape
    if rows == 1 and shape[0] != 1:
        M = sp.MatMul(sp.OneMatrix(shape[0], 1), M)
    if cols == 1 and shape[1] != 1:
        M = sp.MatMul(M, sp.OneMatrix(1, shape[1]))
    return M


def _shape_of(M):
    return M.shape if isinstance(M, sp.MatrixExpr) else (1, 1)


def _elementwise_binary(combine):
    def matrix(A, B):
        shape = tuple(x if x != 1 else y for x, y in zip(_shape_of(A), _shape_of(B)))
        if isinstance(A, sp.MatrixExpr) and not isinstance(B, sp.MatrixExpr):  # a 1×1 value and a number
            return combine(B, A, scalar=True, swap=True)
        if _both_unit(A, B) and combine in (_add, _sub, _mul):  # z − y of two 1×1 values, not z·1 − y
            return combine(A, B) if combine is not _mul else sp.MatMul(A, B)
        if not isinstance(A, sp.MatrixExpr) or A.shape == (1, 1):
            return combine(whole_element(A), B, scalar=True)
        if not isinstance(B, sp.MatrixExpr) or B.shape == (1, 1):
            return combine(whole_element(B), A, scalar=True, swap=True)
        return combine(_broadcast(A, shape), _broadcast(B, shape))

    return matrix


def _both_unit(A, B) -> bool:
    return all(isinstance(M, sp.MatrixExpr) and M.shape == (1, 1) for M in (A, B))


def _add(A, B, scalar=False, swap=False):
    if scalar:
        return sp.MatAdd(A * sp.OneMatrix(*B.shape), B) if not swap else sp.MatAdd(B, A * sp.OneMatrix(*B.shape))
    return sp.MatAdd(A, B)


def _sub(A, B, scalar=False, swap=False):
    if scalar:
        ones = A * sp.OneMatrix(*B.shape)
        return sp.MatAdd(ones, -B) if not swap else sp.MatAdd(B, -ones)
    return sp.MatAdd(A, -B)


def _mul(A, B, scalar=False, swap=False):
    return sp.MatMul(A, B) if scalar else sp.HadamardProduct(A, B)


def _div(A, B, scalar=False, swap=False):
    if scalar and swap:  # matrix / scalar
        return sp.MatMul(1 / A, B)
    if scalar:  # scalar / matrix
        return sp.MatMul(A, sp.HadamardPower(B, -1))
    return sp.HadamardProduct(A, sp.HadamardPower(B, -1))


def _pow_shape(a, p):
    """A ** p for a number p (the graph gives the exponent as a 1×1 constant): A's shape."""
    if tuple(p) != (1, 1):
        raise ShapeError(f"pow: the exponent is a number, not a {fmt_shape(p)} value")
    return a


def _concat_shape(a, b, axis=None):
    if type(axis) is not int or axis not in (0, 1):
        raise ShapeError(f"concat needs axis=0 (one above the other) or axis=1 (side by side), not {axis!r}")
    keep = 1 - axis
    if a[keep] != b[keep]:
        what = "rows" if keep == 0 else "columns"
        raise ShapeError(f"concat along axis {axis}: {fmt_shape(a)} and {fmt_shape(b)} differ in their number of "
                         f"{what} ({a[keep]} and {b[keep]})")
    return (a[0] + b[0], a[1]) if axis == 0 else (a[0], a[1] + b[1])


def _concat_element(ix, i, j, A, B, axis=None):
    """[i < a] A_ij + (1 − [i < a]) B_(i−a)j along axis 0 (rows), the same on j along axis 1; at
    concrete sizes the part is picked at once (the other part has no such element)."""
    index, n = (i, ix.rows(A)) if axis == 0 else (j, ix.cols(A))
    inside = Before(index, n)
    if inside.is_Number and inside:
        return ix.part(A, i, j)
    second = ix.part(B, i - n, j) if axis == 0 else ix.part(B, i, j - n)
    return second if inside.is_Number else inside * ix.part(A, i, j) + (1 - inside) * second


def concat_offsets(shapes, axis):
    """Where each part starts along ``axis`` in a concatenation of parts of ``shapes``."""
    offsets, at = [], sp.Integer(0)
    for shape in shapes:
        offsets.append(at)
        at = at + shape[axis]
    return offsets


# ----- the ops -----
declare(Op(
    "matmul", 2, _matmul_shape,
    element=lambda ix, i, j, A, B: ix.sum(lambda k: ix.at(A, i, k) * ix.at(B, k, j), ix.cols(A)),
    matrix=lambda A, B: sp.MatMul(A, B), operator="@",
))
declare(Op(
    "transpose", 1, lambda a: (a[1], a[0]),
    element=lambda ix, i, j, A: ix.at(A, j, i),
    matrix=lambda A: sp.Transpose(A), operator=".T",
))
declare(Op(
    "add", 2, _same_or_broadcast("add"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) + ix.at(B, i, j),
    matrix=_elementwise_binary(_add), operator="+",
))
declare(Op(
    "sub", 2, _same_or_broadcast("sub"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) - ix.at(B, i, j),
    matrix=_elementwise_binary(_sub), operator="-",
))
declare(Op(
    "mul", 2, _same_or_broadcast("mul (Hadamard)"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) * ix.at(B, i, j),
    matrix=_elementwise_binary(_mul), operator="*",
))
declare(Op(
    "div", 2, _same_or_broadcast("div"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) / ix.at(B, i, j),
    matrix=_elementwise_binary(_div), operator="/",
))
declare(Op(
    "pow", 2, _pow_shape,
    element=lambda ix, i, j, A, p: ix.at(A, i, j) ** p,
    matrix=lambda A, p: sp.HadamardPower(A, p), operator="**", kind="power", domains=("positive",),
))
declare(Op(
    "concat", 2, _concat_shape, element=_concat_element,
    matrix=lambda A, B, axis=None: OpApply("concat", _concat_shape(A.shape, B.shape, axis), A, B, axis=axis),
    params=("axis",),
))
declare(Op(
    "neg", 1, same_shape,
    element=lambda ix, i, j, A: -ix.at(A, i, j),
    matrix=lambda A: -A, operator="unary -",
))
declare(Op(
    "copy", 1, same_shape,
    element=lambda ix, i, j, A: ix.at(A, i, j),
    matrix=lambda A: A,
))
