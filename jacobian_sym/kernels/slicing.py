"""A slice in a kernel's forward pass: ``W[:_size_k, :]``, 0-based with the stop excluded, its bounds
whole numbers or sizes read from the arrays' shapes (``_size_k``)."""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import as_sympy


def bound_code(value) -> str:
    """A bound as integer code: 3, _size_k, 2*_size_k."""
    value = as_sympy(value)
    return str(value.xreplace({s: sp.Symbol(f"_size_{s.name}") for s in value.free_symbols}))


def slice_code(node, parent: str) -> str:
    """The forward line's code of ``node = parent[r₀:r₁, c₀:c₁]``; a whole axis is written ``:``."""
    spans = []
    for (start, stop), size in zip(node.attr("span"), node.args[0].shape):
        first = "" if start == 0 else bound_code(start)
        last = "" if stop == size else bound_code(stop)
        spans.append(f"{first}:{last}")
    return f"{parent}[{', '.join(spans)}]"
