"""Model files: the safe parser, its errors with line and column, and the same graph from Python."""

import numpy as np
import pytest

import jacobian_sym as js
from jacobian_sym.models.model import Model

HEAD = '[inputs]\nx = ["n", 1]\n[params]\nW = ["m", "n"]\n[forward]\n'


def test_one_layer_parses():
    m = Model.from_toml("derivations/one_layer.toml")
    assert list(m.forward) == ["z", "h", "theta", "yhat", "J"]
    assert m.wrt == ["U", "b2", "W", "b1", "x"]
    assert m.inputs["y"].attr("one_hot")


def test_python_and_file_give_the_same_graph():
    x, y = js.vector("x", "D_x"), js.vector("y", "N_c", one_hot=True)
    W, b1 = js.matrix("W", "D_h", "D_x"), js.matrix("b1", "D_h", 1)
    U, b2 = js.matrix("U", "N_c", "D_h"), js.matrix("b2", "N_c", 1)
    z = (W @ x + b1).named("z")
    h = js.relu(z).named("h")
    theta = (U @ h + b2).named("theta")
    J = js.cross_entropy(y, js.softmax(theta).named("yhat")).named("J")
    built = Model.build(J, ["U", "b2", "W", "b1", "x"])
    assert built.structure() == Model.from_toml("derivations/one_layer.toml").structure()


@pytest.mark.parametrize("line, col, words", [
    ('z = "W @ x + q"', 14, "not defined"),
    ('z = "x.__class__"', 6, "attribute"),
    ('z = "__import__(1)"', 6, "unknown function"),
    ('z = "foo(x)"', 6, "unknown function"),
    ('z = "W[0]"', 8, "not an index"),  # a slice is W[0:1, :]; an index is refused
    ('z = "lambda: 1"', 6, "lambda"),
    ('z = "x @ W"', 6, "inner sizes"),
    ('z = "W @ (x"', None, "syntax error"),
    ('z = "\'text\'"', 6, "numbers"),
    ('z = "W @ x / 0"', 14, "division by zero"),
    ('z = "W @ x / (2 - 2)"', 15, "division by zero"),
    ('z = "W @ x * 1e999"', 14, "not finite"),
    ('z = "W @ x * 2 ** 0.5"', 14, "not a rational number"),
    ('z = "W @ x * 0 ** -1"', 14, "division by zero"),
])
def test_bad_forward_lines_name_line_and_column(line, col, words):
    text = HEAD + line + '\nJ = "sum(z)"\n'
    with pytest.raises(js.ParseError) as err:
        Model.parse(text, source="m.toml")
    message = str(err.value)
    assert "\n" not in message and words in message and message.startswith("m.toml:6")
    if col is not None:
        assert err.value.col == col


def test_nothing_executes(tmp_path):
    marker = tmp_path / "pwned"
    text = HEAD + f'z = "__import__(\'os\').system(\'touch {marker}\')"\nJ = "sum(z)"\n'
    with pytest.raises(js.ParseError):
        Model.parse(text)
    assert not marker.exists()


@pytest.mark.parametrize("text, words", [
    ("[inputs\nx = 1", "TOML"),
    ("[weights]\nW = [1, 2]\n[forward]\nJ = \"1\"", "unknown section"),
    (HEAD + 'J = "W @ x"\n', "must be a scalar"),
    (HEAD + 'J = "sum(W @ x)"\n[gradients]\nwrt = ["V"]\n', "not in the model"),
    ('[inputs]\nx = ["n"]\n[forward]\nJ = "sum(x)"\n', "shape"),
    ('[inputs]\ny = { shape = ["n", 1], one_hot = "no" }\n[forward]\nJ = "sum(y)"\n', "one_hot = 'no'; it is true"),
])
def test_bad_files(text, words):
    with pytest.raises(js.JacobianSymError) as err:
        Model.parse(text, source="bad.toml")
    assert words in str(err.value) and "bad.toml" in str(err.value)


@pytest.mark.parametrize("loss, want", [
    ("sum(W @ x) * (1 - 1)", 0), ("(2 ** 2 - 1) * sum(W @ x)", 3), ("sum(W @ x) * -(1 / 2)", -0.5),
    ("sum(W @ x) * 4 ** 0.5", 2), ("sum(W @ x) / 2 ** -1", 2),
])
def test_arithmetic_on_numbers_is_a_number(loss, want):
    # a forward line's numbers are folded when read (1 - 1 is the constant 0; it crashed the inliner)
    model = Model.parse(HEAD + f'J = "{loss}"\n', source="m.toml")
    rng = np.random.default_rng(0)
    arrays = {"x": rng.normal(size=(3, 1)), "W": rng.normal(size=(2, 3))}
    out = js.kernel(js.backprop(model))(**arrays)
    assert np.allclose(out["W"], want * np.ones((2, 1)) @ arrays["x"].T)


def test_missing_file():
    with pytest.raises(js.JacobianSymError) as err:
        Model.from_toml("derivations/nope.toml")
    assert "nope.toml" in str(err.value)


SOFTMAX_REGRESSION = """[inputs]
X = ["N", "d"]
Y = { shape = ["N", "k"], one_hot = true }
[params]
W = ["d", "k"]
[forward]
P = "softmax(X @ W, axis=1)"
J = "cross_entropy(Y, P)"
"""


def test_a_one_hot_label_matrix_takes_its_class_axis_from_the_softmax():
    # with no `axis`, classes ran down the columns whatever the softmax did: δ came out diag(Y1) P − Y
    # and the textbook Xᵀ(P − Y) did not hold for one-hot rows
    model = Model.parse(SOFTMAX_REGRESSION, source="softmax.toml")
    assert model.inputs["Y"].attr("one_hot_axis") == 1
    rng = np.random.default_rng(3)
    N, d, k = 6, 4, 3
    X, W = rng.normal(size=(N, d)), rng.normal(size=(d, k))
    Y = np.eye(k)[rng.integers(0, k, size=N)]
    E = np.exp(X @ W - (X @ W).max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    out = js.kernel(js.backprop(model))(X=X, W=W, Y=Y)
    assert np.isclose(out["J"], -np.sum(Y * np.log(P)))
    assert np.linalg.norm(out["W"] - X.T @ (P - Y)) <= 1e-12 * np.linalg.norm(X.T @ (P - Y))
    assert js.check(js.backprop(model), "W", "X.T @ (P - Y)").ok


def test_a_one_hot_label_matrix_with_no_softmax_must_say_its_axis():
    lines = 'P = "softmax(X @ W, axis=1)"\nJ = "cross_entropy(Y, P)"'
    text = SOFTMAX_REGRESSION.replace(lines, 'J = "sum(Y * (X @ W))"')
    with pytest.raises(js.ParseError) as err:
        Model.parse(text, source="labels.toml")
    assert "labels.toml:3" in str(err.value) and "say which axis holds its classes" in str(err.value)
