"""How a forward line writes a selection: ``where(a > b, c, d)``, element by element.

The first operand is one comparison of two values (``>``, ``>=``, ``<``, ``<=``), the only place a
comparison may stand; c and d are any values (numbers broadcast). ``graph.composites.where`` writes
it with the step function; a tie takes the branch the comparison names (step(0) = 0).
"""

from __future__ import annotations

import ast

from jacobian_sym.graph import expr as E
from jacobian_sym.graph.composites import where

#: comparison → (strict, whether its operands swap): a < b is b > a
_COMPARISONS = {ast.Gt: (True, False), ast.GtE: (False, False), ast.Lt: (True, True), ast.LtE: (False, True)}

COMPARISON_OUTSIDE = "a comparison is allowed only as the first operand of where(a > b, c, d)"


def read_where(reader, node: ast.Call) -> E.Node:
    """The node of ``where(a > b, c, d)`` (``reader`` is the line's reader)."""
    if len(node.args) != 3 or node.keywords:
        reader.fail(node, "where takes three operands: where(a > b, c, d)")
    test, c, d = node.args
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARISONS):
        reader.fail(test, "where's first operand is one comparison a > b, a >= b, a < b or a <= b")
    strict, swap = _COMPARISONS[type(test.ops[0])]
    a, b = reader.read(test.left), reader.read(test.comparators[0])
    if swap:
        a, b = b, a
    return where(a, b, reader.read(c), reader.read(d), strict=strict)
