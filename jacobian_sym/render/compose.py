"""What each page says: a derivation, a model's backprop, the notes as a whole, the errata.

Reads results by their attributes only (a ``Derivation``, a ``Backprop`` with its ``chain_forms``)
and builds ``pages.Page`` structures; ``pages`` writes them as LaTeX, Markdown or text.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.graph.expr import MASKS
from jacobian_sym.graph.structure import declared_words
from jacobian_sym.render.display import Label
from jacobian_sym.render.pages import (
    LINE_WIDTH,
    DimTable,
    Equations,
    Page,
    Prose,
    Row,
    Section,
    as_written,
    fits_line,
    product,
    write_display_latex,
    write_latex,
    write_markdown,
    write_text,
)
from jacobian_sym.render.printers import latex

J = sp.Symbol("J")

_x = sp.MatrixSymbol("x", sp.Symbol("n"), 1)
_delta = sp.Symbol("delta")


def layout_words(layout: str) -> tuple:
    """What the layout means, as prose with inline math (the page says which layout it uses)."""
    if layout == "numerator":
        return ("Numerator layout, the notes' convention: ", sp.Derivative(J, _x), " has the shape of ",
                _x.T, " and an error signal ", _delta, " is a row; final gradients are given in the shapes "
                "of their variables (the notes' shape convention).")
    return ("Denominator layout: ", sp.Derivative(J, _x), " has the shape of ", _x, " and an error signal ",
            _delta, " is a column; final gradients are given in the shapes of their variables.")


_i, _k = sp.symbols("i k")
KRONECKER = (sp.KroneckerDelta(_i, _k), " is 1 when ", sp.Eq(_i, _k, evaluate=False),
             " and 0 otherwise (the notes' case split); ", _delta, " is kept for the error signals.")


def _uses_kronecker(steps) -> bool:
    return any(isinstance(x, sp.Basic) and x.has(sp.KroneckerDelta) for s in steps for x in (s.lhs, s.rhs))


def _cite(uses) -> str:
    return ", ".join(f"identity ({u})" for u in uses)


# ----- a derivation -----
def _title(d) -> tuple:
    if d.section is not None or not getattr(d, "auto_title", False):
        return (d.title,)
    top = d.steps[-1].lhs
    return ("The derivative ", top)


def _definitions(d) -> list:
    """J and the intermediates u₁, u₂, … an expression's steps mention, as the expression was written."""
    graph = d.graph
    rows = []
    for node in graph.nodes:
        if node.is_leaf or node.op == "const":
            continue
        sym = graph.symbol(node)
        scalar_loss = node.shape == (1, 1) and not (d.kind == "gradient" and d.upstream is not None)
        if node is graph.root and scalar_loss and d.kind != "jacobian" and sym.name != "J":
            rows.insert(0, Row((J, sym), product(as_written(graph, node))))
        rows.append(Row((sym,), product(as_written(graph, node, one_level=True))))
    rows += [Row((sym,), product(form)) for sym, form in getattr(d, "names", {}).items()
             if not graph.defines(sym)]  # a name the closed form gives what it repeats
    return rows


SECOND_ORDER = {
    "hessian": ("The gradient's element form is differentiated again, forward over reverse: a forward sweep "
                "carries each node's tangent along a unit vector of the variable, and the derivative of the "
                "gradient's element is the sum over the nodes it reads of its partial times their tangent.",),
    "hvp": ("The Hessian applied to a direction: ",
            Label("(∇²J[V])_pq = Σ_rs ∂²J/∂W_pq∂W_rs V_rs",
                  r"(\nabla^{2}_{W} J\,[V])_{pq} = \sum_{r,s} "
                  r"\frac{\partial^{2} J}{\partial W_{pq} \partial W_{rs}} V_{rs}"),
            "; the gradient's element is differentiated along V by a forward sweep.",),
    "kronecker": ("The Hessian by vec W (vec stacks the columns), read off the Hessian applied to V term by term: "
                  "vec(A V B) = (Bᵀ ⊗ A) vec V.",),
    "jvp": ("The derivative along a direction V, by a forward sweep over the nodes' elements.",),
    "gauss_newton": ("The Gauss–Newton product G V = Jᵀ H J V, J the Jacobian of the model's output by the "
                     "variable and H the Hessian of the loss by the output, each factor derived on its own.",),
}
KINK = ("ReLU″ is 0 away from the kink (at 0, where ReLU′ jumps, it does not exist): the result holds at every "
        "point off a kink, which is where a second-order method evaluates it.",)


def derivation_page(d) -> Page:
    prose = [Prose(layout_words(d.layout))]
    if d.kind in SECOND_ORDER:
        prose.append(Prose(SECOND_ORDER[d.kind]))
        if any(n.op in ("relu", "leaky_relu") for n in d.graph.nodes):
            prose.append(Prose(KINK))
    if _uses_kronecker(d.steps):
        prose.append(Prose(KRONECKER))
    blocks = list(prose)
    if d.section is None:
        blocks += [Prose(("where",)), Equations(_definitions(d))]
    blocks.append(Equations([Row((s.lhs,), product(s.rhs), (s.why,)) for s in _said_once(d.steps)]))
    return Page(_title(d), [Section(None, blocks)])


def _said_once(steps) -> list:
    """The steps without one said again for the same reason with only its summation indices renamed
    (u₃ = Σ_j u₂_j x_j for each of the product's two arguments in xᵀAx: one element's definition, once)."""
    seen, out = set(), []
    for s in steps:
        key = (_bound_renamed(s.lhs), _bound_renamed(s.rhs), s.why)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _bound_renamed(expr) -> str:
    """``expr`` as text with its summation indices renamed in the order they are bound."""
    if not isinstance(expr, sp.Basic):
        return str(expr)
    bound = [v for e in sp.preorder_traversal(expr) if isinstance(e, sp.Sum) for v, *_ in e.limits]
    return sp.srepr(expr.xreplace({v: sp.Symbol(f"_bound{n}") for n, v in enumerate(dict.fromkeys(bound))}))


# ----- a backprop -----
def _partials(graph, path) -> list:
    """∂J/∂s ∂s/∂m … ∂m/∂n along one path (from the loss itself when the path ends there)."""
    nodes = path.nodes if path.top is not None else path.nodes[1:]
    first = [sp.Derivative(J, graph.symbol(nodes[0]))]
    return first + [sp.Derivative(graph.symbol(u), graph.symbol(lo)) for u, lo in zip(nodes, nodes[1:])]


def _chain_rows(bp, lhs, closed, form, shaped) -> list:
    """δ₂ = ∂J/∂z = ∂J/∂θ ∂θ/∂h ∂h/∂z = δ₁ ∂θ/∂h ∂h/∂z = δ₁ U diag(ReLU′(z)) = closed form."""
    graph = bp.graph
    terms = [_partials(graph, path) for path in form.paths]
    cited = ("using " + _cite(form.citations),) if form.citations else ()
    final = ("the closed form of the element-wise result",) if form.local_forms is not None else (cited or
                                                                                                  ("chain rule",))
    if shaped is not None:
        final = (*final, ", transposed to the shape of ", shaped)
    if len(terms) == 1 and len(terms[0]) == 1 and form.paths[0].top is None:
        return [Row(lhs, product(closed), final)]
    rows = [Row(lhs, terms, ("chain rule",))]
    tops = [p.top for p in form.paths if p.top is not None]
    if tops:
        rows.append(Row((), [[p.top, *t[1:]] if p.top is not None else t for p, t in zip(form.paths, terms)],
                        ("substituting ", *_joined(sorted(set(tops), key=str)))))
        if form.local_forms is not None:
            rows.append(Row((), [[p.top, *forms] for p, forms in zip(form.paths, form.local_forms)], cited))
    rows.append(Row((), product(closed), final))
    return rows


def _joined(symbols) -> list:
    out = []
    for n, s in enumerate(symbols):
        out += ([", "] if n else []) + [s]
    return out


def _shaped(bp, variable):
    """The variable, when the layout's gradient is its transpose (a column in numerator layout)."""
    rows, cols = variable.shape
    if (rows, cols) != (1, 1) and (cols == 1) == (bp.layout == "numerator") and 1 in (rows, cols):
        return bp.graph.symbol(variable)
    return None


def _listed(symbols) -> tuple:
    """x, y and z as prose pieces (math between the words)."""
    out = []
    for k, sym in enumerate(symbols):
        out += [", " if 0 < k < len(symbols) - 1 else " and " if k else "", sym]
    return tuple(p for p in out if p != "")


def _unnamed(node) -> bool:
    return node.name is None and not node.is_leaf and node.op != "const"


def _named_on_page(bp) -> list:
    """The unnamed nodes the page names as uₖ: every error signal's node and every node on a chain's
    path, and the unnamed arguments of those (a uₖ is written one level deep: u₅ = u₄ + 1)."""
    graph = bp.graph
    todo = [*bp.delta_nodes.values()] + [n for form in bp.chain_forms.values() for p in form.paths for n in p.nodes]
    found = {}
    while todo:
        node = graph.canonical(todo.pop())
        if _unnamed(node) and id(node) not in found:
            found[id(node)] = node
            todo += node.args
    return found


def _forward_rows(bp) -> list:
    """The model's lines, each preceded by the unnamed intermediates (u₂ = ms + ε) the page names
    that it computes, so that every uₖ a signal or a partial mentions is defined on the page."""
    graph, named, shown = bp.graph, _named_on_page(bp), set()
    rows = []
    for line in bp.model.forward.values():
        for node in graph.canonical(line).walk():
            node = graph.canonical(node)
            if id(node) in named and id(node) not in shown:
                rows.append(Row((graph.symbol(node),), product(as_written(graph, node, one_level=True))))
            shown.add(id(node))
        rows.append(Row((graph.symbol(line),), product(as_written(graph, line))))
    return rows


def backprop_page(bp) -> Page:
    graph = bp.graph
    forward = _forward_rows(bp)
    signals, grads = [], []
    for name, node in bp.delta_nodes.items():
        lhs = (bp.delta_symbols[name], sp.Derivative(J, graph.symbol(node)))
        signals.append(Equations(_chain_rows(bp, lhs, bp.deltas[name], bp.chain_forms[name], None)))
    for name, closed in bp.gradients.items():
        node = graph.node_named(name)
        lhs = (sp.Derivative(J, graph.symbol(node)),)
        grads.append(Equations(_chain_rows(bp, lhs, closed, bp.chain_forms[name], _shaped(bp, node))))
    meeting = [graph.symbol(bp.delta_nodes[k]) for k in bp.meeting]
    where = ("Error signals are named at the pre-activations",)
    if meeting:
        where += (" and where paths meet (",) + _listed(meeting) + ("),",)
    intro = [Prose(layout_words(bp.layout)),
             Prose(where + (" and numbered from the loss backwards, as the notes do.",))]
    intro += [Prose((graph.symbol(node), f" is a constant, the {MASKS[node.attr('constant')]}."))
              for node in bp.model.inputs.values() if node.attr("constant")]
    intro += [Prose((graph.symbol(node), declared_words(node))) for node in bp.model.variables.values()
              if declared_words(node)]
    # (a row too wide for the page — a sum of six products — checks nothing a reader can follow; the
    # table's third column holds a whole sum, so a sum gets half a line)
    table = DimTable([(sp.Derivative(J, graph.symbol(bp.delta_nodes[k])), shape, factors)
                      for k, (shape, factors) in bp.shape_table.items() if k in bp.deltas
                      and fits_line(" ".join(latex(f[0]) for f in factors if f != "∘"),
                                    LINE_WIDTH if len(factors) > 1 else LINE_WIDTH // 2)])
    sections = [Section(None, intro), Section(("Forward pass",), [Equations(forward)]),
                Section(("Error signals",), signals), Section(("Gradients",), grads)]
    if table.rows:
        sections.append(Section(("Checking the dimensions, as the notes do",), [table]))
    sections.append(_summary(bp))
    return Page((bp.model.title,), sections)


def _summary(bp) -> Section:
    """Every signal and gradient once, as the result it is, without the steps (what a reader copies)."""
    graph = bp.graph
    rows = [Row((bp.delta_symbols[name],), product(bp.deltas[name])) for name in bp.delta_nodes]
    rows += [Row((sp.Derivative(J, graph.symbol(graph.node_named(name))),), product(closed))
             for name, closed in bp.gradients.items()]
    return Section(("Summary",), [Prose(("The error signals and the gradients, each once.",)), Equations(rows)])


# ----- the entry points the results call -----
def render_latex(d, *, standalone: bool = False) -> str:
    return write_latex(derivation_page(d), standalone=standalone)


def render_markdown(d, *, level: int = 1) -> str:
    return write_markdown(derivation_page(d), level=level)


def render_text(d) -> str:
    return write_text(derivation_page(d))


def render_display_latex(result) -> str:
    page = backprop_page(result) if hasattr(result, "gradients") else derivation_page(result)
    return write_display_latex(page)


def render_backprop_latex(bp, *, standalone: bool = False) -> str:
    return write_latex(backprop_page(bp), standalone=standalone)


def render_backprop_markdown(bp, *, level: int = 1) -> str:
    return write_markdown(backprop_page(bp), level=level)


def render_backprop_text(bp) -> str:
    return write_text(backprop_page(bp))


# ----- the notes as a whole -----
NOTES_TITLE = "Computing neural network gradients, derived by jacobian_sym"


def _without_conventions(blocks, conventions) -> list:
    """Blocks without the paragraphs on conventions (said once, at the top of the notes' page)."""
    return [Section(b.heading, _without_conventions(b.blocks, conventions)) if isinstance(b, Section) else b
            for b in blocks if not (isinstance(b, Prose) and b.pieces in conventions)]


def _notes_page(derivations, bp) -> Page:
    layouts = {d.layout for d in derivations} | {bp.layout}
    conventions = [layout_words(layout) for layout in sorted(layouts)] + [KRONECKER]
    sections = [Section(None, [Prose(c) for c in conventions])]
    for page in map(derivation_page, derivations):
        sections.append(Section(page.title, _without_conventions(page.sections, conventions)))
    page = backprop_page(bp)
    sections.append(Section(("(3) ", *page.title), _without_conventions(page.sections, conventions)))
    return Page((NOTES_TITLE,), sections)


def notes_document(derivations, bp) -> str:
    """Every identity of the notes and the §3 network, as one standalone document."""
    return write_latex(_notes_page(derivations, bp), standalone=True)


def notes_markdown(derivations, bp) -> str:
    return write_markdown(_notes_page(derivations, bp))


# ----- the second-order document -----
SECOND_TITLE = "Second order: Hessians, Hessian–vector products and Gauss–Newton, derived by jacobian_sym"


def _second_order_page(cases) -> Page:
    intro = Section(None, [Prose(("Each result below is derived by the engine from the expression alone (the "
                                  "gradient's element form differentiated again, forward over reverse), "
                                  "collapsed by its rewrite rules and read as a closed form by its recogniser. "
                                  "Each is proved (js.verify, run by the tests): equal to SymPy's own second "
                                  "derivative of the explicit expression at concrete sizes, and to finite "
                                  "differences of the gradient at larger ones.",)),
                              Prose(layout_words("numerator")), Prose(KRONECKER), Prose(KINK)])
    conventions = [layout_words("numerator"), KRONECKER, KINK]
    sections = [intro]
    for name, d in cases:
        page = derivation_page(d)
        sections.append(Section((name,), _without_conventions(page.sections, conventions)))
    return Page((SECOND_TITLE,), sections)


def second_order_document(cases) -> str:
    return write_latex(_second_order_page(cases), standalone=True)


def second_order_markdown(cases) -> str:
    return write_markdown(_second_order_page(cases))


