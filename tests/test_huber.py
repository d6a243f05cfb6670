"""The Huber loss as a composite (abs, hardtanh, square and sums): derived, proved, compiled, and
compared with central differences of a NumPy Huber written here from the textbook case definition;
bad uses refused with the line."""

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli


def _huber(Y, P, delta):
    """Huber (1964): ½r² where |r| ≤ δ, δ(|r| − ½δ) elsewhere, r = P − Y, summed."""
    r = P - Y
    return np.sum(np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)))


def _model(call: str) -> str:
    return ('title = "Huber regression"\n[inputs]\nX = ["T", "d"]\nY = ["T", "k"]\n'
            '[params]\nW = ["d", "k"]\nb = [1, "k"]\n'
            f'[forward]\nP = "X @ W + b"\nJ = "{call}"\n[gradients]\nwrt = ["W", "b", "X"]\n')


@pytest.mark.parametrize("delta", [1, 0.5, 2])
def test_huber_regression_is_derived_proved_and_compiled(delta):
    call = "huber(Y, P)" if delta == 1 else f"huber(Y, P, delta={delta})"
    bp = js.backprop(js.Model.parse(_model(call), source="huber.toml"))
    assert js.verify(bp).ok
    f = js.kernel(bp)
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(7, 4)), 2 * rng.normal(size=(7, 3))
    W, b = rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    r = X @ W + b - Y
    assert np.any(np.abs(r) < delta) and np.any(np.abs(r) > delta)  # both branches are met
    out = f(X=X, Y=Y, W=W, b=b)

    def loss(X, W, b):
        return _huber(Y, X @ W + b, delta)

    assert np.isclose(out["J"], loss(X, W, b), rtol=1e-12)
    for name, value in (("X", X), ("W", W), ("b", b)):
        fd = np.zeros_like(value)
        for k in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[k] += 1e-6
            down[k] -= 1e-6
            args = {"X": X, "W": W, "b": b}
            fd[k] = (loss(**{**args, name: up}) - loss(**{**args, name: down})) / 2e-6
        assert np.linalg.norm(out[name] - fd) <= 1e-6 * np.linalg.norm(fd), name
    single = f(**{k: v.astype(np.float32) for k, v in dict(X=X, Y=Y, W=W, b=b).items()})
    assert all(v.dtype == np.float32 for v in single.values())


def test_the_gradient_at_the_kinks_is_r_inside_and_delta_sign_outside():
    """Residuals on the kinks (|r| = δ, and r = 0): h′ is continuous there, r = δ sign(r)."""
    bp = js.backprop(js.Model.parse(_model("huber(Y, P, delta=0.5)"), source="huber.toml"))
    f = js.kernel(bp)
    X, W = np.zeros((5, 1)), np.zeros((1, 1))
    Y, b = np.array([[0.5], [-0.5], [0.0], [2.0], [-0.25]]), np.zeros((1, 1))
    out = f(X=X, Y=Y, W=W, b=b)
    r = -Y[:, 0]
    assert np.allclose(out["b"], [[np.sum(np.clip(r, -0.5, 0.5))]])


def test_the_composite_is_its_primitives():
    Y, P = js.vector("y", "n"), js.vector("p", "n")
    a = js.abs(P - Y)
    by_hand = js.sum(js.constant(0.5) * js.square(js.hardtanh(a)) + (a - js.hardtanh(a)))
    assert js.huber(Y, P).structure() == by_hand.structure()


@pytest.mark.parametrize("call, words", [
    ("huber(Y, P, delta=0)", "delta must be a positive number"),
    ("huber(Y, P, delta=-1)", "delta must be a positive number"),
    ("huber(Y, P, delta='a')", "delta must be a positive number"),
    ("huber(Y, P, eps=1)", "takes the keywords delta"),
    ("huber(P)", "takes 2 operands"),
    ("huber(Y, X)", "the target is"),
])
def test_bad_uses_are_refused_with_the_line(call, words, tmp_path):
    text = _model(call)
    with pytest.raises(js.ParseError) as err:
        js.Model.parse(text, source="huber.toml")
    assert words in str(err.value) and str(err.value).startswith("huber.toml:10:")
    path = tmp_path / "huber.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output
