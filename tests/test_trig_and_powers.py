"""sin, cos, tan and rational powers (x ** (1/3)) through every door: a model file, the kernel against
central differences of a NumPy forward written here from the textbook formula, the standalone module,
claims in Python and LaTeX, and the rendered page."""

import numpy as np
import pytest
from oracle import central_differences, rel_error

import jacobian_sym as js
from jacobian_sym.kernels.generate import function_name

MODEL = '''title = "trigonometric and rational powers"
[inputs]
x = ["n", 1]
[params]
W = ["m", "n"]
b = ["m", 1]
[forward]
z = "W @ x + b"
h = "sin(z) * cos(z) + tan(0.5 * z)"
J = "sum(h * h) + sum(exp(z) ** (1/3)) + sum((1 + z * z) ** -(2/3))"
'''


def _textbook(x, W, b):
    z = W @ x + b
    h = np.sin(z) * np.cos(z) + np.tan(z / 2)
    return float(np.sum(h ** 2) + np.sum(np.cbrt(np.exp(z))) + np.sum((1 + z ** 2) ** (-2 / 3)))


@pytest.fixture(scope="module")
def bp():
    return js.backprop(js.Model.parse(MODEL, source="trig.toml"))


def test_the_kernel_agrees_with_central_differences_of_a_textbook_forward(bp):
    rng = np.random.default_rng(3)
    arrays = {"x": rng.normal(size=(3, 1)) * 0.5, "W": rng.normal(size=(4, 3)) * 0.5, "b": rng.normal(size=(4, 1))}
    out = js.kernel(bp)(**arrays)
    assert abs(out["J"] - _textbook(**arrays)) <= 1e-12 * abs(_textbook(**arrays))
    for name in ("W", "b"):
        assert rel_error(out[name], central_differences(_textbook, arrays, name)) < 1e-7, name


def test_the_standalone_module_computes_the_same(bp, tmp_path):
    path = tmp_path / "trig_kernel.py"
    path.write_text(js.codegen(bp))
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # the test runs the generated module
    rng = np.random.default_rng(4)
    arrays = {"x": rng.normal(size=(3, 2)) * 0.5, "W": rng.normal(size=(4, 3)) * 0.5, "b": rng.normal(size=(4, 1))}
    want = js.kernel(bp)(**arrays)
    got = namespace[function_name(bp)](**arrays)
    for name in ("W", "b"):
        assert rel_error(got[name], want[name]) < 1e-12


def test_sin_prime_is_cos_and_cos_prime_is_minus_sin():
    x = js.vector("x", "n")
    assert str(js.gradient(js.sum(js.sin(x)), x).closed_form) == "cos(x)ᵀ"
    assert str(js.gradient(js.sum(js.cos(x)), x).closed_form) == "-sin(x)ᵀ"


def test_softplus_prime_is_sigmoid_and_its_second_derivative_sigma_prime():
    """e^s/(1 + e^s), softplus′ as derived, is σ's definition 1/(1 + e^−s) written otherwise: found by
    SymPy's simplify after a numeric screen, so softplus″ prints σ′ as people write it; numerically
    the gradient is σ(x) (NumPy, independent of the engine's forms)."""
    x = js.vector("x", "n")
    d = js.gradient(js.sum(js.softplus(x)), x)
    assert str(d.closed_form) == "σ(x)ᵀ"
    assert str(js.hessian(js.sum(js.softplus(x)), x).closed_form) == "diag(σ′(x))"
    v = np.array([[-3.0], [0.2], [4.0]])
    got = js.kernel(d)(x=v)
    got = got["x"] if isinstance(got, dict) else got
    assert rel_error(np.asarray(got).reshape(-1), 1 / (1 + np.exp(-v.reshape(-1)))) < 1e-12


@pytest.mark.parametrize("claim, holds", [
    ("cos(x).T", True), ("sin(x).T", False), (r"\cos(x)^T", True), (r"-\sin(x)^T", False)])
def test_claims_read_sin_and_cos(claim, holds):
    x = js.vector("x", "n")
    assert js.check(js.sum(js.sin(x)), x, claim).ok is holds


@pytest.mark.parametrize("claim, holds", [
    ("(1/3) * x.T ** (-2/3)", True), ("(1/3) * x.T ** (-1/3)", False), ("x.T ** (-2/3) / 3", True)])
def test_claims_read_rational_powers(claim, holds):
    x = js.vector("x", "n")
    target = js.sum(x ** (1 / 3))
    assert js.check(target, x, claim).ok is holds


def test_the_page_prints_sin_and_a_rational_power(bp):
    page = bp.latex()
    assert r"\sin" in page and r"\cos" in page and r"\frac{1}{3}" in page


def test_a_power_by_a_third_reads_back_from_its_text():
    x = js.vector("x", "n")
    node = js.exp(x) ** (1 / 3) + js.exp(x) ** -(2 / 3)
    assert str(node) == "exp(x) ** (1/3) + exp(x) ** (-(2/3))"
    again = js.Model.parse(f'[inputs]\nx = ["n", 1]\n[forward]\nJ = "sum({node})"\n').loss
    assert again.args[0].structure() == node.structure()


@pytest.mark.parametrize("line", ["x ** y", "x ** (1/0)", "x ** 9", "x ** (17/2)", "x ** 0"])
def test_exponents_that_are_not_rationals_in_range_are_refused_in_one_line(line):
    with pytest.raises(js.ParseError, match="rational number from -8 to 8|division by zero"):
        js.Model.parse(f'[inputs]\nx = ["n", 1]\ny = ["n", 1]\n[forward]\nJ = "sum({line})"\n')


def test_the_page_parenthesises_the_base_of_a_power():
    m = js.Model.parse('[inputs]\nx = ["n", 1]\n[params]\nW = ["n", "n"]\nb = ["n", 1]\n[forward]\n'
                       'J = "sum((W @ x + b) ** (1/3)) + sum((W @ x) ** 0.25)"\n')
    page = js.backprop(m).latex()
    assert r"\left(W x + b\right)^{\circ \frac{1}{3}}" in page and r"\left(W x\right)^{\circ \frac{1}{4}}" in page
