"""The only module that formats: derivations and backprops as LaTeX, Markdown and plain text.

SymPy's printers are subclassed for the notes' notation (W_{ij}, δ₁, ŷ, ∘, diag, ∂J/∂W, sums over
1 … n); nothing is post-processed as a string.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter, translate
from sympy.printing.str import StrPrinter

from jacobian_sym.base.codetext import fill
from jacobian_sym.base.safe_text import md_text, one_line, tex_text
from jacobian_sym.ops.functions import ElementFunction, element_class
from jacobian_sym.ops.table import get_op
from jacobian_sym.render.notation import NOTATION, latex_name, text_name

PREAMBLE = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb}",
            r"\usepackage[margin=2cm]{geometry}", r"\allowdisplaybreaks"]


def _body_of(fn, d):
    return fn(d) if not isinstance(fn, sp.Lambda) else fn.expr.xreplace({fn.variables[0]: d})


def _function_latex(cls) -> str:
    """An element-wise function's LaTeX name, with a prime per derivative (σ′)."""
    return latex_name(cls.op_name) + "'" * cls.order


def subscripted(name: str, sub: str) -> str:
    """The LaTeX of ``name`` with one more subscript, merged with the name's own (W0 and i j give
    W_{0,ij}, delta_1 and k give δ_{1,k}): a subscript is built, never appended to printed text."""
    base, supers, subs = split_super_sub(name)
    subs = [*subs, sub] if sub else subs
    out = translate(base)
    if supers:
        out += "^{" + " ".join(translate(x) for x in supers) + "}"
    return out + ("_{" + ",".join(translate(x) for x in subs) + "}" if subs else "")


class NotesLatexPrinter(LatexPrinter):
    """LaTeX in the notes' notation."""

    def __init__(self, settings=None):
        super().__init__({"order": "none", **(settings or {})})

    def _print_MatrixElement(self, e):
        rows, cols = e.parent.shape
        if (rows, cols) == (1, 1):  # the element of a scalar is the scalar: J, not J_0
            return self._print(sp.Symbol(e.parent.name))
        idx = [i for i, size in zip(e.indices, (rows, cols)) if size != 1]
        return subscripted(e.parent.name, "".join(self._print(i) for i in idx))

    def _print_KroneckerDelta(self, e, exp=None):
        a, b = (self._print(x) for x in e.args[:2])
        return rf"\delta_{{{a}{b}}}"

    def _print_Sum(self, e):
        # the notes' indices run 1 … n: Σ_{k=0}^{n−1} is printed Σ_{k=1}^{n}
        out = []
        for k, lo, hi in e.limits:
            out.append(rf"\sum_{{{self._print(k)}={self._print(lo + 1)}}}^{{{self._print(hi + 1)}}}")
        return " ".join(out) + " " + self.parenthesize(e.function, 40)

    def _print_ElementwiseApplyFunction(self, e):
        cls = element_class(e.function)
        arg = self._print(e.expr)
        if cls is not None:
            return rf"{_function_latex(cls)}\left({arg}\right)"
        d = sp.Dummy("s")
        return self._print(_body_of(e.function, d).xreplace({d: sp.Symbol(arg)}))

    def _print_DiagMatrix(self, e):
        return rf"\operatorname{{diag}}\left({self._print(e.args[0])}\right)"

    def _print_Derivative(self, e):
        (var, _count), = e.variable_count
        return rf"\frac{{\partial {self._print(e.expr)}}}{{\partial {self._print(var)}}}"

    def _print_OneMatrix(self, e):
        return r"\mathbf{1}"

    def _print_Transpose(self, e):
        inner = self._print(e.arg)
        if isinstance(e.arg, sp.MatrixSymbol):
            return rf"{inner}^{{T}}"
        return rf"\left({inner}\right)^{{T}}"

    def _print_Function(self, e, exp=None):
        # (SymPy dispatches a Function subclass on its own name only, never on ElementFunction)
        if isinstance(e, ElementFunction):
            return self._print_ElementFunction(e, exp)
        return super()._print_Function(e, exp)

    def _print_ElementFunction(self, e, exp=None):
        out = rf"{_function_latex(type(e))}\left({self._print(e.args[0])}\right)"
        return out if exp is None else rf"{out}^{{{exp}}}"

    def _print_OpApply(self, e):
        return fill(NOTATION[e.op_name].latex, *(self._print(a) for a in e.operands))


class NotesStrPrinter(StrPrinter):
    """Plain text in the notes' notation: ∘ for Hadamard, relu′(z), 1 for a ones vector, W_kl."""

    def _print_MatrixElement(self, e):
        rows, cols = e.parent.shape
        if (rows, cols) == (1, 1):
            return self._print(e.parent)
        idx = [i for i, size in zip(e.indices, (rows, cols)) if size != 1]
        return f"{self._print(e.parent)}_{''.join(self._print(i) for i in idx)}"

    def _print_Sum(self, e):
        lims = ", ".join(f"{self._print(k)}={self._print(lo + 1)}..{self._print(hi + 1)}" for k, lo, hi in e.limits)
        return f"Σ[{lims}] {self.parenthesize(e.function, 40)}"

    def _print_HadamardProduct(self, e):
        return " ∘ ".join(self.parenthesize(a, 100) if isinstance(a, (sp.MatAdd, sp.MatMul)) else self._print(a)
                          for a in e.args)

    def _print_ElementwiseApplyFunction(self, e):
        cls = element_class(e.function)
        if cls is not None:
            return f"{text_name(cls.op_name)}{'′' * cls.order}({self._print(e.expr)})"
        d = sp.Dummy("s")
        return self._print(_body_of(e.function, d).xreplace({d: sp.Symbol(self._print(e.expr))}))

    def _print_OneMatrix(self, e):
        return "1"

    def _print_OpApply(self, e):
        return fill(NOTATION[e.op_name].text or e.op_name + "({0})", *(self._print(a) for a in e.operands))

    def _print_DiagMatrix(self, e):
        return f"diag({self._print(e.args[0])})"

    def _print_MatMul(self, e):
        coeff, mats = e.as_coeff_matrices()
        body = " ".join(self.parenthesize(m, 100) if isinstance(m, (sp.MatAdd, sp.HadamardProduct)) else self._print(m)
                        for m in mats)
        return body if coeff == 1 else ("-" + body if coeff == -1 else f"{self._print(coeff)} {body}")

    def _print_Transpose(self, e):
        inner = self._print(e.arg)
        return f"{inner}ᵀ" if isinstance(e.arg, sp.MatrixSymbol) else f"({inner})ᵀ"

    def _print_Derivative(self, e):
        (var, _count), = e.variable_count
        return f"∂{self._print(e.expr)}/∂{self._print(var)}"

    def _print_KroneckerDelta(self, e):
        return f"δ({self._print(e.args[0])}, {self._print(e.args[1])})"


def latex(expr) -> str:
    return NotesLatexPrinter().doprint(expr)


def plain(expr, rename=None) -> str:
    """A closed form as one line of plain text (docstrings, terminals); ``rename`` maps symbol names."""
    printer = NotesStrPrinter({"order": "none"})
    if rename is not None:
        printer._print_MatrixSymbol = lambda e: rename(e.name)
    return printer.doprint(expr)


def _why(text: str) -> str:
    return rf"\text{{{tex_text(text)}}}"


def document(title: str, sections: list[tuple[str, str]]) -> str:
    """A standalone LaTeX document: a title and (heading, body) sections."""
    parts = [*PREAMBLE, r"\begin{document}", rf"\section*{{{tex_text(title)}}}"]
    for heading, body in sections:
        if heading:
            parts.append(rf"\subsection*{{{tex_text(heading)}}}")
        parts.append(body)
    parts += [r"\end{document}", ""]
    return "\n".join(parts)


def _wrap(title: str, body: str, standalone: bool, display: str | None) -> str:
    if display:
        return f"**{md_text(title)}**\n\n{display}\n{body}\n{display}\n"
    if standalone:
        return document(title, [("", body)])
    return f"% {one_line(title)}\n{body}\n"


# ----- derivations -----
def derivation_body(d) -> str:
    lines = [rf"  {latex(s.lhs)} &= {latex(s.rhs)} && {_why(s.why)} \\" for s in d.steps]
    return "\n".join([r"\begin{align*}", *lines, r"\end{align*}"])


def render_latex(derivation, *, standalone: bool = False, display: str | None = None) -> str:
    """The derivation as an amsmath ``align*`` block (a whole document with ``standalone``)."""
    return _wrap(derivation.title, derivation_body(derivation), standalone, display)


def render_markdown(derivation) -> str:
    return render_latex(derivation, display="$$")


def render_text(derivation) -> str:
    out = [derivation.title]
    out += [f"  {plain(s.lhs)} = {plain(s.rhs)}    [{s.why}]" for s in derivation.steps]
    return "\n".join(out)


# ----- backprop of a model -----
def _forward_form(graph, node):
    args = [graph.symbol(a) if (a.is_leaf or a.name or a.op == "const") else _forward_form(graph, a)
            for a in node.args]
    return get_op(node.op).matrix(*args, **dict(node.attrs))


def _step_why(bp, lhs):
    for step in bp.steps:
        if step.lhs == lhs:
            return step.why
    return "chain rule"


def backprop_body(bp) -> str:
    graph = bp.graph
    J = sp.Symbol("J")
    forward = [rf"  {latex(graph.symbol(n))} &= {latex(_forward_form(graph, n))} \\"
               for n in bp.model.forward.values()]
    signals = [rf"  {latex(bp.delta_symbols[k])} = {latex(sp.Derivative(J, graph.symbol(n)))} &= "
               rf"{latex(bp.deltas[k])} && {_why(_step_why(bp, bp.delta_symbols[k]))} \\"
               for k, n in bp.delta_nodes.items()]
    grads = []
    for k, v in bp.gradients.items():
        lhs = sp.Derivative(J, graph.symbol(graph.node_named(k)))
        grads.append(rf"  {latex(lhs)} &= {latex(v)} && {_why(_step_why(bp, lhs))} \\")
    blocks = [r"\begin{align*}", *forward, r"\end{align*}", r"\begin{align*}", *signals, *grads, r"\end{align*}"]
    table = _shape_array(bp)
    if table:
        blocks += ["Checking the dimensions, as the notes do:", table]
    return "\n".join(blocks)


def _shape_tex(shape) -> str:
    return r" \times ".join(latex(s) for s in shape)


def _shape_array(bp) -> str:
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


def render_backprop_latex(bp, *, standalone: bool = False, display: str | None = None) -> str:
    """A model's backprop in the notes' order: forward pass, error signals, gradients, dimensions."""
    if display:
        equations, _, table = backprop_body(bp).partition("Checking the dimensions, as the notes do:")
        out = f"**{md_text(bp.model.title)}**\n\n{display}\n{equations.strip()}\n{display}\n"
        if table.strip():
            array = table.strip().removeprefix(r"\[").removesuffix(r"\]")
            out += f"\nChecking the dimensions, as the notes do:\n\n{display}\n{array}\n{display}\n"
        return out
    return _wrap(bp.model.title, backprop_body(bp), standalone, None)


def render_backprop_text(bp) -> str:
    out = [bp.model.title]
    for name, node in bp.model.forward.items():
        out.append(f"  {name} = {plain(_forward_form(bp.graph, node))}")
    for k, v in bp.deltas.items():
        out.append(f"  {k} = ∂J/∂{bp.delta_nodes[k].name} = {plain(v)}")
    for k, v in bp.gradients.items():
        out.append(f"  ∂J/∂{k} = {plain(v)}")
    return "\n".join(out)


# ----- the notes as a whole -----
def notes_document(derivations, bp) -> str:
    """Every identity of the notes and the §3 network, as one standalone document."""
    sections = [(d.title, derivation_body(d)) for d in derivations]
    sections.append((f"(3) {bp.model.title}", backprop_body(bp)))
    return document("Computing neural network gradients, derived by jacobian_sym", sections)


def notes_markdown(derivations, bp) -> str:
    parts = ["# Computing neural network gradients, derived by jacobian_sym", ""]
    for d in derivations:
        parts += [f"## {md_text(d.title)}", "", "$$", derivation_body(d), "$$", ""]
    parts += [f"## (3) {md_text(bp.model.title)}", "", render_backprop_latex(bp, display="$$")]
    return "\n".join(parts)


def errata_markdown(findings, total: int) -> str:
    """The notes' errata, as found by the engine (generated; ``jacobian-sym render`` keeps it in sync)."""
    lines = ["# Errata of the notes, found by jacobian_sym", "",
             f"The engine checked {total} statements of the notes (§2.1–§3) as they are written; "
             f"{len(findings)} do not hold. Regenerate with `jacobian-sym render`; "
             "see `jacobian-sym errata` and `jacobian_sym.notes.identities.NOTES_CLAIMS`.", ""]
    for n, f in enumerate(findings, 1):
        lines += [f"## {n}. Section {f.section}", "", f"As stated: ${f.stated}$", "", f"- why it fails: {f.reason}"]
        if f.counterexample:
            lines.append(f"- counterexample: {f.counterexample}")
        if f.corrected:
            lines.append(f"- correction: {f.corrected}")
        lines.append("")
    return "\n".join(lines)


def errata_text(findings) -> str:
    out = []
    for f in findings:
        out += [f"§{f.section}  {f.stated}", f"    why: {f.reason}"]
        if f.counterexample:
            out.append(f"    counterexample: {f.counterexample}")
        if f.corrected:
            out.append(f"    correction: {f.corrected}")
    return "\n".join(out)
