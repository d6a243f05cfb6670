"""Small faults of matrix calculus beyond the notes (issue 31 §4, §5): each a regression against an
independent oracle — central differences of a NumPy forward written here, or the explicit check."""

import numpy as np
import pytest
from oracle import central_differences, rel_error

import jacobian_sym as js

X = js.matrix("X", "n", "n")


def test_codegen_of_a_single_derivation_is_the_source_of_its_kernel():
    W, x = js.matrix("W", "n", "m"), js.vector("x", "m")
    d = js.gradient(js.sum(js.tanh(W @ x)), W)
    src = js.codegen(d)
    assert src == js.kernel(d).source
    namespace = {}
    exec(compile(src, "<derivation kernel>", "exec"), namespace)  # the test runs the generated module
    rng = np.random.default_rng(0)
    arrays = {"W": rng.normal(size=(3, 2)), "x": rng.normal(size=(2, 1))}
    got = namespace[js.kernel(d).name](**arrays)
    want = central_differences(lambda W, x: float(np.sum(np.tanh(W @ x))), arrays, "W")
    assert rel_error(got, want) < 1e-7


@pytest.mark.parametrize("k", [3, 4])
def test_the_gradient_of_a_trace_of_a_power_is_one_term(k):
    chain = X
    for _ in range(k - 1):
        chain = chain @ X
    d = js.gradient(js.tr(chain), X)
    assert str(d.closed_form) == f"{k} (X{'²³'[k - 3]})ᵀ"
    assert js.verify(d).ok
    f = js.kernel(d)
    A = np.random.default_rng(k).normal(size=(4, 4))
    want = central_differences(lambda X: float(np.trace(np.linalg.matrix_power(X, k))), {"X": A}, "X")
    assert rel_error(f(X=A), want) < 1e-7


def test_a_matrix_power_prints_as_one():
    assert "**" not in str(js.gradient(js.tr(X @ X @ X) ** 2, X).closed_form)
    assert r"\left(X^{2}\right)^{T}" in js.gradient(js.tr(X @ X @ X), X).latex()


RIDGE = '''[inputs]
x = ["n", 1]
y = ["k", 1]
[params]
W = ["k", "n"]
lam = [1, 1]
[forward]
J = "mse(y, W @ x) + lam * norm(W) ** 2"
'''


def test_a_ridge_penalty_has_a_finite_gradient_at_zero_weights():
    bp = js.backprop(js.Model.parse(RIDGE))
    rng = np.random.default_rng(1)
    arrays = {"x": rng.normal(size=(3, 1)), "y": rng.normal(size=(2, 1)), "W": np.zeros((2, 3)),
              "lam": np.array([[0.7]])}

    def textbook(x, y, W, lam):
        return float(0.5 * np.sum((W @ x - y) ** 2) + lam[0, 0] * np.sum(W * W))

    got = js.kernel(bp)(**arrays)
    assert np.all(np.isfinite(got["W"]))
    assert rel_error(got["W"], central_differences(textbook, arrays, "W")) < 1e-7


@pytest.mark.parametrize("build", [lambda w: js.norm(w) ** 2, lambda w: js.square(js.norm(w)),
                                   lambda w: 3 * js.norm(w) ** 2 + js.sum(w)])
def test_the_square_of_a_norm_cancels_to_twice_the_vector(build):
    w = js.vector("w", "n")
    d = js.gradient(build(w), w)
    assert "‖" not in str(d.closed_form), d.closed_form
    assert js.verify(d).ok


def test_a_norm_that_is_not_squared_keeps_its_quotient():
    w = js.vector("w", "n")
    assert "‖w‖" in str(js.gradient(js.norm(w), w).closed_form)


def test_the_self_check_refuses_a_kernel_that_is_nan_where_the_loss_is_smooth():
    from jacobian_sym.kernels import self_check
    from jacobian_sym.kernels.generate import batched_backprop

    bp = js.backprop(js.Model.parse(RIDGE))
    b = batched_backprop(bp)
    good = js.kernel(bp)

    def nan_at_zero(check=False, **arrays):  # the old form: 2 lam ‖W‖ · W/‖W‖
        out = good(check=check, **arrays)
        W = arrays["W"]
        return {**out, "W": out["W"] if np.any(W) else np.full_like(W, np.nan)}

    assert self_check.check_kernel(good.module.__dict__[good.name], b) is None
    assert "not finite at W = zeros" in self_check.check_kernel(nan_at_zero, b)


def test_the_self_check_accepts_a_nan_at_a_kink():
    m = js.Model.parse('[inputs]\nx = ["n", 1]\n[params]\nw = ["n", 1]\n[forward]\nJ = "norm(w) + sum(w * x)"\n')
    js.kernel(js.backprop(m))  # ‖w‖ has no gradient at w = 0: not refused
