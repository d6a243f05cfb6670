"""Reverse mode over a model: the notes' section 3, for any feed-forward model.

Error signals are named at the pre-activation nodes — the arguments of an element-wise function or
a softmax — and numbered from the loss backwards, as the notes do (δ₁ = ∂J/∂θ, δ₂ = ∂J/∂z). Every
local Jacobian is derived by the engine; signals and gradients are recovered as closed forms. The
final gradients are in their variables' shapes (the notes: "we transpose our answers … to follow
the shape convention"); the signals follow the layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from jacobian_sym.base.sizes import IndexPool
from jacobian_sym.engine.chain import Chain
from jacobian_sym.engine.inline import inline_unnamed
from jacobian_sym.engine.layout import check_layout, gradient_layout
from jacobian_sym.engine.step import Step
from jacobian_sym.errors import DerivationError
from jacobian_sym.graph.indexed import Graph, element_symbol
from jacobian_sym.models.model import Model
from jacobian_sym.ops.table import get_op, uses_for
from jacobian_sym.render.pages import render_backprop_latex


@dataclass
class Backprop:
    """The derived backprop of a model."""

    model: Model
    layout: str
    deltas: dict  # name -> closed form, in order δ₁, δ₂, …
    delta_nodes: dict  # name -> the node the signal belongs to
    gradients: dict  # variable name -> closed form
    shapes: dict  # name -> shape, for the signals, gradients and nodes
    steps: list[Step]
    graph: Graph = field(repr=False)
    delta_symbols: dict = field(default_factory=dict, repr=False)
    index_forms: dict = field(default_factory=dict, repr=False)
    #: what is built from this backprop once (its kernel), kept with it
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape_table(self) -> dict:
        """The notes' dimension check, for every signal and gradient: name → (shape of the left-hand
        side, [(factor, shape) or "∘", …]), e.g. δ₂: (1×D_h) = (1×N_c)(N_c×D_h) ∘ (1×D_h)."""
        table = {}
        for name, closed in {**self.deltas, **self.gradients}.items():
            table[name] = (closed.shape, _factor_shapes(closed))
        return table

    def latex(self, **options) -> str:
        return render_backprop_latex(self, **options)

    def _repr_latex_(self):
        return render_backprop_latex(self, display="$$")


def _factor_shapes(expr) -> list:
    """The top-level factors of a closed form with their shapes; "∘" between Hadamard factors."""
    if isinstance(expr, sp.MatMul):
        out = []
        for a in expr.args:
            out.extend(_factor_shapes(a) if isinstance(a, sp.MatrixExpr) else [])
        return out
    if isinstance(expr, sp.HadamardProduct):
        out = []
        for n, a in enumerate(expr.args):
            out.extend((["∘"] if n else []) + _factor_shapes(a))
        return out
    return [(expr, expr.shape)]


def _pre_activation(graph: Graph) -> list:
    """Nodes that feed an element-wise function or a softmax — and an affine prediction that feeds
    the loss directly (MSE on W h + b) — from the loss backwards."""
    out, seen = [], set()
    for node in reversed(graph.nodes):
        if node.is_leaf or node.op == "const":
            continue
        kind = get_op(node.op).kind
        if kind in ("elementwise", "vector"):
            candidates = [graph.canonical(node.args[0])]
        elif kind == "loss":
            candidates = [graph.canonical(a) for a in node.args
                          if not a.is_leaf and a.op != "const" and get_op(a.op).kind == "linear"]
        else:
            continue
        for arg in candidates:
            if not arg.is_leaf and arg.op != "const" and id(arg) not in seen:
                seen.add(id(arg))
                out.append(arg)
    return out


def _identities_between(graph: Graph, node, named: set) -> list:
    """The notes' identities used on the way from ``node`` up to the next named signal."""
    uses, frontier, seen = [], [node], set()
    while frontier:
        current = frontier.pop()
        for consumer in graph.consumers[id(current)]:
            if id(consumer) in seen:
                continue
            seen.add(id(consumer))
            pos = [graph.canonical(a) for a in consumer.args].index(current)
            for use in uses_for(get_op(consumer.op), pos):
                if use not in uses:
                    uses.append(use)
            if id(consumer) not in named:
                frontier.append(consumer)
    return sorted(uses)


def backprop(model: Model, *, layout: str = "numerator") -> Backprop:
    """Derive δ₁, δ₂, … and ∂J/∂v for every requested variable v of ``model``."""
    layout = check_layout(layout)
    graph = Graph(model.loss)
    wrt_nodes = []
    for name in model.wrt:
        node = graph.node_named(name)
        if node is None:
            raise DerivationError(f"wrt names {name!r}, which the loss does not depend on")
        wrt_nodes.append(node)
    signals = _pre_activation(graph)
    letter = "Delta" if model.batch is not None else "delta"
    names = {id(n): f"{letter}_{k}" for k, n in enumerate(signals, 1)}
    whys = {}
    for n in signals:
        used = _identities_between(graph, n, set(names))
        whys[id(n)] = "chain rule, using " + ", ".join(f"identity ({u})" for u in used) if used else "chain rule"
    chain = Chain(graph, layout=layout, pool=IndexPool(), signal_names=names, signal_why=whys,
                  batch=model.batch)
    chain.run(wrt_nodes, ("scalar",))
    deltas, delta_nodes, delta_symbols, shapes, index_forms = {}, {}, {}, {}, {}
    for n in signals:
        sig = chain.signals.get(id(n))
        if sig is None or sig.symbol is None:
            continue
        name = names[id(n)]
        deltas[name] = inline_unnamed(sig.closed, graph)
        delta_nodes[name] = n
        delta_symbols[name] = sig.symbol
        shapes[name] = sig.symbol.shape
        index_forms[name] = sig.index
    gradients = {}
    J = sp.Symbol("J")
    for node in wrt_nodes:
        shape, where = gradient_layout(node.shape, layout, to_shape=True)
        index, closed = chain.result(node, shape, where)
        closed = inline_unnamed(closed, graph)
        gradients[node.name] = closed
        shapes[f"dJ/d{node.name}"] = closed.shape
        index_forms[node.name] = index
        sym = graph.symbol(node)
        uses = sorted({u for c in graph.consumers[id(node)]
                       for u in uses_for(get_op(c.op), [graph.canonical(a) for a in c.args].index(node))})
        why = ", ".join(f"identity ({u})" for u in uses) or "chain rule"
        chain.steps.append(Step(sp.Derivative(J, element_symbol(sym, *chain.signal(node).free)), index,
                                "collapse the sums"))
        chain.steps.append(Step(sp.Derivative(J, sym), closed, f"using {why}"))
    for name, node in model.forward.items():
        shapes[name] = node.shape
    return Backprop(model, layout, deltas, delta_nodes, gradients, shapes, chain.steps, graph,
                    delta_symbols, index_forms)
