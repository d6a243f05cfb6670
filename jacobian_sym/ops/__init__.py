"""The op table: every op declared once, by kind — the mathematics only.

``table`` holds the record (``Op``), the registry (``OPS``, ``get_op``) and ``OpApply``; the ops are
declared in one file per kind: ``structure`` (@, .T, +, −, ∘, /), ``elementwise`` (activations),
``reductions`` (softmax along an axis, sum, trace, norm), ``selection`` (max, min), ``windows``
(unfold, for convolutions) and ``losses``. ``functions`` makes the SymPy function of an element-wise op
and derives its derivative; ``indexing`` reads element formulas.

May import: ``jacobian_sym.errors``, ``jacobian_sym.base``. Importing this package declares every op.
"""

from jacobian_sym.ops import (  # noqa: F401  (declares the ops)
    elementwise,
    linalg,
    losses,
    reductions,
    selection,
    slicing,
    structure,
    windows,
)
from jacobian_sym.ops.table import OPS, UNDEFINED, Op, OpApply, get_op, undefined_function, vector_axis

__all__ = ["OPS", "UNDEFINED", "Op", "OpApply", "get_op", "undefined_function", "vector_axis"]
