"""Every op of the op table, differentiated by the engine and proved (no per-op test code)."""

import numpy as np
import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.ops.functions import _S, output_form
from jacobian_sym.ops.table import OPS

ELEMENTWISE = sorted(n for n, op in OPS.items() if op.kind == "elementwise" and op.function.form is not None)
BINARY = sorted(n for n, op in OPS.items() if op.kind == "linear" and op.arity == 2 and n != "matmul" and not op.params)
#: structural ops with an axis (concat): two parts of different sizes along it
ALONG = sorted(n for n, op in OPS.items() if op.kind == "linear" and op.params)
REDUCTIONS = sorted(n for n, op in OPS.items() if op.kind == "reduction")
LOSSES = sorted(n for n, op in OPS.items() if op.kind == "loss")
VECTOR = sorted(n for n, op in OPS.items() if op.kind == "vector")
#: sliding windows (unfold and its adjoint fold): width 3, with and without stride and padding
WINDOWS = sorted(n for n, op in OPS.items() if op.kind == "window")


def _positive_if_needed(name, node):
    # log's and √'s domain is the positive reals: feed them exp(x) so that every proof sees valid values
    return js.exp(node) if name == "log" or OPS[name].domains == ("positive",) else node


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_jacobian(name):
    x = js.vector("x", "n")
    d = js.jacobian(js.apply(name, _positive_if_needed(name, x)).named("z"), x)
    assert js.verify(d).ok


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_in_a_layer_gradient(name):
    W, x = js.matrix("W", "n", "m"), js.vector("x", "m")
    d = js.gradient(js.sum(js.apply(name, _positive_if_needed(name, W @ x))), W)
    assert js.verify(d).ok


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("wrt", [0, 1])
def test_binary_ops(name, wrt):
    a, b = js.vector("a", "n"), js.vector("b", "n")
    if name == "div":
        b = js.vector("b", "n")
        d = js.gradient(js.sum(js.apply(name, a, js.exp(b))), (a, b)[wrt])
    else:
        d = js.gradient(js.sum(js.apply(name, a, b)), (a, b)[wrt])
    assert js.verify(d).ok


@pytest.mark.parametrize("name", ALONG)
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("wrt", [0, 1])
def test_ops_along_an_axis(name, axis, wrt):
    # parts of a and b rows (axis 0) or columns (axis 1), read by a matrix of a + b columns or rows
    parts = [js.matrix("A", "a", "n"), js.matrix("B", "b", "n")] if axis == 0 else [
        js.matrix("A", "n", "a"), js.matrix("B", "n", "b")]
    joined = js.apply(name, *parts, axis=axis)
    W = js.matrix("W", "m", "a + b") if axis == 0 else js.matrix("W", "a + b", "m")
    d = js.gradient(js.sum(js.tanh(W @ joined if axis == 0 else joined @ W)), parts[wrt])
    assert js.verify(d).ok


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name):
    if "axis" in OPS[name].params:  # a statistic per column (axis 0) or per row (axis 1), weighted
        A = js.matrix("A", "n", "m")
        for axis, c in ((0, js.row("c", "m")), (1, js.vector("c", "n"))):
            assert js.verify(js.gradient(js.sum(c * js.apply(name, A, axis=axis)), A)).ok
        return
    A = js.matrix("A", "n", "n")
    d = js.gradient(js.apply(name, A), A)
    assert js.verify(d).ok


#: fold (col2im) written as a forward op: its index form sums over indices named like the free ones
#: (Σ_{j,i} [i + j = …] G_{i, cj + …} inside V_{i…}), so the numeric proof of that form fails while the
#: closed form's exact and finite-difference proofs pass; fold is private (the adjoint conv1d's backward
#: hands down, whose model proofs pass), the capture is the defect
_CAPTURED = {"_fold"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="index capture"))
                                  if n in _CAPTURED else n for n in WINDOWS])
@pytest.mark.parametrize("rows, stride, padding", [("n + 2", 1, 0), ("2*n + 1", 2, 1)])
def test_windows(name, rows, stride, padding):
    X = js.matrix("X", rows, "c", role="input" if name.startswith("_") else "param")
    U = js.apply("unfold", X, width=3, stride=stride, padding=padding)
    if name in ("max_pool1d", "_unpool"):  # width 3, no padding: n windows either way
        P = js.apply("max_pool1d", X, width=3, stride=stride)
        if name == "max_pool1d":
            d = js.gradient(js.sum(js.matrix("V", *P.shape, role="input") * js.tanh(P)), X)
        else:
            G, C = js.matrix("G", *P.shape, role="input"), js.matrix("C", *X.shape)
            d = js.gradient(js.sum(js.tanh(C * js.apply(name, G, X, width=3, stride=stride))), C)
    elif name == "unfold":
        d = js.gradient(js.sum(js.tanh(U @ js.matrix("W", "3*c", "m"))), X)
    else:
        G = js.matrix("G", *U.shape)
        d = js.gradient(js.sum(js.matrix("V", *X.shape) * js.tanh(js.apply(name, G, X, width=3, stride=stride,
                                                                           padding=padding))), G)
    assert js.verify(d).ok


@pytest.mark.parametrize("name", VECTOR)
def test_vector_functions(name):
    theta = js.vector("theta", "N")
    d = js.jacobian(js.apply(name, theta).named("s"), theta)
    assert js.verify(d).ok


@pytest.mark.parametrize("name", LOSSES)
def test_losses_by_their_prediction(name):
    z = js.vector("z", "N")
    y = js.vector("y", "N", one_hot=(name == "cross_entropy"))
    p = js.sigmoid(z) if name != "mse" else z
    d = js.gradient(js.apply(name, y, p), z)
    assert js.verify(d).ok


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_a_derivative_through_the_output_is_the_derivative(name):
    """Where f′ is written through the output u = f(s) (σ′ = u(1 − u), (√s)′ = 1/(2u)), that form at
    u = f(s) equals a central difference of f itself, at points of the function's domain."""
    fn = OPS[name].function
    g = output_form(fn)
    if g is None:
        pytest.skip(f"{name}′ has no form through its output")
    f = sp.lambdify(_S, fn.form, "mpmath")
    points = [0.3, 0.8, 1.7, 2.9] if OPS[name].domains == ("positive",) or name in ("sqrt", "log") else \
        [-1.3, -0.4, 0.35, 1.1]
    for s in points:
        h = 1e-6
        central = float((f(s + h) - f(s - h)) / (2 * h))
        through = float(g(sp.Float(float(f(s)))))
        assert np.isclose(through, central, rtol=1e-6, atol=1e-9), (name, s, through, central)
