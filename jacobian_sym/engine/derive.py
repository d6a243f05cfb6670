"""Derivations: ``gradient`` and ``jacobian`` of an expression, derived element by element."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from jacobian_sym.base.sizes import IndexPool
from jacobian_sym.engine.chain import Chain
from jacobian_sym.engine.inline import inline_unnamed
from jacobian_sym.engine.layout import check_layout, gradient_layout, jacobian_layout
from jacobian_sym.engine.naming import name_repeated, restored
from jacobian_sym.engine.step import Step
from jacobian_sym.engine.symmetric import tied_form, with_symmetry
from jacobian_sym.errors import DerivationError, JacobianSymError
from jacobian_sym.graph.expr import Node
from jacobian_sym.graph.indexed import Graph, element_symbol
from jacobian_sym.graph.structure import is_symmetric
from jacobian_sym.render.compose import render_display_latex, render_latex, render_markdown, render_text
from jacobian_sym.render.display import shown
from jacobian_sym.render.printers import plain


@dataclass
class Derivation:
    """A derived Jacobian or gradient: the steps (as data), the index form and the closed form."""

    title: str
    kind: str  # "gradient" or "jacobian"
    expr: Node
    wrt: Node
    layout: str
    steps: list[Step]
    index_form: sp.Expr
    #: (row, col) index of the result that ``index_form`` is the element of
    free: tuple
    closed_form: sp.MatrixExpr
    graph: Graph = field(repr=False)
    #: the given ∂J/∂expr when the expression is not itself a scalar (identities 2.5, 2.6)
    upstream: sp.MatrixSymbol | None = None
    section: str | None = None
    #: the title was made by the engine (∂J/∂x), not given: pages set it as math
    auto_title: bool = field(default=False, repr=False)
    #: second order: the variable of a Hessian block's columns, and the blocks of a Hessian by several
    other: Node | None = field(default=None, repr=False)
    blocks: list | None = field(default=None, repr=False)
    #: a composite (Gauss–Newton): the derivations it is made of, by role
    parts: dict | None = field(default=None, repr=False)
    #: the unnamed nodes the last step writes by name, each written more than once (u₁: softmax(θ))
    names: dict = field(default_factory=dict, repr=False)

    def __getstate__(self):
        """Pickled without its kernel (a loaded module), which ``js.kernel`` rebuilds on demand."""
        return {k: v for k, v in self.__dict__.items() if k != "_kernel"}

    def __post_init__(self):
        self._name_repeated()
        self.closed_form = shown(self.closed_form)
        self.index_form = shown(self.index_form)

    def _name_repeated(self):
        """The last step says a repeated subexpression once, by the name it has among the definitions
        (the closed form itself stays whole: it is what kernels and checks evaluate)."""
        last = self.steps[-1] if self.steps else None
        if self.section is not None or last is None or last.rhs is not self.closed_form:
            return
        named, names = name_repeated(self.closed_form, self.graph)
        if names and restored(named, names) == self.closed_form:
            self.steps[-1] = Step(last.lhs, named, f"{last.why}, a part written more than once said once by its name")
            self.names = names

    @property
    def named_form(self):
        """The closed form as the last step writes it: with ``names`` for what it repeats."""
        return shown(self.steps[-1].rhs) if self.names else self.closed_form

    @property
    def shape(self):
        return self.closed_form.shape

    def latex(self, **options) -> str:
        return render_latex(self, **options)

    def _repr_latex_(self):
        return render_display_latex(self)

    def _repr_markdown_(self):
        return render_markdown(self, level=4)

    def __str__(self):
        return render_text(self)

    def __repr__(self):
        last = self.steps[-1]
        return (f"<Derivation {plain(last.lhs)} = {plain(self.closed_form)} ({self.layout} layout, "
                f"{len(self.steps)} steps)>")

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


def _checked(node, what):
    if not isinstance(node, Node):
        raise JacobianSymError(f"{what} must be an expression built with jacobian_sym, not {type(node).__name__}")
    return node


def _variable_of(graph: Graph, wrt: Node) -> Node:
    if not wrt.is_leaf and wrt.name is None:
        raise DerivationError("differentiate with respect to a variable or a named node")
    node = graph.node_named(wrt.name)
    if node is None:
        raise DerivationError(f"the expression does not contain {wrt.name}")
    if node.shape != wrt.shape:
        raise DerivationError(f"{wrt.name} in the expression is {node.shape[0]}×{node.shape[1]}, not "
                              f"{wrt.shape[0]}×{wrt.shape[1]}")
    return node


def gradient(expr: Node, wrt: Node, *, layout: str = "numerator", upstream: str | None = None,
             title: str | None = None, section: str | None = None) -> Derivation:
    """∂J/∂wrt for a scalar expression J, derived element by element.

    With ``upstream="delta"`` the expression may be a vector or matrix z and the result is ∂J/∂wrt
    for a loss J with ∂J/∂z = δ (as in identities 2.5 and 2.6).
    """
    _checked(expr, "the expression")
    _checked(wrt, "the variable")
    layout = check_layout(layout)
    graph = Graph(expr)
    var = _variable_of(graph, wrt)
    pool = IndexPool()
    chain = Chain(graph, layout=layout, pool=pool)
    delta = None
    if upstream is not None:
        shape, _ = gradient_layout(expr.shape, layout)
        delta = sp.MatrixSymbol(upstream, *shape)
        seed = ("upstream", delta)
    else:
        seed = ("scalar",)
    shape, where = gradient_layout(var.shape, layout)
    chain.run([var], seed)
    index, closed = chain.result(var, shape, where)
    closed = inline_unnamed(closed, graph)
    if is_symmetric(var):
        closed = tied_form(closed)
    closed = with_symmetry(closed, chain.symmetric)
    sig = chain.signal(var)
    free = where(*sig.free)
    steps = chain.steps
    var_symbol = graph.symbol(var)
    J = sp.Symbol("J")
    steps.append(Step(sp.Derivative(J, element_symbol(var_symbol, *sig.free)), index,
                      "collapse the sums ([i = k] keeps one term; declared facts)"))
    steps.append(Step(sp.Derivative(J, var_symbol), closed, "the closed form of the element-wise result"))
    name = expr.name or "J"
    return Derivation(title or f"∂{'J' if upstream else name}/∂{var.name}", "gradient", expr, var, layout,
                      steps, index, free, closed, graph, delta, section, auto_title=title is None)


def jacobian(expr: Node, wrt: Node, *, layout: str = "numerator", title: str | None = None,
             section: str | None = None) -> Derivation:
    """∂f/∂x for a vector function f of a vector x, derived element by element."""
    _checked(expr, "the expression")
    _checked(wrt, "the variable")
    layout = check_layout(layout)
    graph = Graph(expr)
    var = _variable_of(graph, wrt)
    shape, where = jacobian_layout(expr.shape, var.shape, layout)
    pool = IndexPool()
    chain = Chain(graph, layout=layout, pool=pool)
    out = chain.free_indices(expr)
    chain.run([var], ("jacobian", out))
    index, closed = chain.result(var, shape, lambda p, q: where(*out, p, q))
    closed = inline_unnamed(closed, graph)
    sig = chain.signal(var)
    free = where(*out, *sig.free)
    f = graph.symbol(expr)
    if len(chain.steps) > 2:  # a composition: show the contracted result before its closed form
        chain.steps.append(Step(sp.Derivative(element_symbol(f, *out), element_symbol(graph.symbol(var), *sig.free)),
                                index, "collapse the sums ([i = k] keeps one term; declared facts)"))
    chain.steps.append(Step(sp.Derivative(f, graph.symbol(var)), closed,
                            "the closed form of the element-wise result"))
    return Derivation(title or f"∂{expr.name or 'f'}/∂{var.name}", "jacobian", expr, var, layout,
                      chain.steps, index, free, closed, graph, None, section, auto_title=title is None)
