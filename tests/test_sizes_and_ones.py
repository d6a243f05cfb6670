"""A size used as a number in a forward line (n * x, x / n, 1 / sqrt(k)) and a constant ones matrix
(ones(n, 1), js.ones): derived, proved, compiled and checked against central differences of a NumPy
forward written here from the formula."""

import numpy as np
import pytest
from oracle import central_differences, rel_error

import jacobian_sym as js
from jacobian_sym.kernels.generate import function_name

MODEL = '''title = "sizes as numbers"
[inputs]
x = ["n", 1]
[params]
W = ["k", "n"]
b = ["k", 1]
[forward]
z = "W @ x / n + b * k"
h = "tanh(z) / sqrt(k)"
J = "sum(ones(1, k) @ h) ** 2 / (2 * n) + sum(ones(k, n) * W * W) / k"
'''


def _textbook(x, W, b):
    k, n = W.shape
    z = W @ x / n + b * k
    h = np.tanh(z) / np.sqrt(k)
    return float(np.sum(h) ** 2 / (2 * n) + np.sum(W * W) / k)


@pytest.fixture(scope="module")
def bp():
    return js.backprop(js.Model.parse(MODEL, source="sizes.toml"))


@pytest.mark.parametrize("sizes", [(3, 4), (5, 2)])
def test_the_kernel_agrees_with_central_differences_of_a_textbook_forward(bp, sizes):
    n, k = sizes
    rng = np.random.default_rng(n)
    arrays = {"x": rng.normal(size=(n, 1)), "W": rng.normal(size=(k, n)), "b": rng.normal(size=(k, 1)) / k}
    out = js.kernel(bp)(**arrays)
    assert abs(out["J"] - _textbook(**arrays)) <= 1e-12 * abs(_textbook(**arrays))
    for name in ("W", "b"):
        assert rel_error(out[name], central_differences(_textbook, arrays, name)) < 1e-7, name


def test_the_standalone_module_reads_the_sizes_from_its_arrays(bp, tmp_path):
    path = tmp_path / "sizes_kernel.py"
    path.write_text(js.codegen(bp))
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # the test runs the generated module
    rng = np.random.default_rng(5)
    # one example: (Σ h)² over a batch is not the sum of its examples' losses, so the kernel takes one
    arrays = {"x": rng.normal(size=(4, 1)), "W": rng.normal(size=(2, 4)), "b": rng.normal(size=(2, 1))}
    got, want = namespace[function_name(bp)](**arrays), js.kernel(bp)(**arrays)
    for name in ("W", "b"):
        assert rel_error(got[name], want[name]) < 1e-12


def test_each_gradient_is_proved(bp):
    assert js.verify(bp).ok


def test_the_python_api_has_sizes_and_ones():
    W, x = js.matrix("W", "k", "n"), js.vector("x", "n")
    d = js.gradient(js.sum(js.ones("k", 1).T @ js.tanh(W @ x)) * js.size("n"), W)
    assert js.verify(d).ok
    assert str(js.ones("n", 1).T @ x) == "ones(n, 1).T @ x"


def test_the_text_of_a_line_with_sizes_reads_back():
    m = js.Model.parse(MODEL)
    again = js.Model.parse(f'[inputs]\nx = ["n", 1]\n[params]\nW = ["k", "n"]\nb = ["k", 1]\n[forward]\n'
                           f'J = "{m.loss}"\n').loss
    assert str(again) == str(m.loss)
    rng = np.random.default_rng(0)
    arrays = {"x": rng.normal(size=(3, 1)), "W": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 1))}
    assert js.kernel(js.backprop(js.Model.build(again)))(**arrays)["J"] == pytest.approx(_textbook(**arrays))


@pytest.mark.parametrize("line, message", [
    ("sum(x) * m", "'m' is not defined"), ("sum(ones(n) @ x)", "ones takes two sizes"),
    ("sum(ones(n, m) @ x)", "a size of ones")])
def test_unknown_sizes_are_refused_in_one_line(line, message):
    with pytest.raises(js.ParseError, match=message):
        js.Model.parse(f'[inputs]\nx = ["n", 1]\n[forward]\nJ = "{line}"\n')


@pytest.mark.parametrize("claim, holds", [("2 * x.T / n", True), ("2 * x.T", False), (r"\frac{2}{n} x^T", True)])
def test_claims_about_a_loss_scaled_by_a_size(claim, holds):
    x = js.vector("x", "n")
    assert js.check(js.sum(x * x) / js.size("n"), x, claim).ok is holds
