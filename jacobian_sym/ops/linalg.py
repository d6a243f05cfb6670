"""Inverse, determinant and log-determinant of a square matrix: their elements are opaque symbols
whose derivative is one rule, d(X⁻¹) = −X⁻¹ dX X⁻¹ (and from it d det X = det X tr(X⁻¹ dX)).

The engine reads an op's forward as the (i, j) element of its result. For these ops that element is
not a finite formula at a symbolic size, so it is an opaque symbol — (X⁻¹)_ij, det X, log|det X| —
that knows its derivative by an element of X:

    ∂(X⁻¹)_ij / ∂X_pq = −(X⁻¹)_ip (X⁻¹)_qj,   ∂ det X / ∂X_pq = det X (X⁻¹)_qp,   ∂ log|det X| / ∂X_pq = (X⁻¹)_qp.

At concrete sizes (the proofs, the pointwise truth) the element is SymPy's explicit inverse or
determinant of the explicit matrix, so every closed form the rule gives is proved against the
explicit adjugate over the determinant — never against the rule itself.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import as_sympy, fmt_shape
from jacobian_sym.errors import ShapeError
from jacobian_sym.ops.table import Op, OpApply, declare


def _square(name):
    def rule(a):
        if a[0] != a[1]:
            raise ShapeError(f"{name}: the matrix is {fmt_shape(a)}, not square")
        return a if name == "inv" else (sp.Integer(1), sp.Integer(1))

    return rule


def _of(v, X):
    """The indices (p, q) of ``v`` when it is an element of the matrix X, else None."""
    if isinstance(v, MatrixElement) and v.parent == X:
        return v.indices
    return None


def _argument(printer, X, latex=False):
    """X as the argument of det: bare when it is a symbol, else in parentheses (det(W + x xᵀ))."""
    inner = printer._print(X)
    if isinstance(X, sp.MatrixSymbol):
        return f" {inner}"
    return rf"\left({inner}\right)" if latex else f"({inner})"


class InverseElement(MatrixElement):
    """(X⁻¹)_ij of a matrix symbol X, opaque: its derivative by X_pq is −(X⁻¹)_ip (X⁻¹)_qj."""

    def _eval_derivative(self, v):
        at = _of(v, self.parent.arg)
        if at is None:
            return sp.Integer(0)
        (i, j), (p, q) = self.indices, at
        return -inverse_element(self.parent.arg, i, p) * inverse_element(self.parent.arg, q, j)


def inverse_element(X, i, j):
    return sp.Expr.__new__(InverseElement, sp.Inverse(X), as_sympy(i), as_sympy(j))


class Det(sp.Determinant):
    """det X of a matrix symbol X, opaque: its derivative by X_pq is det X (X⁻¹)_qp."""

    def _eval_derivative(self, v):
        at = _of(v, self.arg)
        return sp.Integer(0) if at is None else self * inverse_element(self.arg, at[1], at[0])

    def doit(self, **hints):
        """The determinant of an explicit matrix (the proofs put one in for X); else itself."""
        arg = _explicit_value(self.arg)
        return _explicit(arg)[1] if arg is not None else self

    def _latex(self, printer):
        return rf"\det{_argument(printer, self.arg, latex=True)}"

    def _numpycode(self, printer):
        return f"{printer._module_format(printer._module + '.linalg.det')}({printer._print(self.arg)})"

    def _sympystr(self, printer):
        return f"det{_argument(printer, self.arg)}"


class LogDet(sp.Expr):
    """log |det X| of a matrix symbol X, opaque: its derivative by X_pq is (X⁻¹)_qp."""

    is_real = True

    def __new__(cls, X):
        return sp.Expr.__new__(cls, X)

    @property
    def arg(self):
        return self.args[0]

    def _eval_derivative(self, v):
        at = _of(v, self.arg)
        return sp.Integer(0) if at is None else inverse_element(self.arg, at[1], at[0])

    def doit(self, **hints):
        """log |det| of an explicit matrix, as ½ log det² (see ``_logdet_element``); else itself."""
        arg = _explicit_value(self.arg)
        return sp.log(_explicit(arg)[1] ** 2) / 2 if arg is not None else self

    def _numpycode(self, printer):
        return f"{printer._module_format(printer._module + '.linalg.slogdet')}({printer._print(self.arg)})[1]"

    def _latex(self, printer):
        return rf"\log\left\lvert \det{_argument(printer, self.arg, latex=True)} \right\rvert"

    def _sympystr(self, printer):
        return f"log|det{_argument(printer, self.arg)}|"


def _explicit_value(A):
    """A as an explicit matrix when it is one or a product, sum … of explicit matrices, else None."""
    if isinstance(A, sp.MatrixBase):
        return A
    if A.free_symbols and any(isinstance(s, sp.MatrixSymbol) for s in A.free_symbols):
        return None
    value = A.doit()
    return value if isinstance(value, sp.MatrixBase) else None


def opaque_arguments(expr) -> set:
    """The matrices whose elements ``expr`` reads through an opaque inverse or determinant (X of
    (X⁻¹)_ij, det X, log|det X|): a derivative of ``expr`` by X's elements is not 0."""
    inverses = {e.parent.arg for e in expr.atoms(InverseElement)}
    return inverses | {e.arg for e in expr.atoms(Det, LogDet)}


#: explicit inverses already computed (the proofs read all n² elements of one matrix)
_EXPLICIT: dict = {}


def _explicit(A):
    """(adjugate, determinant) of an explicit matrix, computed once per matrix."""
    key = sp.ImmutableMatrix(A)
    if key not in _EXPLICIT:
        if len(_EXPLICIT) > 64:
            _EXPLICIT.clear()
        _EXPLICIT[key] = (key.adjugate(method="berkowitz"), key.det(method="berkowitz"))
    return _EXPLICIT[key]


def explicit_inverse(A) -> sp.ImmutableMatrix:
    """A⁻¹ of an explicit matrix as its adjugate over its determinant (exact; no pivoting that a
    50-digit number near zero could mislead)."""
    adjugate, det = _explicit(A)
    return sp.ImmutableMatrix(adjugate / det)


def _inv_element(ix, i, j, A):
    if isinstance(A, sp.MatrixBase):
        adjugate, det = _explicit(A)
        return adjugate[i, j] / det
    return inverse_element(A, i, j)


def _solve_shape(a, b):
    _square("solve")(a)
    if a[1] != b[0]:
        raise ShapeError(f"solve: A is {fmt_shape(a)} but b is {fmt_shape(b)}: their sizes {a[1]} and {b[0]} differ")
    return (a[0], b[1])


def _solve_element(ix, i, j, A, B):
    """(A⁻¹ B)_ij = Σ_k (A⁻¹)_ik B_kj."""
    return ix.sum(lambda k: _inv_element(ix, i, k, A) * ix.at(B, k, j), ix.cols(A))


def _det_element(ix, i, j, A):
    return _explicit(A)[1] if isinstance(A, sp.MatrixBase) else Det(A)


def _logdet_element(ix, i, j, A):
    # log|d| as ½ log d²: the same real function, and SymPy differentiates it without Abs's sign
    return sp.log(_explicit(A)[1] ** 2) / 2 if isinstance(A, sp.MatrixBase) else LogDet(A)


declare(Op(
    "inv", 1, _square("inv"), element=_inv_element, matrix=lambda A: sp.Inverse(A), kind="linalg",
))
declare(Op(
    "solve", 2, _solve_shape, element=_solve_element, matrix=lambda A, B: sp.MatMul(sp.Inverse(A), B),
    kind="linalg",
))
declare(Op(
    "det", 1, _square("det"), element=_det_element, matrix=lambda A: OpApply("det", (1, 1), A), kind="linalg",
))
declare(Op(
    "logdet", 1, _square("logdet"), element=_logdet_element, matrix=lambda A: OpApply("logdet", (1, 1), A),
    kind="linalg",
))
