"""One equation of a derivation, as data."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from jacobian_sym.render.printers import plain


@dataclass(frozen=True)
class Step:
    """``lhs = rhs``, justified by ``why`` (e.g. "using identity (2.5)")."""

    lhs: sp.Basic
    rhs: sp.Basic
    why: str

    def __str__(self):
        return f"{plain(self.lhs)} = {plain(self.rhs)}    [{self.why}]"

    __repr__ = __str__
