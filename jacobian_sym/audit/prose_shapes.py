"""Shapes the prose states in words: "$\\mathbf{X}$ is a $n \\times m$ matrix, $\\mathbf{U}$ is an
$n \\times r$ and $\\mathbf{V}$ is an $r \\times m$" (d2l's matrix factorisation) — the document's own
definitions, so a link that reads them is decided on stated shapes, never on a guess."""

from __future__ import annotations

import re

_NAME = r"\$\s*(?:\\(?:boldsymbol|mathbf|bm)\{)?\\?([A-Za-z]+)\}?\s*\$"
_SIZE = r"([A-Za-z]|\d+)"
#: "$X$ is a $n \times m$ (matrix)", "$U$ is an $n\times r$"
_IS_A = re.compile(_NAME + r"\s+is\s+an?\s+\$\s*" + _SIZE + r"\s*\\times\s*" + _SIZE + r"\s*\$")


def stated_shapes(prose: str) -> list[tuple[str, tuple]]:
    """(name, (rows, cols)) for every "$X$ is a(n) $r \\times c$" of the prose, in order."""
    return [(m.group(1), tuple(int(d) if d.isdigit() else d for d in m.group(2, 3)))
            for m in _IS_A.finditer(prose)]
