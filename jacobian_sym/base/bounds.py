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
