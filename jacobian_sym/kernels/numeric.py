"""Numeric evaluation of graphs and closed forms at concrete sizes (for proofs and gradient checks).

Every op is lowered through its matrix-level form and the NumPy printer, so the same lowering serves
the checks here and the generated kernels.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from jacobian_sym.graph.expr import mask_array, one_hot_axis, size_value
from jacobian_sym.graph.indexed import Graph
from jacobian_sym.graph.structure import is_symmetric, symmetric_array
from jacobian_sym.kernels.numpy_printer import numeric_function
from jacobian_sym.ops.table import get_op


def concrete_shape(shape, sizes) -> tuple[int, int]:
    return tuple(int(s.xreplace(sizes)) if isinstance(s, sp.Basic) else int(s) for s in shape)


def random_inputs(graph: Graph, sizes, rng) -> dict:
    """Random values for the leaves; a one-hot label gets one 1 per example along its class axis."""
    arrays = {}
    for node in graph.nodes:
        if not node.is_leaf or node.name in arrays:
            continue
        rows, cols = concrete_shape(node.shape, sizes)
        if node.attr("constant"):  # a constant mask is its value, not random
            arrays[node.name] = mask_array(node.attr("constant"), rows)
        elif node.attr("one_hot"):
            axis = one_hot_axis(node)
            y = np.zeros((rows, cols))
            if axis == 0:
                y[rng.integers(0, rows, size=cols), np.arange(cols)] = 1.0
            else:
                y[np.arange(rows), rng.integers(0, cols, size=rows)] = 1.0
            arrays[node.name] = y
        elif node.attr("role") == "input" and graph.domain(node) == "probability":
            arrays[node.name] = rng.uniform(0.05, 0.95, size=(rows, cols))  # a label in (0, 1)
        elif graph.domain(node) == "positive":
            arrays[node.name] = rng.uniform(0.5, 2.0, size=(rows, cols))  # an argument of √
        else:
            arrays[node.name] = rng.normal(0, 0.5, size=(rows, cols))
        if is_symmetric(node):
            arrays[node.name] = symmetric_array(arrays[node.name], bool(node.attr("positive_definite")))
    return arrays


class NumericGraph:
    """The forward pass of a graph in NumPy, at one assignment of the sizes."""

    def __init__(self, graph: Graph, sizes: dict):
        self.graph, self.sizes = graph, sizes
        self._fns: dict = {}
        self._lowered: dict = {}

    def _fn(self, node):
        """The node's forward as a NumPy function of its distinct arguments, lambdified once per
        (op, parameters, argument shapes): the layers of a deep network share theirs."""
        if id(node) not in self._fns:
            args = [self.graph.canonical(a) for a in node.args]
            distinct = list(dict.fromkeys(id(a) for a in args if a.op != "const"))  # x * x: one x
            by_id = {id(a): a for a in args}
            shapes = tuple(concrete_shape(by_id[k].shape, self.sizes) for k in distinct)
            key = (node.op, node.attrs, shapes, tuple(distinct.index(id(a)) if a.op != "const"
                                                      else size_value(a.attr("value"), self.sizes) for a in args))
            if key not in self._lowered:
                slots = [sp.MatrixSymbol(f"_a{n}", *shape) for n, shape in enumerate(shapes)]
                operands = [slots[distinct.index(id(a))] if a.op != "const" else size_value(a.attr("value"), self.sizes)
                            for a in args]
                # (a parameter of sizes, a slice's span, at these sizes)
                params = {k: sp.Tuple(*v).xreplace(self.sizes) if isinstance(v, tuple) else v for k, v in node.attrs}
                form = get_op(node.op).matrix(*operands, **params)
                self._lowered[key] = numeric_function(slots, form)
            names = [self.graph.symbol(by_id[k]).name for k in distinct]
            self._fns[id(node)] = (self._lowered[key], names)
        return self._fns[id(node)]

    def forward(self, arrays: dict) -> dict:
        """Values of every node by its symbol name (leaves included)."""
        values = {}
        for node in self.graph.nodes:
            if node.op == "const":
                continue
            name = self.graph.symbol(node).name
            if node.is_leaf:
                values[name] = np.asarray(arrays[node.name], dtype=float)
                continue
            fn, params = self._fn(node)
            out = np.asarray(fn(*(values[p] for p in params)), dtype=float)
            values[name] = out.reshape(concrete_shape(node.shape, self.sizes))
        return values

    def loss(self, arrays: dict) -> float:
        return float(self.forward(arrays)[self.graph.symbol(self.graph.root).name].reshape(-1)[0])


def evaluate(expr, values: dict, sizes: dict) -> np.ndarray:
    """A closed form evaluated on ``values`` (arrays by symbol name)."""
    concrete = expr.xreplace(sizes)
    symbols = sorted(concrete.atoms(sp.MatrixSymbol), key=lambda s: s.name)
    out = numeric_function(symbols, concrete)(*(values[s.name] for s in symbols))
    return np.asarray(out, dtype=float).reshape(concrete_shape(expr.shape, sizes))


def rel_error(a, b) -> float:
    """‖a − b‖ / ‖b‖ (norm-wise; ‖a‖ when b is 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb else float(np.linalg.norm(a))


def central_difference(loss, arrays: dict, name: str, index, h: float = 1e-6, symmetric: bool = False) -> float:
    """(loss(x + h e) − loss(x − h e)) / 2h for the element ``index`` of the array ``name``; of a
    symmetric array, e moves the free entry: (i, j) and (j, i) together."""
    up, down = dict(arrays), dict(arrays)
    up[name], down[name] = arrays[name].copy(), arrays[name].copy()
    places = {tuple(index), tuple(index)[::-1]} if symmetric else {tuple(index)}
    for at in sorted(places):
        up[name][at] += h
        down[name][at] -= h
    return (float(loss(up)) - float(loss(down))) / (2 * h)


def sample_indices(shape, max_elements: int, rng) -> list:
    """Every index of an array of ``shape``, or ``max_elements`` of them at random."""
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= max_elements else rng.choice(size, size=max_elements, replace=False)
    return [np.unravel_index(n, shape) for n in flat]
