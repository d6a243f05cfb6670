"""Whether a batched model's loss is the sum over its examples of the one-example loss.

``Model.batched`` widens each input's unit axis to a batch axis B (x: n×1 becomes n×B). The kernel
promises the sum over the examples of the per-example loss and its gradient; that is what the
batched graph computes only when no op mixes the examples: softmax, mean, var or a sum along the
batch axis, ‖W X‖ over the whole batch, log Σ exp(W X), a product of two sums over the batch, Xᵀ A X
(a B×B matrix) all compute something else. This module walks the batched graph once and names the
first node that mixes examples, so that the batch is refused rather than answered wrongly.

Each node gets one of five states:

* ``free`` — reads no batched input (parameters, constants, functions of them);
* ``cols`` / ``rows`` — one column (row) per example, each read from its own example only;
* ``sum`` — a value without the batch axis that is the sum over the examples of the node's
  one-example value (Σ_b of a per-example value; linear maps of such sums keep it);
* ``mixed`` — anything else. An op this walk does not know is ``mixed``: refused, never guessed.
"""

from __future__ import annotations

from jacobian_sym.ops.table import get_op, vector_axis

FREE, COLS, ROWS, SUM, MIXED = "free", "cols", "rows", "sum", "mixed"
_FLIP = {COLS: ROWS, ROWS: COLS, FREE: FREE, SUM: SUM}
#: the axis along which a per-example state lays out its examples
_BATCH_AXIS = {COLS: 1, ROWS: 0}


def model_sizes(model) -> set:
    """Every size symbol in the shapes of the model's variables and forward nodes."""
    nodes = [*model.variables.values(), *model.forward.values()]
    return {s for n in nodes for d in n.shape for s in getattr(d, "free_symbols", ())}


def batch_name(model) -> str:
    """A name for the batch axis that no size of ``model`` has: B, else B1, B2, … (a model's own size
    B must not merge with the batch)."""
    taken = {s.name for s in model_sizes(model)}
    return next(n for n in ("B", *(f"B{k}" for k in range(1, 1000))) if n not in taken)


def mixing_node(model) -> str | None:
    """None when ``model`` (a batched model) has a loss that is the sum over the batch of the
    one-example loss; else the first forward expression that mixes the examples, in words."""
    B = model.batch
    if B is None:
        return None
    states: dict = {}
    for name, node in model.inputs.items():
        if node.shape[1] == B and node.shape[0] != B:
            states[id(node)] = COLS
        elif node.shape[0] == B and node.shape[1] != B:
            states[id(node)] = ROWS
        elif B in node.shape:
            return f"the input {name} has the batch axis on both sides"
    first_mixed: list = []

    def state(node) -> str:
        key = id(node)
        if key not in states:
            args = [state(a) for a in node.args]
            states[key] = FREE if node.op != "variable" and all(s == FREE for s in args) else \
                FREE if node.op == "variable" else _step(node, args)
            if states[key] == MIXED and not any(s == MIXED for s in args):
                first_mixed.append(node)
        return states[key]

    root = model.loss
    final = state(root)
    if final in (FREE, SUM):
        return None
    where = first_mixed[0] if first_mixed else root
    label = f"{where.name} = {where.op}(…)" if where.name else f"its {where.op}"
    return (f"{label} mixes the examples of a batch" if final == MIXED
            else "the loss keeps the batch axis")


def _step(node, args: list[str]) -> str:
    """The state of ``node`` from its arguments' states (not all free)."""
    op = node.op
    if MIXED in args:
        return MIXED
    kind = get_op(op).kind if op != "const" else "linear"
    axis = node.attr("axis")
    if op in ("neg", "copy"):  # linear: −Σ_b is Σ_b of −
        return args[0]
    if kind == "elementwise":
        return args[0] if args[0] in (COLS, ROWS) else MIXED  # f(Σ_b …) is not Σ_b f(…)
    if kind == "power":  # A ** p element-wise, p a number
        return args[0] if args[0] in (COLS, ROWS) and args[1] == FREE else MIXED
    if op == "transpose":
        return _FLIP[args[0]]
    if op in ("add", "sub"):
        kinds = set(args)
        if kinds <= {COLS, FREE} or kinds <= {ROWS, FREE}:
            return kinds.difference({FREE}).pop()  # a bias broadcast over the examples
        return SUM if kinds == {SUM} else MIXED  # (Σ_b + a parameter term counts the term once, not B times)
    if op in ("mul", "div"):
        kinds = set(args)
        if kinds <= {COLS, FREE} or kinds <= {ROWS, FREE}:
            return kinds.difference({FREE}).pop()
        if kinds == {SUM, FREE} and (op == "mul" or args[0] == SUM):
            return SUM  # Σ_b times (or over) a value of the parameters only
        return MIXED
    if op == "matmul":
        pair = tuple(args)
        return {(FREE, COLS): COLS, (ROWS, FREE): ROWS, (COLS, ROWS): SUM,  # Σ_b x_b r_bᵀ
                (FREE, SUM): SUM, (SUM, FREE): SUM}.get(pair, MIXED)
    if op == "concat":
        kinds = set(args)
        if kinds == {SUM}:
            return SUM
        if len(kinds) == 1 and kinds <= {COLS, ROWS}:
            return args[0] if _BATCH_AXIS[args[0]] != axis else MIXED
        return MIXED
    if op == "slice":  # a block of each example's values (every example kept), or of a parameter
        (s, *_) = args
        if s in (COLS, ROWS):
            batch = _BATCH_AXIS[s]
            start, stop = node.attr("span")[batch]
            return s if start == 0 and stop == node.args[0].shape[batch] else MIXED
        return s
    if kind == "vector":  # softmax along an axis: within each example, or across them
        (s,) = args
        if s in (COLS, ROWS):
            return s if vector_axis(node.args[0].shape, axis) != _BATCH_AXIS[s] else MIXED
        return MIXED
    if kind == "reduction":
        (s,) = args
        if op == "sum":
            if s == SUM:
                return SUM
            if axis is None or axis == _BATCH_AXIS[s]:
                return SUM
            return s
        if op in ("mean",) and s == SUM:
            return SUM  # a mean over an axis without the batch: linear, the same count
        if op in ("mean", "var") and s in (COLS, ROWS) and axis is not None and axis != _BATCH_AXIS[s]:
            return s  # a statistic of each example's own values
        if op == "tr" and s == SUM:
            return SUM
        return MIXED  # ‖·‖ over the batch, a mean over it, a trace of B×B
    if kind == "loss":
        kinds = set(args)
        if kinds <= {COLS, FREE} or kinds <= {ROWS, FREE}:
            return SUM  # the losses sum over every element: over the examples too
        return MIXED
    return MIXED
