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
from jacobian_sym.engine.symmetric import tied_form, with_symmetry
from jacobian_sym.errors import DerivationError
from jacobian_sym.graph.indexed import Graph, element_symbol, matrix_symbol
from jacobian_sym.graph.structure import is_symmetric
from jacobian_sym.models.chain_form import chain_form
from jacobian_sym.models.model import Model
from jacobian_sym.ops.functions import _derived_form
from jacobian_sym.ops.table import get_op
from jacobian_sym.render.compose import (
    render_backprop_latex,
    render_backprop_markdown,
    render_backprop_text,
    render_display_latex,
)
from jacobian_sym.render.display import Forms, shown
from jacobian_sym.render.printers import plain


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
    #: the matrix-level chain rule of every signal and gradient (``chain_form.ChainForm``)
    chain_forms: dict = field(default_factory=dict, repr=False)
    #: the signals named because several nodes read their node (where paths meet: a residual stream),
    #: not because it feeds an activation, by signal name
    meeting: list = field(default_factory=list, repr=False)
    #: what is built from this backprop once (its kernel), kept with it
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self):
        """Pickled without what was built from it (a loaded kernel module): rebuilt on demand."""
        return {**self.__dict__, "cache": {}}

    def __post_init__(self):
        self.deltas = Forms(self.deltas)
        self.gradients = Forms(self.gradients, gradients=True)

    @property
    def shape_table(self) -> ShapeTable:
        """The notes' dimension check, for every signal and gradient: name → (shape of the left-hand
        side, [(factor, shape) or "∘", …]), e.g. δ₂: (1×D_h) = (1×N_c)(N_c×D_h) ∘ (1×D_h)."""
        table = ShapeTable()
        for name, closed in {**self.deltas, **self.gradients}.items():
            table[name] = (closed.shape, [f if f == "∘" else (shown(f[0]), f[1]) for f in _factor_shapes(closed)])
        return table

    def latex(self, **options) -> str:
        return render_backprop_latex(self, **options)

    def __str__(self):
        return render_backprop_text(self)

    def __repr__(self):
        signals = ", ".join(f"{plain(self.delta_symbols[k])} = {plain(v)}" for k, v in self.deltas.items())
        grads = ", ".join(f"∂J/∂{plain(self.graph.symbol(self.graph.node_named(k)))} = {plain(v)}"
                          for k, v in self.gradients.items())
        return f"<Backprop of {self.model.title!r} ({self.layout} layout): {signals}; {grads}>"

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _repr_latex_(self):
        return render_display_latex(self)

    def _repr_markdown_(self):
        return render_backprop_markdown(self, level=4)


def _shape_text(shape) -> str:
    return "(" + "×".join(plain(s) for s in shape) + ")"


class ShapeTable(dict):
    """name → (shape, factors): a dict that prints as the notes' dimension check."""

    def __str__(self):
        lines = []
        for name, (shape, factors) in self.items():
            rhs = " ".join("∘" if f == "∘" else _shape_text(f[1]) for f in factors)
            label = plain(sp.Symbol(name)) if name.startswith(("delta", "Delta")) else f"∂J/∂{plain(sp.Symbol(name))}"
            lines.append(f"{label}: {_shape_text(shape)} = {rhs}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))


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


def _flat(op_name: str) -> bool:
    """Whether an element-wise op's derived derivative is 0 (step, where's selector)."""
    fn = get_op(op_name).function
    return fn is not None and fn.form is not None and _derived_form(fn) == 0


def _pre_activation(graph: Graph, lines=(), meeting: set | None = None) -> list:
    """Nodes that feed an element-wise function or a softmax — and an affine prediction that feeds
    the loss directly (MSE on W h + b) — from the loss backwards; and a forward line (``lines``:
    named by the model) that several nodes read, where paths meet — a residual stream x₂, the h₁
    that every head reads — so that its signal is written once, not once per path."""
    readers: dict = {}
    for node in graph.nodes:
        for a in {id(graph.canonical(a)) for a in node.args}:
            readers[a] = readers.get(a, 0) + 1
    out, seen = [], set()
    for node in reversed(graph.nodes):
        if node.is_leaf or node.op == "const":
            continue
        kind = get_op(node.op).kind
        candidates = []
        if node.name in lines and node is not graph.root and readers.get(id(node), 0) >= 2:
            candidates = [node]
            if meeting is not None:
                meeting.add(id(node))
        if kind == "elementwise" and _flat(node.op):
            pass  # (step′ = 0: the argument of where's selector has no signal to name)
        elif kind in ("elementwise", "vector"):
            # (not a norm: its derivative A/‖A‖ divides by its value, which a signal named there would
            # hide from the ‖A‖ of an outer ‖A‖², so 2‖A‖ · A/‖A‖ could not cancel to 2A — NaN at A = 0)
            candidates += [a for a in (graph.canonical(node.args[0]),) if a.op != "norm"]
        elif kind == "loss":
            candidates += [graph.canonical(a) for a in node.args
                           if not a.is_leaf and a.op != "const" and get_op(a.op).kind == "linear"]
        for arg in candidates:
            if not arg.is_leaf and arg.op != "const" and id(arg) not in seen:
                seen.add(id(arg))
                out.append(arg)
    # from the loss backwards by the node's own place (a signal reads only those of nodes after it):
    # found through their consumers, layer_norm(f(z)) + z met z before the nodes between
    position = {id(n): k for k, n in enumerate(graph.nodes)}
    return sorted(out, key=lambda n: -position[id(n)])


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
    meeting: set = set()
    signals = _pre_activation(graph, set(model.forward), meeting)
    letter = "Delta" if model.batch is not None else "delta"
    names = {id(n): f"{letter}_{k}" for k, n in enumerate(signals, 1)}
    signal_of = {id(n): matrix_symbol(names[id(n)], *gradient_layout(n.shape, layout, batch=model.batch)[0])
                 for n in signals}
    forms = {id(n): chain_form(graph, n, signal_of, layout) for n in [*signals, *wrt_nodes]}
    whys = {id(n): _using(forms[id(n)]) for n in signals}
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
        if is_symmetric(node):
            closed = tied_form(closed)
        closed = with_symmetry(closed, chain.symmetric)
        gradients[node.name] = closed
        shapes[f"dJ/d{node.name}"] = closed.shape
        index_forms[node.name] = index
        sym = graph.symbol(node)
        chain.steps.append(Step(sp.Derivative(J, element_symbol(sym, *chain.signal(node).free)), index,
                                "collapse the sums"))
        chain.steps.append(Step(sp.Derivative(J, sym), closed, _using(forms[id(node)])))
    for name, node in model.forward.items():
        shapes[name] = node.shape
    chain_forms = {**{k: forms[id(n)] for k, n in delta_nodes.items()},
                   **{n.name: forms[id(n)] for n in wrt_nodes}}
    return Backprop(model, layout, deltas, delta_nodes, gradients, shapes, chain.steps, graph,
                    delta_symbols, index_forms, chain_forms,
                    [k for k, n in delta_nodes.items() if id(n) in meeting])


def _using(form) -> str:
    cited = ", ".join(f"identity ({u})" for u in form.citations)
    return f"chain rule, using {cited}" if cited else "chain rule"
