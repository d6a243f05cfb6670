"""Element-indexed tensors at symbolic sizes.

Every node of a graph is a ``MatrixSymbol`` of its symbolic shape, so its elements are ``W[i, j]``
with a symbolic i, j; vectors are n×1 (or 1×n) and scalars 1×1. An op's forward is read from the op
table as the (i, j) element of its result; the local derivative of a node is SymPy's ``diff`` of that
element by one element of an argument, which yields ``KroneckerDelta`` factors.

Elements of ``MatrixSymbol`` are used rather than ``IndexedBase`` entries: the KroneckerDelta that
SymPy makes for them carries the index range, so contractions collapse without the ``Piecewise``
range guards that ``IndexedBase`` leaves behind (see ``rules.drop_range_guards`` for the rest).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import IndexPool
from jacobian_sym.engine.closed_form import merge_like
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.expr import Node
from jacobian_sym.ops.functions import element_class
from jacobian_sym.ops.table import OpApply, _vector_axis, get_op


class IndexContext:
    """How an op's element formula is read: with symbolic sums, or explicitly at concrete sizes."""

    def __init__(self, pool: IndexPool | None = None, explicit: bool = False):
        self.pool = pool or IndexPool()
        self.explicit = explicit

    @staticmethod
    def rows(A):
        return A.shape[0] if hasattr(A, "shape") else 1

    @staticmethod
    def cols(A):
        return A.shape[1] if hasattr(A, "shape") else 1

    def at(self, A, i, j):
        """Element (i, j) of A, broadcasting along length-1 axes; a number is its own element."""
        if not hasattr(A, "shape"):
            return A
        rows, cols = A.shape
        return A[0 if rows == 1 else i, 0 if cols == 1 else j]

    def sum(self, body, size):
        """Σ_k body(k) for k in 0 … size−1 (no sum at all over a length-1 axis)."""
        if size == 1:
            return body(sp.Integer(0))
        if self.explicit:
            return sp.Add(*(body(sp.Integer(k)) for k in range(int(size))))
        k = self.pool.fresh()
        return sp.Sum(body(k), (k, 0, size - 1))


class ScalarElement(MatrixElement):
    """The one element of a 1×1 variable: it prints as the variable (λ, not lam[0, 0])."""

    def _sympystr(self, printer):
        return printer._print(self.parent)


class Scalar(sp.MatrixSymbol):
    """A 1×1 matrix symbol (a scalar parameter, a loss): its element prints as its name."""

    def __new__(cls, name, rows=1, cols=1):  # (SymPy rebuilds it from its three args)
        return super().__new__(cls, name, 1, 1)

    def _entry(self, i, j, **kwargs):
        return ScalarElement(self, i, j)


def matrix_symbol(name, rows, cols):
    """The symbol of a node: a ``Scalar`` when it is 1×1."""
    return Scalar(name) if (rows, cols) == (1, 1) else sp.MatrixSymbol(name, rows, cols)


class Graph:
    """The nodes of an expression in order (arguments first), each with its matrix symbol."""

    def __init__(self, root: Node):
        self.root = root
        self.nodes = root.walk()
        self._symbols: dict[int, sp.Expr] = {}
        self._by_name: dict[str, Node] = {}
        taken = {n.name for n in self.nodes if n.name}
        counter = 0
        for node in self.nodes:
            if node.op == "const":
                self._symbols[id(node)] = node.attr("value")
                continue
            name = node.name
            if name is None:
                counter += 1
                while f"u{counter}" in taken:
                    counter += 1
                name = f"u{counter}"
            other = self._by_name.get(name)
            if other is not None and other is not node:
                if not (node.is_leaf and other.is_leaf and node.shape == other.shape):
                    raise JacobianSymError(f"the name {name!r} is used for two different values")
            self._by_name.setdefault(name, node)
            self._symbols[id(node)] = matrix_symbol(name, *node.shape)
        self.consumers: dict[int, list[Node]] = {id(n): [] for n in self.nodes}
        for node in self.nodes:
            for arg in self.arguments(node):
                self.consumers[id(arg)].append(node)

    def arguments(self, node: Node) -> list[Node]:
        """The distinct arguments of ``node`` (x * x has one)."""
        return _distinct([self.canonical(a) for a in node.args])

    def symbol(self, node: Node):
        return self._symbols[id(node)]

    def canonical(self, node: Node) -> Node:
        """The one node that stands for a variable (two equal leaves are one variable)."""
        return self._by_name.get(node.name, node) if node.name else node

    def node_named(self, name: str) -> Node | None:
        return self._by_name.get(name)

    def element(self, node: Node, i, j, ix: IndexContext) -> sp.Expr:
        """The (i, j) element of ``node`` in terms of its arguments' elements."""
        op = get_op(node.op)
        args = [self.symbol(self.canonical(a)) for a in node.args]
        return op.element(ix, i, j, *args, **dict(node.attrs))

    def depends_on(self, node: Node, target: Node) -> bool:
        target_symbol = self.symbol(self.canonical(target))
        return any(self.symbol(self.canonical(n)) == target_symbol for n in node.walk())


def _distinct(nodes):
    seen, out = set(), []
    for n in nodes:
        if id(n) not in seen:
            seen.add(id(n))
            out.append(n)
    return out


def element_symbol(M, i, j):
    """Element (i, j) of a matrix symbol, with 0 on a length-1 axis."""
    rows, cols = M.shape
    return M[0 if rows == 1 else i, 0 if cols == 1 else j]


def explicit_matrix(node: Node, graph: Graph, env: dict) -> sp.Matrix:
    """The explicit value of ``node`` at concrete sizes; ``env`` maps leaf names to Matrices."""
    if node.op == "const":
        return node.attr("value")
    if node.is_leaf:
        return env[node.name]
    op = get_op(node.op)
    args = [explicit_matrix(graph.canonical(a), graph, env) for a in node.args]
    shape = [s.subs(env["__sizes__"]) if isinstance(s, sp.Expr) else s for s in node.shape]
    ix = IndexContext(explicit=True)
    params = dict(node.attrs)
    return sp.Matrix(int(shape[0]), int(shape[1]), lambda i, j: op.element(ix, i, j, *args, **params))


def inline_unnamed(expr, graph: Graph):
    """Replace the symbols of unnamed inner nodes (u1, u2, …) by their matrix-level forms, so that a
    closed form speaks of the variables and the named nodes only."""
    forms: dict = {}

    def form(node):
        node = graph.canonical(node)
        if node.op == "const":
            return node.attr("value")
        if node.is_leaf or node.name is not None:
            return graph.symbol(node)
        if id(node) not in forms:
            args = [form(a) for a in node.args]
            forms[id(node)] = get_op(node.op).matrix(*args, **dict(node.attrs))
        return forms[id(node)]

    mapping = {graph.symbol(n): form(n) for n in graph.nodes
               if not n.is_leaf and n.op != "const" and n.name is None}
    if not mapping:
        return expr
    out = expr.xreplace(mapping).replace(
        lambda e: isinstance(e, sp.Transpose) and isinstance(e.arg, sp.Transpose), lambda e: e.arg.arg)
    if isinstance(out, sp.MatAdd):  # two paths through unnamed nodes may be one term now (x and (xᵀ)ᵀ)
        terms = merge_like(out.args)
        out = sp.MatAdd(*terms) if len(terms) > 1 else terms[0] if terms else sp.ZeroMatrix(*out.shape)
    return out.replace(lambda e: _softmax_of(e) is not None, _softmax_of)


def _softmax_of(e):
    """sum(exp(v))⁻¹ · exp(v) → softmax(v) for a vector v (log-sum-exp's gradient, written as the
    composition it is), and the same with exp(v)ᵀ."""
    if not isinstance(e, sp.MatMul) or len(e.args) != 2:
        return None
    inverse, other = e.args if isinstance(e.args[0], sp.HadamardPower) else e.args[::-1]
    if not (isinstance(inverse, sp.HadamardPower) and inverse.exp == -1 and isinstance(inverse.base, OpApply)
            and inverse.base.op_name == "sum"):
        return None
    (inner,) = inverse.base.operands
    transposed = isinstance(other, sp.Transpose)
    if (other.arg if transposed else other) != inner or not _is_exp_of_vector(inner):
        return None
    v = inner.expr
    softmax = OpApply("softmax", v.shape, v, axis=_vector_axis(v.shape, None))
    return sp.Transpose(softmax) if transposed else softmax


def _is_exp_of_vector(M) -> bool:
    return (isinstance(M, ElementwiseApplyFunction) and element_class(M.function) is not None
            and element_class(M.function).op_name == "exp" and 1 in M.expr.shape)


def inline_unnamed_elements(expr, graph: Graph, pool: IndexPool | None = None):
    """Replace the elements of unnamed inner nodes by their forward in index notation."""
    unnamed = {graph.symbol(n): n for n in graph.nodes if not n.is_leaf and n.op != "const" and n.name is None}
    pool = pool or IndexPool(str(s) for s in expr.free_symbols)
    pool.used |= {str(s) for s in expr.atoms(sp.Symbol)}
    ix = IndexContext(pool)
    for _ in range(len(unnamed) + 1):
        found = [e for e in expr.atoms(MatrixElement) if e.parent in unnamed]
        if not found:
            return expr
        expr = expr.xreplace({e: graph.element(unnamed[e.parent], *e.indices, ix) for e in found})
    return expr
