"""The terms of an index expression read as factors: each factor a matrix with two index slots
(None on a length-1 axis), so that the recogniser can combine them by their indices."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import is_index
from jacobian_sym.errors import ClosedFormError
from jacobian_sym.ops.functions import ElementFunction


@dataclass(frozen=True)
class Factor:
    M: sp.MatrixExpr
    r: sp.Symbol | None
    c: sp.Symbol | None

    @property
    def T(self) -> Factor:
        return Factor(transpose(self.M), self.c, self.r)

    @property
    def indices(self) -> frozenset:
        return frozenset(x for x in (self.r, self.c) if x is not None)


def transpose(M):
    """Mᵀ, kept unevaluated (as the notes write (δ₂W)ᵀ) except where it is free."""
    if isinstance(M, sp.Transpose):
        return M.arg
    if isinstance(M, (sp.Identity, sp.DiagMatrix)) or M.shape == (1, 1) and not isinstance(M, sp.MatMul):
        return M
    if isinstance(M, sp.OneMatrix):
        return sp.OneMatrix(M.shape[1], M.shape[0])
    if isinstance(M, sp.HadamardProduct):
        return sp.HadamardProduct(*(transpose(a) for a in M.args))
    return sp.Transpose(M)


def _slot(index, size):
    if size == 1:
        if index != 0:
            raise ClosedFormError(f"index {index} on a length-1 axis")
        return None
    return index


def _scale(coeff, M):
    if coeff == 1:
        return M
    return sp.MatMul(coeff, M)


# ----- reading a term -----
class _Term:
    def __init__(self, dummies):
        self.coeff = sp.Integer(1)
        self.factors: list[Factor] = []
        self.dummies: dict = dict(dummies)  # index -> size
        self.deltas: list = []
        self.units: list = []  # 1×1 matrices (a scalar node such as p = σ(z) in logistic regression)

    def read(self, e):
        if isinstance(e, sp.Mul):
            for f in e.args:
                self.read(f)
        elif isinstance(e, sp.Sum):
            for k, lo, hi in e.limits:
                if lo != 0:
                    raise ClosedFormError(f"a sum from {lo} has no matrix form")
                self.dummies[k] = hi + 1
            self.read(sp.expand(e.function, power_exp=False, log=False))
        elif isinstance(e, sp.Add):
            if _index_free(e):
                self.coeff *= e
            else:
                raise ClosedFormError(f"no matrix form for the sum inside {e}")
        elif isinstance(e, sp.KroneckerDelta):
            self.deltas.append(e.args[:2])
        elif _unit_factor(e):
            self.factors.append(_as_factor(e))
        elif _index_free(e):
            self.coeff *= e
        else:
            self.factors.append(_as_factor(e))


def _unit_factor(e) -> bool:
    """A factor made of one element of a 1×1 matrix: s[0, 0], σ′(z[0, 0]), 1/p[0, 0]."""
    elements = e.atoms(MatrixElement)
    return (len(elements) == 1 and next(iter(elements)).parent.shape == (1, 1)
            and not any(is_index(s) for s in e.free_symbols))


def _index_free(e) -> bool:
    """No free index: a scalar such as 2, s[0, 0] or Σ_kl A_kl² (its indices are bound)."""
    return not any(is_index(s) for s in e.free_symbols)


def _as_factor(e) -> Factor:
    if isinstance(e, MatrixElement):
        M = e.parent
        return Factor(M, _slot(e.indices[0], M.shape[0]), _slot(e.indices[1], M.shape[1]))
    if isinstance(e, sp.Pow) and isinstance(e.base, MatrixElement) and e.exp.is_number:
        inner = _as_factor(e.base)
        return Factor(sp.HadamardPower(inner.M, e.exp), inner.r, inner.c)
    if isinstance(e, sp.Function) and len(e.args) == 1 and isinstance(e.args[0], MatrixElement):
        inner = _as_factor(e.args[0])
        fn = type(e) if isinstance(e, (ElementFunction, sp.exp, sp.log, sp.tanh)) else _lambda_of(e)
        return Factor(ElementwiseApplyFunction(fn, inner.M), inner.r, inner.c)
    elements = e.atoms(MatrixElement)
    if len(elements) == 1:
        (el,) = elements
        inner = _as_factor(el)
        d = sp.Dummy("s")
        return Factor(ElementwiseApplyFunction(sp.Lambda(d, e.xreplace({el: d})), inner.M), inner.r, inner.c)
    raise ClosedFormError(f"no matrix form for the factor {e}")


def _lambda_of(e):
    d = sp.Dummy("s")
    return sp.Lambda(d, e.func(d))

