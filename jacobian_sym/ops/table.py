"""The op table's record and registry: ``Op``, ``declare``, ``get_op``, and ``OpApply`` (the matrix-level
form of an op SymPy has no class for).

An entry says what the mathematics needs about an op: its shape rule, its forward in index notation
(``element``: the (i, j) element of the result from the elements of the arguments), its matrix-level
form, which parameters it takes and which identity of the notes its local derivative instantiates.
Derivatives are not written: the engine derives them from ``element``. How an op is *printed* (LaTeX,
text, NumPy) or *read* (claims) is kept by each consumer in its own table keyed by the op's name
(``render.notation``, ``kernels.lowering``, ``claims.spelling``); ``tests/test_registries.py`` checks
that every op has an entry in each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.safe_text import check_name
from jacobian_sym.errors import UnknownFunctionError
from jacobian_sym.ops.functions import element_function
from jacobian_sym.ops.indexing import IndexContext


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: Callable  # (*arg shapes, **params) -> result shape; raises ShapeError
    element: Callable  # (ix, i, j, *arg matrices, **params) -> the (i, j) element of the result
    matrix: Callable  # (*arg matrices, **params) -> the result as a SymPy matrix expression
    kind: str = "linear"  # linear | elementwise | vector | reduction | loss | power | slice | indicator | window
    function: type | None = None  # the SymPy function class of an element-wise op
    params: tuple = field(default=())
    #: the Python operator that spells a structural op in the graph API (``@``, ``+``, ``.T``); such an
    #: op is not offered as a function (js.<name>) nor callable by name in a model file
    operator: str | None = None
    #: what each argument's values must be, for random test data: None (any real), "probability" or
    #: "positive"
    domains: tuple = field(default=())
    #: of a linear op whose element formula the engine cannot contract (its indices are affine, s·t + k):
    #: the closed form it hands its argument at ``position``, adjoint(signal, operands, position, **params)
    #: (unfold: fold; None for an operand read for its shape only)
    adjoint: Callable | None = None

    @property
    def along_axis(self) -> bool:
        """Whether the op acts along one axis of a matrix (its ``axis`` parameter; softmax)."""
        return "axis" in self.params


OPS: dict[str, Op] = {}


def declare(op: Op) -> Op:
    OPS[op.name] = op
    return op


def get_op(name: str) -> Op:
    """The op ``name`` (or a generic function made by :func:`undefined_function`)."""
    try:
        return OPS[name] if name in OPS else UNDEFINED[name]
    except KeyError:
        known = ", ".join(sorted(n for n in OPS if not n.startswith("_")))
        raise UnknownFunctionError(f"unknown function {name!r}; known: {known}") from None


class OpApply(sp.MatrixExpr):
    """The matrix-level form of an op SymPy has no class for (softmax(θ), cross_entropy(y, ŷ), …)."""

    def __new__(cls, name, shape, *operands, axis=None, **params):
        if isinstance(name, sp.Symbol):  # rebuilt by SymPy from its own args
            return sp.Basic.__new__(cls, name, sp.Tuple(*shape), *operands)
        ax = sp.Integer(-1 if axis is None else axis)
        if params:  # (number parameters besides the axis, unfold's width and stride: (axis, (name, value), …))
            ax = sp.Tuple(ax, *(sp.Tuple(sp.Symbol(k), sp.Integer(v) if isinstance(v, int) else v)
                                for k, v in sorted(params.items())))
        return sp.Basic.__new__(cls, sp.Symbol(name), sp.Tuple(*shape), ax, *operands)

    @property
    def op_name(self) -> str:
        return self.args[0].name

    @property
    def shape(self):
        return tuple(self.args[1])

    @property
    def operands(self):
        return self.args[3:]

    @property
    def params(self):
        head = self.args[2]
        ax, extra = (int(head[0]), head[1:]) if isinstance(head, sp.Tuple) else (int(head), ())
        return {**({} if ax < 0 else {"axis": ax}), **{k.name: int(v) if v.is_Integer else v for k, v in extra}}

    def _entry(self, i, j, **kwargs):
        return get_op(self.op_name).element(IndexContext(), i, j, *self.operands, **self.params)

    def _eval_transpose(self):
        return None


class WholeElement(MatrixElement):
    """The one element of a 1×1 expression (‖W‖, sum(W X), uᵀ A v), kept whole: SymPy's ``doit`` (which
    −M and many rewrites call) would write the element formula back, √Σ W_ij², Σ W_ij X_jk."""

    def doit(self, **hints):
        parent = self.parent.doit(**hints) if hints.get("deep", True) else self.parent
        return whole_element(parent)


def whole_element(M):
    """The element of a 1×1 value M as a scalar: a number is itself, a variable's element its element
    (λ), an expression's a ``WholeElement``."""
    if not isinstance(M, sp.MatrixExpr):
        return M[0, 0] if isinstance(M, sp.MatrixBase) else M
    if isinstance(M, (sp.MatrixSymbol, sp.Identity, sp.OneMatrix, sp.ZeroMatrix)):
        return M[0, 0]
    return WholeElement(M, 0, 0)


#: generic functions (the notes' f and g): kept apart from OPS, so that a model file, a claim or a
#: kernel never sees one because some derivation made it
UNDEFINED: dict[str, Op] = {}


def vector_axis(shape, axis):
    """The axis an along-axis op works on: the given one, else the vector's own axis (0 for a column)."""
    if axis is not None:
        return axis
    return 1 if shape[0] == 1 and shape[1] != 1 else 0


def same_shape(a):
    return a


def scalar_shape(*shapes):
    return (sp.Integer(1), sp.Integer(1))


def elementwise_op(name: str, form_of=None, domain: str | None = None) -> Op:
    """An element-wise op from its scalar definition ``form_of(s)`` (None: a generic function f);
    ``domain="positive"`` when it is defined for s > 0 only (√s)."""
    fn = element_function(name, form_of)
    # of a number or a size, √k: the number f(k), written by its definition (1/√k prints as the notes do)
    of_number = fn if fn.form is None else lambda a: fn(a).explicit()
    return Op(
        name, 1, same_shape,
        element=lambda ix, i, j, A: fn(ix.at(A, i, j)) if hasattr(A, "shape") else of_number(A),
        matrix=lambda A: ElementwiseApplyFunction(fn, A) if isinstance(A, sp.MatrixExpr) else of_number(A),
        kind="elementwise", function=fn, domains=(domain,) if domain else (),
    )


def undefined_function(name: str) -> Op:
    """An element-wise function with no definition (the notes' generic f of identity 2.4)."""
    check_name(name, "function name")
    if name in OPS:
        raise UnknownFunctionError(f"{name!r} is an op of the op table; pick another name for a generic function")
    if name not in UNDEFINED:
        UNDEFINED[name] = elementwise_op(name)
    return UNDEFINED[name]
