"""Losses: a label (or target) and a prediction of the same shape give a number."""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.errors import ShapeError
from jacobian_sym.ops.reductions import scalar_apply, total
from jacobian_sym.ops.table import Op, declare


def _scalar_of_same(name):
    def rule(a, b):
        if a != b:
            raise ShapeError(f"{name}: shapes {fmt_shape(a)} and {fmt_shape(b)} differ")
        return (sp.Integer(1), sp.Integer(1))

    return rule


declare(Op(
    "cross_entropy", 2, _scalar_of_same("cross_entropy"),
    element=lambda ix, i, j, Y, P: -total(ix, Y, lambda k, m: ix.at(Y, k, m) * sp.log(ix.at(P, k, m))),
    matrix=scalar_apply("cross_entropy"), kind="loss",
))
declare(Op(
    "binary_cross_entropy", 2, _scalar_of_same("binary_cross_entropy"),
    element=lambda ix, i, j, Y, P: -total(
        ix, Y, lambda k, m: ix.at(Y, k, m) * sp.log(ix.at(P, k, m))
        + (1 - ix.at(Y, k, m)) * sp.log(1 - ix.at(P, k, m))),
    matrix=scalar_apply("binary_cross_entropy"), kind="loss", domains=("probability", "probability"),
))
declare(Op(
    "mse", 2, _scalar_of_same("mse"),
    element=lambda ix, i, j, Y, P: sp.Rational(1, 2) * total(
        ix, Y, lambda k, m: (ix.at(P, k, m) - ix.at(Y, k, m)) ** 2),
    matrix=scalar_apply("mse"), kind="loss",
))
