"""A trace is a 1×1 like a sum (issue 31 §1): every example of the issue, derived by the engine, against
the explicit element-wise Jacobian — SymPy's derivative of the trace written out entry by entry over a
matrix of independent symbols — at 2×2 and 3×3, and against central differences of a NumPy forward;
through the Python API, a model file and the CLI."""

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from oracle import central_differences, rel_error

import jacobian_sym as js
from jacobian_sym.cli import cli


def _tr(M):
    return sum(M[k, k] for k in range(M.rows))


#: (the model language's text, the js expression, the forward over explicit SymPy matrices, in NumPy)
EXAMPLES = [
    ("tr(X) * tr(X)", lambda X: js.tr(X) * js.tr(X), lambda X: _tr(X) * _tr(X), lambda X: np.trace(X) ** 2),
    ("tr(X) ** 2", lambda X: js.tr(X) ** 2, lambda X: _tr(X) ** 2, lambda X: np.trace(X) ** 2),
    ("tr(X) + tr(X @ X)", lambda X: js.tr(X) + js.tr(X @ X), lambda X: _tr(X) + _tr(X * X),
     lambda X: np.trace(X) + np.trace(X @ X)),
    ("exp(tr(X))", lambda X: js.exp(js.tr(X)), lambda X: sp.exp(_tr(X)), lambda X: np.exp(np.trace(X))),
    ("tr(X) / tr(X @ X)", lambda X: js.tr(X) / js.tr(X @ X), lambda X: _tr(X) / _tr(X * X),
     lambda X: np.trace(X) / np.trace(X @ X)),
    ("tr(X @ X @ X)", lambda X: js.tr(X @ X @ X), lambda X: _tr(X * X * X), lambda X: np.trace(X @ X @ X)),
]
IDS = [e[0] for e in EXAMPLES]


def _point(n, seed):
    # (away from tr(X X) = 0, where the quotient has a pole)
    return np.random.default_rng(seed).normal(size=(n, n)) + 2 * np.eye(n)


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("k", range(len(EXAMPLES)), ids=IDS)
def test_a_trace_gradient_equals_the_explicit_element_wise_jacobian(k, n):
    _, build, explicit, _ = EXAMPLES[k]
    X = js.matrix("X", "n", "n")
    d = js.gradient(build(X), X)
    S = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"x{i}{j}", real=True))
    J = explicit(S)
    X0 = _point(n, 10 * k + n)
    at = {S[i, j]: X0[i, j] for i in range(n) for j in range(n)}
    want = np.array([[float(sp.diff(J, S[i, j]).subs(at)) for j in range(n)] for i in range(n)])
    assert rel_error(js.kernel(d)(X=X0), want) < 1e-10, d.closed_form


@pytest.mark.parametrize("k", range(len(EXAMPLES)), ids=IDS)
def test_a_model_file_with_a_trace_against_central_differences(k):
    text, _, _, forward = EXAMPLES[k]
    model = js.Model.parse(f'[params]\nX = ["n", "n"]\n[forward]\nJ = "{text}"\n')
    f = js.kernel(js.backprop(model))
    X0 = _point(3, k)
    got = f(X=X0)["X"]
    assert rel_error(got, central_differences(lambda X: float(forward(X)), {"X": X0}, "X")) < 1e-7


def test_the_gradient_of_a_cubed_trace_reads_three_x_squared_transposed():
    X = js.matrix("X", "n", "n")
    d = js.gradient(js.tr(X @ X @ X), X)
    assert str(d.closed_form) == "3 (X²)ᵀ"
    # and that closed form, written as a claim in the claim language, holds
    assert js.check(js.tr(X @ X @ X), wrt=X, claim="3 * matrix_power(X, 2).T").ok


@pytest.mark.parametrize("k", [0, 4], ids=[IDS[0], IDS[4]])
def test_the_cli_derives_a_trace_model(k, tmp_path):
    path = tmp_path / "trace.toml"
    path.write_text(f'[params]\nX = ["n", "n"]\n[forward]\nJ = "{EXAMPLES[k][0]}"\n')
    result = CliRunner().invoke(cli, ["derive", str(path), "--format", "text"])
    assert result.exit_code == 0 and "∂J/∂X" in result.output and "Traceback" not in result.output


def test_a_trace_of_a_rectangle_is_one_line():
    with pytest.raises(js.ShapeError, match="not square"):
        js.tr(js.matrix("X", "n", "m"))
    result = CliRunner().invoke(cli, ["derive", "tr(X) * tr(X)", "--shape", "X=n,m", "--wrt", "X"])
    assert result.exit_code == 2 and "not square" in result.output and "Traceback" not in result.output
