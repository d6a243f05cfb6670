"""SymPy results that print in the notes' notation: ``str``, ``repr`` (the REPL), IPython's pretty
printer and Jupyter's LaTeX all show σ′(Wb) bᵀ, not ``Lambda(_d, sigmoid_prime(_d)).(W*b)*b.T``.

``shown(expr)`` returns the same SymPy object — same class underneath, same arguments, equal to
and hashed like the original — whose top node prints with the notes' printers. Only the top node is
re-classed: anything built from it (``expr.T``, ``2*expr``) is ordinary SymPy again.
"""

from __future__ import annotations

from sympy.core.basic import Basic

from jacobian_sym.render.printers import latex, plain


class Shown:
    """Mixed into a SymPy class, ahead of it: printing in the notes' notation, nothing else."""

    __slots__ = ()

    def __str__(self):
        return plain(self)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):
        p.text(plain(self))

    def _repr_latex_(self):
        return rf"$\displaystyle {latex(self)}$"

    def __eq__(self, other):
        base = _BASES[type(self)]
        if isinstance(other, Basic) and _BASES.get(type(other), type(other)) is base:
            return self._hashable_content() == other._hashable_content()
        return base.__eq__(self, other)

    def __hash__(self):
        return Basic.__hash__(self)  # type(self).__name__ is the base's: the same hash as the original


_SHOWN: dict[type, type] = {}
_BASES: dict[type, type] = {}


def _copy(expr, cls):
    """A new ``cls`` object with ``expr``'s state (its slots, and its __dict__ where it has one)."""
    out = object.__new__(cls)
    for slot in _slots(type(expr)):
        if hasattr(expr, slot):
            setattr(out, slot, getattr(expr, slot))
    if hasattr(expr, "__dict__"):
        out.__dict__.update(expr.__dict__)
    return out


def _slots(cls) -> list[str]:
    out = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        out.extend([slots] if isinstance(slots, str) else slots)
    return out


def shown(expr):
    """``expr`` printing in the notes' notation (a non-SymPy value is returned as it is)."""
    if not isinstance(expr, Basic) or isinstance(expr, Shown) or expr.is_Number:
        return expr
    base = type(expr)
    cls = _SHOWN.get(base)
    if cls is None:
        cls = type(base.__name__, (Shown, base), {"__slots__": (), "__module__": base.__module__})
        _SHOWN[base] = cls
        _BASES[cls] = base
    return _copy(expr, cls)


def unshown(expr):
    """The plain SymPy object behind ``shown(expr)``."""
    base = _BASES.get(type(expr))
    if base is None:
        return expr
    return _copy(expr, base)
