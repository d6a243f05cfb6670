"""Layer norm and batch norm as composites: expanded to the op table's primitives (mean, var, rsqrt),
their backward derived by the engine, proved, compiled, and compared with central differences of a
NumPy forward written here from the textbook formula; bad keywords refused with the line."""

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli

EPS = 1e-5


def _normalised(X, axis):
    """The textbook normalisation (Ba et al. 2016; Ioffe & Szegedy 2015), population variance."""
    mu = X.mean(axis=axis, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=axis, keepdims=True)
    return (X - mu) / np.sqrt(var + EPS)


def _model(call: str, scale: str) -> str:
    return (f'title = "{call}"\n[inputs]\nX = ["T", "d"]\nY = ["T", "d"]\n[params]\ng = {scale}\nb = {scale}\n'
            f'[forward]\nxhat = "{call}"\nout = "xhat * g + b"\nJ = "mse(Y, out)"\n'
            '[gradients]\nwrt = ["g", "b", "X"]\n')


CASES = [
    ("layer_norm(X, axis=1, eps=0.00001)", '[1, "d"]', 1),  # γ, β per feature; statistics per token
    ("batch_norm(X, eps=0.00001)", '[1, "d"]', 0),          # statistics per feature over the batch
]


@pytest.mark.parametrize("call, scale, axis", CASES)
def test_a_normalisation_is_derived_proved_and_compiled(call, scale, axis):
    bp = js.backprop(js.Model.parse(_model(call, scale), source="norm.toml"))
    assert js.verify(bp).ok
    f = js.kernel(bp)
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    g, b = rng.normal(size=(1, 5)), rng.normal(size=(1, 5))
    out = f(X=X, Y=Y, g=g, b=b)

    def loss(X, g, b):
        return 0.5 * np.sum((_normalised(X, axis) * g + b - Y) ** 2)

    assert np.isclose(out["J"], loss(X, g, b), rtol=1e-12)
    for name, value in (("X", X), ("g", g), ("b", b)):
        fd = np.zeros_like(value)
        for k in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[k] += 1e-6
            down[k] -= 1e-6
            args = {"X": X, "g": g, "b": b}
            fd[k] = (loss(**{**args, name: up}) - loss(**{**args, name: down})) / 2e-6
        assert np.linalg.norm(out[name] - fd) <= 1e-6 * np.linalg.norm(fd), name
    single = f(**{k: v.astype(np.float32) for k, v in dict(X=X, Y=Y, g=g, b=b).items()})
    assert all(v.dtype == np.float32 for v in single.values())


def test_the_composite_is_its_primitives():
    X = js.matrix("X", "T", "d")
    by_hand = (X - js.mean(X, axis=1)) * js.rsqrt(js.var(X, axis=1) + js.constant(EPS))
    assert js.layer_norm(X, axis=1, eps=EPS).structure() == by_hand.structure()
    assert js.batch_norm(X).structure() == js.layer_norm(X, axis=0).structure()


@pytest.mark.parametrize("call, words", [
    ("layer_norm(X, axis=1, eps=0)", "eps must be a positive number"),
    ("layer_norm(X, axis=1, eps=-0.1)", "eps must be a positive number"),
    ("layer_norm(X, axis=1, eps='a')", "eps must be a positive number"),
    ("layer_norm(X, axis=2)", "axis must be 0 or 1"),
    ("layer_norm(X, scale=2)", "takes the keywords axis, eps"),
    ("batch_norm(X, axis=1)", "takes the keywords eps"),
    ("layer_norm(X, Y)", "takes one operand"),
    ("mean(X, axis=2)", "axis must be 0"),
    ("var(X)", "axis must be 0"),
])
def test_bad_keywords_are_refused_with_the_line(call, words, tmp_path):
    text = _model(call, '[1, "d"]')
    with pytest.raises(js.ParseError) as err:
        js.Model.parse(text, source="norm.toml")
    assert words in str(err.value) and str(err.value).startswith("norm.toml:9:")
    path = tmp_path / "norm.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output
