"""maximum(a, b), minimum(a, b) and clip(a, lo, hi) as composites (relu, hardtanh): derived, proved,
compiled, and compared with central differences of NumPy's own np.maximum / np.minimum / np.clip;
the documented values at ties and bounds; bad uses refused with the line."""

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli


def _model(line: str) -> str:
    return ('title = "selecting"\n[inputs]\nX = ["T", "d"]\n[params]\nA = ["T", "d"]\nB = ["T", "d"]\n'
            f'[forward]\nS = "{line}"\nJ = "sum(S * X)"\n[gradients]\nwrt = ["A", "B"]\n')


CASES = [
    ("maximum(A, B)", lambda A, B: np.maximum(A, B)),
    ("minimum(A, B)", lambda A, B: np.minimum(A, B)),
    ("clip(A, -0.5, 2) * B", lambda A, B: np.clip(A, -0.5, 2) * B),
    ("clip(A, lo=0, hi=1) + B", lambda A, B: np.clip(A, 0, 1) + B),
    ("clip(maximum(A, B), -1, 1)", lambda A, B: np.clip(np.maximum(A, B), -1, 1)),
]


@pytest.mark.parametrize("line, forward", CASES)
def test_derived_proved_compiled_against_numpy(line, forward):
    bp = js.backprop(js.Model.parse(_model(line), source="sel.toml"))
    assert js.verify(bp).ok
    f = js.kernel(bp)
    rng = np.random.default_rng(7)
    X, A, B = rng.normal(size=(5, 4)), 1.5 * rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    out = f(X=X, A=A, B=B)

    def loss(A, B):
        return np.sum(forward(A, B) * X)

    assert np.isclose(out["J"], loss(A, B), rtol=1e-12)
    for name, value in (("A", A), ("B", B)):
        fd = np.zeros_like(value)
        for k in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[k] += 1e-6
            down[k] -= 1e-6
            args = {"A": A, "B": B}
            fd[k] = (loss(**{**args, name: up}) - loss(**{**args, name: down})) / 2e-6
        assert np.linalg.norm(out[name] - fd) <= 1e-6 * max(np.linalg.norm(fd), 1.0), name
    single = f(X=X.astype(np.float32), A=A.astype(np.float32), B=B.astype(np.float32))
    assert all(v.dtype == np.float32 for v in single.values())


@pytest.mark.parametrize("line", ["maximum(A, B)", "minimum(A, B)"])
def test_a_tie_gives_the_gradient_to_the_second_argument(line):
    f = js.kernel(js.backprop(js.Model.parse(_model(line), source="sel.toml")))
    A = np.array([[0.5, -1.0]])
    out = f(X=np.ones((1, 2)), A=A, B=A.copy())
    assert np.array_equal(out["A"], np.zeros((1, 2))) and np.array_equal(out["B"], np.ones((1, 2)))


def test_clip_has_slope_zero_on_its_bounds():
    f = js.kernel(js.backprop(js.Model.parse(_model("clip(A, -0.5, 2) + B"), source="sel.toml")))
    A = np.array([[-0.5, 2.0, 0.0, 3.0]])
    out = f(X=np.ones((1, 4)), A=A, B=np.zeros((1, 4)))
    assert np.array_equal(out["A"], np.array([[0.0, 0.0, 1.0, 0.0]]))


@pytest.mark.parametrize("line, words", [
    ("clip(A, 1, 1)", "clip needs lo < hi"),
    ("clip(A, 2, -1)", "clip needs lo < hi"),
    ("clip(A, 'a', 1)", "lower bound must be a number"),
    ("clip(A, B, 1)", "takes one operand"),
    ("clip(A, 0, 1, 2)", "takes one operand"),
    ("clip(A, 0, lo=1)", "keyword 'lo' is given twice"),
    ("maximum(A)", "takes 2 operands"),
])
def test_bad_uses_are_refused_with_the_line(line, words, tmp_path):
    text = _model(line)
    with pytest.raises(js.ParseError) as err:
        js.Model.parse(text, source="sel.toml")
    assert words in str(err.value) and str(err.value).startswith("sel.toml:8:"), str(err.value)
    path = tmp_path / "sel.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output
