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
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "∂": r"$\partial$",
}


def tex_text(text: str) -> str:
    """Plain text for LaTeX's text mode: every character TeX interprets is escaped (``^`` too, so
    ``^^5c`` cannot become a backslash); control characters become spaces."""
    return "".join(_TEX.get(c, c) for c in one_line(text))


_MARKDOWN_SPECIAL = set("\\`*_[]<>$|#~")


def md_text(text: str) -> str:
    """Plain text for Markdown: its punctuation backslash-escaped, one line."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in one_line(text))
