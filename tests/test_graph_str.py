"""``str`` of an expression graph is a model file's forward line: the model-file reader gives back the
same graph, checked on random graphs by the independent NumPy forward pass in ``oracle.py``."""

import numpy as np
import oracle
import pytest

import jacobian_sym as js
from jacobian_sym.models.model import parse_expression
from jacobian_sym.ops.table import OPS

N = 3
W, x, y = js.matrix("W", N, N), js.vector("x", N), js.vector("y", N)
s = js.scalar("s")
LEAVES = {"W": W, "x": x, "y": y, "s": s}
ACTIVATIONS = sorted(n for n, op in OPS.items() if op.kind == "elementwise")
#: an activation's argument kept in its domain (log and √ of 1 + z², as the every-path test does)
POSITIVE = {n for n in ACTIVATIONS if OPS[n].domains == ("positive",)} | {"log"}


@pytest.mark.parametrize("expr,text", [
    (js.sum(js.square(W @ x - y)), "sum(square(W @ x - y))"),
    ((W @ x).T @ y, "(W @ x).T @ y"),
    (W.T @ x, "W.T @ x"),
    (x - (y - x), "x - (y - x)"),
    ((x - y) - x, "x - y - x"),
    (x / (y * x), "x / (y * x)"),
    ((x + y) * x, "(x + y) * x"),
    (-(x + y), "-(x + y)"),
    ((-x).T, "(-x).T"),
    (0.5 * x - 3, "1/2 * x - 3"),
    (x * -0.25, "x * -(1/4)"),
    (js.softmax(W, axis=1) @ x, "softmax(W, axis=1) @ x"),
    (js.concat(x, y, axis=0), "concat(x, y, axis=0)"),
])
def test_str_reads_like_the_model(expr, text):
    assert str(expr) == text
    assert repr(expr) == f"<Node {expr.shape[0]}×{expr.shape[1]}: {text}>"


def _random_graph(rng, depth: int):
    """A random graph over W, x, y, s: a column n×1 (matrices and scalars enter through @ and *)."""
    if depth == 0:
        return [x, y, W @ x, s * y][rng.integers(4)]
    a, b = _random_graph(rng, depth - 1), _random_graph(rng, rng.integers(depth))
    choice = rng.integers(12)
    if choice == 0:
        return a + b
    if choice == 1:
        return a - b
    if choice == 2:
        return a * b
    if choice == 3:
        return a / (1 + js.square(b))
    if choice == 4:
        return -a
    if choice == 5:
        return W @ a if rng.integers(2) else (a.T @ W).T
    if choice == 6:
        return float(rng.choice([0.5, -2.0, 3.0, -0.125])) * a
    if choice == 7:
        return a - js.mean(a, axis=0) if rng.integers(2) else js.sum(a, axis=0) * b
    if choice == 8:
        return js.softmax(a, axis=0)
    if choice == 9:
        return (a.T @ b) * a
    act = ACTIVATIONS[rng.integers(len(ACTIVATIONS))]
    fn = getattr(js, act)
    return fn(1 + js.square(a)) if act in POSITIVE else fn(a)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_read_back_as_the_same_graph(seed):
    rng = np.random.default_rng(seed)
    expr = _random_graph(rng, 4)
    text = str(expr)
    back = parse_expression(text, LEAVES)
    assert str(back) == text
    assert back.shape == expr.shape
    for _ in range(2):
        arrays = {"W": rng.normal(size=(N, N)), "x": rng.normal(size=(N, 1)), "y": rng.normal(size=(N, 1)),
                  "s": rng.normal(size=(1, 1))}
        want, got = oracle.value(expr, arrays), oracle.value(back, arrays)
        assert np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-12, atol=1e-12, equal_nan=True)


def test_a_named_line_is_written_out_by_its_value():
    model = js.Model.from_toml("derivations/one_layer.toml")
    loss = model.loss
    names = {n.name: n for n in loss.walk() if n.is_leaf}
    back = parse_expression(str(loss), names)
    arrays = {n: np.random.default_rng(1).normal(size=tuple(int(d) if str(d).isdigit() else 3 for d in v.shape))
              for n, v in names.items()}
    arrays = {k: (np.abs(v) / np.abs(v).sum() if names[k].attr("one_hot") else v) for k, v in arrays.items()}
    assert np.allclose(np.asarray(oracle.value(back, arrays), float), np.asarray(oracle.value(loss, arrays), float))
