"""The graph's nodes as element-indexed matrices at symbolic sizes.

Every node of a graph is a ``MatrixSymbol`` of its symbolic shape, so its elements are ``W[i, j]``
with a symbolic i, j; vectors are n×1 (or 1×n) and scalars 1×1. An op's forward is read from the op
table as the (i, j) element of its result; the local derivative of a node is SymPy's ``diff`` of that
element by one element of an argument, which yields ``KroneckerDelta`` factors.

Elements of ``MatrixSymbol`` are used rather than ``IndexedBase`` entries: the KroneckerDelta that
SymPy makes for them carries the index range, so contractions collapse without the ``Piecewise``
range guards that ``IndexedBase`` leaves behind (see ``engine.rules.drop_range_guards`` for the rest).
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.bounds import check_inlined
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.expr import Node, size_value
from jacobian_sym.graph.labels import OneHotSymbol, is_labels
from jacobian_sym.ops.indexing import IndexContext, element_of
from jacobian_sym.ops.table import get_op


class ScalarElement(MatrixElement):
    """The one element of a 1×1 variable: it prints as the variable (λ, not lam[0, 0])."""

    def _sympystr(self, printer):
        return printer._print(self.parent)


class Scalar(sp.MatrixSymbol):
    """A 1×1 matrix symbol (a scalar parameter, a loss): its element prints as its name."""

    def __new__(cls, name, rows=1, cols=1):  # (SymPy rebuilds it from its three args)
        return super().__new__(cls, name, 1, 1)

    element_class = ScalarElement

    def _entry(self, i, j, **kwargs):
        return ScalarElement(self, i, j)


def matrix_symbol(name, rows, cols):
    """The symbol of a node: a ``Scalar`` when it is 1×1."""
    return Scalar(name) if (rows, cols) == (1, 1) else sp.MatrixSymbol(name, rows, cols)


def _check_written_out(nodes) -> None:
    """Refuse, before any work, a graph whose unnamed parts written out as one tree would be too large
    (the inlined forms the engine builds and prints are that tree; ``nodes`` come arguments first)."""
    size: dict[int, int] = {}
    for node in nodes:
        inner = [size.get(id(a), 1) for a in node.args]
        size[id(node)] = 1 + sum(inner)
        check_inlined(size[id(node)])
        if node.name is not None or node.is_leaf or node.op == "const":
            size[id(node)] = 1  # a name stops the inlining: its uses are one symbol each


class Graph:
    """The nodes of an expression in order (arguments first), each with its matrix symbol."""

    def __reduce__(self):
        """Pickled as its root and rebuilt on load: its tables are keyed by the nodes' ids, which a new
        process does not share (the nodes themselves are the ones pickled with it)."""
        return Graph, (self.root,)

    def __init__(self, root: Node):
        self.root = root
        self.nodes = root.walk()
        _check_written_out(self.nodes)
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
            self._symbols[id(node)] = (OneHotSymbol if is_labels(node) else matrix_symbol)(name, *node.shape)
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

    def defines(self, symbol) -> bool:
        """Whether ``symbol`` is a node's (defined on the page already) rather than a name given later."""
        return self.node_named(symbol.name) is not None or any(
            self.symbol(n) == symbol for n in self.nodes if n.op != "const")

    def element(self, node: Node, i, j, ix: IndexContext) -> sp.Expr:
        """The (i, j) element of ``node`` in terms of its arguments' elements."""
        op = get_op(node.op)
        args = [self.symbol(self.canonical(a)) for a in node.args]
        return op.element(ix, i, j, *args, **dict(node.attrs))

    def domain(self, node: Node) -> str | None:
        """What the values of a leaf must be, from the ops it feeds: "probability" for a label of a
        binary cross-entropy (the op table's ``domains``), else None (any real; also for a declared
        input the expression does not read)."""
        for consumer in self.consumers.get(id(self.canonical(node)), ()):
            domains = get_op(consumer.op).domains
            for position, arg in enumerate(consumer.args):
                if self.canonical(arg) is self.canonical(node) and position < len(domains) and domains[position]:
                    return domains[position]
        return None

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
    return element_of(M, 0 if rows == 1 else i, 0 if cols == 1 else j)


def explicit_matrix(node: Node, graph: Graph, env: dict) -> sp.Matrix:
    """The explicit value of ``node`` at concrete sizes; ``env`` maps leaf names to Matrices."""
    if node.op == "const":
        return size_value(node.attr("value"), env["__sizes__"])
    if node.is_leaf:
        return env[node.name]
    op = get_op(node.op)
    args = [explicit_matrix(graph.canonical(a), graph, env) for a in node.args]
    shape = [s.subs(env["__sizes__"]) if isinstance(s, sp.Expr) else s for s in node.shape]
    ix = IndexContext(explicit=True)
    params = dict(node.attrs)
    return sp.Matrix(int(shape[0]), int(shape[1]), lambda i, j: op.element(ix, i, j, *args, **params))
