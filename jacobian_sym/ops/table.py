"""The op table: every op declared once.

An entry says all that the engine, the renderer and the code generator need about an op: its shape
rule, its forward in index notation (``element``: the (i, j) element of the result from the elements
of the arguments), its matrix-level form, its LaTeX form and its NumPy lowering. Derivatives are not
written here: the engine derives them from ``element``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from jacobian_sym.base.safe_text import check_name
from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.errors import ShapeError, UnknownFunctionError
from jacobian_sym.ops.functions import element_function


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    shape: Callable  # (*arg shapes, **params) -> result shape; raises ShapeError
    element: Callable  # (ix, i, j, *arg matrices, **params) -> the (i, j) element of the result
    matrix: Callable  # (*arg matrices, **params) -> the result as a SymPy matrix expression
    latex: str  # template over the arguments' LaTeX: {0}, {1} (replaced, not str.format)
    numpy: str  # template over the arguments' NumPy code: {0}, {1}; {np} is the module prefix
    kind: str = "linear"  # linear | elementwise | reduction | loss
    #: the notes' identity that the op's local derivative is an instance of (one per argument, or one)
    uses: str | tuple | None = None
    function: type | None = None  # the SymPy function class of an element-wise op
    params: tuple = field(default=())


OPS: dict[str, Op] = {}


def declare(op: Op) -> Op:
    OPS[op.name] = op
    return op


def uses_for(op: Op, position: int | None = None) -> list[str]:
    """The identities an op's local derivative uses (for one argument position, or all)."""
    if op.uses is None:
        return []
    if isinstance(op.uses, str):
        return [op.uses]
    return list(op.uses) if position is None else [op.uses[position]]


def get_op(name: str) -> Op:
    try:
        return OPS[name] if name in OPS else UNDEFINED[name]
    except KeyError:
        known = ", ".join(sorted(n for n in OPS if not n.startswith("_")))
        raise UnknownFunctionError(f"unknown function {name!r}; known: {known}") from None


class OpApply(sp.MatrixExpr):
    """The matrix-level form of an op SymPy has no class for (softmax(θ), cross_entropy(y, ŷ), …)."""

    def __new__(cls, name, shape, *operands, axis=None):
        if isinstance(name, sp.Symbol):  # rebuilt by SymPy from its own args
            return sp.Basic.__new__(cls, name, sp.Tuple(*shape), *operands)
        ax = sp.Integer(-1 if axis is None else axis)
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
        ax = int(self.args[2])
        return {} if ax < 0 else {"axis": ax}

    def _entry(self, i, j, **kwargs):
        from jacobian_sym.engine.index import IndexContext

        return get_op(self.op_name).element(IndexContext(), i, j, *self.operands, **self.params)

    def _eval_transpose(self):
        return None


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
        raise ShapeError(
            f"matmul: {fmt_shape(a)} @ {fmt_shape(b)}: inner sizes {a[1]} and {b[0]} differ"
        )
    return (a[0], b[1])


def _same(a):
    return a


def _scalar_of_same(name):
    def rule(a, b):
        if a != b:
            raise ShapeError(f"{name}: shapes {fmt_shape(a)} and {fmt_shape(b)} differ")
        return (sp.Integer(1), sp.Integer(1))

    return rule


def _vector_axis(shape, axis):
    if axis is not None:
        return axis
    return 1 if shape[0] == 1 and shape[1] != 1 else 0


def _softmax_shape(a, axis=None):
    if axis is not None and (type(axis) is not int or axis not in (0, 1)):
        raise ShapeError(f"softmax: axis must be 0 or 1, not {axis!r}")
    return a


def _square_shape(a):
    if a[0] != a[1]:
        raise ShapeError(f"tr: the matrix is {fmt_shape(a)}, not square")
    return (sp.Integer(1), sp.Integer(1))


# ----- matrix-level helpers -----
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
        if not isinstance(A, sp.MatrixExpr) or A.shape == (1, 1):
            return combine(A if not isinstance(A, sp.MatrixExpr) else A[0, 0], B, scalar=True)
        if not isinstance(B, sp.MatrixExpr) or B.shape == (1, 1):
            return combine(B if not isinstance(B, sp.MatrixExpr) else B[0, 0], A, scalar=True, swap=True)
        return combine(_broadcast(A, shape), _broadcast(B, shape))

    return matrix


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


# ----- structure: products, transposes, sums -----
declare(Op(
    "matmul", 2, _matmul_shape,
    element=lambda ix, i, j, A, B: ix.sum(lambda k: ix.at(A, i, k) * ix.at(B, k, j), ix.cols(A)),
    matrix=lambda A, B: sp.MatMul(A, B),
    latex="{0} {1}", numpy="{0} @ {1}", uses=("2.5", "2.1"),
))
declare(Op(
    "transpose", 1, lambda a: (a[1], a[0]),
    element=lambda ix, i, j, A: ix.at(A, j, i),
    matrix=lambda A: sp.Transpose(A),
    latex="{0}^{T}", numpy="{0}.T", uses="2.3",
))
declare(Op(
    "add", 2, _same_or_broadcast("add"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) + ix.at(B, i, j),
    matrix=_elementwise_binary(_add), latex="{0} + {1}", numpy="{0} + {1}", uses="2.3",
))
declare(Op(
    "sub", 2, _same_or_broadcast("sub"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) - ix.at(B, i, j),
    matrix=_elementwise_binary(_sub), latex="{0} - {1}", numpy="{0} - {1}", uses="2.3",
))
declare(Op(
    "mul", 2, _same_or_broadcast("mul (Hadamard)"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) * ix.at(B, i, j),
    matrix=_elementwise_binary(_mul), latex=r"{0} \circ {1}", numpy="{0} * {1}", uses="2.4",
))
declare(Op(
    "div", 2, _same_or_broadcast("div"),
    element=lambda ix, i, j, A, B: ix.at(A, i, j) / ix.at(B, i, j),
    matrix=_elementwise_binary(_div), latex=r"{0} \oslash {1}", numpy="{0} / {1}", uses="2.4",
))
declare(Op(
    "copy", 1, _same,
    element=lambda ix, i, j, A: ix.at(A, i, j),
    matrix=lambda A: A, latex="{0}", numpy="{0}", uses="2.3",
))
declare(Op(
    "neg", 1, _same,
    element=lambda ix, i, j, A: -ix.at(A, i, j),
    matrix=lambda A: -A, latex="-{0}", numpy="-{0}", uses="2.3",
))


# ----- element-wise functions -----
def _elementwise_op(name, form_of, latex, numpy) -> Op:
    fn = element_function(name, form_of, latex, numpy)
    return Op(
        name, 1, _same,
        element=lambda ix, i, j, A: fn(ix.at(A, i, j)),
        matrix=lambda A: ElementwiseApplyFunction(fn, A),
        latex=latex + r"\left({0}\right)", numpy=numpy or "", kind="elementwise", uses="2.4", function=fn,
    )


def elementwise(name, form_of, latex, numpy) -> Op:
    """Declare an element-wise op from its scalar definition ``form_of(s)``."""
    return declare(_elementwise_op(name, form_of, latex, numpy))


def _sigmoid(s):
    return 1 / (1 + sp.exp(-s))


LEAKY_SLOPE = sp.Rational(1, 100)

elementwise("relu", lambda s: sp.Max(s, 0), r"\operatorname{ReLU}", "{np}maximum({0}, 0)")
elementwise("leaky_relu", lambda s: sp.Max(s, LEAKY_SLOPE * s), r"\operatorname{LeakyReLU}",
            "{np}where({0} > 0, {0}, 0.01 * {0})")
elementwise("sigmoid", _sigmoid, r"\sigma", "0.5 * (1 + {np}tanh(0.5 * {0}))")
elementwise("tanh", sp.tanh, r"\tanh", "{np}tanh({0})")
elementwise("exp", sp.exp, r"\exp", "{np}exp({0})")
elementwise("log", sp.log, r"\log", "{np}log({0})")
elementwise("softplus", lambda s: sp.log(1 + sp.exp(s)), r"\operatorname{softplus}", "{np}logaddexp(0, {0})")
elementwise("square", lambda s: s**2, r"\operatorname{square}", "{0} ** 2")


#: generic functions (the notes' f and g): kept apart from OPS, so that a model file, a claim or a
#: kernel never sees one because some derivation made it
UNDEFINED: dict[str, Op] = {}


def undefined_function(name: str) -> Op:
    """An element-wise function with no definition (the notes' generic f of identity 2.4)."""
    check_name(name, "function name")
    if name in OPS:
        raise UnknownFunctionError(f"{name!r} is an op of the op table; pick another name for a generic function")
    if name not in UNDEFINED:
        UNDEFINED[name] = _elementwise_op(name, None, name, None)
    return UNDEFINED[name]


# ----- vector functions, reductions and losses -----
def _softmax_element(ix, i, j, A, axis=None):
    ax = _vector_axis(A.shape, axis)
    if ax == 0:
        return sp.exp(ix.at(A, i, j)) / ix.sum(lambda k: sp.exp(ix.at(A, k, j)), ix.rows(A))
    return sp.exp(ix.at(A, i, j)) / ix.sum(lambda k: sp.exp(ix.at(A, i, k)), ix.cols(A))


def _log_softmax_element(ix, i, j, A, axis=None):
    ax = _vector_axis(A.shape, axis)
    if ax == 0:
        return ix.at(A, i, j) - sp.log(ix.sum(lambda k: sp.exp(ix.at(A, k, j)), ix.rows(A)))
    return ix.at(A, i, j) - sp.log(ix.sum(lambda k: sp.exp(ix.at(A, i, k)), ix.cols(A)))


def _total(ix, A, body):
    return ix.sum(lambda k: ix.sum(lambda m: body(k, m), ix.cols(A)), ix.rows(A))


def _scalar_apply(name):
    return lambda *args: OpApply(name, (1, 1), *args)


declare(Op(
    "softmax", 1, _softmax_shape, element=_softmax_element,
    matrix=lambda A, axis=None: OpApply("softmax", A.shape, A, axis=axis),
    latex=r"\operatorname{softmax}\left({0}\right)", numpy="_softmax({0}, {axis})",
    kind="vector", uses="2.7", params=("axis",),
))
declare(Op(
    "log_softmax", 1, _softmax_shape, element=_log_softmax_element,
    matrix=lambda A, axis=None: OpApply("log_softmax", A.shape, A, axis=axis),
    latex=r"\log\operatorname{softmax}\left({0}\right)", numpy="_log_softmax({0}, {axis})",
    kind="vector", uses="2.7", params=("axis",),
))
declare(Op(
    "sum", 1, lambda a: (sp.Integer(1), sp.Integer(1)),
    element=lambda ix, i, j, A: _total(ix, A, lambda k, m: ix.at(A, k, m)),
    matrix=_scalar_apply("sum"), latex=r"\operatorname{sum}\left({0}\right)", numpy="{np}sum({0})",
    kind="reduction",
))
declare(Op(
    "tr", 1, _square_shape,
    element=lambda ix, i, j, A: ix.sum(lambda k: ix.at(A, k, k), ix.rows(A)),
    matrix=lambda A: sp.Trace(A), latex=r"\operatorname{tr}\left({0}\right)", numpy="{np}trace({0})",
    kind="reduction",
))
declare(Op(
    "norm", 1, lambda a: (sp.Integer(1), sp.Integer(1)),
    element=lambda ix, i, j, A: sp.sqrt(_total(ix, A, lambda k, m: ix.at(A, k, m) ** 2)),
    matrix=_scalar_apply("norm"), latex=r"\left\lVert {0} \right\rVert_{F}", numpy="{np}linalg.norm({0})",
    kind="reduction",
))
declare(Op(
    "cross_entropy", 2, _scalar_of_same("cross_entropy"),
    element=lambda ix, i, j, Y, P: -_total(ix, Y, lambda k, m: ix.at(Y, k, m) * sp.log(ix.at(P, k, m))),
    matrix=_scalar_apply("cross_entropy"), latex=r"\operatorname{CE}\left({0}, {1}\right)",
    numpy="_cross_entropy({0}, {1})", kind="loss", uses="2.7",
))
declare(Op(
    "binary_cross_entropy", 2, _scalar_of_same("binary_cross_entropy"),
    element=lambda ix, i, j, Y, P: -_total(
        ix, Y, lambda k, m: ix.at(Y, k, m) * sp.log(ix.at(P, k, m))
        + (1 - ix.at(Y, k, m)) * sp.log(1 - ix.at(P, k, m))),
    matrix=_scalar_apply("binary_cross_entropy"), latex=r"\operatorname{BCE}\left({0}, {1}\right)",
    numpy="_binary_cross_entropy({0}, {1})", kind="loss",
))
declare(Op(
    "mse", 2, _scalar_of_same("mse"),
    element=lambda ix, i, j, Y, P: sp.Rational(1, 2) * _total(
        ix, Y, lambda k, m: (ix.at(P, k, m) - ix.at(Y, k, m)) ** 2),
    matrix=_scalar_apply("mse"), latex=r"\tfrac12\left\lVert {1} - {0} \right\rVert^2",
    numpy="0.5 * {np}sum(({1} - {0}) ** 2)", kind="loss",
))
