"""User text on its way out: checked names, checked titles, and escapes for LaTeX and Markdown.

Names (variables, forward lines, sizes) end up in generated Python source, LaTeX and Markdown, so
they are held to ASCII identifiers that are not Python keywords and do not clash with the names the
engine gives itself (error signals ``delta_1``/``delta1``). Titles are free text: one line, no
control characters, and escaped for what each output format really interprets (TeX reads ``^^5c``
as a backslash, so ``^`` is escaped too). Generated source never contains a title except as a
``repr`` literal.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

from jacobian_sym.errors import JacobianSymError

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SIGNAL = re.compile(r"(delta|Delta)_?[0-9]+\Z")
#: names the generated kernels use for themselves (the module's NumPy, the check switch)
KERNEL_NAMES = frozenset({"np", "check"})
MAX_NAME = 64
MAX_TITLE = 200


class InvalidNameError(JacobianSymError):
    """A name that cannot be used for a variable, a forward line or a size."""


def check_name(name, what: str = "name") -> str:
    """``name`` if it is an ASCII identifier (a letter first), not a Python keyword, not an error
    signal's name and not one of the kernels' own names; else a one-line error."""
    if not isinstance(name, str):
        raise InvalidNameError(f"a {what} must be a string, not {type(name).__name__}")
    shown = name if len(name) <= MAX_NAME else name[:MAX_NAME] + "…"
    if not _IDENTIFIER.match(name) or len(name) > MAX_NAME:
        raise InvalidNameError(f"{shown!r} is not a valid {what}: ASCII letters, digits and _, starting with a "
                         f"letter, at most {MAX_NAME} characters")
    if keyword.iskeyword(name):
        raise InvalidNameError(f"{name!r} is a Python keyword; pick another {what}")
    if _SIGNAL.match(name):
        raise InvalidNameError(f"{name!r} is reserved for the error signals δ₁, δ₂, …; pick another {what}")
    if name in KERNEL_NAMES:
        raise InvalidNameError(f"{name!r} is a name the generated kernels use for themselves; pick another {what}")
    return name


def check_size_name(name: str) -> str:
    """A size name: an ASCII identifier (sizes reach generated source only through ``repr``)."""
    if not _IDENTIFIER.match(name) or len(name) > MAX_NAME:
        raise InvalidNameError(f"size {name!r} is not a name (ASCII letters, digits and _) or a positive integer")
    return name


def check_title(title) -> str:
    """A title: a string of one line, printable, at most MAX_TITLE characters."""
    if not isinstance(title, str):
        raise InvalidNameError(f"the title must be a string, not {type(title).__name__}")
    if len(title) > MAX_TITLE:
        raise InvalidNameError(f"the title is {len(title)} characters long; at most {MAX_TITLE}")
    bad = next((c for c in title if unicodedata.category(c).startswith("C")), None)
    if bad is not None:
        raise InvalidNameError(f"the title contains the control character {bad!r}; a title is one printable line")
    return title


def one_line(text: str) -> str:
    """``text`` with every control character (newlines included) replaced by a space."""
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)


_TEX = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}


_TEX_MATH = {
    "∂": r"\partial", "‖": r"\|", "∘": r"\circ", "×": r"\times", "′": "'", "ᵀ": "^{T}", "½": r"\tfrac12",
    "²": "^{2}", "³": "^{3}", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "→": r"\to", "∈": r"\in", "ℝ": r"\mathbb{R}",
    "Σ": r"\Sigma", "∑": r"\sum", "−": "-", "·": r"\cdot", "∞": r"\infty", "√": r"\surd", "″": "''",
    "⊗": r"\otimes", "∇": r"\nabla",
}
_TEX_TEXT = {"§": r"$\S$", "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}", " ": "~"}
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0308": '"', "\u0304": "=",
            "\u0307": ".", "\u030c": "v", "\u0327": "c"}


def _tex_char(c: str) -> str:
    """One character for pdflatex's text mode: ASCII as it is (escaped where TeX interprets it), Greek,
    sub- and superscripts and math signs as inline math, accented letters as TeX accents; anything
    else as a visible ``?`` (pdflatex would stop on an undefined Unicode character)."""
    if c in _TEX:
        return _TEX[c]
    if c.isascii():
        return c
    if c in _TEX_TEXT:
        return _TEX_TEXT[c]
    if c in _TEX_MATH:
        return f"${_TEX_MATH[c]}$"
    name = unicodedata.name(c, "")
    if name.startswith("GREEK ") and " LETTER " in name:
        letter = name.rsplit(" ", 1)[-1].lower()
        letter = {"lamda": "lambda", "omicron": "o"}.get(letter, letter)
        return "$\\" + (letter.capitalize() if "CAPITAL" in name else letter) + "$"
    if name.startswith(("SUBSCRIPT ", "SUPERSCRIPT ")):
        base = unicodedata.normalize("NFKC", c)
        if base.isascii() and base.isalnum():
            return ("$_{" if name.startswith("SUB") else "$^{") + base + "}$"
    parts = unicodedata.normalize("NFD", c)
    if len(parts) == 2 and parts[0].isascii() and parts[1] in _ACCENTS:
        return "\\" + _ACCENTS[parts[1]] + "{" + parts[0] + "}"
    return "?"


def tex_text(text: str) -> str:
    """Plain text for LaTeX's text mode: every character TeX interprets is escaped (``^`` too, so
    ``^^5c`` cannot become a backslash); control characters become spaces; any Unicode character comes
    out as something pdflatex typesets (``_tex_char``)."""
    return "".join(_tex_char(c) for c in unicodedata.normalize("NFC", one_line(text)))


#: ASCII that TeX's text mode interprets, written as math between the \\text{} runs
_MATH_ASCII = {"\\": r"\backslash", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
               "_": r"\_", "^": r"\hat{}", "~": r"\sim"}
_MATH_TEXT = {"§": r"\S", "–": "-", "—": "-", "‘": "'", "’": "'", "“": "''", "”": "''", "…": r"\ldots", " ": r"\ "}


def _math_char(c: str) -> str | None:
    """One character for math mode, where \\text{} would not take it: None for ASCII that \\text{} holds."""
    if c in _MATH_ASCII:
        return _MATH_ASCII[c]
    if c.isascii():
        return None
    if c in _MATH_TEXT:
        return _MATH_TEXT[c]
    tex = _tex_char(c)
    if tex.startswith("$") and tex.endswith("$"):
        return tex[1:-1]
    parts = unicodedata.normalize("NFD", c)
    if len(parts) == 2 and parts[0].isascii() and parts[0].isalpha() and parts[1] in _MATH_ACCENTS:
        return rf"\{_MATH_ACCENTS[parts[1]]}{{\text{{{parts[0]}}}}}"
    return "?"


_MATH_ACCENTS = {"\u0300": "grave", "\u0301": "acute", "\u0302": "hat", "\u0303": "tilde", "\u0308": "ddot",
                 "\u0304": "bar", "\u0307": "dot", "\u030c": "check"}


def tex_math_text(text: str) -> str:
    """Prose inside a display (MathJax and pdflatex alike): runs of plain ASCII in ``\\text{}``, every
    other character as math beside them (Σ → \\Sigma, ∂ → \\partial, { → \\{), so no Unicode and no
    character TeX's text mode interprets is ever inside ``\\text{}``."""
    out, run = [], []
    for c in unicodedata.normalize("NFC", one_line(text)):
        math = _math_char(c)
        if math is None:
            run.append(c)
            continue
        if run:
            out.append(rf"\text{{{''.join(run)}}}")
            run = []
        out.append(f"{{{math}}}")
    if run:
        out.append(rf"\text{{{''.join(run)}}}")
    return "".join(out)


_MARKDOWN_SPECIAL = set("\\`*_[]<>$|#~")


def md_text(text: str) -> str:
    """Plain text for Markdown: its punctuation backslash-escaped, one line."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in one_line(text))
