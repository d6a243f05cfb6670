"""The lower-case letter of a matrix as its elements: d2l writes a_{ij} for the entries of the square
matrix A, u_{ik} and v_{kj} for those of U and V. Read so only where it cannot mean anything else: the
section's math writes the capital letter alone, and the statement uses the small letter only with two
indices (x_i of a vector x and x_{ij} in one statement stay as written)."""

from __future__ import annotations

import re

from jacobian_sym.claims import latex

_INLINE = re.compile(r"\$([^$]+)\$")
_CAPITAL = re.compile(r"(?:\\(?:mathbf|boldsymbol|bm)\{([A-Z])\})|(?<![A-Za-z\\_^{])([A-Z])(?![A-Za-z_}])")


def capitals(texts) -> set[str]:
    """The single capital letters the math of a section writes alone (A, \\mathbf{U})."""
    out = set()
    for text in texts:
        for m in _CAPITAL.finditer(text):
            out.add(m.group(1) or m.group(2))
    return out


def math_of(prose: str) -> list[str]:
    """The inline math of a section's prose."""
    return _INLINE.findall(prose)


def lifted(tree, shown: set[str]):
    """``tree`` with a_{ij} read as A_{ij} for every capital ``shown`` whose small letter the tree uses
    with two indices only."""
    uses: dict[str, set[int]] = {}
    for n in latex.walk(tree):
        if n[0] == "sym" and len(n[1]) == 1 and n[1].islower():
            uses.setdefault(n[1], set()).add(len(n[2]))
    lift = {name for name, counts in uses.items() if counts == {2} and name.upper() in shown}
    return _replace(tree, lift) if lift else tree


def _replace(node, lift):
    if not latex.is_node(node):
        if isinstance(node, tuple):
            return tuple(_replace(q, lift) for q in node)
        return node
    if node[0] == "sym" and node[1] in lift and len(node[2]) == 2:
        return ("sym", node[1].upper(), node[2], node[3])
    return tuple(_replace(part, lift) for part in node)
