"""Inverse, solve, determinant and log-determinant: the one rule and the identities it gives.

The rule (d(X⁻¹) = −X⁻¹ dX X⁻¹, d det X = det X tr(X⁻¹ dX)) is proved at 2×2 and 3×3 against SymPy's
explicit inverse and determinant. Each identity below is from The Matrix Cookbook (Petersen &
Pedersen, version of November 15, 2012; equation numbers where the page could be looked up — page
10: (61), (63), (64), (65), (66) — else the section); its gradient is derived by the engine, then
compared with central differences of the NumPy forward written here (``numpy_loss``) and, at 2×2,
with the explicit symbolic gradient SymPy computes of the same loss (``sympy_loss``: Matrix.inv(),
Matrix.det()). No expected closed form is typed: the reference's form is checked as a claim.
"""

import numpy as np
import pytest
import sympy as sp
from oracle import central_differences, rel_error

import jacobian_sym as js
from jacobian_sym.engine.local import local_derivative
from jacobian_sym.kernels.numeric import evaluate
from jacobian_sym.ops.indexing import element_of
from jacobian_sym.ops.linalg import Det, inverse_element
from jacobian_sym.proofs.explicit import size_symbols


# ----- the rule, against SymPy's explicit inverse and determinant -----
@pytest.mark.parametrize("n", [2, 3])
def test_the_inverse_rule_is_the_derivative_of_the_explicit_inverse(n):
    X = sp.MatrixSymbol("X", n, n)
    explicit = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"x{i}{j}"))
    inverse = explicit.inv()
    put_in = {inverse_element(X, i, j): inverse[i, j] for i in range(n) for j in range(n)}
    for i, j, p, q in np.ndindex(n, n, n, n):
        rule = local_derivative(inverse_element(X, i, j), element_of(X, p, q)).xreplace(put_in)
        truth = sp.diff(inverse[i, j], explicit[p, q])
        assert sp.cancel(rule - truth) == 0, (i, j, p, q)


@pytest.mark.parametrize("n", [2, 3])
def test_the_determinant_rule_is_the_derivative_of_the_explicit_determinant(n):
    X = sp.MatrixSymbol("X", n, n)
    explicit = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"x{i}{j}"))
    det, inverse = explicit.det(), explicit.inv()
    put_in = {inverse_element(X, i, j): inverse[i, j] for i in range(n) for j in range(n)} | {Det(X): det}
    for p, q in np.ndindex(n, n):
        rule = local_derivative(Det(X), element_of(X, p, q)).xreplace(put_in)
        assert sp.cancel(rule - sp.diff(det, explicit[p, q])) == 0, (p, q)


# ----- identities -----
def _square(rng, n):
    """A well-conditioned random n×n matrix (a random one is nonsingular, this one also not nearly so)."""
    return rng.normal(size=(n, n)) + n * np.eye(n)


#: name, source, variables {name: (rows, cols)}, the loss in the graph API, the variable, the
#: NumPy forward, the SymPy forward (explicit matrices), the reference's form as a claim (or None)
CASES = [
    ("logdet", "Cookbook §2.1.1 (∂ ln|det X| / ∂X)", {"X": "nn"},
     lambda v: js.logdet(v["X"]), "X",
     lambda X: np.log(abs(np.linalg.det(X))), lambda X: sp.log(X.det() ** 2) / 2, "inv(X).T"),
    ("det", "Cookbook (66)", {"X": "nn"},
     lambda v: js.det(v["X"]), "X",
     lambda X: np.linalg.det(X), lambda X: X.det(), "det(X) * inv(X).T"),
    ("det_AXB", "Cookbook §2.1.1 (∂ det(AXB) / ∂X)", {"A": "nn", "X": "nn", "B": "nn"},
     lambda v: js.det(v["A"] @ v["X"] @ v["B"]), "X",
     lambda A, X, B: np.linalg.det(A @ X @ B), lambda A, X, B: (A * X * B).det(),
     "det(A @ X @ B) * inv(X).T"),
    ("aT_Xinv_b", "Cookbook (61)", {"a": "n1", "X": "nn", "b": "n1"},
     lambda v: v["a"].T @ js.inv(v["X"]) @ v["b"], "X",
     lambda a, X, b: (a.T @ np.linalg.inv(X) @ b).item(), lambda a, X, b: (a.T * X.inv() * b)[0, 0],
     "-inv(X).T @ a @ b.T @ inv(X).T"),
    ("det_Xinv", "Cookbook (63)", {"X": "nn"},
     lambda v: js.det(js.inv(v["X"])), "X",
     lambda X: np.linalg.det(np.linalg.inv(X)), lambda X: X.inv().det(), "-det(inv(X)) * inv(X).T"),
    ("tr_A_Xinv_B", "Cookbook (64)", {"A": "mn", "X": "nn", "B": "nm"},
     lambda v: js.tr(v["A"] @ js.inv(v["X"]) @ v["B"]), "X",
     lambda A, X, B: np.trace(A @ np.linalg.inv(X) @ B), lambda A, X, B: (A * X.inv() * B).trace(),
     "-(inv(X) @ B @ A @ inv(X)).T"),
    ("tr_inv_X_plus_A", "Cookbook (65)", {"X": "nn", "A": "nn"},
     lambda v: js.tr(js.inv(v["X"] + v["A"])), "X",
     lambda X, A: np.trace(np.linalg.inv(X + A)), lambda X, A: (X + A).inv().trace(),
     "-(inv(X + A) @ inv(X + A)).T"),
    ("det_XT_A_X", "Cookbook §2.1.1 (∂ det(XᵀAX) / ∂X, X square)", {"X": "nn", "A": "nn"},
     lambda v: js.det(v["X"].T @ v["A"] @ v["X"]), "X",
     lambda X, A: np.linalg.det(X.T @ A @ X), lambda X, A: (X.T * A * X).det(),
     "det(X.T @ A @ X) * (A @ X @ inv(X.T @ A @ X) + A.T @ X @ inv(X.T @ A.T @ X))"),
    ("mahalanobis_s", "Cookbook §2.4.2 (∂ (x − s)ᵀW(x − s) / ∂s, W = S⁻¹)", {"x": "n1", "s": "n1", "S": "nn"},
     lambda v: (v["x"] - v["s"]).T @ js.inv(v["S"]) @ (v["x"] - v["s"]), "s",
     lambda x, s, S: ((x - s).T @ np.linalg.inv(S) @ (x - s)).item(),
     lambda x, s, S: ((x - s).T * S.inv() * (x - s))[0, 0], "-(inv(S) + inv(S).T) @ (x - s)"),
    ("aT_solve_b", "Cookbook (69) with a → X⁻ᵀa (∂ aᵀX⁻¹b / ∂b)", {"a": "n1", "X": "nn", "b": "n1"},
     lambda v: v["a"].T @ js.solve(v["X"], v["b"]), "b",
     lambda a, X, b: (a.T @ np.linalg.solve(X, b)).item(), lambda a, X, b: (a.T * X.inv() * b)[0, 0],
     "inv(X).T @ a"),
    ("gaussian_nll_Sigma", "Cookbook §8.1 (Gaussian: ∂ log-likelihood / ∂Σ)", {"x": "n1", "mu": "n1", "Sigma": "nn"},
     lambda v: 0.5 * ((v["x"] - v["mu"]).T @ js.inv(v["Sigma"]) @ (v["x"] - v["mu"])) + 0.5 * js.logdet(v["Sigma"]),
     "Sigma",
     lambda x, mu, S: 0.5 * ((x - mu).T @ np.linalg.inv(S) @ (x - mu)).item() + 0.5 * np.log(abs(np.linalg.det(S))),
     lambda x, mu, S: ((x - mu).T * S.inv() * (x - mu))[0, 0] / 2 + sp.log(S.det() ** 2) / 4,
     "0.5 * inv(Sigma).T - 0.5 * inv(Sigma).T @ (x - mu) @ (x - mu).T @ inv(Sigma).T"),
    ("logdet_inv", "Cookbook §2.1.1 with X → X⁻¹ (∂ ln|det X⁻¹| / ∂X)", {"X": "nn"},
     lambda v: js.logdet(js.inv(v["X"])), "X",
     lambda X: np.log(abs(np.linalg.det(np.linalg.inv(X)))), lambda X: sp.log(X.inv().det() ** 2) / 2,
     "-inv(X).T"),
]
IDS = [c[0] for c in CASES]
_DIMS = {"n": "n", "m": "m", "1": 1}


def _variables(shapes):
    return {k: js.matrix(k, _DIMS[r], _DIMS[c]) if c != "1" else js.vector(k, _DIMS[r]) for k, (r, c) in shapes.items()}


def _derived(case):
    _, _, shapes, build, wrt, *_ = case
    v = _variables(shapes)
    return js.gradient(build(v), v[wrt], layout="denominator"), v


def _arrays(shapes, sizes, rng):
    out = {}
    for k, (r, c) in shapes.items():
        rows, cols = sizes[r], (sizes[c] if c != "1" else 1)
        out[k] = _square(rng, rows) if rows == cols and rows > 1 else rng.normal(size=(rows, cols))
    return out


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_identity_agrees_with_central_differences(case):
    _, source, shapes, _, wrt, numpy_loss, _, _ = case
    d, _ = _derived(case)
    rng = np.random.default_rng(7)
    sizes = {"n": 3, "m": 2}
    arrays = _arrays(shapes, sizes, rng)
    symbols = {s.name: s for s in size_symbols(d)}
    got = evaluate(d.closed_form, arrays, {symbols[k]: v for k, v in sizes.items() if k in symbols})
    order = list(shapes)
    want = central_differences(lambda **a: numpy_loss(*(a[k] for k in order)), arrays, wrt)
    assert rel_error(got, want) < 1e-7, (source, rel_error(got, want))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_identity_is_the_explicit_symbolic_gradient_at_2x2(case):
    _, source, shapes, _, wrt, _, sympy_loss, _ = case
    d, _ = _derived(case)
    sizes = {"n": 2, "m": 3}
    explicit = {}
    for k, (r, c) in shapes.items():
        rows, cols = sizes[r], (sizes[c] if c != "1" else 1)
        explicit[k] = sp.Matrix(rows, cols, lambda i, j, k=k: sp.Symbol(f"{k}_{i}{j}", real=True))
    loss = sympy_loss(*(explicit[k] for k in shapes))
    truth = explicit[wrt].applyfunc(lambda e: sp.diff(loss, e))
    symbols = {s.name: s for s in size_symbols(d)}
    concrete = d.closed_form.xreplace({symbols[k]: v for k, v in sizes.items() if k in symbols})
    concrete = concrete.xreplace({s: sp.ImmutableMatrix(explicit[s.name]) for s in concrete.atoms(sp.MatrixSymbol)})
    closed = sp.Matrix(concrete.doit())
    # a random rational point first (cheap, exact), then the symbolic difference where it is small
    point = {s: sp.Rational(int(h), 7) for s, h in zip(sorted(truth.free_symbols, key=str), [3, -5, 11, 2, -9, 4,
                                                                                            13, -1, 6, 8, -3, 5,
                                                                                            10, -7, 1, 12])}
    assert (closed - truth).xreplace(point).applyfunc(sp.nsimplify) == sp.zeros(*truth.shape), source
    assert sp.simplify(closed[0, 0] - truth[0, 0]) == 0, source


@pytest.mark.parametrize("case", [c for c in CASES if c[-1] is not None], ids=[c[0] for c in CASES if c[-1]])
def test_the_references_form_holds_as_a_claim(case):
    _, source, shapes, build, wrt, _, _, claim = case
    v = _variables(shapes)
    verdict = js.check(build(v), v[wrt], claim, layout="denominator")
    assert verdict.ok, (source, claim, verdict)


#: forms a reader writes that hold only for a symmetric X (the transpose dropped): refused for a general X
NOT_FOR_A_GENERAL_X = [
    ("logdet", r"X^{-1}"),
    ("aT_Xinv_b", r"-X^{-1} a b^T X^{-1}"),
    ("tr_A_Xinv_B", "-(inv(X) @ B @ A @ inv(X))"),
    ("mahalanobis_s", "-2 * inv(S) @ (x - s)"),
]


@pytest.mark.parametrize("name, claim", NOT_FOR_A_GENERAL_X, ids=[n for n, _ in NOT_FOR_A_GENERAL_X])
def test_a_form_right_only_for_symmetric_matrices_is_refused(name, claim):
    _, source, shapes, build, wrt, *_ = next(c for c in CASES if c[0] == name)
    v = _variables(shapes)
    assert js.check(build(v), v[wrt], claim, layout="denominator").ok is False, (source, claim)


def test_a_singular_matrix_is_one_clear_error_from_the_kernel():
    S, x = js.matrix("S", "n", "n"), js.vector("x", "n")
    f = js.kernel(js.backprop(js.Model.build(x.T @ js.inv(S) @ x + js.logdet(S), title="uses inv")))
    with pytest.raises(js.SingularMatrixError, match="singular"):
        f(x=np.ones((2, 1)), S=np.array([[1.0, 2.0], [2.0, 4.0]]))


def test_a_kernel_never_forms_an_inverse_a_solve_gives():
    S, x = js.matrix("S", "n", "n"), js.vector("x", "n")
    source = js.codegen(js.backprop(js.Model.build(x.T @ js.inv(S) @ x, title="quadratic")))
    body = source[source.index("    _check("):]
    assert "_solve(" in body and "_inv(" not in body and "np.linalg.inv" not in body


# ----- the model file -----
def _gaussian_nll(x, mu, Sigma):
    """½ (x − μ)ᵀ Σ⁻¹ (x − μ) + ½ log|det Σ| from the textbook density (Bishop, PRML §2.3, without
    its constant), by NumPy's solve and slogdet."""
    r = x - mu
    return float(0.5 * (r.T @ np.linalg.solve(Sigma, r)).item() + 0.5 * np.linalg.slogdet(Sigma)[1])


@pytest.mark.parametrize("n", [2, 4])
def test_gaussian_nll_model_file_against_central_differences(n):
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/gaussian_nll.toml")))
    rng = np.random.default_rng(n)
    A = rng.normal(size=(n, n))
    arrays = {"x": rng.normal(size=(n, 1)), "mu": rng.normal(size=(n, 1)), "Sigma": A @ A.T + n * np.eye(n)}
    out = f(**arrays)
    assert float(np.asarray(out["J"]).reshape(())) == pytest.approx(_gaussian_nll(**arrays), rel=1e-12)
    for name in ("mu", "Sigma"):
        assert rel_error(out[name], central_differences(_gaussian_nll, arrays, name)) < 1e-7, name


# ----- second order through an inverse -----
def _hessian_by_differences(f, x, h=1e-4):
    """∂²f/∂x_i∂x_j by the mixed central difference of a NumPy forward (error O(h²))."""
    n = x.shape[0]
    out = np.zeros((n, n))
    for i, j in np.ndindex(n, n):
        def at(si, sj, i=i, j=j):
            moved = x.astype(np.longdouble).copy()
            moved[i] += si * h
            moved[j] += sj * h
            return f(moved)
        out[i, j] = float((at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h))
    return out


SECOND = [
    # (a minute: its Hessian has ten terms, each checked at a point before it is returned)
    pytest.param("tr_inv_A_plus_xxT", lambda v: js.tr(js.inv(v["A"] + v["x"] @ v["x"].T)),
                 lambda A, x: np.trace(np.linalg.inv((A + x @ x.T).astype(float))), marks=pytest.mark.exhaustive,
                 id="tr_inv_A_plus_xxT"),
    pytest.param("logdet_A_plus_xxT", lambda v: js.logdet(v["A"] + v["x"] @ v["x"].T),
                 lambda A, x: np.linalg.slogdet((A + x @ x.T).astype(float))[1], id="logdet_A_plus_xxT"),
    pytest.param("quadratic_in_inverse", lambda v: v["x"].T @ js.inv(v["A"]) @ v["x"],
                 lambda A, x: float((x.T @ np.linalg.solve(A, x.astype(float))).item()), id="quadratic_in_inverse"),
]


@pytest.mark.parametrize("name, build, numpy_loss", SECOND)
def test_hessian_through_an_inverse_against_second_differences(name, build, numpy_loss):
    v = {"A": js.matrix("A", "n", "n"), "x": js.vector("x", "n")}
    d = js.hessian(build(v), v["x"], layout="denominator")
    rng = np.random.default_rng(3)
    arrays = {"A": _square(rng, 3), "x": rng.normal(size=(3, 1)) / 2}
    symbols = {s.name: s for s in size_symbols(d)}
    got = evaluate(d.closed_form, arrays, {symbols["n"]: 3})
    want = _hessian_by_differences(lambda x: numpy_loss(arrays["A"], x), arrays["x"])
    assert rel_error(got, want) < 1e-6, (name, rel_error(got, want))


# ----- the claim readers -----
@pytest.mark.parametrize("claim", [r"\log|X| X^{-T}", r"\log\det X \, X^{-T}", r"\log\left|\det X\right| X^{-T}",
                                   r"\log \lvert X \rvert \, (X^{-1})^T", "logdet(X) * inv(X).T"])
def test_the_latex_reader_reads_the_ways_a_log_determinant_is_written(claim):
    X = js.matrix("X", "n", "n")
    # ∂ ½ (log|det X|)² / ∂X = log|det X| X⁻ᵀ (the chain rule on the Cookbook's §2.1.1 form)
    assert js.check(0.5 * js.logdet(X) * js.logdet(X), X, claim, layout="denominator").ok


@pytest.mark.parametrize("claim", [r"\det(X) X^{-T}", r"\det(X) \, (X^{-1})^{T}", r"\det X \, X^{-T}"])
def test_a_latex_determinant_claim_holds(claim):
    X = js.matrix("X", "n", "n")
    assert js.check(js.det(X), X, claim, layout="denominator").ok


@pytest.mark.parametrize("claim, words", [("inv(a)", "square"), ("solve(X)", "right-hand side"),
                                          ("det(a)", "square"), ("inv(X, a)", "one argument")])
def test_a_claim_that_inverts_a_vector_is_one_clear_error(claim, words):
    X, a = js.matrix("X", "n", "n"), js.vector("a", "n")
    with pytest.raises(js.ClaimError, match=words) as err:
        js.check(js.logdet(X) + js.sum(a), X, claim)
    assert "\n" not in str(err.value)
