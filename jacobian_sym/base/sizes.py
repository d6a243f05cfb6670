"""Symbolic sizes and the element indices used throughout the engine."""

import re
from functools import cache

import sympy as sp

from jacobian_sym.errors import ShapeError

_SIZE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
#: a term of a size written as a sum: 2*k, k, 3
_TERM = re.compile(r"\s*(?:([0-9]{1,4})\s*\*\s*)?([A-Za-z][A-Za-z0-9_]*|[0-9]{1,9})\s*\Z")


@cache
def size_symbol(name: str) -> sp.Symbol:
    """The positive integer symbol for a size such as ``D_x`` (one symbol per name)."""
    if not _SIZE_NAME.match(name) or len(name) > 64:
        raise ShapeError(f"size {name!r} is not a name (ASCII letters, digits and _) or a positive integer")
    return sp.Symbol(name, integer=True, positive=True)


def as_size(value) -> sp.Expr:
    """A size from an int, a string or a SymPy expression."""
    if isinstance(value, bool):
        raise ShapeError(f"size {value!r} is not a name or a positive integer")
    if isinstance(value, int):
        if value > 999_999_999:
            raise ShapeError("a size is too large (at most 999,999,999)")
        if value < 1:
            raise ShapeError(f"size {value} is not positive")
        return sp.Integer(value)
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.match(text):
            if len(text) > 9:
                raise ShapeError(f"size {text[:12]}… is too large (at most 999,999,999)")
            return as_size(int(text))
        if ("+" in text or "*" in text) and len(text) <= 200:
            return _size_sum(text)
        return size_symbol(text)
    if isinstance(value, sp.Expr) and (value.is_Symbol or value.is_Integer or _is_size_sum(value)):
        return value
    raise ShapeError(f"size {value!r} is not a name or a positive integer")


def _size_sum(text: str) -> sp.Expr:
    """A size written as a sum of multiples of sizes, ``2*k`` or ``k + v`` (the width of two heads
    side by side): read term by term, never evaluated as code."""
    total = sp.Integer(0)
    for term in text.split("+"):
        match = _TERM.match(term)
        if match is None:
            raise ShapeError(f"size {text!r} is not a name, a positive integer or a sum such as 2*k + v")
        count, what = match.groups()
        total += int(count or 1) * (int(what) if what.isdigit() else size_symbol(what))
    return as_size(int(total)) if total.is_Integer else total


def _is_size_sum(e: sp.Expr) -> bool:
    """Whether ``e`` is a sum of positive multiples of size symbols (2k + v)."""
    terms = sp.Add.make_args(e)
    return all(t.is_Integer and t > 0 or t.is_Symbol or (t.is_Mul and len(t.args) == 2 and t.args[0].is_Integer
               and t.args[0] > 0 and t.args[1].is_Symbol) for t in terms)


def as_sympy(value) -> sp.Basic:
    """An int (a bound, an index, a dimension) as sp.Integer, a SymPy value as it is: internal values
    only, never text (which goes through ``as_size``)."""
    return sp.Integer(value) if isinstance(value, int) else value


def fmt_shape(shape) -> str:
    return "×".join(str(s) for s in shape)


class Index(sp.Symbol):
    """An element index (i, j, k, l, …): an integer symbol of its own class, so that indices are
    told apart from sizes and scalars by type."""

    def __new__(cls, name, **assumptions):  # (pickle and copy pass the assumptions back)
        return super().__new__(cls, name, integer=True)


@cache
def index_symbol(name: str) -> Index:
    return Index(name)


def is_index(e) -> bool:
    return isinstance(e, Index)


class IndexPool:
    """Fresh summation indices, never clashing with the ones already in use."""

    NAMES = ("i", "j", "k", "l", "a", "b", "c", "d", "e", "f", "g", "r", "s", "t", "u", "v", "w")

    def __init__(self, used=()):
        self.used = {str(u) for u in used}

    def fresh(self) -> sp.Symbol:
        for name in self.NAMES:
            if name not in self.used:
                self.used.add(name)
                return index_symbol(name)
        n = len(self.used)
        while f"k{n}" in self.used:
            n += 1
        self.used.add(f"k{n}")
        return index_symbol(f"k{n}")
