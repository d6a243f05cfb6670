"""The cases seen on unseen models and claims: each now gives a right answer or a clear refusal."""

from fractions import Fraction

import pytest

import jacobian_sym as js

A, x, b = js.matrix("A", "n", "n"), js.vector("x", "n"), js.vector("b", "n")
X = js.matrix("X", "n", "m")


@pytest.mark.parametrize("build", [
    lambda: js.gradient(js.tr(A * (x @ x.T)), x),                 # A_ii: a diagonal, not a matrix
    lambda: js.gradient(js.norm(A @ x - b), x),                   # 1/‖Ax − b‖
    lambda: js.gradient(js.log(js.sum(js.exp(x))), x),            # softmax(x)ᵀ
    lambda: js.gradient(js.log(js.sum(js.exp(X))), X),
    lambda: js.gradient(js.binary_cross_entropy(js.vector("y", "n"), js.sigmoid(A @ x + b)), x),
    lambda: js.gradient(js.sum((A @ x) ** 3), x),
], ids=["tr(A∘xxᵀ)", "‖Ax−b‖", "logsumexp(x)", "logsumexp(X)", "BCE(y, σ(Ax+b))", "sum((Ax)³)"])
def test_closed_forms_are_proved(build):
    d = build()
    report = js.verify(d)
    assert report.ok, str(report)
    text = str(d.closed_form)
    assert "Sum(" not in text and "[j, 0]" not in text, f"an index sum left in {text}"


def test_named_compositions():
    assert "softmax" in str(js.gradient(js.log(js.sum(js.exp(x))), x).closed_form)
    assert "1/‖A x - b‖" in str(js.gradient(js.norm(A @ x - b), x).closed_form)
    merged = js.gradient(js.sum((A @ x) ** 3), x).closed_form
    assert str(merged) == "3 ((A x)^∘2)ᵀ A", merged  # like terms merged


def test_a_generic_function_stays_out_of_the_op_table():
    js.derive("2.4")
    with pytest.raises(js.ParseError, match="unknown function 'f'"):
        js.Model.parse('[inputs]\nx = ["n", 1]\n[forward]\nJ = "sum(f(x))"\n')


def test_the_loss_by_itself_is_refused():
    with pytest.raises(js.ParseError, match="the loss 'J' itself"):
        js.Model.parse('[inputs]\nx = ["n", 1]\n[forward]\nJ = "sum(x)"\n[gradients]\nwrt = ["J"]\n')


def test_verify_refuses_sizes_it_cannot_use():
    with pytest.raises(js.SizeError, match="'q'"):
        js.verify(js.derive("2.5"), sizes=[{"q": 3}])
    with pytest.raises(js.SizeError, match="symbolic elements"):
        js.verify(js.derive("2.7"), sizes=[{"N": 5000}])
    big = js.backprop(js.Model.parse('[inputs]\nx = [784, 1]\n[params]\nW = ["n", 784]\n[forward]\n'
                                     'J = "sum(relu(W @ x))"\n'))
    with pytest.raises(js.SizeError, match="symbolic elements"):
        js.verify(big)


@pytest.mark.parametrize("claim, holds", [
    ("(sigmoid(W @ x) * (1 - sigmoid(W @ x))) @ x.T", True),
    ("(sigmoid(W @ x) * (2 - sigmoid(W @ x))) @ x.T", False),
    ("sigmoid_prime(W @ x) @ x.T", True),
])
def test_claims_in_everyday_notation(claim, holds):
    W, v = js.matrix("W", "n", "m"), js.vector("x", "m")
    assert js.check(js.sum(js.sigmoid(W @ v)), W, claim, layout="denominator").ok is holds


@pytest.mark.parametrize("claim, holds", [("softmax(t) * sum(y) - y", True), ("softmax(t) - y", False),
                                          ("sum(y, axis=0) * softmax(t) - y", True)])
def test_claims_with_reductions(claim, holds):
    t, y = js.vector("t", "k"), js.vector("y", "k")
    assert js.check(js.cross_entropy(y, js.softmax(t)), t, claim, layout="denominator").ok is holds


def test_a_false_claim_on_a_deep_model_is_refused_quickly():
    import time

    bp = js.backprop(js.Model.from_toml("derivations/two_layer_mse.toml"))
    start = time.process_time()
    v = js.check(bp, "b3", "-delta1.T")
    assert not v.ok and "sign" in v.reason
    assert time.process_time() - start < 30  # it took minutes before the random-point screen


def test_claim_errors_are_claim_errors():
    with pytest.raises(js.ClaimError, match="division by zero"):
        js.check(js.sum(A @ x), x, "x.T / 0")
    with pytest.raises(js.ClaimError):
        js.check(js.sum(A @ x), x, "x.T * 1e999")


def test_powers():
    assert str(js.gradient(js.sum(x ** 2), x).closed_form) == "2 xᵀ"
    for bad in (0, 9, -9, 8.5, float("nan"), float("inf"), True, "2"):
        with pytest.raises(js.JacobianSymError, match="rational number from -8 to 8"):
            x ** bad


@pytest.mark.parametrize("exponent", [3, 0.5, 1.5, -1, -0.5, -2.5, 1 / 3, -2 / 3, 0.3, Fraction(5, 4)])
def test_whole_and_half_powers_are_proved(exponent):
    positive = js.exp(js.matrix("W", "n", "n") @ x)  # (half powers need positive values)
    d = js.gradient(js.sum(positive ** exponent), positive.args[0].args[0])
    assert js.verify(d).ok
