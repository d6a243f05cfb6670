"""Bad input: a JacobianSymError subclass with a one-line message naming the problem."""

import pytest

import jacobian_sym as js
from jacobian_sym.proofs.verify import verify

W, x, k = js.matrix("W", "n", "m"), js.vector("x", "m"), js.vector("k", "p")


def _one_line(err):
    text = str(err.value)
    assert text and "\n" not in text
    return text


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(js.ShapeError) as err:
        W @ k
    text = _one_line(err)
    assert "n×m" in text and "p×1" in text


def test_broadcast_mismatch():
    with pytest.raises(js.ShapeError) as err:
        x + k
    assert "m×1" in _one_line(err) and "p×1" in str(err.value)


def test_variable_not_in_expression():
    with pytest.raises(js.DerivationError) as err:
        js.gradient(js.sum(W @ x), js.vector("q", "m"))
    assert "q" in _one_line(err)


def test_unknown_function():
    with pytest.raises(js.UnknownFunctionError) as err:
        js.apply("softmaxx", x)
    assert "softmaxx" in _one_line(err)


def test_gradient_needs_a_scalar():
    with pytest.raises(js.DerivationError) as err:
        js.gradient(W @ x, x)
    assert "scalar" in _one_line(err)


def test_jacobian_needs_vectors():
    with pytest.raises(js.JacobianSymError) as err:
        js.jacobian(W @ x, W)
    assert "matrix" in _one_line(err)


def test_explicit_check_refuses_exploding_sizes():
    d = js.gradient(js.sum(W @ x), W)
    with pytest.raises(js.SizeError) as err:
        verify(d, sizes=[{"n": 90, "m": 80}])
    assert "explicit" in _one_line(err)


@pytest.mark.parametrize("bad", [0, -3, "3x", 2.5, True])
def test_bad_sizes(bad):
    with pytest.raises(js.ShapeError):
        js.vector("v", bad)


@pytest.mark.parametrize("bad", ["", "1x", "a b", "_private", "__import__"])
def test_bad_names(bad):
    with pytest.raises(js.JacobianSymError):
        js.vector(bad, "n")


def test_unknown_identity_and_layout():
    with pytest.raises(js.JacobianSymError) as err:
        js.derive("9.9")
    assert "9.9" in _one_line(err)
    with pytest.raises(js.JacobianSymError):
        js.derive("2.5", layout="sideways")


def test_errors_are_value_errors():
    assert issubclass(js.JacobianSymError, ValueError)
