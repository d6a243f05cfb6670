"""Second order: Hessians, HVPs, Kronecker forms and Gauss–Newton products, derived by the engine and
checked against independent oracles — SymPy's own second derivative at concrete sizes (js.verify),
and second differences of the tests' own NumPy forward pass (tests/oracle.py) for random models over
the op table."""

import dataclasses

import numpy as np
import oracle
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jacobian_sym as js
from jacobian_sym.ops.table import OPS

x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
A2, b = js.matrix("A", "m", "n"), js.vector("b", "m")
W = js.matrix("W", "m", "n")
X, w, y = js.matrix("X", "B", "d"), js.vector("w", "d"), js.vector("y", "B")
t, y_hot = js.vector("t", "n"), js.vector("y", "n", one_hot=True)
Xm, Wm, Y, V = js.matrix("X", "B", "d"), js.matrix("W", "d", "k"), js.matrix("Y", "B", "k"), js.matrix("V", "d", "k")

#: the cases the issue names, with the form a reader recognises (what the engine must print)
CASES = {
    "xᵀAx": (lambda: js.hessian(x.T @ A @ x, x), "A + Aᵀ"),
    "least squares": (lambda: js.hessian(js.sum(js.square(A2 @ x - b)), x), "2 Aᵀ A"),
    "logistic": (lambda: js.hessian(js.binary_cross_entropy(y, js.sigmoid(X @ w)), w), "Xᵀ diag(σ′(X w)) X"),
    "softmax CE": (lambda: js.hessian(js.cross_entropy(y_hot, js.softmax(t)), t),
                   "diag(softmax(t)) - softmax(t) softmax(t)ᵀ"),
    "log-sum-exp": (lambda: js.hessian(js.log(js.sum(js.exp(t))), t), "diag(softmax(t)) - softmax(t) softmax(t)ᵀ"),
    "f(Wx)": (lambda: js.hessian(js.sum(js.tanh(W @ x)), x), "Wᵀ diag(tanh″(W x)) W"),
    "ReLU": (lambda: js.hessian(js.sum(js.relu(W @ x)), x), "0"),
    "HVP": (lambda: js.hvp(js.sum(js.square(Xm @ Wm - Y)), Wm, V), "2 Xᵀ X V"),
    "Kronecker": (lambda: js.hessian(js.sum(js.square(Xm @ Wm - Y)), Wm, kronecker=True), "2 I ⊗ (Xᵀ X)"),
}


@pytest.mark.parametrize("name", CASES)
def test_each_case_comes_out_recognisable_and_proved(name):
    make, form = CASES[name]
    d = make()
    assert str(d.closed_form) == form
    report = js.verify(d)
    assert report.ok, str(report)
    names = {c.name for c in report.checks}
    assert "finite differences" in names and names & {"exact", "exact at a rational point"}


def test_blocks_by_several_vectors():
    c = js.vector("c", "m")
    d = js.hessian(js.sum(js.tanh(W @ x + c)), (x, c))
    blocks = [[str(b.closed_form) for b in row] for row in d.blocks]
    assert blocks == [["Wᵀ diag(tanh″(W x + c)) W", "Wᵀ diag(tanh″(W x + c))"],
                      ["diag(tanh″(W x + c)) W", "diag(tanh″(W x + c))"]]
    assert js.verify(d).ok


@pytest.fixture(scope="module")
def one_layer():
    return js.backprop(js.Model.from_toml("derivations/one_layer.toml"))


def test_the_notes_network_b2_block_and_gauss_newton(one_layer):
    model = one_layer.model
    b2 = next(n for n in model.loss.walk() if n.name == "b2")
    block = js.hessian(model.loss, b2)
    assert str(block.closed_form) == "diag(ŷ) - ŷ ŷᵀ" and js.verify(block).ok
    gn = js.gauss_newton(one_layer, "W")
    assert [str(s.rhs) for s in gn.steps[:3]] == ["U ((V x) ∘ ReLU′(z))", "R ∘ ŷ - ŷ Rᵀ ŷ", "((δ U)ᵀ ∘ ReLU′(z)) xᵀ"]
    report = js.verify(gn)
    assert report.ok, str(report)
    assert any(c.name == "G V end to end" for c in report.checks)


def test_kernels_of_second_order_results_match_second_differences():
    d = js.hessian(js.binary_cross_entropy(y, js.sigmoid(X @ w)), w)
    H = js.kernel(d)
    rng = np.random.default_rng(1)
    Xv, wv = rng.normal(size=(40, 4)), rng.normal(size=(4, 1))
    yv = rng.uniform(0.1, 0.9, size=(40, 1))
    truth = _second_differences(d.expr, {"X": Xv, "w": wv, "y": yv}, "w")
    got = H(X=Xv, w=wv)
    assert np.linalg.norm(got - truth) / np.linalg.norm(truth) < 1e-6
    assert H(X=Xv.astype(np.float32), w=wv.astype(np.float32)).dtype == np.float32


def test_a_newton_step_for_logistic_regression_converges_quadratically():
    J = js.binary_cross_entropy(y, js.sigmoid(X @ w))
    H, g = js.kernel(js.hessian(J, w)), js.kernel(js.gradient(J, w, layout="denominator"))
    rng = np.random.default_rng(0)
    Xv, w_true = rng.normal(size=(500, 5)), rng.normal(size=(5, 1))
    yv = (rng.uniform(size=(500, 1)) < 1 / (1 + np.exp(-Xv @ w_true))).astype(float)
    wv, norms = np.zeros((5, 1)), []
    for _ in range(8):
        wv = wv - np.linalg.solve(H(X=Xv, w=wv), g(X=Xv, w=wv, y=yv))
        norms.append(np.linalg.norm(g(X=Xv, w=wv, y=yv)))
    assert norms[-1] < 1e-9 * norms[0]
    assert any(b < a ** 2 * 10 for a, b in zip(norms[1:], norms[2:]) if a < 1e-2)  # quadratic near the optimum


def _second_differences(root, arrays, name, h=1e-4):
    """The Hessian by central second differences of the tests' own forward pass (long double)."""
    base = {k: np.asarray(v, dtype=np.longdouble) for k, v in arrays.items()}
    v = base[name]
    n = v.size

    def at(i, si, j, sj):
        moved = dict(base)
        flat = v.reshape(-1, order="F").copy()
        flat[i] += si * h
        flat[j] += sj * h
        moved[name] = flat.reshape(v.shape, order="F")
        return np.longdouble(oracle.forward(root, moved))

    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            H[i, j] = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h)
    return H


SMOOTH = sorted(name for name, op in OPS.items() if op.kind == "elementwise" and name not in ("log", "relu",
                                                                                                 "leaky_relu"))


def _applied(name, node):
    """An op applied inside its domain: √ and 1/√ to 1 + z² (as layer norm applies 1/√ to var + ε)."""
    return js.apply(name, 1 + js.square(node) if OPS[name].domains == ("positive",) else node)


@st.composite
def _models(draw):
    f, g = draw(st.sampled_from(SMOOTH)), draw(st.sampled_from(SMOOTH))
    shape = draw(st.sampled_from(["sum_f", "product", "ce", "quadratic"]))
    W1, c, v = js.matrix("W", "m", "n"), js.vector("c", "m"), js.vector("v", "n")
    if shape == "sum_f":
        return js.sum(_applied(f, W1 @ v + c)), v
    if shape == "product":
        return js.sum(_applied(f, W1 @ v) * _applied(g, W1 @ v)), v
    if shape == "ce":
        return js.cross_entropy(js.vector("y", "m", one_hot=True), js.softmax(W1 @ _applied(f, v))), v
    return v.T @ js.matrix("A", "n", "n") @ _applied(f, v), v


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_models(), st.integers(0, 2**31 - 1))
def test_random_models_hessian_kernels_match_second_differences(model, seed):
    expr, v = model
    d = js.hessian(expr, v)
    H = js.kernel(d)
    rng = np.random.default_rng(seed)
    n, m = 3, 4
    arrays = {"W": rng.normal(0, 0.5, (m, n)), "c": rng.normal(0, 0.5, (m, 1)), "v": rng.normal(0, 0.5, (n, 1)),
              "A": rng.normal(0, 0.5, (n, n)), "y": np.eye(m)[:, [int(rng.integers(0, m))]]}
    used = set(H.inputs)
    got = H(**{k: a for k, a in arrays.items() if k in used})
    truth = _second_differences(expr, arrays, "v")
    assert np.linalg.norm(got - truth) <= 1e-5 * max(np.linalg.norm(truth), 1e-3), (str(d.closed_form), got, truth)


# ----- bad input: one line, naming the shapes -----
@pytest.mark.parametrize("make,message", [
    (lambda: js.hessian(W @ x, x), "needs a scalar expression, but it is m×1"),
    (lambda: js.hessian(js.sum(W @ x), js.vector("z", "n")), "does not contain z"),
    (lambda: js.hessian(js.sum(Xm @ Wm), Wm), "its Hessian is a 4-index object; ask for js.hvp"),
    (lambda: js.hvp(js.sum(Xm @ Wm), Wm, js.matrix("V", "k", "d")), "the direction V is k×d but W is d×k"),
    (lambda: js.hvp(js.sum(Xm @ Wm), Wm, Wm), "must not occur in the expression"),
])
def test_bad_input_is_one_line(make, message):
    with pytest.raises(js.JacobianSymError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        make()
    assert "\n" not in str(err.value)


def test_a_scalar_variable_and_blocks_with_one():
    s, c = js.scalar("s"), js.vector("c", "n")
    d = js.hessian(js.sum(js.square(x * s + c)), (s, c))
    assert [[str(b.closed_form) for b in row] for row in d.blocks] == [["2 sum(x^2)", "2 xᵀ"], ["2 x", "2 I"]]
    assert js.verify(d).ok


def test_a_hessian_kernel_is_checked_against_differences_down_to_their_rounding():
    # found by the every-path test: the Hessian by b1 of Σ silu(silu(z0) z0 W1 + b1) is silu″ at
    # logits near 12, 1e-5 of the gradient: two-point differences' rounding was read as a wrong kernel
    model = js.Model.parse('[inputs]\nx = [1, "n0"]\n[params]\nW0 = ["n0", "n1"]\nb0 = [1, "n1"]\n'
                           'W1 = ["n1", "n0"]\nb1 = [1, "n0"]\n[forward]\nz0 = "x @ W0 + b0"\n'
                           'h0 = "silu(z0) * z0"\nz1 = "h0 @ W1 + b1"\nJ = "sum(silu(z1))"\n')
    d = js.hessian(model.loss, model.params["b1"])
    f = js.kernel(d)
    rng = np.random.default_rng(3)
    arrays = dict(x=rng.uniform(0.2, 0.9, (1, 5)), W0=rng.uniform(0.2, 0.9, (5, 6)), b0=rng.uniform(0.2, 0.9, (1, 6)),
                  W1=rng.uniform(0.2, 0.9, (6, 5)), b1=rng.uniform(0.2, 0.9, (1, 5)))
    H = f(**{k: arrays[k] for k in f.inputs})
    want = np.hstack([oracle.second_difference(model.loss, arrays, "b1", e.reshape(1, 5)).reshape(5, 1)
                      for e in np.eye(5)])
    assert oracle.rel_error(H, want) < 1e-5
    # the floor does not let a wrong kernel through: the same form one part in a thousand off
    wrong = dataclasses.replace(d, closed_form=sp.Rational(1001, 1000) * d.closed_form)
    with pytest.raises(js.KernelError, match="central differences"):
        js.kernel(wrong)
