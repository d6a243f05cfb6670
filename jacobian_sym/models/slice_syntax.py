"""How a forward line writes a slice: ``W[:H, :]``, ``G[:, 0:1]``, ``Wqkv[:, k:2*k]``, ``x[:k]``.

Python's own slice syntax, 0-based with the stop excluded; a bound is a whole number, a size of the
model, or a sum, difference or product of those (``2*k``, ``k + 1``). A vector takes one slice along
its own axis. No step, no single index (``G[:, 0]`` is written ``G[:, 0:1]``: a slice stays a matrix).
"""

from __future__ import annotations

import ast

import sympy as sp

from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph import expr as E

_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def read_slice(reader, node: ast.Subscript) -> E.Node:
    """The node ``A[r₀:r₁, c₀:c₁]`` of a forward line (``reader`` is the line's reader)."""
    parent = reader.read(node.value)
    if not (parent.is_leaf or parent.name):
        reader.fail(node.value, f"slice a variable or a named line: give {ast.unparse(node.value)} a line of its own")
    spans = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    python = []
    for span in spans:
        if not isinstance(span, ast.Slice):
            reader.fail(span, f"write a span start:stop ({ast.unparse(span)}:{ast.unparse(span)} + 1), not an index: "
                              "a slice stays a matrix")
        if span.step is not None:
            reader.fail(span.step, "a slice takes no step")
        python.append(slice(*(None if b is None else _bound(reader, b) for b in (span.lower, span.upper))))
    try:
        return E.slice_node(parent, tuple(python))
    except JacobianSymError as err:  # two spans for a matrix, a span past the end: said at the spans
        reader.fail(node.slice, str(err))


def _bound(reader, node) -> sp.Expr:
    """A bound: a whole number ≥ 0, a size, or +, −, * of those."""
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
        return sp.Integer(node.value)
    if isinstance(node, ast.Name):
        size = reader._size_named(node.id)
        if size is None:
            reader.fail(node, f"a slice's bound {node.id!r} is not a size of the model (a size is a name in a "
                              "declared shape)")
        return size
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return sp.expand(_ARITHMETIC[type(node.op)](_bound(reader, node.left), _bound(reader, node.right)))
    reader.fail(node, f"a slice's bound is a whole number, a size or a sum or product of sizes, not "
                      f"{ast.unparse(node)!r}")
