"""The README's table of what the losses and reductions compute: each row's formula, written here in
NumPy from the README's text (not from the op table), equals the engine's value at random inputs —
the element formula at concrete sizes and the lowered matrix form the kernels use."""

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.graph.indexed import Graph, explicit_matrix
from jacobian_sym.kernels.numeric import NumericGraph
from jacobian_sym.ops.functions import ElementFunction

README = Path(__file__).resolve().parent.parent / "README.md"
M, N = 3, 4
SIZES = {size: value for size, value in zip(js.matrix("A", "m", "n").shape, (M, N))}


def _mean_rows(X):
    return X.mean(axis=1, keepdims=True)


def _pop_var_rows(X):
    return ((X - _mean_rows(X)) ** 2).sum(axis=1, keepdims=True) / X.shape[1]


#: README row → (its formula cell, the expression, NumPy from the formula)
ROWS = {
    "mse(Y, P)": ("½ Σᵢⱼ (Pᵢⱼ − Yᵢⱼ)²", lambda Y, P, A, S: js.mse(Y, P),
                  lambda Y, P, A, S: 0.5 * ((P - Y) ** 2).sum()),
    "cross_entropy(Y, P)": ("−Σᵢⱼ Yᵢⱼ log Pᵢⱼ", lambda Y, P, A, S: js.cross_entropy(Y, P),
                            lambda Y, P, A, S: -(Y * np.log(P)).sum()),
    "binary_cross_entropy(Y, P)": (
        "−Σᵢⱼ (Yᵢⱼ log Pᵢⱼ + (1 − Yᵢⱼ) log(1 − Pᵢⱼ))", lambda Y, P, A, S: js.binary_cross_entropy(Y, P),
        lambda Y, P, A, S: -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).sum()),
    "sum(A)": ("Σᵢⱼ Aᵢⱼ", lambda Y, P, A, S: js.sum(A), lambda Y, P, A, S: A.sum()),
    "mean(A, axis=1)": ("(1/n) Σⱼ Aᵢⱼ", lambda Y, P, A, S: js.mean(A, axis=1),
                        lambda Y, P, A, S: A.sum(axis=1, keepdims=True) / A.shape[1]),
    "var(A, axis=1)": ("(1/n) Σⱼ (Aᵢⱼ − μᵢ)²", lambda Y, P, A, S: js.var(A, axis=1),
                       lambda Y, P, A, S: _pop_var_rows(A)),
    "norm(A)": ("√(Σᵢⱼ Aᵢⱼ²)", lambda Y, P, A, S: js.norm(A), lambda Y, P, A, S: np.sqrt((A ** 2).sum())),
    "tr(A)": ("Σᵢ Aᵢᵢ", lambda Y, P, A, S: js.tr(S), lambda Y, P, A, S: np.trace(S)),
    "layer_norm(X, axis=1, eps=1e-5)": (
        "(Xᵢⱼ − μᵢ) / √(σᵢ² + eps)", lambda Y, P, A, S: js.layer_norm(A, axis=1, eps=1e-5),
        lambda Y, P, A, S: (A - _mean_rows(A)) / np.sqrt(_pop_var_rows(A) + 1e-5)),
    "batch_norm(X, eps=1e-5)": (
        "(Xᵢⱼ − μⱼ) / √(σⱼ² + eps)", lambda Y, P, A, S: js.batch_norm(A, eps=1e-5),
        lambda Y, P, A, S: ((A.T - _mean_rows(A.T)) / np.sqrt(_pop_var_rows(A.T) + 1e-5)).T),
    "leaky_relu(A)": ("max(Aᵢⱼ, Aᵢⱼ/100)", lambda Y, P, A, S: js.leaky_relu(A),
                      lambda Y, P, A, S: np.maximum(A, A / 100)),
    "softplus(A)": ("log(1 + exp(Aᵢⱼ))", lambda Y, P, A, S: js.softplus(A),
                    lambda Y, P, A, S: np.log(1 + np.exp(A))),
    "max(A, axis=1)": ("maxⱼ Aᵢⱼ", lambda Y, P, A, S: js.max(A, axis=1),
                       lambda Y, P, A, S: np.amax(A, axis=1)),
    "min(A, axis=1)": ("minⱼ Aᵢⱼ", lambda Y, P, A, S: js.min(A, axis=1),
                       lambda Y, P, A, S: np.amin(A, axis=1)),
}


HEADER = "| op | value | read this |"


def readme_rows() -> dict:
    """The rows of the README's table of values: `call` → its formula cell."""
    lines = README.read_text(encoding="utf-8").splitlines()
    rows = {}
    for line in lines[lines.index(HEADER) + 2:]:
        if not line.startswith("|"):
            break
        call, formula = re.match(r"\| `([^`]+)` \| ([^|]+) \|", line).groups()
        rows[call] = formula.strip()
    return rows


def _inputs(rng):
    """Y a label in (0, 1), P a probability in (0, 1): inside every loss's domain."""
    return (rng.uniform(0.05, 0.95, (M, N)), rng.uniform(0.05, 0.95, (M, N)), rng.normal(0, 1, (M, N)),
            rng.normal(0, 1, (N, N)))


def _symbols():
    return js.matrix("Y", "m", "n"), js.matrix("P", "m", "n"), js.matrix("A", "m", "n"), js.matrix("S", "n", "n")


def _element_value(node, arrays) -> np.ndarray:
    """The op table's element formula at concrete sizes, at the arrays' values."""
    env = {name: sp.Matrix(a) for name, a in arrays.items()} | {"__sizes__": SIZES}
    value = explicit_matrix(node, Graph(node), env).replace(lambda e: isinstance(e, ElementFunction),
                                                            lambda e: e.explicit())
    return np.array(value.evalf(), dtype=float)


def _kernel_value(node, arrays) -> np.ndarray:
    """The lowered matrix forms the kernels use, node by node."""
    graph = Graph(node)
    return NumericGraph(graph, SIZES).forward(arrays)[graph.symbol(graph.root).name]


def test_every_row_of_the_readme_table_has_its_numpy_formula_here():
    rows = readme_rows()
    assert set(rows) == set(ROWS), "a row of the README's table without its NumPy formula here, or gone"
    for call, (formula, _, _) in ROWS.items():
        assert rows[call] == formula, f"README's {call}: {rows[call]!r}, checked here: {formula!r}"


@pytest.mark.parametrize("call", list(ROWS))
@pytest.mark.parametrize("seed", [0, 1])
def test_the_readme_formula_is_the_engines_value(call, seed):
    Y, P, A, S = _inputs(np.random.default_rng(seed))
    _, build, formula = ROWS[call]
    node = build(*_symbols())
    names = {n.name for n in Graph(node).nodes if n.is_leaf}
    arrays = {k: v for k, v in dict(Y=Y, P=P, A=A, S=S).items() if k in names}
    want = np.asarray(formula(Y, P, A, S), dtype=float).reshape(np.shape(_element_value(node, arrays)))
    np.testing.assert_allclose(_element_value(node, arrays), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_kernel_value(node, arrays), want, rtol=1e-10, atol=1e-12)


def test_mse_is_half_a_sum_not_a_mean():
    """The first-use fault: a mean squared error differs from the engine's mse by 2/(m n)."""
    Y, P, _, _ = _inputs(np.random.default_rng(2))
    node = js.mse(*_symbols()[:2])
    value = _element_value(node, dict(Y=Y, P=P)).item()
    assert value * 2 / (M * N) == pytest.approx(((P - Y) ** 2).mean(), rel=1e-12)
