"""The defect classes found on models written the way practitioners write them: each model is right
(kernel and closed forms against central differences of this file's own NumPy forward, or of
``oracle.forward``) or refused with one line — never a wrong form or a crash."""

import numpy as np
import pytest
import sympy as sp
from oracle import central_differences, gradient, rel_error
from oracle import forward as oracle_forward
from sympy.matrices.expressions.matexpr import MatrixElement

import jacobian_sym as js


def _model(forward: str, inputs: str, params: str):
    return js.Model.parse(f'title = "t"\n[inputs]\n{inputs}\n[params]\n{params}\n[forward]\n{forward}\n')


def _arrays(model, sizes, rng, dtype=np.float64):
    out = {}
    for name, node in model.variables.items():
        shape = tuple(sizes.get(str(s), s) if not isinstance(s, int) else s for s in
                      (int(x) if str(x).isdigit() else str(x) for x in node.shape))
        out[name] = rng.normal(size=shape).astype(dtype)
    return out


CASES = {
    "a coefficient in front of a reduction": ('J = "-2 * sum(X @ W)"', 'X = ["N", "d"]', 'W = ["d", "k"]'),
    "the VAE KL term": ('J = "-0.5 * sum(1 + lv - mu ** 2 - exp(lv))"', 'x = ["n", 1]', 'mu = ["n", 1]\nlv = ["n", 1]'),
    "relu(r) + relu(-r), |r|": ('r = "W @ x"\nJ = "sum(relu(r) + relu(-r))"', 'x = ["n", 1]', 'W = ["n", "n"]'),
    "an input the loss does not read": ('J = "sum(tanh(W @ x))"', 'x = ["n", 1]\nu = ["n", 1]', 'W = ["n", "n"]'),
    "a constant next to a value": ('z = "W @ x"\nJ = "sum(z + square(z))"', 'x = ["n", 1]', 'W = ["n", "n"]'),
}


@pytest.mark.parametrize("name", CASES)
def test_a_practitioners_model_is_right_end_to_end(name):
    forward, inputs, params = CASES[name]
    model = _model(forward, inputs, params)
    bp = js.backprop(model)  # its closed forms were checked before it was returned
    assert "checked" in bp.form_check
    rng = np.random.default_rng(1)
    arrays = _arrays(model, {"N": 4, "d": 3, "k": 2, "n": 3}, rng)
    for label, node in model.variables.items():
        if node.attr("one_hot"):
            arrays[label] = np.eye(node.shape[0])[:, [3]]
    out = js.kernel(bp)(**arrays)
    for var in bp.gradients:
        assert rel_error(out[var], gradient(model.loss, arrays, var)) < 1e-6, (name, var)


def test_float32_stays_float32_where_the_kernel_builds_a_constant():
    forward, inputs, params = CASES["a constant next to a value"]
    out = js.kernel(js.backprop(_model(forward, inputs, params)))(
        x=np.ones((3, 2), np.float32), W=np.eye(3, dtype=np.float32))
    assert {v.dtype for v in out.values()} == {np.dtype(np.float32)}
    X, w, y = js.matrix("X", "N", "d"), js.vector("w", "d"), js.vector("y", "N")
    ridge = js.hessian(js.sum(js.square(X @ w - y)) + js.sum(js.square(w)), w)  # 2 XᵀX + 2 I
    H = js.kernel(ridge)(X=np.arange(12, dtype=np.float32).reshape(4, 3))
    assert H.dtype == np.float32
    assert rel_error(H, 2 * np.arange(12.).reshape(4, 3).T @ np.arange(12.).reshape(4, 3) + 2 * np.eye(3)) < 1e-6


def test_a_variable_made_twice_is_one_variable():
    w1, w2 = js.vector("w", "n"), js.vector("w", "n")
    loss = js.sum(js.square(w1)) + js.sum(js.square(w2))
    H = js.kernel(js.hessian(loss, w1))(w=np.ones((3, 1)))
    assert rel_error(H, 4 * np.eye(3)) < 1e-12
    assert js.check(js.gradient(loss, w1), w1, "4 * w.T").ok is True


def test_a_block_hessian_with_a_one_by_one_block_has_a_kernel():
    X, w, y, b = js.matrix("X", "N", "d"), js.vector("w", "d"), js.vector("y", "N"), js.vector("b", 1)
    loss = js.sum(js.square(X @ w - y)) + js.sum(js.square(b)) + js.sum(b * js.sum(w))
    Xv = np.random.default_rng(2).normal(size=(4, 3))
    H = js.kernel(js.hessian(loss, (w, b)))(X=Xv)

    def grad(wb):  # the gradient of this file's own forward, by central differences
        f = lambda wv: float(np.sum((Xv @ wv[:3] - 1) ** 2) + wv[3, 0] ** 2 + wv[3, 0] * wv[:3].sum())  # noqa: E731
        return central_differences(lambda v: f(v), {"v": wb}, "v")

    base = np.ones((4, 1))
    numeric = np.hstack([(grad(base + 1e-4 * e) - grad(base - 1e-4 * e)) / 2e-4 for e in np.eye(4)[:, :, None]])
    assert rel_error(H, numeric) < 1e-5


def _no_single_entries(form):
    """No index sum and no fixed entry (W₀₀) of a matrix larger than 1×1 is left in a closed form."""
    entries = [e for e in form.atoms(MatrixElement) if e.parent.shape != (1, 1)]
    return not form.atoms(sp.Sum) and not entries


def test_a_reduction_of_a_whole_matrix_inside_a_product_is_a_closed_form():
    W, X = js.matrix("W", "n", "m"), js.matrix("X", "m", "k")
    d = js.gradient(js.sum((W / js.norm(W)) @ X), W)
    assert _no_single_entries(d.closed_form), d.closed_form
    rng = np.random.default_rng(4)
    Wv, Xv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    truth = central_differences(lambda W: float(np.sum((W / np.sqrt(np.sum(W * W))) @ Xv)), {"W": Wv}, "W")
    assert rel_error(js.kernel(d)(W=Wv, X=Xv), truth) < 1e-7


@pytest.mark.parametrize("forward, params", [
    ('h = "g * (W / norm(W)) @ x"\nJ = "sum(tanh(h))"', 'W = ["n", "m"]\ng = [1, 1]'),  # weight normalisation
    ('V = "W / norm(W)"\nh = "V @ x"\nJ = "sum(square(h))"', 'W = ["n", "m"]'),
    ('h = "2 * W @ x"\nJ = "sum(tanh(h)) + sum(W @ x)"', 'W = ["n", "m"]'),  # W x is not the run 2 W x
], ids=["weight norm", "W over its norm", "a product with a number in front"])
def test_a_one_by_one_value_inside_a_model_is_kept_whole(forward, params):
    model = _model(forward, 'x = ["m", 1]', params)
    bp = js.backprop(model)
    assert all(_no_single_entries(g) for g in bp.gradients.values()), bp.gradients
    arrays = _arrays(model, {"n": 3, "m": 4}, np.random.default_rng(5))
    out = js.kernel(bp)(**arrays)
    for var in bp.gradients:
        assert rel_error(out[var], gradient(model.loss, arrays, var)) < 1e-6, var


def test_the_hessian_of_a_layer_norm_reads_no_fixed_entries():
    x, a = js.vector("x", "n"), js.vector("a", "n")
    H = js.hessian(js.sum(js.layer_norm(x, axis=0) * a), x)
    assert _no_single_entries(H.closed_form), H.closed_form
    rng = np.random.default_rng(3)
    xv, av = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))

    def f(v):  # this file's own layer norm
        c = v - v.mean()
        return float(np.sum(c / np.sqrt(np.mean(c * c) + 1e-5) * av))

    grad = lambda v: central_differences(f, {"v": v}, "v", h=1e-5)  # noqa: E731
    numeric = np.hstack([(grad(xv + 1e-4 * e) - grad(xv - 1e-4 * e)) / 2e-4 for e in np.eye(5)[:, :, None]])
    assert rel_error(js.kernel(H)(x=xv, a=av), numeric) < 1e-4


def test_verify_never_fails_a_right_zero_hessian_and_says_undecided_when_it_cannot_decide():
    x, a = js.vector("x", "n"), js.vector("a", "n")
    report = js.verify(js.hessian(js.sum(js.exp(a)) * (a.T @ x), x))  # exactly 0: differences are noise
    assert report.ok is True, str(report)
    from jacobian_sym.proofs.report import Check, Report

    undecided = Report("t", [Check("exact", True, {}), Check("points δ₁", None, {}, detail="units never on")])
    assert undecided.ok is None and "UNDECIDED" in str(undecided) and "1 UNDECIDED" in undecided.summary()
    assert Report("t", [Check("exact", None, {}), Check("points", False, {})]).ok is False


def test_a_model_whose_data_carry_their_batch_gets_a_kernel_taking_them_as_declared():
    model = _model('J = "mse(y, X @ w)"', 'X = ["N", "d"]\ny = ["N", 1]', 'w = ["d", 1]')
    rng = np.random.default_rng(0)
    arrays = dict(X=rng.normal(size=(5, 3)), y=rng.normal(size=(5, 1)), w=rng.normal(size=(3, 1)))
    out = js.kernel(js.backprop(model))(**arrays)
    assert abs(out["J"] - float(oracle_forward(model.loss, arrays))) < 1e-9 * max(1.0, abs(out["J"]))
    assert rel_error(out["w"], gradient(model.loss, arrays, "w")) < 1e-8


def test_one_hot_rows_declare_their_class_axis():
    inputs = 'X = ["B", "d"]\nY = {{ shape = ["B", "k"], one_hot = true{} }}'
    forward = 'J = "cross_entropy(Y, softmax(X @ W, axis=1))"'
    arrays = dict(X=np.random.default_rng(0).normal(size=(4, 3)), Y=np.eye(2)[[0, 1, 1, 0]], W=np.full((3, 2), 0.3))
    model = _model(forward, inputs.format(", axis = 1"), 'W = ["d", "k"]')
    out = js.kernel(js.backprop(model))(**arrays)
    assert rel_error(out["W"], gradient(model.loss, arrays, "W")) < 1e-8
    # left out, the class axis is the softmax's: the same gradient
    undeclared = _model(forward, inputs.format(""), 'W = ["d", "k"]')
    assert rel_error(js.kernel(js.backprop(undeclared))(**arrays)["W"], out["W"]) < 1e-12
    columns = js.kernel(js.backprop(_model(forward, inputs.format(", axis = 0"), 'W = ["d", "k"]')))
    with pytest.raises(js.KernelInputError, match="declare axis = 1"):
        columns(**arrays)  # classes said to run down the columns, given one-hot rows
    with pytest.raises(js.ParseError, match="class axis is 0 or 1"):
        _model(forward, inputs.format(", axis = 2"), 'W = ["d", "k"]')


def test_a_logistic_hvp_keeps_its_precision_past_a_logit_of_thirty():
    import mpmath

    X, w, y, V = js.matrix("X", "N", "d"), js.vector("w", "d"), js.vector("y", "N"), js.vector("V", "d")
    f = js.kernel(js.hvp(js.binary_cross_entropy(y, js.sigmoid(X @ w)), w, V))
    got = f(X=np.array([[40.0, 0.0], [0.0, -45.0]]), w=np.ones((2, 1)), V=np.ones((2, 1))).ravel()
    with mpmath.workdps(60):
        sigma_prime = [mpmath.exp(-z) / (1 + mpmath.exp(-z)) ** 2 for z in (40, 45)]
        want = np.array([float(40**2 * sigma_prime[0]), float(45**2 * sigma_prime[1])])
    assert rel_error(got, want) < 1e-12  # σ(1 − σ) in float64 gives 0 here


def test_a_softmax_over_a_class_count_written_as_a_number_gets_a_kernel():
    model = _model('J = "cross_entropy(y, softmax(W @ x))"', 'x = ["d", 1]\ny = { shape = [10, 1], one_hot = true }',
                   'W = [10, "d"]')
    rng = np.random.default_rng(6)
    arrays = dict(x=rng.normal(size=(3, 4)), W=rng.normal(size=(10, 3)), y=np.eye(10)[:, [1, 4, 9, 0]])
    out = js.kernel(js.backprop(model))(**arrays)  # a batch of four examples
    assert rel_error(out["W"], gradient(model.loss, arrays, "W")) < 1e-8


def test_an_error_signal_that_cancels_to_zero_is_not_refused_for_its_rounding():
    # found by the exhaustive tier: ∂J/∂var of the layer norm is exactly 0 (J sums the norm), its
    # truth at 50 digits is noise of 1e-51 and the form's value an exact 0; both shrink at 150 digits
    text = ('title = "t"\n[inputs]\nx = [1, "n0"]\n[params]\nW0 = ["n0", "n1"]\nb0 = [1, "n1"]\n'
            'W1 = ["n1", "n2"]\nb1 = [1, "n2"]\nW2 = ["2*n2", "n2"]\nb2 = [1, "n2"]\n[forward]\n'
            'z0 = "x @ W0 + b0"\nh0 = "sqrt(1 + square(z0)) - mean(z0, axis=1)"\nz1 = "h0 @ W1 + b1"\n'
            'h1 = "concat(sigmoid(z1), z1, axis=1)"\nz2 = "h1 @ W2 + b2"\n'
            'h2 = "layer_norm(gelu_erf(z2), axis=1) + z2"\nJ = "sum(h2)"\n')
    model = js.Model.parse(text).batched("B")
    bp = js.backprop(model, layout="denominator")
    rng = np.random.default_rng(2)
    sizes = {"B": 3, "n0": 2, "n1": 4, "n2": 5}
    arrays = {name: rng.normal(size=tuple(int(sp.S(s).subs({x: sizes[x.name] for x in sp.S(s).free_symbols}))
                                          for s in node.shape))
              for name, node in model.variables.items()}
    out = js.kernel(bp)(**arrays)
    for var in ("W0", "W2"):
        assert rel_error(out[var], gradient(model.loss, arrays, var)) < 1e-6, var


@pytest.mark.parametrize("unit", ["softplus(z)", "z - mean(z, axis=0)", "tanh(z)"])
def test_the_hessian_through_a_log_softmax_reaches_its_argument(unit):
    # found by the every-path test's second order: log-softmax's gradient (Σy) softmax(h) − y names a
    # softmax the graph does not compute, and the Hessian lost its dependence on h (refused, not wrong)
    from oracle import second_difference

    model = _model(f'z = "W @ x + b"\nh = "{unit}"\nlogp = "log_softmax(h)"\nJ = "-sum(y * logp)"',
                   'x = ["d", 1]\ny = ["k", 1]', 'W = ["k", "d"]\nb = ["k", 1]')
    b = model.params["b"]
    rng = np.random.default_rng(7)
    arrays = dict(x=rng.normal(size=(3, 1)), y=rng.uniform(0.1, 0.9, size=(4, 1)), W=rng.normal(size=(4, 3)),
                  b=rng.normal(size=(4, 1)))
    f = js.kernel(js.hessian(model.loss, b))
    H = f(**{k: arrays[k] for k in f.inputs})
    want = np.hstack([second_difference(model.loss, arrays, "b", e.reshape(4, 1)) for e in np.eye(4)])
    assert rel_error(H, want) < 1e-6


@pytest.mark.parametrize("loss", ["sum(square(h))", "sum(tanh(h) * h)"])
def test_a_hessian_through_a_concatenation_picks_the_part_its_index_is_in(loss):
    # found by the every-path test's second order: h[i] for i < k is the first part's element, but
    # the bracket [i < k] stayed undecided (no matrix form), then a whole h stood where its part belongs
    from oracle import second_difference

    model = _model(f'z = "x @ W + b"\nh = "concat(exp(0.5 * z), z, axis=1)"\nJ = "{loss}"',
                   'x = [1, "d"]', 'W = ["d", "k"]\nb = [1, "k"]')
    rng = np.random.default_rng(8)
    arrays = dict(x=rng.normal(size=(1, 3)), W=rng.normal(size=(3, 4)) / 2, b=rng.normal(size=(1, 4)))
    f = js.kernel(js.hessian(model.loss, model.params["b"]))
    H = f(**{k: arrays[k] for k in f.inputs})
    want = np.hstack([second_difference(model.loss, arrays, "b", e.reshape(1, 4)).reshape(4, 1) for e in np.eye(4)])
    assert rel_error(H, want) < 1e-6


@pytest.mark.parametrize("unit", ["z * rsqrt(var(z, axis=1) + 1)", "relu(z) * mean(z, axis=1)"])
def test_a_batched_statistic_over_a_literal_width_follows_its_example(unit):
    # found by the exhaustive every-path tier: Σ_t δ_ft (Σ_{v<3} z_tv) Δ_t kept the inner sum over the
    # literal width aside while the delta was summed, so it still read example t (refused, not wrong)
    model = _model(f'z = "x @ W + b"\nh = "{unit}"\nJ = "sum(h)"', 'x = [1, 3]', 'W = [3, 3]\nb = [1, 3]')
    batched = model.batched("B")
    rng = np.random.default_rng(9)
    arrays = dict(x=rng.normal(size=(4, 3)), W=rng.normal(size=(3, 3)), b=rng.normal(size=(1, 3)))
    bp = js.backprop(batched, layout="denominator")
    out = js.kernel(bp)(**arrays)
    assert set(bp.gradients) == {"W", "b"}
    for var in bp.gradients:
        assert rel_error(out[var], gradient(batched.loss, arrays, var)) < 1e-6, var


#: a trace composed like any 1×1 (these ended in raw SymPy errors: "Trace(X) must be a matrix instance",
#: "'Trace' object has no attribute 'shape'"), each with its NumPy forward
TRACES = [
    (lambda X: js.tr(X) * js.tr(X), lambda X: np.trace(X) ** 2),
    (lambda X: js.tr(X) ** 2, lambda X: np.trace(X) ** 2),
    (lambda X: js.tr(X) + js.tr(X @ X), lambda X: np.trace(X) + np.trace(X @ X)),
    (lambda X: js.exp(js.tr(X)), lambda X: np.exp(np.trace(X))),
    (lambda X: js.tr(X) / js.tr(X @ X), lambda X: np.trace(X) / np.trace(X @ X)),
    (lambda X: js.tr(X @ X @ X), lambda X: np.trace(X @ X @ X)),
    (lambda X: js.sum(js.square(X)) * js.tr(X.T @ X), lambda X: np.sum(X**2) * np.trace(X.T @ X)),
]


@pytest.mark.parametrize("k", range(len(TRACES)))
def test_a_trace_composes_like_any_scalar(k):
    build, forward = TRACES[k]
    X = js.matrix("X", "n", "n")
    d = js.gradient(build(X), X)
    value = np.random.default_rng(k).normal(size=(3, 3)) + 2 * np.eye(3)
    got = js.kernel(d)(X=value)
    want = central_differences(lambda X: forward(X), {"X": value}, "X")
    assert rel_error(got, want) < 1e-7, d.closed_form
