"""where(a > b, c, d) in forward lines, and the Huber regression written with it
(derivations/huber_regression.toml): kernels against central differences of NumPy forwards written
here with np.where, the value and the gradient at a tie (the convention: the selector is step(a − b),
0 at 0 as ReLU′(0) = 0, so a tie takes the branch its comparison names), and a comparison anywhere
but where's first operand refused in one line with its column."""

import numpy as np
import pytest
from oracle import central_differences, gradient, rel_error

import jacobian_sym as js

HUBER = "derivations/huber_regression.toml"
DELTA = 1.5


def _huber(X, y, w, b):
    """The mean Huber loss as PyTorch's HuberLoss documents it: 0.5 r² if |r| < δ, else δ(|r| − 0.5δ)."""
    r = X @ w + b - y
    return float(np.mean(np.where(np.abs(r) < DELTA, 0.5 * r**2, DELTA * (np.abs(r) - 0.5 * DELTA))))


@pytest.fixture(scope="module")
def huber():
    return js.backprop(js.Model.from_toml(HUBER))


@pytest.mark.parametrize("N, d", [(6, 3), (9, 2)])
def test_huber_regression_against_central_differences_of_pytorchs_formula(huber, N, d):
    rng = np.random.default_rng(N)
    arrays = {"X": rng.normal(size=(N, d)), "y": 3 * rng.normal(size=(N, 1)), "w": rng.normal(size=(d, 1)),
              "b": rng.normal(size=(1, 1))}
    r = arrays["X"] @ arrays["w"] + arrays["b"] - arrays["y"]
    assert (np.abs(r) < DELTA).any() and (np.abs(r) > DELTA).any()  # both branches are taken
    out = js.kernel(huber)(**arrays)
    assert out["J"] == pytest.approx(_huber(**arrays), rel=1e-12)
    for name in ("w", "b"):
        assert rel_error(out[name], central_differences(_huber, arrays, name)) < 1e-7, name


def test_huber_regression_is_proved_and_keeps_float32(huber):
    assert js.verify(huber).ok
    rng = np.random.default_rng(1)
    arrays = {"X": rng.normal(size=(5, 2)), "y": 3 * rng.normal(size=(5, 1)), "w": rng.normal(size=(2, 1)),
              "b": rng.normal(size=(1, 1))}
    out = js.kernel(huber)(**{k: v.astype(np.float32) for k, v in arrays.items()})
    assert all(v.dtype == np.float32 for v in out.values())


def test_huber_regressions_signal_is_written_with_the_step_and_no_zero_signal(huber):
    assert list(huber.deltas) == ["delta_1"]  # no δ = 0 named at the selector's argument
    assert "step" in huber.latex()


# ----- each comparison, against np.where -----
WHERE = '''[inputs]
x = ["n", 1]
v = ["k", 1]
[params]
W = ["k", "n"]
[forward]
z = "W @ x"
J = "sum(where({test}, tanh(z) * v, 2 * z - v * v))"
'''

COMPARISONS = {"z > v": np.greater, "z >= v": np.greater_equal, "z < v": np.less, "z <= v": np.less_equal}


def _forward(test):
    def f(x, v, W):
        z = W @ x
        return float(np.sum(np.where(COMPARISONS[test](z, v), np.tanh(z) * v, 2 * z - v * v)))
    return f


@pytest.mark.parametrize("test", sorted(COMPARISONS))
def test_each_comparison_against_central_differences_of_np_where(test):
    model = js.Model.parse(WHERE.format(test=test))
    bp = js.backprop(model)
    rng = np.random.default_rng(3)
    arrays = {"x": rng.normal(size=(3, 1)), "v": rng.normal(size=(4, 1)), "W": rng.normal(size=(4, 3))}
    out = js.kernel(bp)(**arrays)
    assert out["J"] == pytest.approx(_forward(test)(**arrays), rel=1e-12)
    assert rel_error(out["W"], central_differences(_forward(test), arrays, "W")) < 1e-7
    assert rel_error(out["W"], gradient(model.loss, arrays, "W")) < 1e-8  # the tests' own oracle too


TIE = '''[inputs]
a = ["n", 1]
b = ["n", 1]
[params]
c = ["n", 1]
d = ["n", 1]
[forward]
J = "sum(where(a {op} b, 3 * c, 5 * d))"
'''


@pytest.mark.parametrize("op, takes_c", [(">", False), (">=", True), ("<", False), ("<=", True)])
def test_at_a_tie_the_value_and_the_gradient_take_the_branch_the_comparison_names(op, takes_c):
    bp = js.backprop(js.Model.parse(TIE.format(op=op)))
    a = np.array([[0.5], [-1.0], [2.0]])
    arrays = {"a": a, "b": a.copy(), "c": np.array([[1.0], [2.0], [3.0]]), "d": np.array([[4.0], [5.0], [6.0]])}
    out = js.kernel(bp)(**arrays)
    assert out["J"] == (3 * 6.0 if takes_c else 5 * 15.0)
    assert np.array_equal(out["c"], np.full((3, 1), 3.0 if takes_c else 0.0))
    assert np.array_equal(out["d"], np.full((3, 1), 0.0 if takes_c else 5.0))


@pytest.mark.parametrize("line, column, message", [
    ("sum(a > b)", 5, "a comparison is allowed only as the first operand of where"),
    ("sum(where(a, b, b))", 11, "where's first operand is one comparison"),
    ("sum(where(a > b > a, a, b))", 11, "where's first operand is one comparison"),
    ("sum(where(a == b, a, b))", 11, "where's first operand is one comparison"),
    ("sum(where(a > b, a))", 5, "where takes three operands"),
])
def test_a_comparison_outside_where_is_one_line_with_its_column(line, column, message):
    text = f'[inputs]\na = ["n", 1]\nb = ["n", 1]\n[forward]\nJ = "{line}"\n'
    with pytest.raises(js.ParseError, match=message) as err:
        js.Model.parse(text, source="where.toml")
    assert "\n" not in str(err.value) and f"where.toml:5:{5 + column}:" in str(err.value), str(err.value)
