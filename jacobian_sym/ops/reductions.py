"""Vector functions along an axis (softmax, log-softmax) and reductions to a number (sum, trace, norm)."""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.errors import ShapeError
from jacobian_sym.ops.table import Op, OpApply, declare, scalar_shape, vector_axis


def _axis_shape(name):
    def rule(a, axis=None):
        if axis is not None and (type(axis) is not int or axis not in (0, 1)):
            raise ShapeError(f"{name}: axis must be 0 or 1, not {axis!r}")
        return a

    return rule


def _square_shape(a):
    if a[0] != a[1]:
        raise ShapeError(f"tr: the matrix is {fmt_shape(a)}, not square")
    return (sp.Integer(1), sp.Integer(1))


def _along(ix, A, i, j, axis, body):
    """Σ over the op's axis of body(element) for the slice through (i, j)."""
    if vector_axis(A.shape, axis) == 0:
        return ix.sum(lambda k: body(ix.at(A, k, j)), ix.rows(A))
    return ix.sum(lambda k: body(ix.at(A, i, k)), ix.cols(A))


def _softmax_element(ix, i, j, A, axis=None):
    return sp.exp(ix.at(A, i, j)) / _along(ix, A, i, j, axis, sp.exp)


def _log_softmax_element(ix, i, j, A, axis=None):
    return ix.at(A, i, j) - sp.log(_along(ix, A, i, j, axis, sp.exp))


def total(ix, A, body):
    """Σ_km body(k, m) over every element of A."""
    return ix.sum(lambda k: ix.sum(lambda m: body(k, m), ix.cols(A)), ix.rows(A))


def scalar_apply(name):
    return lambda *args: OpApply(name, (1, 1), *args)


declare(Op(
    "softmax", 1, _axis_shape("softmax"), element=_softmax_element,
    matrix=lambda A, axis=None: OpApply("softmax", A.shape, A, axis=axis),
    kind="vector", params=("axis",),
))
declare(Op(
    "log_softmax", 1, _axis_shape("log_softmax"), element=_log_softmax_element,
    matrix=lambda A, axis=None: OpApply("log_softmax", A.shape, A, axis=axis),
    kind="vector", params=("axis",),
))
def _reduced_shape(name):
    def rule(a, axis=None):
        if type(axis) is not int or axis not in (0, 1):
            raise ShapeError(f"{name}: axis must be 0 (over the rows: one value per column) or 1 (over the "
                             f"columns: one value per row), not {axis!r}")
        return (sp.Integer(1), a[1]) if axis == 0 else (a[0], sp.Integer(1))

    return rule


def _count(ix, A, axis):
    return ix.rows(A) if axis == 0 else ix.cols(A)


def _mean_element(ix, i, j, A, axis=None):
    """(1/n) Σ_k A_kj (axis 0) or (1/n) Σ_k A_ik (axis 1)."""
    return _along(ix, A, i, j, axis, lambda e: e) / _count(ix, A, axis)


def _var_element(ix, i, j, A, axis=None):
    """The population variance (1/n) Σ_k (A_ik − μ_i)², as layer norm and batch norm use it."""
    mu = _mean_element(ix, i, j, A, axis)
    return _along(ix, A, i, j, axis, lambda e: (e - mu) ** 2) / _count(ix, A, axis)


for _name, _element in (("mean", _mean_element), ("var", _var_element)):
    declare(Op(
        _name, 1, _reduced_shape(_name), element=_element,
        matrix=lambda A, axis=None, _name=_name: OpApply(_name, _reduced_shape(_name)(A.shape, axis), A, axis=axis),
        kind="reduction", params=("axis",),
    ))
def _sum_shape(a, axis=None):
    """sum(A) is a number; sum(A, axis=0) one value per column, sum(A, axis=1) one per row."""
    return scalar_shape(a) if axis is None else _reduced_shape("sum")(a, axis)


def _sum_element(ix, i, j, A, axis=None):
    if axis is None:
        return total(ix, A, lambda k, m: ix.at(A, k, m))
    return _along(ix, A, i, j, axis, lambda e: e)


declare(Op(
    "sum", 1, _sum_shape, element=_sum_element,
    matrix=lambda A, axis=None: OpApply("sum", _sum_shape(A.shape, axis), A, axis=axis),
    kind="reduction", params=("axis",),
))
declare(Op(
    "tr", 1, _square_shape,
    element=lambda ix, i, j, A: ix.sum(lambda k: ix.at(A, k, k), ix.rows(A)),
    matrix=scalar_apply("tr"), kind="reduction",
))
declare(Op(
    "norm", 1, scalar_shape,
    element=lambda ix, i, j, A: sp.sqrt(total(ix, A, lambda k, m: ix.at(A, k, m) ** 2)),
    matrix=scalar_apply("norm"), kind="reduction",
))
