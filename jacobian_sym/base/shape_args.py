"""Shapes passed by a caller (``shapes={'W': ('n', 1)}``): checked before any work."""

from __future__ import annotations

from jacobian_sym.base.safe_text import check_name
from jacobian_sym.base.sizes import as_size
from jacobian_sym.errors import JacobianSymError, ShapeError


def checked_shapes(shapes) -> dict | None:
    """``shapes`` as given, once every entry is a name and two sizes (names or positive integers of at
    most 999,999,999); else a one-line ``ShapeError`` naming the entry."""
    if shapes is None:
        return None
    if not isinstance(shapes, dict):
        raise ShapeError(f"shapes must map names to (rows, cols), not {type(shapes).__name__}")
    for name, shape in shapes.items():
        if not isinstance(shape, (tuple, list)) or len(shape) != 2:
            raise ShapeError(f"shapes[{name!r}] must be two sizes (rows, cols), not {shape!r}"[:200])
        try:
            check_name(name)
            for size in shape:
                as_size(size)
        except JacobianSymError as err:
            raise ShapeError(f"shapes[{name!r}]: {err}"[:300]) from None
    return shapes
