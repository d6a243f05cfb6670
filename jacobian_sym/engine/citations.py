"""Which of the notes' identities a local derivative is an instance of, decided from the op and the
shapes of its actual operands — not from the op's name alone.

The notes' identities state hypotheses on shapes: (2.1) z = Wx with x a column, by x; (2.2) z = xW
with x a row, by x; (2.5) z = Wx, by the matrix W; (2.6) z = xW, by the matrix W; (2.3) z = x; (2.4)
z = f(x) element-wise; (2.7) softmax followed by cross-entropy, by the logits. A product of two
matrices (a batch) is an instance of none of them: its step is cited as the chain rule only.
``tests/test_citations.py`` checks each hypothesis against the identity the notes' module derives.
"""

from __future__ import annotations

from jacobian_sym.graph.indexed import Graph
from jacobian_sym.ops.table import get_op


def kind(shape) -> str:
    rows, cols = shape
    if rows == 1 and cols == 1:
        return "scalar"
    return "column" if cols == 1 else "row" if rows == 1 else "matrix"


def _matmul(shapes, position) -> str | None:
    left, right = (kind(s) for s in shapes)
    if position == 1 and right == "column":
        return "2.1"  # z = W x, by the column x
    if position == 0 and left == "row":
        return "2.2"  # z = x W, by the row x
    if position == 0 and left == "matrix" and right == "column":
        return "2.5"  # z = W x, by the matrix W
    if position == 1 and right == "matrix" and left == "row":
        return "2.6"  # z = x W, by the matrix W
    return None


def identity_of(graph: Graph, consumer, position: int) -> str | None:
    """The notes' identity that ∂consumer/∂(its argument at ``position``) is an instance of, or None."""
    op = get_op(consumer.op)
    shapes = [a.shape for a in consumer.args]
    if consumer.op == "matmul":
        return _matmul(shapes, position)
    if consumer.op in ("add", "sub", "neg", "copy"):
        return "2.3" if shapes[position] == consumer.shape else None
    if op.kind == "elementwise":
        return "2.4"
    if consumer.op in ("softmax", "log_softmax"):
        users = graph.consumers[id(consumer)]
        if users and all(u.op == "cross_entropy" for u in users):
            return "2.7"
    return None
