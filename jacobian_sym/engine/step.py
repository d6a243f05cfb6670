"""One equation of a derivation, as data."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Step:
    """``lhs = rhs``, justified by ``why`` (e.g. "using identity (2.5)")."""

    lhs: sp.Basic
    rhs: sp.Basic
    why: str

    def __str__(self):
        return f"{self.lhs} = {self.rhs}    [{self.why}]"
