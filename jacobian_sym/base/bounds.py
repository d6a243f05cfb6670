"""One budget for explicit work at concrete sizes, checked before the work: how many symbolic elements
and derivatives a proof, a claim, an audit or a kernel's self-check may build (issue 27, item 2).

Every door that builds matrices of symbols, or evaluates at a literal size a document or a model file
gives (W ∈ ℝ^{100000×3}, ``D_x = 100000``), counts first and refuses past these limits with a
``SizeError`` that names the limit — a run that would take minutes or fill the memory never starts."""

from __future__ import annotations

from math import prod

from jacobian_sym.errors import SizeError

#: symbolic elements of all the matrices of one explicit evaluation
MAX_EXPLICIT_ELEMENTS = 2000
#: symbolic derivatives one explicit check takes (outputs × variables)
MAX_EXPLICIT_DERIVATIVES = 6000
#: nodes of an expression's unnamed parts written out as one tree (each use of a shared part counted):
#: the matrix forms the engine inlines grow with it, threefold with each nested layer norm
MAX_INLINED_TERMS = 2000
#: elements of all the arrays of one numeric (pointwise, 50-digit) evaluation
MAX_POINT_ELEMENTS = 200_000


def elements(shape) -> int:
    """The number of elements of a shape of concrete sizes."""
    return prod(int(s) for s in shape)


def check_elements(count: int, what: str, limit: int = MAX_EXPLICIT_ELEMENTS) -> int:
    """``count`` when it is within ``limit``; else a ``SizeError`` naming ``what`` and the limit."""
    if count > limit:
        raise SizeError(f"{what} would build {count:,} elements (limit {limit:,}); use smaller sizes")
    return count


def check_derivatives(count: int, what: str, limit: int = MAX_EXPLICIT_DERIVATIVES) -> int:
    """``count`` when it is within ``limit``; else a ``SizeError`` naming ``what`` and the limit."""
    if count > limit:
        raise SizeError(f"{what} would take {count:,} symbolic derivatives (limit {limit:,}); use smaller sizes")
    return count


class Budget:
    """A running count of the elements one evaluation has built, refused past its limit before the
    next matrix is made (the cost of many medium matrices adds up like that of one large one)."""

    def __init__(self, what: str, limit: int = MAX_EXPLICIT_ELEMENTS):
        self.what, self.limit, self.used = what, limit, 0

    def spend(self, shape) -> None:
        count = elements(shape)
        check_elements(self.used + count, self.what, self.limit)
        self.used += count


def check_inlined(count: int, limit: int = MAX_INLINED_TERMS) -> int:
    """``count`` (an expression's unnamed parts as one tree) when within ``limit``; else a ``SizeError``."""
    if count > limit:
        raise SizeError(f"the expression written out has {count:,} terms (limit {limit:,}): nested parts such "
                        "as layer_norm(layer_norm(…)) grow threefold each; name the intermediate results "
                        "(one model line each)")
    return count


# ----- readers: text length and nesting, checked before a recursive reader sees the text -----

#: characters of one claim (Python or LaTeX), as of one model line
MAX_TEXT = 4000
#: brackets ( [ { open at once in one expression; each level is several frames of every recursive
#: reader, builder and printer after it
MAX_NESTING = 60
#: levels of one parsed expression (a chain a + b + … or −−−x nests one level per term): a claim or a
#: definition, and a document's math (which writes longer sums; the audit's evaluator is recursive)
MAX_DEPTH = 60
MAX_MATH_DEPTH = 120

_OPENS, _CLOSES = "([{", ")]}"


def too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The 1-based column at which ``text`` opens its bracket number ``limit + 1`` (counting ( [ {
    alike, escaped or not), or None when it never nests that deep."""
    depth = 0
    for col, ch in enumerate(text, 1):
        if ch in _OPENS:
            depth += 1
            if depth > limit:
                return col
        elif ch in _CLOSES:
            depth = max(depth - 1, 0)
    return None


def deepest(root, children, limit: int = MAX_DEPTH):
    """The first node of the tree at ``root`` that lies deeper than ``limit`` levels (``children(node)``
    lists a node's children), or None: walked with a stack, so a deep tree cannot overflow it here."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        stack.extend((child, depth + 1) for child in children(node))
    return None
