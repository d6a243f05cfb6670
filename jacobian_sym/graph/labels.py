"""Integer class labels and token ids: an input of dtype int, seen by the mathematics as its one-hot matrix.

A label input ``y`` (B labels in 0 … C−1) is the graph's one-hot variable onehot(y, C): B×C, with
onehot(y)_bk = [y_b = k] along its class axis. Everything the engine knows of one-hot labels then
applies unchanged (Σ_k y_bk = 1, so softmax cross-entropy's δ = P − onehot(y)), and the proofs
evaluate it as the one-hot matrix it is. Only the kernel sees the integers: it takes the int array,
checks every label lies in 0 … C−1, and computes each product with the one-hot matrix by indexing
(``kernels/labels.py``). An embedding lookup is such a product: E[ids]_tj = Σ_v [ids_t = v] E_vj is
onehot(ids, V) @ E, so its gradient onehot(ids)ᵀ G is derived like any matrix product's.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.base.safe_text import check_name
from jacobian_sym.base.sizes import as_size, fmt_shape
from jacobian_sym.errors import ShapeError
from jacobian_sym.graph import expr as E


class OneHotSymbol(sp.MatrixSymbol):
    """The symbol of a label input's one-hot matrix: the notes' printers write it onehot(y), so that a
    page does not read the int labels y as the B×C matrix the derivation multiplies; code printers
    write its name (the kernel's int array)."""


def labels(name: str, rows, cols, classes, *, axis: int | None = None) -> E.Node:
    """The one-hot matrix of an int label input of shape rows × cols with ``classes`` classes: a
    column of n labels (n×1) is n×C (classes along axis 1), a row (1×n) is C×n (along axis 0); one
    label (1×1) is a C×1 column unless ``axis=1`` makes it a 1×C row."""
    check_name(name)
    rows, cols, classes = as_size(rows), as_size(cols), as_size(classes)
    if rows != 1 and cols != 1:
        raise ShapeError(f"{name}: int labels are a column (n×1) or a row (1×n) of class indices, not "
                         f"{fmt_shape((rows, cols))}")
    natural = 1 if rows != 1 else 0 if cols != 1 else None
    if axis is not None and natural is not None and axis != natural:
        raise ShapeError(f"{name}: the classes of {fmt_shape((rows, cols))} labels run along axis {natural}, "
                         f"not {axis}")
    axis = natural if natural is not None else (0 if axis is None else axis)
    shape = (rows, classes) if axis == 1 else (classes, cols)
    attrs = (("role", "input"), ("one_hot", True), ("one_hot_axis", axis), ("labels", True))
    return E.Node("variable", (), shape, name, attrs)


def is_labels(node: E.Node) -> bool:
    """Whether ``node`` is an int label input (its graph value is its one-hot matrix)."""
    return node.is_leaf and bool(node.attr("labels"))


def label_shape(node: E.Node) -> tuple:
    """The int array's shape: the one-hot matrix's with its class axis of length 1."""
    axis = node.attr("one_hot_axis")
    return (1, node.shape[1]) if axis == 0 else (node.shape[0], 1)


def classes(node: E.Node):
    """The number of classes C of a label input."""
    return node.shape[node.attr("one_hot_axis")]


def onehot(y: E.Node, size=None) -> E.Node:
    """onehot(y, C): the one-hot matrix of the int labels y (the label input itself; C, when given,
    must be its declared number of classes)."""
    if not is_labels(y):
        raise ShapeError("onehot takes an int label input (declared with dtype = \"int\")")
    if size is not None and as_size(size) != classes(y):
        raise ShapeError(f"onehot({y.name}, {size}): {y.name} is declared with {classes(y)} classes")
    return y


def embedding(table: E.Node, ids: E.Node) -> E.Node:
    """E[ids]: the rows of E picked by the int ids, one row per id — onehot(ids, V) @ E."""
    if not is_labels(ids):
        raise ShapeError("E[ids] takes an int input as the index (declared with dtype = \"int\")")
    if table.shape[0] != classes(ids):
        raise ShapeError(f"{ids.name} indexes {classes(ids)} rows but the table has {table.shape[0]} "
                         f"({fmt_shape(table.shape)})")
    hot = ids if ids.attr("one_hot_axis") == 1 else E.apply("transpose", ids)
    return E.apply("matmul", hot, table)
