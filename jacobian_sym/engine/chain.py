"""Reverse mode at the level of elements: the chain rule as index contractions.

For every node on a path from a variable to the root, the derivative of the root (or of a seed) by
the node's element (p, q) is an index expression with free indices p, q. A node hands it down to an
argument a by contracting it with the node's local derivative: Σ_{p,q} G[p, q] ∂n[p, q]/∂a[r, s].
A node whose signal has a name (δ₁, δ₂, …) hands down the named symbol instead, so that later
closed forms are written in terms of δ as the notes write them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import IndexPool
from jacobian_sym.engine.closed_form import closed_form, target_slots
from jacobian_sym.engine.facts import facts_of
from jacobian_sym.engine.inline import inline_unnamed
from jacobian_sym.engine.layout import gradient_layout
from jacobian_sym.engine.local import local_derivative
from jacobian_sym.engine.rules import Facts, simplify_index
from jacobian_sym.engine.slices import is_ones, slice_of, without_ones
from jacobian_sym.engine.step import Step
from jacobian_sym.engine.symmetric import symmetric_symbols, tied_index, with_symmetry
from jacobian_sym.errors import DerivationError
from jacobian_sym.graph.expr import Node
from jacobian_sym.graph.indexed import Graph, element_symbol, matrix_symbol
from jacobian_sym.ops.indexing import Before, IndexContext
from jacobian_sym.ops.slicing import embedded, merged_blocks
from jacobian_sym.ops.structure import concat_offsets
from jacobian_sym.ops.table import get_op

#: how a step names an op in words ("the product, in index notation"); other ops by their name
_OP_WORDS = {"matmul": "the product", "add": "the sum", "sub": "the difference", "mul": "the Hadamard product",
             "div": "the element-wise quotient", "transpose": "the transpose", "neg": "the negation",
             "cross_entropy": "cross-entropy", "binary_cross_entropy": "binary cross-entropy",
             "mse": "squared error", "log_softmax": "log-softmax", "leaky_relu": "leaky ReLU",
             "concat": "the concatenation"}


@dataclass
class Signal:
    """∂(seed)/∂node[p, q] for one node: free indices, index expression, and its name if it has one."""

    node: Node
    free: tuple
    index: sp.Expr = sp.Integer(0)
    symbol: sp.MatrixSymbol | None = None
    closed: sp.MatrixExpr | None = None
    why: list = field(default_factory=list)


class Chain:
    """The reverse sweep over one graph."""

    def __init__(self, graph: Graph, *, layout: str, pool: IndexPool, facts: Facts | None = None,
                 signal_names: dict | None = None, signal_why: dict | None = None, batch=None):
        self.graph, self.layout, self.pool, self.batch = graph, layout, pool, batch
        self.facts = facts if facts is not None else facts_of(graph)
        self.signal_names = signal_names or {}
        self.signal_why = signal_why or {}
        self.signals: dict[int, Signal] = {}
        self.steps: list[Step] = []
        #: what the chain differentiates: J, or the root's element f_{rs} for a Jacobian
        self.top = sp.Symbol("J")
        #: stand-in symbol → the slice of a concatenation's signal it stands for, and → its element
        self.parts: dict = {}
        self.part_elements: dict = {}
        #: the variables declared symmetric: Sᵀ is S in every closed form
        self.symmetric = symmetric_symbols(graph)

    # ----- indices -----
    def free_indices(self, node: Node) -> tuple:
        rows, cols = node.shape
        p = sp.Integer(0) if rows == 1 else self.pool.fresh()
        q = sp.Integer(0) if cols == 1 else self.pool.fresh()
        return (p, q)

    def signal(self, node: Node) -> Signal:
        node = self.graph.canonical(node)
        if id(node) not in self.signals:
            self.signals[id(node)] = Signal(node, self.free_indices(node))
        return self.signals[id(node)]

    # ----- the sweep -----
    def run(self, wrt: list[Node], seed) -> None:
        """Sweep from the root down to every node in ``wrt``.

        ``seed`` is ("scalar",) for a 1×1 root, ("upstream", δ) when ∂J/∂root is a given symbol δ in
        the layout, or ("jacobian", (r, s)) to differentiate the root's element (r, s) itself.
        """
        graph = self.graph
        targets = {id(graph.canonical(w)) for w in wrt}
        needs = {}
        for node in graph.nodes:
            needs[id(node)] = id(graph.canonical(node)) in targets or any(
                needs[id(a)] for a in graph.arguments(node))
        for w in wrt:
            if not needs.get(id(graph.canonical(w))) or not needs[id(graph.root)]:
                raise DerivationError(f"the expression does not depend on {w.name or w}")
        for w in wrt:  # the variables' indices come first: i, j as in the notes
            self.signal(w)
        for node in reversed(graph.nodes):
            if node.is_leaf or node.op == "const" or not needs[id(node)]:
                continue
            if node is graph.root:
                upstream, at = self._seed(node, seed)
            elif self._vanishes(node) and id(node) not in targets:
                continue  # (a zero signal, under where's selector: nothing to hand down)
            else:
                upstream, at = self._upstream(node), self.signal(node).free
            for arg in graph.arguments(node):
                if needs[id(arg)] and arg.op != "const":
                    self._hand_down(node, arg, upstream, at)

    def _seed(self, root, seed):
        kind = seed[0]
        if kind == "scalar":
            if root.shape != (1, 1):
                raise DerivationError(
                    f"a gradient needs a scalar, but the expression is {root.shape[0]}×{root.shape[1]}")
            return None, (sp.Integer(0), sp.Integer(0))
        if kind == "upstream":
            delta = seed[1]
            _, where = gradient_layout(root.shape, self.layout)
            free = self.free_indices(root)
            return (lambda p, q: delta[where(p, q)]), free
        self.top = element_symbol(self.graph.symbol(root), *seed[1])
        return None, seed[1]

    def _vanishes(self, node) -> bool:
        sig = self.signal(node)
        sig.index = simplify_index(sig.index, self.facts)
        return sig.index == 0 and sig.symbol is None

    def _upstream(self, node):
        sig = self.signal(node)
        sig.index = simplify_index(sig.index, self.facts)
        name = self.signal_names.get(id(node))
        if name is None:
            return lambda p, q: sig.index
        shape, where = gradient_layout(node.shape, self.layout, batch=self.batch)
        sig.symbol = matrix_symbol(name, *shape)
        sig.closed = self.closed(closed_form(sig.index, target_slots(where(*sig.free), shape), shape))
        node_el = element_symbol(self.graph.symbol(node), *sig.free)
        self.steps.append(Step(sp.Derivative(self.top, node_el), sig.index,
                               "sum of the paths through the node's consumers"))
        self.steps.append(Step(sig.symbol, sig.closed, self.signal_why.get(id(node), "error signal")))
        return lambda p, q: sig.symbol[where(p, q)]

    def _hand_down(self, node, arg, upstream, at):
        if node.op == "concat":
            return self._hand_down_part(node, arg)
        if node.op == "slice":
            return self._hand_down_block(node, arg)
        if get_op(node.op).adjoint is not None:
            return self._hand_down_adjoint(node, arg)
        graph = self.graph
        ix = IndexContext(self.pool)
        p, q = at
        element = graph.element(node, p, q, ix)
        a_sym = graph.symbol(arg)
        a_el = element_symbol(a_sym, *self.signal(arg).free)
        node_el = element_symbol(graph.symbol(node), p, q)
        raw = local_derivative(element, a_el)
        local = simplify_index(raw, self.facts)
        words = _OP_WORDS.get(node.op, node.op.replace("_", " "))
        self.steps.append(Step(node_el, element, f"{words}, in index notation"))
        self.steps.append(Step(sp.Derivative(node_el, a_el), local, "differentiate element by element"))
        if upstream is None:
            contribution = local
        else:
            body = upstream(p, q) * local
            for idx, size in ((p, node.shape[0]), (q, node.shape[1])):
                if size != 1:
                    body = sp.Sum(body, (idx, 0, size - 1))
            contribution = body
            self.steps.append(Step(sp.Derivative(self.top, a_el), contribution, "chain rule"))
        sig = self.signal(arg)
        sig.index = sig.index + contribution

    def _hand_down_part(self, node, arg):
        """A part of a concatenation receives the rows or columns of the node's signal that it fills:
        ∂J/∂A = (∂J/∂C)[:, 1:a] for C = [A B] — a slice, so no offset index ever reaches the
        recogniser. The slice is a stand-in symbol in the index expressions, replaced in every
        closed form (``closed``)."""
        graph, axis = self.graph, node.attr("axis")
        parts = graph.arguments(node)
        offset = concat_offsets([a.shape for a in parts], axis)[parts.index(arg)]
        sig = self.signal(node)
        if sig.symbol is not None:
            shape, _ = gradient_layout(node.shape, self.layout, batch=self.batch)
            whole = sig.symbol if tuple(shape) == tuple(node.shape) else sp.Transpose(sig.symbol)
        else:
            # (closed at once: a concatenation inside another one hands down a slice of a slice)
            whole = self.closed(closed_form(sig.index, target_slots(sig.free, node.shape), node.shape))
        spans = [(0, n, 1) for n in node.shape]
        spans[axis] = (offset, offset + arg.shape[axis], 1)
        stand_in = matrix_symbol(f"part{len(self.parts)}", *arg.shape)
        self.parts[stand_in] = slice_of(whole, *spans)
        shift = (lambda r, c: (r + offset, c)) if axis == 0 else (lambda r, c: (r, c + offset))
        if sig.symbol is not None:
            _, where = gradient_layout(node.shape, self.layout, batch=self.batch)
            self.part_elements[stand_in] = lambda r, c: sig.symbol[where(*shift(r, c))]
        else:
            p, q = sig.free
            self.part_elements[stand_in] = lambda r, c: sig.index.xreplace(
                {k: v for k, v in zip((p, q), shift(r, c)) if isinstance(k, sp.Symbol)})
        a_el = element_symbol(graph.symbol(arg), *self.signal(arg).free)
        contribution = element_symbol(stand_in, *self.signal(arg).free)
        self.steps.append(Step(sp.Derivative(self.top, a_el), contribution,
                               "the part of the concatenation's signal that the argument fills"))
        self.signal(arg).index += contribution

    def _hand_down_block(self, node, arg):
        """A slice B = A[r₀:r₁, c₀:c₁] hands A the block that its signal fills: ∂J/∂A is ∂J/∂B in rows
        r₀ … r₁−1 and columns c₀ … c₁−1 and zero elsewhere (the converse of a concatenation), a
        stand-in symbol in the index expressions as there, replaced in every closed form."""
        sig = self.signal(node)
        (r0, _), (c0, _) = node.attr("span")
        if sig.symbol is not None:
            shape, where = gradient_layout(node.shape, self.layout, batch=self.batch)
            whole = sig.symbol if tuple(shape) == tuple(node.shape) else sp.Transpose(sig.symbol)
            inner = lambda r, c: sig.symbol[where(r, c)]  # noqa: E731
        else:
            whole = self.closed(closed_form(sig.index, target_slots(sig.free, node.shape), node.shape))
            p, q = sig.free
            inner = lambda r, c: sig.index.xreplace(  # noqa: E731
                {k: v for k, v in zip((p, q), (r, c)) if isinstance(k, sp.Symbol)})
        stand_in = matrix_symbol(f"part{len(self.parts)}", *arg.shape)
        self.parts[stand_in] = embedded(whole, arg.shape, r0, c0)
        self.part_elements[stand_in] = lambda r, c: _in_block(r, c, r0, c0, node.shape) * inner(r - r0, c - c0)
        a_el = element_symbol(self.graph.symbol(arg), *self.signal(arg).free)
        self.steps.append(Step(sp.Derivative(self.top, a_el), element_symbol(stand_in, *self.signal(arg).free),
                               "the slice's signal in its block, zero elsewhere"))
        self.signal(arg).index += element_symbol(stand_in, *self.signal(arg).free)

    def _whole_signal(self, node):
        """The node's signal as a closed form in the node's own shape."""
        sig = self.signal(node)
        if sig.symbol is not None:
            shape, _ = gradient_layout(node.shape, self.layout, batch=self.batch)
            return sig.symbol if tuple(shape) == tuple(node.shape) else sp.Transpose(sig.symbol)
        return self.closed(closed_form(sig.index, target_slots(sig.free, node.shape), node.shape))

    def _hand_down_adjoint(self, node, arg):
        """A linear op with a declared adjoint hands its argument the adjoint of its signal: for
        U = unfold(X), ∂J/∂X_ab = Σ_tm ∂J/∂U_tm ∂U_tm/∂X_ab = fold(∂J/∂U)_ab (the op table's
        ``adjoint``). A stand-in symbol in the index expressions, replaced in every closed form, as
        for a concatenation's part."""
        op = get_op(node.op)
        params = {k: v for k, v in node.attrs if k in op.params}
        operands = [self.graph.symbol(self.graph.canonical(a)) for a in node.args]
        position = [self.graph.canonical(a) for a in node.args].index(arg)
        value = op.adjoint(self._whole_signal(node), operands, position, **params)
        if value is None:  # an operand read for its shape only
            return
        stand_in = matrix_symbol(f"part{len(self.parts)}", *arg.shape)
        self.parts[stand_in] = value
        # (its element formula with the sweep's own fresh indices: a new pool would reuse i, j; the
        # unnamed nodes inside it in their matrix forms, as the closed forms have them, for an element
        # kept whole, unpool(δ ∘ tanh′(u₁); X)_ij)
        operands = [inline_unnamed(o, self.graph) for o in value.operands]
        self.part_elements[stand_in] = lambda r, c: get_op(value.op_name).element(
            IndexContext(self.pool), r, c, *operands, **value.params)
        a_el = element_symbol(self.graph.symbol(arg), *self.signal(arg).free)
        self.steps.append(Step(sp.Derivative(self.top, a_el), element_symbol(stand_in, *self.signal(arg).free),
                               f"the adjoint of {node.op.replace('_', ' ')}: its signal handed back"))
        self.signal(arg).index += element_symbol(stand_in, *self.signal(arg).free)

    def expanded(self, index):
        """An index expression with each concatenation's stand-in element written as the element of
        the signal it stands for (at its offset): an index form that needs no stand-in."""
        if not self.parts:
            return index
        return index.replace(lambda e: isinstance(e, MatrixElement) and e.parent in self.part_elements,
                             lambda e: self.part_elements[e.parent](*e.indices))

    def closed(self, expr):
        """A closed form with the concatenations' slices put in for their stand-ins (a slice of ones
        is ones: 1 1ᵀ ∘ z is z again)."""
        expr = with_symmetry(expr, self.symmetric)
        if not self.parts:
            return expr
        return expr.xreplace(self.parts).replace(
            lambda e: isinstance(e, sp.HadamardProduct) and any(is_ones(a) for a in e.args),
            without_ones).replace(lambda e: isinstance(e, sp.MatAdd), merged_blocks)

    # ----- results -----
    def result(self, node: Node, shape, where) -> tuple[sp.Expr, sp.MatrixExpr]:
        """The simplified index expression for ``node`` and its closed form in a result ``shape``."""
        sig = self.signal(node)
        index = simplify_index(sig.index, self.facts)
        if self.graph.symbol(self.graph.canonical(node)) in self.symmetric:
            index = simplify_index(tied_index(index, *sig.free, node.shape[0]), self.facts)
            self.steps.append(Step(sp.Derivative(self.top, element_symbol(self.graph.symbol(node), *sig.free)),
                                   index, "a symmetric variable: S_ij and S_ji are one entry "
                                          "(G_ij + G_ji − [i=j] G_ij)"))
        sig.index = index
        return self.expanded(index), self.closed(closed_form(index, target_slots(where(*sig.free), shape), shape))


def _in_block(r, c, r0, c0, shape):
    """The Iverson bracket [r₀ ≤ r < r₀ + h][c₀ ≤ c < c₀ + w] of a block of ``shape`` (h, w)."""
    h, w = shape
    return (1 - Before(r, r0)) * Before(r - r0, h) * (1 - Before(c, c0)) * Before(c - c0, w)
