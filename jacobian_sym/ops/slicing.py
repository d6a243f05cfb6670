"""Slices of a matrix (``W[:H, :]``, ``Wqkv[:, k:2*k]``) and their converse, a block set in zeros.

``slice(A, r₀, c₀, span=((r₀, r₁), (c₀, c₁)))`` is the block of rows r₀ … r₁−1 and columns c₀ … c₁−1
(0-based, stops excluded, as Python writes it): element (i, j) is A_(i+r₀)(j+c₀). The starts are also
its second and third operands, constants whose value is a size expression, so that the explicit and
pointwise proofs, which evaluate element formulas at concrete sizes, read them as numbers.

Its derivative is not differentiated through offset indices: the reverse sweep hands the sliced
matrix the block ``Embedded(G, shape, r₀, c₀)`` — G in rows r₀ … and columns c₀ …, zero elsewhere —
the converse of a concatenation, whose parts receive slices of its signal.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.sizes import as_sympy, fmt_shape
from jacobian_sym.errors import ShapeError
from jacobian_sym.ops.indexing import Before, PartElement
from jacobian_sym.ops.table import Op, declare


def _within(start, stop, size) -> bool:
    """Whether 0 ≤ start < stop ≤ size holds for every value of the sizes (positive integers)."""
    return all(as_sympy(d).is_nonnegative is True for d in (start, size - stop)) and \
        as_sympy(stop - start).is_positive is True


def _slice_shape(a, r0, c0, span=None):
    (rs, re), (cs, ce) = span
    for (start, stop), size, what in (((rs, re), a[0], "rows"), ((cs, ce), a[1], "columns")):
        if not _within(start, stop, size):
            raise ShapeError(f"the slice {start}:{stop} of the {what} of a {fmt_shape(a)} matrix is empty or "
                             f"may pass its end (0 ≤ start < stop ≤ {size} for every size)")
    if tuple(r0) != (1, 1) or tuple(c0) != (1, 1):
        raise ShapeError("a slice's starts are numbers")
    return (re - rs, ce - cs)


def _slice_element(ix, i, j, A, r0, c0, span=None):
    return ix.at(A, i + r0, j + c0)


def _slice_matrix(A, r0, c0, span=None):
    (rs, re), (cs, ce) = span
    return sp.MatrixSlice(A, (rs, re, 1), (cs, ce, 1))


declare(Op("slice", 3, _slice_shape, element=_slice_element, matrix=_slice_matrix, params=("span",), kind="slice"))


class Embedded(sp.MatrixExpr):
    """The ``shape`` matrix that is G in the block at rows r₀ …, columns c₀ … and zero elsewhere:
    ∂J/∂A for B = A[r₀:r₁, c₀:c₁] and ∂J/∂B = G."""

    def __new__(cls, G, shape, r0, c0):
        return sp.Basic.__new__(cls, G, sp.Tuple(*shape), as_sympy(r0), as_sympy(c0))

    @property
    def block(self):
        return self.args[0]

    @property
    def shape(self):
        return tuple(self.args[1])

    @property
    def starts(self):
        return self.args[2], self.args[3]

    @property
    def margins(self):
        """Zero rows above and below the block, zero columns left and right of it."""
        (n, m), (r0, c0), (h, w) = self.shape, self.starts, self.block.shape
        return r0, n - r0 - h, c0, m - c0 - w

    def cells(self) -> list:
        """The matrix as rows of blocks, as a page writes it: None for a zero block, the block itself;
        margins that are empty (0 rows or columns) left out — [0; G] for A[k:2k, :] of 2k rows."""
        above, below, left, right = self.margins
        columns = [m for m in (left, "block", right) if m == "block" or m != 0]
        rows = [m for m in (above, "block", below) if m == "block" or m != 0]
        return [[self.block if (r, c) == ("block", "block") else None for c in columns] for r in rows]

    def _entry(self, i, j, **kwargs):
        (r0, c0), (h, w) = self.starts, self.block.shape
        a, b = i - r0, j - c0
        if all(as_sympy(x).is_Integer for x in (a, b, h, w)):
            return self.block[a, b] if 0 <= a < h and 0 <= b < w else sp.Integer(0)
        inside = (1 - Before(i, r0)) * Before(a, h) * (1 - Before(j, c0)) * Before(b, w)
        return inside * PartElement(self.block, a, b)

    def _eval_transpose(self):
        return Embedded(sp.Transpose(self.block), self.shape[::-1], *self.starts[::-1])

    def doit(self, **hints):
        block = self.block.doit(**hints) if hints.get("deep", True) else self.block
        if isinstance(block, sp.MatrixBase) and all(as_sympy(d).is_Integer for d in self.shape):
            return _explicit(self, block)
        return Embedded(block, self.shape, *self.starts)


def embedded(G, shape, r0, c0):
    """G set in zeros of ``shape`` at (r₀, c₀); G itself when it fills the shape."""
    if tuple(G.shape) == tuple(shape):
        return G
    return Embedded(G, shape, r0, c0)


def _same(a, b) -> bool:
    return sp.expand(a - b) == 0


def merged_blocks(M):
    """[G₁ 0 0] + [0 G₂ 0] + [0 0 G₃] → [G₁ G₂ G₃]: blocks of one matrix that lie side by side (or one
    above another) over the whole of the other axis are one block made of them — the gradient of
    Q, K, V sliced from one P is [δ_Q δ_K δ_V], not a sum of three matrices mostly zero."""
    if not isinstance(M, sp.MatAdd):
        return M
    blocks = [a for a in M.args if isinstance(a, Embedded)]
    rest = [a for a in M.args if not isinstance(a, Embedded)]
    if len(blocks) < 2:  # (nothing to merge: the sum stays as it was built)
        return M
    merged = False
    for axis in (1, 0):
        other = 1 - axis
        whole = [e for e in blocks if isinstance(e, Embedded) and e.starts[other] == 0
                 and _same(e.block.shape[other], e.shape[other])]
        groups = []
        for e in whole:  # chain each block to the group it continues (its start is the group's end)
            for g in groups:
                if g[0].shape == e.shape and _same(g[-1].starts[axis] + g[-1].block.shape[axis], e.starts[axis]):
                    g.append(e)
                    break
                if g[0].shape == e.shape and _same(e.starts[axis] + e.block.shape[axis], g[0].starts[axis]):
                    g.insert(0, e)
                    break
            else:
                groups.append([e])
        for g in groups:
            if len(g) < 2:
                continue
            parts = [e.block for e in g]
            block = sp.BlockMatrix([parts] if axis == 1 else [[p] for p in parts])
            for e in g:
                blocks.remove(e)
            blocks.append(embedded(block, g[0].shape, *g[0].starts))
            merged = True
    if not merged:
        return M
    return sp.MatAdd(*rest, *blocks) if len(rest) + len(blocks) > 1 else (rest + blocks)[0]


def _explicit(e, block):
    """The embedding as an explicit matrix, at concrete sizes."""
    (n, m), (r0, c0) = (int(d) for d in e.shape), (int(s) for s in e.starts)
    out = sp.zeros(n, m)
    out[r0:r0 + block.rows, c0:c0 + block.cols] = block
    return out
