"""The expression graph: variables, the user-facing constructors and shape checking.

A graph is built from :class:`Node` objects. ``vector``, ``row`` and ``matrix`` make variables with
symbolic sizes; ``@``, ``.T``, ``+``, ``-``, ``*`` (Hadamard, or scaling by a scalar), ``/`` and
the op-table functions (``relu(z)``, ``softmax(theta)``, …) make nodes, and every node checks the
shapes of its arguments when it is made.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from jacobian_sym.base.safe_text import check_name
from jacobian_sym.base.sizes import as_size, fmt_shape
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.structure import structure_attrs
from jacobian_sym.ops.table import get_op


class Node:
    """One value of the graph: a variable, a constant, or an op applied to earlier nodes."""

    __slots__ = ("op", "args", "shape", "name", "attrs")

    def __init__(self, op: str, args: tuple, shape: tuple, name: str | None = None, attrs=()):
        self.op, self.args, self.shape, self.name = op, tuple(args), tuple(shape), name
        self.attrs = tuple(attrs)

    # ----- construction -----
    def named(self, name: str) -> Node:
        """This node with a name (a forward-pass name such as ``z`` or ``yhat``)."""
        _check_name(name)
        return Node(self.op, self.args, self.shape, name, self.attrs)

    def attr(self, key, default=None):
        return dict(self.attrs).get(key, default)

    @property
    def is_leaf(self) -> bool:
        return self.op == "variable"

    @property
    def T(self) -> Node:
        return apply("transpose", self)

    def __matmul__(self, other):
        return apply("matmul", self, other)

    def __rmatmul__(self, other):
        return apply("matmul", other, self)

    def __add__(self, other):
        return apply("add", self, other)

    def __radd__(self, other):
        return apply("add", other, self)

    def __sub__(self, other):
        return apply("sub", self, other)

    def __rsub__(self, other):
        return apply("sub", other, self)

    def __mul__(self, other):
        return apply("mul", self, other)

    def __rmul__(self, other):
        return apply("mul", other, self)

    def __truediv__(self, other):
        return apply("div", self, other)

    def __rtruediv__(self, other):
        return apply("div", other, self)

    def __neg__(self):
        return apply("neg", self)

    def __pow__(self, exponent):
        return power(self, exponent)

    def __getitem__(self, key):
        """A slice as Python writes it, 0-based with the stop excluded: ``W[:"k", :]``, ``x[0:2]`` (a
        vector along its own axis); a bound is a whole number, a size name ("2*k") or a SymPy size."""
        return slice_node(self, key)

    # ----- inspection -----
    def structure(self):
        """A nested tuple that two equal graphs share (names, ops, shapes, attributes)."""
        return (self.op, self.name, self.shape, self.attrs, tuple(a.structure() for a in self.args))

    def walk(self):
        """Every node of the graph below and including this one, each once, arguments first."""
        seen, order = set(), []

        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for a in node.args:
                visit(a)
            order.append(node)

        visit(self)
        return order

    def __str__(self):
        """The expression as a model file's forward line writes it: ``sum(square(W @ x - y))``."""
        return model_text(self)

    def __repr__(self):
        return f"<Node {fmt_shape(self.shape)}: {self}>"


# ----- printing as a forward line -----
# Python's binding strengths, loosest first: a forward line is read by Python's own parser
_ADDITIVE, _MULTIPLICATIVE, _UNARY, _POWER, _POSTFIX = range(5)
_STRENGTH = {"+": _ADDITIVE, "-": _ADDITIVE, "@": _MULTIPLICATIVE, "*": _MULTIPLICATIVE, "/": _MULTIPLICATIVE,
             "unary -": _UNARY, "**": _POWER, ".T": _POSTFIX}
_ATOM = _POSTFIX + 1


def model_text(node: Node) -> str:
    """``node`` as a forward line: infix ``@ + - * /``, ``.T``, the other ops by their names with their
    keywords, numbers exact (1/3, not 0.333…), parentheses only where Python needs them — so that the
    model-file reader gives back the same graph (each named line written out, by its value)."""
    return _text(node)[0]


def _text(node: Node) -> tuple[str, int]:
    """The text of ``node`` and how strongly it binds (``_ATOM`` for a name or a call)."""
    if node.op == "variable":
        return node.name, _ATOM
    if node.op == "const":
        return _number_text(node.attr("value"))
    op = get_op(node.op)
    if node.op == "slice":  # W[0:H, :], 0-based as Python writes it
        spans = ", ".join(f"{start}:{stop}" for start, stop in node.attr("span"))
        return f"{_operand(node.args[0], _POSTFIX)}[{spans}]", _POSTFIX
    if op.operator is None:
        keywords = [f"{k}={v!r}" for k, v in node.attrs if k in op.params]
        return f"{node.op}({', '.join([*(_text(a)[0] for a in node.args), *keywords])})", _ATOM
    strength = _STRENGTH[op.operator]
    if op.operator == ".T":
        return f"{_operand(node.args[0], _ATOM)}.T", strength
    if op.operator == "unary -":
        return f"-{_operand(node.args[0], _UNARY)}", strength
    if op.operator == "**":  # x ** (1/3): the exponent a number, parenthesised unless whole
        return f"{_operand(node.args[0], _POSTFIX)} ** {_operand(node.args[1], _ATOM)}", strength
    # left-associative: the right operand of a - b - c binds more strongly than the operator
    left, right = _operand(node.args[0], strength), _operand(node.args[1], strength + 1)
    return f"{left} {op.operator} {right}", strength


def _operand(node: Node, at_least: int) -> str:
    text, strength = _text(node)
    return text if strength >= at_least else f"({text})"


def _number_text(value) -> tuple[str, int]:
    """A number exactly: 3, -3 (unary), 1/3 (a quotient, which the reader folds back to the number)."""
    if isinstance(value, sp.OneMatrix):
        return f"ones({_dim_text(value.shape[0])}, {_dim_text(value.shape[1])})", _ATOM
    if isinstance(value, sp.Expr) and value.free_symbols:  # a size (n), or a quotient of sizes
        return (value.name, _ATOM) if value.is_Symbol else (f"({value})", _ATOM)
    value = sp.Rational(value)
    if value < 0:
        text, _ = _number_text(-value)
        return f"-{text}" if value.q == 1 else f"-({text})", _UNARY
    if value.q == 1:
        return str(value.p), _ATOM
    return f"{value.p}/{value.q}", _MULTIPLICATIVE


def _dim_text(dim) -> str:
    return str(dim) if dim.is_Integer or dim.is_Symbol else f'"{dim}"'


def one_hot_axis(node: Node) -> int:
    """The class axis of a one-hot label: its own vector axis (kept through batching)."""
    axis = node.attr("one_hot_axis")
    if axis is None:
        axis = 1 if node.shape[0] == 1 and node.shape[1] != 1 else 0
    return axis


def _check_name(name):
    check_name(name)


#: constant masks a model file may declare (``M = { shape = ["T", "T"], constant = "causal" }``): the
#: value at (i, j) as a number, −∞ a float or SymPy's −oo. Not inputs: a kernel builds them itself.
MASKS = {
    "causal": "additive causal mask: 0 on and below the diagonal, −∞ above (token i sees tokens 1 … i)",
    "lower": "multiplicative lower-triangular mask: 1 on and below the diagonal, 0 above",
}


def mask_cell(kind: str, i: int, j: int, exact: bool = False):
    """The element (i, j) of the constant mask ``kind`` (exact: SymPy numbers, −oo)."""
    if kind == "causal":
        return 0 if j <= i else (-sp.oo if exact else float("-inf"))
    return 1 if j <= i else 0


def mask_array(kind: str, n: int) -> np.ndarray:
    """The n×n constant mask ``kind`` in float64."""
    return np.array([[mask_cell(kind, i, j) for j in range(n)] for i in range(n)], dtype=float)


def _variable(name, rows, cols, role, one_hot=False) -> Node:
    _check_name(name)
    attrs = (("role", role),) + ((("one_hot", True),) if one_hot else ())
    return Node("variable", (), (as_size(rows), as_size(cols)), name, attrs)


def vector(name: str, size, *, one_hot: bool = False, role: str = "input") -> Node:
    """A column vector ``name`` of length ``size`` (e.g. ``vector("x", "D_x")``)."""
    return _variable(name, size, 1, role, one_hot)


def row(name: str, size, *, one_hot: bool = False, role: str = "input") -> Node:
    """A row vector ``name`` of length ``size``."""
    return _variable(name, 1, size, role, one_hot)


def matrix(name: str, rows, cols, *, role: str = "param", symmetric: bool = False,
           positive_definite: bool = False) -> Node:
    """A matrix ``name`` of shape rows × cols; ``symmetric=True`` declares S = Sᵀ (the gradient by it is
    the derivative by each free entry: ``graph.structure``), ``positive_definite=True`` also makes its
    random test values SPD."""
    node = _variable(name, rows, cols, role)
    declared = structure_attrs(name, node.shape, symmetric, positive_definite)
    return Node("variable", (), node.shape, name, node.attrs + declared) if declared else node


def scalar(name: str, *, role: str = "param") -> Node:
    """A scalar variable (a 1×1 tensor)."""
    return _variable(name, 1, 1, role)


def constant(value) -> Node:
    """A number as a 1×1 node; it broadcasts in + - * /."""
    return Node("const", (), (sp.Integer(1), sp.Integer(1)), None, (("value", exact_number(value)),))


def size_constant(value) -> Node:
    """A size used as a number (``n * x``, ``x / n``): a 1×1 constant whose value is the size symbol,
    or a rational function of sizes (1/n); a kernel reads it from its arrays' shapes."""
    value = as_size(value) if isinstance(value, str) else sp.Integer(value) if isinstance(value, int) else value
    if not isinstance(value, sp.Expr) or not value.free_symbols or value.has(sp.Float) or not all(
            s.is_integer and s.is_positive for s in value.free_symbols) or not value.is_rational_function():
        raise JacobianSymError(f"{value!r} is not a size or a rational function of sizes")
    return Node("const", (), (sp.Integer(1), sp.Integer(1)), None, (("value", value),))


def ones(rows, cols) -> Node:
    """The constant ones matrix (or vector) of shape rows × cols: ``ones("n", 1).T @ x`` is Σ x."""
    shape = (as_size(rows), as_size(cols))
    return Node("const", (), shape, None, (("value", sp.OneMatrix(*shape)),))


def size_value(value, sizes: dict):
    """A constant's value at concrete ``sizes`` (a number is itself; a size expression is evaluated)."""
    if isinstance(value, sp.OneMatrix):
        return sp.OneMatrix(*(int(d.xreplace(sizes)) for d in value.shape))  # (its dims are SymPy already)
    return value.xreplace(sizes) if isinstance(value, sp.Expr) and value.free_symbols else value


MAX_CONSTANT = 10**15


def exact_number(value) -> sp.Rational:
    """A finite int, float or Rational as an exact SymPy Rational: a float is read as the decimal it
    prints as (0.3 → 3/10), never guessed (nsimplify would make 2.718281828459045 the symbol E)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, sp.Rational)):
        raise JacobianSymError(f"{value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise JacobianSymError(f"the constant {value!r} is not finite")
    if isinstance(value, int) and abs(value) > MAX_CONSTANT:
        raise JacobianSymError(f"a constant is too large (at most {MAX_CONSTANT:.0e} in magnitude)")
    number = sp.Rational(repr(value)) if isinstance(value, float) else sp.Rational(value)
    if abs(number) > MAX_CONSTANT:
        raise JacobianSymError(f"a constant is too large (at most {MAX_CONSTANT:.0e} in magnitude)")
    return number


#: a float exponent is the fraction with at most this denominator whose nearest double it is, if any
MAX_DENOMINATOR = 64


def power(base: Node, exponent) -> Node:
    """The element-wise power ``base ** p`` for a rational p from −8 to 8 (not 0). A whole or half p is
    built from the op table's functions: square for 2 and Hadamard products of squares (x ** 3 =
    square(x) * x), sqrt for ½ (x ** 1.5 = x * sqrt(x)), and 1 / … for a negative power (x ** -0.5 =
    rsqrt(x)); any other p (x ** (1/3)) is the op ``pow``, for positive x."""
    refused = JacobianSymError(f"only element-wise powers by a rational number from -8 to 8 (not 0) are "
                               f"supported (x ** 2, x ** 0.5, x ** (1/3), x ** -1), not {exponent!r}")
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float, sp.Rational, Fraction)):
        raise refused
    if isinstance(exponent, float) and not math.isfinite(exponent):
        raise refused
    if isinstance(exponent, float):  # 1/3 in Python is the double nearest a third: read it as the third
        near = Fraction(exponent).limit_denominator(MAX_DENOMINATOR)
        exponent = near if float(near) == exponent else exponent
    if isinstance(exponent, Fraction):
        exponent = sp.Rational(exponent.numerator, exponent.denominator)
    exact = exact_number(exponent)
    if not 0 < abs(exact) <= 8:
        raise refused
    if not (2 * exact).is_Integer:
        return apply("pow", base, constant(exact))
    exponent = int(exact) if exact.is_Integer else float(exact)
    if exponent == -0.5:
        return apply("rsqrt", base)
    if exponent < 0:
        return apply("div", constant(1), power(base, -exponent))
    whole = int(exponent)
    if whole != exponent:  # a half power: sqrt times the whole part
        root = apply("sqrt", base)
        return root if whole == 0 else apply("mul", _whole_power(base, whole), root)
    return _whole_power(base, whole)


def _whole_power(base: Node, exponent: int) -> Node:
    if exponent == 1:
        return base
    half = _whole_power(base, exponent // 2)
    out = apply("square", half)
    return apply("mul", out, base) if exponent % 2 else out


def as_node(value) -> Node:
    if isinstance(value, Node):
        return value
    return constant(value)


def apply(op_name: str, *args, **params) -> Node:
    """Apply the op ``op_name`` of the op table to ``args`` (shapes are checked here)."""
    op = get_op(op_name)
    if len(args) != op.arity:
        raise JacobianSymError(f"{op_name} takes {op.arity} argument(s), got {len(args)}")
    unknown = sorted(set(params) - set(op.params))
    if unknown:
        takes = f"takes only {', '.join(op.params)}" if op.params else "takes no keyword arguments"
        raise JacobianSymError(f"{op_name} {takes}, not {', '.join(unknown)}")
    nodes = tuple(as_node(a) for a in args)
    if op_name == "matmul":
        solved = _solved(*nodes)
        if solved is not None:
            return solved
    shape = op.shape(*(n.shape for n in nodes), **params)
    return Node(op_name, nodes, shape, None, tuple(sorted(params.items())))


def _unnamed(node: Node, op_name: str) -> bool:
    return node.op == op_name and node.name is None


def _solved(left: Node, right: Node) -> Node | None:
    """A⁻¹ B as solve(A, B), and (L A⁻¹) B as L solve(A, B): a product with an (unnamed) inverse is
    a solve, so that no kernel forms an inverse a solve gives; None for any other product."""
    if _unnamed(left, "inv"):
        return apply("solve", left.args[0], right)
    if _unnamed(left, "matmul") and _unnamed(left.args[1], "inv"):
        return apply("matmul", left.args[0], apply("solve", left.args[1].args[0], right))
    return None


def slice_node(node: Node, key) -> Node:
    """``node[key]`` for Python slices (see ``Node.__getitem__``); the op table's ``slice`` checks the
    bounds against the shape."""
    spans = list(key) if isinstance(key, tuple) else [key]
    rows, cols = node.shape
    if len(spans) == 1 and 1 in (rows, cols) and (rows, cols) != (1, 1):  # a vector's own axis
        spans = [spans[0], slice(None)] if cols == 1 else [slice(None), spans[0]]
    if len(spans) != 2 or not all(isinstance(s, slice) for s in spans):
        raise JacobianSymError(f"a slice of a {fmt_shape(node.shape)} matrix takes two spans start:stop, as W[:H, :]")
    bounds = []
    for s, size in zip(spans, node.shape):
        if s.step is not None:
            raise JacobianSymError("a slice takes no step")
        bounds.append((sp.Integer(0) if s.start is None else _bound(s.start),
                       size if s.stop is None else _bound(s.stop)))
    (rs, _), (cs, _) = bounds
    start = lambda v: constant(int(v)) if v.is_Integer else size_constant(v)  # noqa: E731
    return apply("slice", node, start(rs), start(cs), span=tuple(bounds))


def _bound(value) -> sp.Expr:
    """A slice's bound: a whole number ≥ 0, a size name or sum ("2*k"), or a SymPy expression of sizes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return sp.Integer(value)
    if isinstance(value, sp.Expr) and (value.is_Integer and value >= 0 or value.free_symbols and all(
            s.is_integer and s.is_positive for s in value.free_symbols)):
        return value
    if isinstance(value, str):
        return as_size(value)
    raise JacobianSymError(f"a slice's bound is a whole number or a size, not {value!r}")
