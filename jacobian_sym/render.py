"""The only module that formats: derivations as LaTeX, Markdown and plain text."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty import pretty
from sympy.printing.str import StrPrinter

from .functions import ElementFunction, element_class


def _index(e, printer):
    return printer._print(e)


class NotesLatexPrinter(LatexPrinter):
    """LaTeX in the notes' notation: W_{ij}, x_{j}, diag(f′(x)), ∂z_k/∂W_ij, δ_{ki}."""

    def __init__(self, settings=None):
        super().__init__({"order": "none", **(settings or {})})

    def _print_MatrixElement(self, e):
        parent = self._print(e.parent)
        rows, cols = e.parent.shape
        idx = [i for i, size in zip(e.indices, (rows, cols)) if size != 1] or [e.indices[0]]
        sub = "".join(_index(i, self) for i in idx) if all(i.is_Symbol for i in idx) else \
            ",".join(_index(i, self) for i in idx)
        if "_" in parent and "{" in parent:  # δ_{1} becomes δ_{1,k}
            base, _, rest = parent.partition("_{")
            return f"{base}_{{{rest[:-1]},{sub}}}"
        return f"{parent}_{{{sub}}}"

    def _print_KroneckerDelta(self, e, exp=None):
        a, b = (self._print(x) for x in e.args[:2])
        return rf"\delta_{{{a}{b}}}"

    def _print_ElementwiseApplyFunction(self, e):
        d = sp.Dummy("s")
        fn = e.function
        body = fn(d) if not isinstance(fn, sp.Lambda) else fn.expr.xreplace({fn.variables[0]: d})
        if isinstance(body, ElementFunction) or isinstance(body, sp.Function):
            name = self._print(body.func(sp.Symbol("@"))).replace(r"\left(@\right)", "").replace("{@}", "")
            name = name.replace("(@)", "")
            return rf"{name}\left({self._print(e.expr)}\right)"
        return self._print(body.xreplace({d: sp.Symbol(self._print(e.expr))}))

    def _print_DiagMatrix(self, e):
        return rf"\operatorname{{diag}}\left({self._print(e.args[0])}\right)"

    def _print_Derivative(self, e):
        (var, count), = e.variable_count
        num, den = self._print(e.expr), self._print(var)
        return rf"\frac{{\partial {num}}}{{\partial {den}}}"

    def _print_OneMatrix(self, e):
        return r"\mathbf{1}"

    def _print_OpApply(self, e):
        from .ops import fill, get_op

        return fill(get_op(e.op_name).latex, *(self._print(a) for a in e.operands))


def latex(expr) -> str:
    return NotesLatexPrinter().doprint(expr)


def _why(text: str) -> str:
    return rf"\text{{{text}}}"


def render_latex(derivation, *, standalone: bool = False, display: str | None = None) -> str:
    """The derivation as an amsmath ``align*`` block (a whole document with ``standalone``)."""
    lines = [rf"  {latex(s.lhs)} &= {latex(s.rhs)} && {_why(s.why)} \\" for s in derivation.steps]
    body = "\n".join([r"\begin{align*}", *lines, r"\end{align*}"])
    return _wrap(derivation.title, body, standalone, display)


def _wrap(title: str, body: str, standalone: bool, display: str | None) -> str:
    """A block with a title: Markdown display math, a LaTeX fragment, or a whole document."""
    if display:
        return f"**{title}**\n\n{display}\n{body}\n{display}"
    if not standalone:
        return f"% {title}\n{body}\n"
    return "\n".join([
        r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\usepackage[margin=2cm]{geometry}",
        r"\begin{document}", rf"\section*{{{_tex_escape(title)}}}", body, r"\end{document}", ""])


def _tex_escape(text: str) -> str:
    return text.replace("∂", r"$\partial$").replace("_", r"\_")


def render_markdown(derivation) -> str:
    return render_latex(derivation, display="$$") + "\n"


def render_text(derivation) -> str:
    out = [derivation.title]
    for s in derivation.steps:
        out.append(f"  {sp.sstr(s.lhs)} = {sp.sstr(s.rhs)}    [{s.why}]")
    out.append(f"  closed form: {pretty(derivation.closed_form, use_unicode=True)}")
    return "\n".join(out)


def is_matrix_element(e) -> bool:
    return isinstance(e, MatrixElement)


class NotesStrPrinter(StrPrinter):
    """Plain text in the notes' notation: ∘ for Hadamard, relu′(z), 1 for a ones vector."""

    def _print_HadamardProduct(self, e):
        return " ∘ ".join(self.parenthesize(a, 100) if isinstance(a, (sp.MatAdd, sp.MatMul)) else self._print(a)
                          for a in e.args)

    def _print_ElementwiseApplyFunction(self, e):
        cls = element_class(e.function)
        if cls is not None:
            return f"{cls.op_name}{'′' * cls.order}({self._print(e.expr)})"
        fn = e.function
        d = sp.Dummy("s")
        body = fn(d) if not isinstance(fn, sp.Lambda) else fn.expr.xreplace({fn.variables[0]: d})
        return self._print(body.xreplace({d: sp.Symbol(self._print(e.expr))}))

    def _print_OneMatrix(self, e):
        return "1"

    def _print_MatMul(self, e):
        coeff, mats = e.as_coeff_matrices()
        body = " ".join(self.parenthesize(m, 100) if isinstance(m, (sp.MatAdd, sp.HadamardProduct)) else self._print(m)
                        for m in mats)
        return body if coeff == 1 else ("-" + body if coeff == -1 else f"{self._print(coeff)} {body}")

    def _print_Transpose(self, e):
        inner = self._print(e.arg)
        return f"({inner}).T" if not isinstance(e.arg, sp.MatrixSymbol) else f"{inner}.T"


def plain(expr, rename=None) -> str:
    """A closed form as one line of plain text (docstrings, terminals); ``rename`` maps symbol names."""
    printer = NotesStrPrinter({"order": "none"})
    if rename is not None:
        printer._print_MatrixSymbol = lambda e: rename(e.name)
    return printer.doprint(expr)


def _shape_tex(shape) -> str:
    return r" \times ".join(latex(s) for s in shape)


def render_backprop_latex(bp, *, standalone: bool = False, display: str | None = None) -> str:
    """A model's backprop in the notes' order: forward pass, error signals, gradients, shapes."""
    graph = bp.graph
    forward = [rf"  {latex(graph.symbol(n))} &= {latex(_forward_form(graph, n))} \\"
               for n in bp.model.forward.values()]
    J = sp.Symbol("J")
    signals = [rf"  {latex(bp.delta_symbols[k])} = {latex(sp.Derivative(J, graph.symbol(n)))} &= "
               rf"{latex(bp.deltas[k])} && {_why(_signal_why(bp, k))} \\" for k, n in bp.delta_nodes.items()]
    grads = [rf"  {latex(sp.Derivative(J, graph.symbol(graph.node_named(k))))} &= {latex(v)} && "
             rf"{_why(_gradient_why(bp, k))} \\" for k, v in bp.gradients.items()]
    blocks = [r"\begin{align*}", *forward, r"\end{align*}",
              r"\begin{align*}", *signals, *grads, r"\end{align*}",
              _shape_array(bp)]
    return _wrap(bp.model.title, "\n".join(blocks), standalone, display)


def _shape_array(bp) -> str:
    """The notes' dimension check: each signal over its factors, shapes underneath."""
    rows = []
    for name, (lhs_shape, factors) in bp.shape_table.items():
        if name not in bp.deltas:
            continue
        lhs = latex(sp.Derivative(sp.Symbol("J"), bp.graph.symbol(bp.delta_nodes[name])))
        top = [lhs, "="] + [r"\circ" if f == "∘" else latex(f[0]) for f in factors]
        bottom = [rf"({_shape_tex(lhs_shape)})", ""] + ["" if f == "∘" else rf"({_shape_tex(f[1])})"
                                                        for f in factors]
        rows.append((top, bottom))
    if not rows:
        return ""
    width = max(len(t) for t, _ in rows)
    lines = [rf"\[\begin{{array}}{{{'c' * width}}}"]
    for top, bottom in rows:
        lines.append("  " + " & ".join(top + [""] * (width - len(top))) + r" \\")
        lines.append("  " + " & ".join(bottom + [""] * (width - len(bottom))) + r" \\[4pt]")
    lines.append(r"\end{array}\]")
    return "\n".join(lines)


def _forward_form(graph, node):
    from .ops import get_op

    args = [graph.symbol(a) if (a.is_leaf or a.name or a.op == "const") else _forward_form(graph, a)
            for a in node.args]
    return get_op(node.op).matrix(*args, **dict(node.attrs))


def _signal_why(bp, name):
    for step in bp.steps:
        if step.lhs == bp.delta_symbols[name]:
            return step.why
    return "chain rule"


def _gradient_why(bp, name):
    sym = bp.graph.symbol(bp.graph.node_named(name))
    for step in bp.steps:
        if isinstance(step.lhs, sp.Derivative) and step.lhs.variables == (sym,):
            return step.why
    return "chain rule"
