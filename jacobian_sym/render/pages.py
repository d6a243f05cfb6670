"""Pages: derivations, backprops, the notes and their errata, as LaTeX documents, Markdown (GitHub,
Jupyter) and plain text — one page structure, three writers.

A page is a title and sections of blocks: prose, groups of equations (rows ``lhs = … &= rhs``, each
with its reason) and the notes' dimension table. The LaTeX writer sets each group as ``align*`` with
the reason as a right-flush ``\\tag*`` (one column for the whole document); the Markdown writer sets
each group as its own ``$$\\begin{aligned}…\\end{aligned}$$`` block (MathJax 3 accepts exactly one
environment per display) with the reason in a ``&&\\text{}`` column; the text writer prints one line
per row. Everything mathematical is a SymPy object printed by ``render/printers.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from jacobian_sym.base.codetext import fill
from jacobian_sym.base.safe_text import md_text, one_line, tex_math_text, tex_text
from jacobian_sym.ops.table import get_op
from jacobian_sym.render.notation import NOTATION
from jacobian_sym.render.printers import latex, plain, with_axis

PREAMBLE = [r"\documentclass[11pt]{article}", r"\usepackage[fleqn]{amsmath}", r"\usepackage{amssymb}",
            r"\setlength{\mathindent}{2em}",
            r"\usepackage[margin=2cm]{geometry}", r"\setlength{\parindent}{0pt}", r"\setlength{\parskip}{4pt}"]


# ----- the page structure -----
@dataclass
class Row:
    """``lhs₀ = lhs₁ = … = rhs``; ``rhs`` is a sum (list) of products (lists) of SymPy objects, an
    empty ``lhs`` continues the row above (``= rhs``)."""

    lhs: tuple
    rhs: list
    #: the reason, as prose pieces (text and inline math)
    why: tuple = ()


@dataclass
class Equations:
    rows: list


@dataclass
class Prose:
    """A paragraph: text pieces (str) and inline math (SymPy objects)."""

    pieces: tuple


@dataclass
class DimTable:
    """The notes' dimension check: rows of (lhs, lhs shape, [(factor, shape) or "∘", …])."""

    rows: list


@dataclass
class Section:
    heading: tuple | None
    blocks: list = field(default_factory=list)


@dataclass
class Page:
    title: tuple
    sections: list


def product(*factors) -> list:
    """A right-hand side that is one product (a single term)."""
    return [list(factors)]


# ----- printing pieces -----
def _sum_of_products(rhs, printer) -> str:
    return " + ".join(" ".join(_factor(f, printer, len(term) > 1) for f in term) for term in rhs)


def _factor(f, printer, in_product: bool) -> str:
    out = printer(f)
    if in_product and isinstance(f, (sp.MatAdd, sp.Add)):
        return rf"\left({out}\right)" if printer is tex_of else f"({out})"
    return out


def _pieces_tex(pieces) -> str:
    return "".join(tex_text(p) if isinstance(p, str) else f"${tex_of(p)}$" for p in pieces)


def _pieces_md(pieces) -> str:
    return "".join(md_text(p) if isinstance(p, str) else f"${tex_of(p)}$" for p in pieces)


def _pieces_mathjax(pieces) -> str:
    """Prose inside a display (the reason column): plain text in \text{}, the rest as math."""
    return " ".join(tex_math_text(p) if isinstance(p, str) else tex_of(p) for p in pieces)


def _pieces_text(pieces) -> str:
    return "".join(one_line(p) if isinstance(p, str) else text_of(p) for p in pieces)


#: how wide a right-hand side may be, in characters a reader sees, before its terms go on lines of
#: their own (the δ of a residual stream has six terms; on one line it ran off an A4 page)
LINE_WIDTH = 72


def _visible(tex: str) -> int:
    """Roughly how many characters ``tex`` shows: a command is one, braces and scripts none."""
    tex = re.sub(r"\\(left|right|operatorname|mathbf|tfrac|frac|dfrac)\b", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}^_ ]", "", tex))


def fits_line(tex: str, width: int = LINE_WIDTH) -> bool:
    """Whether ``tex`` fits ``width`` characters a reader sees (a line of a page by default)."""
    return _visible(tex) <= width


def _row_lines(row: Row) -> list[str]:
    r"""The row in LaTeX, ``lhs &= rhs``; a long sum on several lines, each further line
    ``&\quad + term …`` (the reason belongs to the last)."""
    lhs = " = ".join(tex_of(x) for x in row.lhs)
    whole = _sum_of_products(row.rhs, tex_of)
    single = row.rhs[0][0] if len(row.rhs) == 1 and len(row.rhs[0]) == 1 else None
    if fits_line(whole) or not isinstance(single, (sp.MatAdd, sp.Add)):
        return [f"{lhs} &= {whole}"]
    lines, current = [], ""
    for term in single.args:
        text = tex_of(term)
        piece = text if text.startswith("-") or not current and not lines else f"+ {text}"
        if current and _visible(current + piece) > LINE_WIDTH:
            lines.append(current)
            current = piece if piece.startswith(("+", "-")) else f"+ {piece}"
        else:
            current = f"{current} {piece}".strip()
    lines.append(current)
    return [f"{lhs} &= {lines[0]}"] + [rf"&\quad {line}" for line in lines[1:]]


def _with_last(lines: list, suffix: str) -> list:
    return [*lines[:-1], lines[-1] + suffix]


def _factor_tex(factor, count: int) -> str:
    """A factor of the dimension check: a sum among other factors in brackets, A ∘ (G − H)."""
    text = latex(factor)
    return rf"\left({text}\right)" if count > 1 and isinstance(factor, sp.MatAdd) else text


def _dim_rows(table: DimTable) -> list:
    rows = []
    for lhs, shape, factors in table.rows:
        top = [tex_of(lhs, frac=r"\dfrac"), "="] + [r"\circ" if f == "∘" else _factor_tex(f[0], len(factors))
                                                   for f in factors]
        bottom = [rf"({_shape_tex(shape)})", ""] + ["" if f == "∘" else rf"({_shape_tex(f[1])})" for f in factors]
        rows.append((top, bottom))
    return rows


def _width(rows) -> int:
    """What an array of these rows shows across: each column as wide as its widest cell."""
    columns = max(len(t) for t, _ in rows)
    return sum(max(_visible(cells[c]) if c < len(cells) else 0 for t, b in rows for cells in (t, b)) + 1
               for c in range(columns))


def _dim_groups(table: DimTable) -> list:
    """The rows in groups that fit a line side by side: a column is as wide as its widest cell, so one
    long factor (attention's δ) would push every later column of the other rows off the page."""
    groups: list = []
    for row in _dim_rows(table):
        if groups and _width([*groups[-1], row]) <= LINE_WIDTH:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _dim_array(rows) -> str:
    width = max(len(t) for t, _ in rows)
    lines = [rf"\begin{{array}}{{{'c' * width}}}"]
    body = []
    for top, bottom in rows:
        body.append("  " + " & ".join(top + [""] * (width - len(top))))
        body.append("  " + " & ".join(bottom + [""] * (width - len(bottom))))
    lines.append(" \\\\[2pt]\n".join(body))
    lines.append(r"\end{array}")
    return "\n".join(lines)


def dim_arrays(table: DimTable) -> list[str]:
    """The dimension check as arrays, one per group of rows that fit a line together."""
    return [_dim_array(group) for group in _dim_groups(table)]


def _shape_tex(shape) -> str:
    return r" \times ".join(latex(s) for s in shape)


# ----- the three writers -----
def _latex_blocks(blocks, depth: int) -> list:
    body = []
    for block in blocks:
        if isinstance(block, Section):
            if block.heading:
                command = ("subsection", "subsubsection", "paragraph")[min(depth, 2)]
                body.append(rf"\{command}*{{{_pieces_tex(block.heading)}}}")
            body += _latex_blocks(block.blocks, depth + 1)
        elif isinstance(block, Prose):
            body += [_pieces_tex(block.pieces), ""]
        elif isinstance(block, Equations):
            rows = [f"  {line}" for r in block.rows for line in _with_last(
                _row_lines(r), rf" \tag*{{{_pieces_tex(r.why)}}}" if r.why else "")]
            body += [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]
        elif isinstance(block, DimTable) and block.rows:
            for array in dim_arrays(block):
                body += [r"\[", array, r"\]"]
    return body


def write_latex(page: Page, *, standalone: bool = False) -> str:
    """LaTeX: a whole document with ``standalone``, else the body (after a ``%`` title line)."""
    body = _latex_blocks(page.sections, 0)
    if standalone:
        head = [*PREAMBLE, r"\begin{document}", rf"\section*{{{_pieces_tex(page.title)}}}"]
        return "\n".join([*head, *body, r"\end{document}", ""])
    return "\n".join([f"% {_pieces_tex(page.title)}", *body, ""])


def _markdown_blocks(blocks, level: int) -> list:
    out = []
    for block in blocks:
        if isinstance(block, Section):
            if block.heading:
                out += [f"{'#' * min(level, 6)} {_pieces_md(block.heading)}", ""]
            out += _markdown_blocks(block.blocks, level + 1)
        elif isinstance(block, Prose):
            out += [_pieces_md(block.pieces), ""]
        elif isinstance(block, Equations):
            out += ["$$", math_block(block), "$$", ""]
        elif isinstance(block, DimTable) and block.rows:
            for array in dim_arrays(block):
                out += ["$$", array, "$$", ""]
    return out


def write_markdown(page: Page, *, level: int = 1) -> str:
    """Markdown for GitHub and Jupyter: headings, prose, one ``$$`` block per group of equations."""
    return "\n".join([f"{'#' * level} {_pieces_md(page.title)}", "", *_markdown_blocks(page.sections, level + 1)])


def math_block(block: Equations) -> str:
    """One group of equations as an ``aligned`` environment (inside ``$$`` for MathJax)."""
    rows = [f"  {line}" for r in block.rows for line in _with_last(
        _row_lines(r), f" && {_pieces_mathjax(r.why)}" if r.why else "")]
    return "\n".join([r"\begin{aligned}", " \\\\\n".join(rows), r"\end{aligned}"])


def _display_blocks(blocks) -> list:
    out = []
    for block in blocks:
        if isinstance(block, Section):
            out += _display_blocks(block.blocks)
        elif isinstance(block, Equations):
            out.append("$$" + math_block(block) + "$$")
        elif isinstance(block, DimTable) and block.rows:
            out += ["$$" + array + "$$" for array in dim_arrays(block)]
    return out


def write_display_latex(page: Page) -> str:
    """Jupyter's text/latex: only math, every group of equations a ``$$`` block (no Markdown)."""
    return "\n".join(_display_blocks(page.sections))


def _text_blocks(blocks) -> list:
    out = []
    for block in blocks:
        if isinstance(block, Section):
            if block.heading:
                out += ["", _pieces_text(block.heading)]
            out += _text_blocks(block.blocks)
        elif isinstance(block, Prose):
            out.append(_pieces_text(block.pieces))
        elif isinstance(block, Equations):
            for r in block.rows:
                lhs = " = ".join(text_of(x) for x in r.lhs)
                eq = f"  {lhs} = " if lhs else "      = "
                out.append(eq + _sum_of_products(r.rhs, text_of) + (f"    [{_pieces_text(r.why)}]" if r.why else ""))
        elif isinstance(block, DimTable) and block.rows:
            for lhs, shape, factors in block.rows:
                rhs = " ".join("∘" if f == "∘" else _shape_text(f[1]) for f in factors)
                out.append(f"  {text_of(lhs)}: {_shape_text(shape)} = {rhs}")
    return out


def write_text(page: Page) -> str:
    return "\n".join([_pieces_text(page.title), *_text_blocks(page.sections)])


def _shape_text(shape) -> str:
    return "(" + "×".join(plain(s) for s in shape) + ")"


# ----- an expression as it was written -----
_TIGHT = {"matmul", "mul", "div", "transpose", "neg", "pow"}


def written(graph, node, printer, top: bool = True, one_level: bool = False) -> str:
    """The matrix form of ``node`` as it was written (wᵀx + b), named inner lines by their names (and
    every inner node by its symbol u₁, u₂ with ``one_level``)."""
    if node.op == "const":
        return printer(node.attr("value"))
    if node.is_leaf or (not top and (node.name is not None or one_level)):
        return printer(graph.symbol(graph.canonical(node)))
    op = get_op(node.op)
    args = [written(graph, a, printer, top=False, one_level=one_level) for a in node.args]
    loose = [not one_level and _loose(node, a) for a in node.args]
    if printer is latex:
        args = [rf"\left({s}\right)" if wrap else s for wrap, s in zip(loose, args)]
    else:
        args = [f"({s})" if wrap else s for wrap, s in zip(loose, args)]
    if node.op == "mul" and any(a.op == "const" for a in node.args):
        # a number times a matrix: the number first, (1/8) h₁ Q₁ (h₁ K₁)ᵀ, a product not in parentheses
        k = 0 if node.args[0].op == "const" else 1
        number, other = args[k], node.args[1 - k]
        text = args[1 - k] if other.op in ("add", "sub", "neg") else written(
            graph, other, printer, top=False, one_level=one_level)
        if printer is not latex and "/" in number:
            number = f"({number})"
        return f"{number} {text}"
    if node.op == "div" and any(a.op == "const" for a in node.args):
        return f"{args[0]} / {args[1]}"
    if node.op == "slice":  # W_{[1:H, :]}: the slice's matrix form, printed 1-based as the notes count
        return printer(op.matrix(graph.symbol(graph.canonical(node.args[0])), None, None, span=node.attr("span")))
    notation = NOTATION[node.op]
    if op.kind == "elementwise":
        name = notation.latex if printer is latex else (notation.text or node.op)
        return f"{name}({args[0]})"
    template = notation.latex if printer is latex else (notation.text or node.op + "({0})")
    numbers = {k: str(v) for k, v in node.attrs if k in op.params and k != "axis"}  # (unfold's width)
    return fill(with_axis(template, node.attr("axis")), *args, **numbers)


def _loose(parent, node) -> bool:
    """An operand that needs parentheses under ``parent`` ((a + b) c, (A x)ᵀ; not (A B) C)."""
    if node.name is not None or node.is_leaf or node.op == "const" or parent.op not in _TIGHT:
        return False
    if node.op in ("add", "sub", "neg"):
        return True
    if parent.op == "pow":  # (W x)^∘⅓, (a ∘ b)^∘⅓: a power binds its base alone
        return node.op in ("matmul", "mul", "div", "pow")
    return node.op in ("matmul", "mul") and parent.op not in (node.op,)


@dataclass(frozen=True)
class Verbatim:
    """Math already printed (a forward line as written), in LaTeX and in text."""

    latex: str
    text: str


def as_written(graph, node, one_level: bool = False) -> Verbatim:
    return Verbatim(written(graph, node, latex, one_level=one_level), written(graph, node, plain, one_level=one_level))


def tex_of(x, **settings) -> str:
    return x.latex if isinstance(x, Verbatim) else latex(x, **settings)


def text_of(x) -> str:
    return x.text if isinstance(x, Verbatim) else plain(x)
