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
    ('z = "W[0]"', 6, "subscript"),
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
