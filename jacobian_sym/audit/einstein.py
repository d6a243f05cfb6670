"""Einstein's convention: an index letter in two factors of one product is summed (d2l's
xᵀAx = x_i a_ij x_j). Applied only where the document says it writes so; elsewhere a side whose
repeated index the other side does not have is a sum the line does not write — not decidable, never a
wrong value."""

from __future__ import annotations

import re

from jacobian_sym.claims import latex

#: the prose that declares the convention
DECLARED = re.compile(r"\bEinstein(?:'s)?\s+(?:notation|convention|summation)", re.I)


def declared_from(doc) -> int | None:
    """The line of the first statement the prose before it says is in Einstein's notation (1 when only
    some section's prose says so), None when the document never does."""
    for stmt in doc.statements:
        if DECLARED.search(stmt.prose or ""):
            return stmt.line
    if any(DECLARED.search(p) for parts in doc.prose.values() for p in parts):
        return 1
    return None


def _index_letters(node) -> list[str]:
    if node[0] in ("sym", "elem"):  # x_i, [A + Aᵀ]_{ki}
        return [ix for ix in node[2] if re.fullmatch(r"[a-z]", ix)]
    return []


def _factors(node):
    if node[0] == "matmul":
        return [*_factors(node[1]), *_factors(node[2])]
    return [node]


def _free(node) -> set[str]:
    """The index letters of a (transformed) tree not bound by a sum in it."""
    if not latex.is_node(node):
        return set()
    if node[0] == "sum":
        return _free(node[5]) - {node[1]}
    out = set(_index_letters(node))
    for child in latex.children(node):
        out |= _free(child)
    return out


def _contracted(factors) -> tuple[list[str], list[str]]:
    """(letters in exactly two factors, letters in three or more), in order of appearance."""
    counts: dict[str, int] = {}
    for f in factors:
        for ix in sorted(_free(f)):
            counts[ix] = counts.get(ix, 0) + 1
    return [ix for ix, n in counts.items() if n == 2], [ix for ix, n in counts.items() if n > 2]


def repeated(node) -> set[str]:
    """The letters some product of ``node`` repeats (in two factors or more) without a sum over them."""
    if not latex.is_node(node):
        return set()
    out = set()
    if node[0] == "matmul":
        two, more = _contracted(_factors(node))
        out |= set(two) | set(more)
    for child in latex.children(node):
        out |= repeated(child)
    if node[0] == "sum":
        out.discard(node[1])
    return out


def summed(node, bound=frozenset()):
    """``node`` with a Σ (range left to the terms) over every letter two factors of a product share
    that no written Σ around it binds; a letter in three factors is an error of the notation."""
    if not latex.is_node(node):
        return node
    if node[0] == "sum":
        return (*node[:5], summed(node[5], bound | {node[1]}), node[6])
    if node[0] == "matmul":
        factors = [summed(f, bound) for f in _factors(node)]
        two, more = _contracted(factors)
        two, more = [ix for ix in two if ix not in bound], [ix for ix in more if ix not in bound]
        if more:
            raise latex.LatexError(f"the index {more[0]} is in three factors of one product (Einstein notation "
                                   "sums an index written twice)")
        out = factors[0]
        for f in factors[1:]:
            out = ("matmul", out, f, node[-1])
        for ix in reversed(two):
            out = ("sum", ix, None, None, None, out, node[-1])
        return out
    return tuple(summed(part, bound) if latex.is_node(part) else
                 tuple(summed(q, bound) if latex.is_node(q) else q for q in part) if isinstance(part, tuple)
                 else part for part in node)
