"""The piecewise element-wise ops (abs, softsign, hardtanh, ELU, SELU): their derived derivatives,
as the NumPy printer lowers them, against central differences of the tests' own forward
(``tests/oracle.py``) on both sides of every kink and in both tails (±800 in float64), and the value
at each kink that the convention of ``ops.functions._derive_scalar`` gives (a step is 0 at its kink)."""

import numpy as np
import pytest
import sympy as sp
from oracle import FORWARD

import jacobian_sym as js
from jacobian_sym.kernels.numpy_printer import RUNTIME, ClosedFormPrinter
from jacobian_sym.ops.elementwise import SELU_ALPHA, SELU_LAMBDA
from jacobian_sym.ops.functions import derivative_of
from jacobian_sym.ops.table import OPS

#: each op's kinks
KINKS = {"abs": [0], "softsign": [0], "hardtanh": [-1, 1], "elu": [0], "selu": [0], "step": [0]}
#: the derivative at each kink, as documented in README and ops/elementwise.py
AT_KINK = {
    "abs": {0: 0.0},  # sign(0) = 0
    "softsign": {0: 1.0},  # smooth there: 1/(1 + |s|)²
    "hardtanh": {-1: 0.0, 1: 0.0},  # both steps 0 at the kink (PyTorch's value)
    "elu": {0: 1.0},  # the exponential branch's e⁰ = 1, which is also the right-hand slope
    "selu": {0: float(SELU_LAMBDA * SELU_ALPHA)},  # the exponential branch's λα (PyTorch's value)
    "step": {0: 0.0},  # step′ = 0 everywhere: its Dirac delta at 0 is dropped (as ReLU″)
}


def _lowered_derivative(name):
    s = sp.Symbol("s", real=True)
    fn = derivative_of(OPS[name].function)(s)
    f = sp.lambdify([s], fn, modules=[RUNTIME, "numpy"], printer=ClosedFormPrinter)
    return lambda a: np.broadcast_to(f(a), np.shape(a))  # (step′ = 0 lambdifies to the number 0)


def _oracle_slope(name, points, h=1e-6):
    f = FORWARD[name]
    a = np.asarray(points, dtype=np.longdouble)
    return np.asarray((f(None, a + h) - f(None, a - h)) / (2 * h), dtype=float)


@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_on_both_sides_of_each_kink_and_in_the_tails(name):
    points = [k + side * d for k in KINKS[name] for side in (-1, 1) for d in (1e-3, 0.3)] + [-800, -5, 5, 800]
    got = _lowered_derivative(name)(np.array(points, dtype=float))
    assert np.all(np.isfinite(got)), dict(zip(points, got))
    want = _oracle_slope(name, points)
    assert np.allclose(got, want, rtol=1e-6, atol=1e-9), dict(zip(points, zip(got, want)))


@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_at_each_kink_is_the_documented_convention(name):
    lowered = _lowered_derivative(name)
    derived = derivative_of(OPS[name].function)
    for kink, value in AT_KINK[name].items():
        assert float(lowered(np.array([float(kink)]))[0]) == pytest.approx(value, rel=1e-12)
        assert float(derived(sp.Integer(kink)).explicit()) == pytest.approx(value, rel=1e-12)


def test_selu_constants_are_the_published_digits_exactly():
    assert SELU_LAMBDA == sp.Rational(10507009873554804934193349852946, 10**31)
    assert SELU_ALPHA == sp.Rational(16732632423543772848170429916717, 10**31)


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kernel_is_finite_in_the_tails_and_keeps_float32(name):
    """J = Σ f(Wx) with W x = (−800, −1.5, −0.5, 0.5, 1.5, 800): ∂J/∂W = f′(Wx) xᵀ, against the oracle."""
    W, x = js.matrix("W", "n", "m"), js.vector("x", "m")
    kernel = js.kernel(js.backprop(js.Model.build(js.sum(js.apply(name, W @ x)), title=f"tails of {name}")))
    z = np.array([-800.0, -1.5, -0.5, 0.5, 1.5, 800.0])
    xs, Ws = np.array([[1.0], [2.0]]), np.column_stack([z / 3, z / 3])
    want = _oracle_slope(name, z)[:, None] @ xs.T
    for dtype, tol in ((np.float64, 1e-7), (np.float32, 1e-5)):
        out = kernel(W=Ws.astype(dtype), x=xs.astype(dtype))
        assert out["W"].dtype == dtype and np.all(np.isfinite(out["W"])) and np.isfinite(out["J"])
        assert np.allclose(out["W"], want, rtol=tol, atol=tol), (out["W"], want)
