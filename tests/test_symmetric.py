"""Declared structure (issue 31 §3): a symmetric matrix S = Sᵀ.

The convention is The Matrix Cookbook's §2.8.2 (Petersen & Pedersen, version of November 15, 2012,
eqs. 138–140): S_ij and S_ji are one variable, ∂J/∂S holds the derivative by each free entry at both
of its places. The oracles here share nothing with the engine: a SymPy matrix whose (i, j) and (j, i)
entries are one symbol, differentiated by SymPy; central differences of a NumPy forward written here
that move a free entry at both places; and the pairing ⟨∂J/∂S, V⟩ = Σ_{i≤j} (∂J/∂S)_ij V_ij against
the directional difference along a random symmetric V."""

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from oracle import rel_error

import jacobian_sym as js
from jacobian_sym.cli import cli

MODEL = "derivations/quadratic_form_sym.toml"


def _symmetric_symbols(n):
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"s{min(i, j)}{max(i, j)}", real=True))


def _tied_jacobian(f, S):
    """∂f/∂S_ij by SymPy, the entry s_ij being the one symbol at (i, j) and (j, i)."""
    return S.applyfunc(lambda s: sp.diff(f, s))


def _random_symmetric(rng, n):
    R = rng.normal(size=(n, n))
    return (R + R.T) / 2


def _free_entry_differences(forward, arrays, name, h=1e-6):
    """(f(S + h E) − f(S − h E)) / 2h with E = e_i e_jᵀ + e_j e_iᵀ (e_i e_iᵀ on the diagonal)."""
    S = arrays[name]
    out = np.zeros_like(S)
    n = S.shape[0]
    for i in range(n):
        for j in range(i, n):
            E = np.zeros_like(S)
            E[i, j] = E[j, i] = 1.0
            up = forward(**{**arrays, name: S + h * E})
            down = forward(**{**arrays, name: S - h * E})
            out[i, j] = out[j, i] = (up - down) / (2 * h)
    return out


# ----- the engine's closed forms against SymPy's derivative by the free entries -----
#: (name, the expression for js, the same forward in SymPy over explicit matrices)
EXPRESSIONS = [
    ("x^T A x", lambda A, x: x.T @ A @ x, lambda A, x: (x.T * A * x)[0, 0]),
    ("tr(A)", lambda A, x: js.tr(A), lambda A, x: A.trace()),
    ("tr(A A)", lambda A, x: js.tr(A @ A), lambda A, x: (A * A).trace()),
    ("x^T A x + tr(A)", lambda A, x: x.T @ A @ x + js.tr(A), lambda A, x: (x.T * A * x)[0, 0] + A.trace()),
    ("sum(tanh(A x))", lambda A, x: js.sum(js.tanh(A @ x)), lambda A, x: sum((A * x).applyfunc(sp.tanh))),
]


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("k", range(len(EXPRESSIONS)))
def test_a_gradient_by_a_symmetric_matrix_is_the_derivative_by_its_free_entries(k, n):
    _, build, sympy_forward = EXPRESSIONS[k]
    A, x = js.matrix("A", "n", "n", symmetric=True), js.vector("x", "n")
    d = js.gradient(build(A, x), A)
    S = _symmetric_symbols(n)
    xs = sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"x{i}", real=True))
    truth = _tied_jacobian(sympy_forward(S, xs), S)
    rng = np.random.default_rng(10 * k + n)
    A0, x0 = _random_symmetric(rng, n), rng.normal(size=(n, 1))
    point = {S[i, j]: A0[i, j] for i in range(n) for j in range(n)} | {xs[i]: x0[i, 0] for i in range(n)}
    want = np.array(truth.subs(point).evalf(), dtype=float)
    f = js.kernel(d)
    got = f(**{name: {"A": A0, "x": x0}[name] for name in f.inputs})
    assert rel_error(got, want) < 1e-10, d.closed_form


def test_the_cookbook_trace_identity_for_a_symmetric_x_holds_as_written():
    # The Matrix Cookbook (140): ∂Tr(AX)/∂X = A + Aᵀ − (A ∘ I) for a symmetric X
    A, X = js.matrix("A", "n", "n"), js.matrix("X", "n", "n", symmetric=True)
    v = js.check(js.tr(A @ X), wrt=X, claim="A + A.T - A * eye(n)", layout="denominator")
    assert v.ok, v
    assert not js.check(js.tr(A @ X), wrt=X, claim="A.T", layout="denominator").ok


# ----- the quadratic forms of the Cookbook (84)–(88), written as the reference writes them (W symmetric) -----
COOKBOOK = [
    ("(84)", "(x - A @ s).T @ W @ (x - A @ s)", "s", "-2 * A.T @ W @ (x - A @ s)"),
    ("(85)", "(x - s).T @ W @ (x - s)", "x", "2 * W @ (x - s)"),
    ("(86)", "(x - s).T @ W @ (x - s)", "s", "-2 * W @ (x - s)"),
    ("(87)", "(x - A @ s).T @ W @ (x - A @ s)", "x", "2 * W @ (x - A @ s)"),
    ("(88)", "(x - A @ s).T @ W @ (x - A @ s)", "A", "-2 * W @ (x - A @ s) @ s.T"),
]


def _quadratic(loss, symmetric):
    """A model file of the loss (every variable differentiated), W declared symmetric or not."""
    s_size = '"m"' if "A @ s" in loss else '"n"'
    text = "\n".join([
        "[inputs]", 'x = ["n", 1]', f"s = [{s_size}, 1]", *(['A = ["n", "m"]'] if "A @ s" in loss else []),
        "[params]", 'W = { shape = ["n", "n"], symmetric = true }' if symmetric else 'W = ["n", "n"]',
        "[forward]", f'J = "{loss}"',
        "[gradients]", f"wrt = [{', '.join(repr(v) for v in ('x', 's', 'A') if v == 'x' or v in loss)}]",
    ])
    return js.Model.parse(text.replace("'", '"'))


@pytest.mark.parametrize("k", range(len(COOKBOOK)))
def test_the_cookbook_quadratic_forms_hold_for_a_declared_symmetric_w(k):
    _, loss, wrt, claim = COOKBOOK[k]
    model = _quadratic(loss, symmetric=True)
    v = js.check(model, wrt=wrt, claim=claim, layout="denominator")
    assert v.ok, v


@pytest.mark.parametrize("k", [1, 4])
def test_a_claim_right_only_for_symmetric_w_says_so(k):
    _, loss, wrt, claim = COOKBOOK[k]
    v = js.check(_quadratic(loss, symmetric=False), wrt=wrt, claim=claim, layout="denominator")
    assert v.ok is False
    assert v.status == "holds only for symmetric W", v


def test_a_false_claim_stays_false_for_symmetric_w_too(monkeypatch):
    from jacobian_sym.claims import symmetric

    def derived_again(*args):
        raise AssertionError("a claim false at a symmetric point needs no derivation with W symmetric")

    monkeypatch.setattr(symmetric, "with_symmetric", derived_again)
    _, loss, wrt, _ = COOKBOOK[1]
    v = js.check(_quadratic(loss, symmetric=False), wrt=wrt, claim="3 * W @ (x - s)", layout="denominator")
    assert v.status == "does not hold", v


def test_a_claim_that_holds_for_any_w_is_not_flagged():
    # Cookbook (85) before W is taken symmetric: (W + Wᵀ)(x − s)
    _, loss, wrt, _ = COOKBOOK[1]
    v = js.check(_quadratic(loss, symmetric=False), wrt=wrt, claim="(W + W.T) @ (x - s)", layout="denominator")
    assert v.ok and v.status == "holds"


# ----- the model file, against an independent NumPy forward -----
def _quadratic_form_sym(X, A, lam):
    """½ Σₜ xₜᵀ A xₜ + lam tr(A), the examples xₜᵀ the rows of X, written here from the model's title."""
    return float(sum(0.5 * x @ A @ x for x in X) + lam[0, 0] * np.trace(A))


def _arrays(rng, n=4, N=3):
    return {"X": rng.normal(size=(N, n)), "A": _random_symmetric(rng, n), "lam": np.array([[0.7]])}


def test_the_model_file_kernel_against_free_entry_differences():
    bp = js.backprop(js.Model.from_toml(MODEL))
    arrays = _arrays(np.random.default_rng(3))
    out = js.kernel(bp)(**arrays)
    assert rel_error(out["A"], _free_entry_differences(_quadratic_form_sym, arrays, "A")) < 1e-7
    h, want = 1e-6, np.zeros_like(arrays["X"])
    for idx in np.ndindex(want.shape):
        up, down = arrays["X"].copy(), arrays["X"].copy()
        up[idx] += h
        down[idx] -= h
        f_up, f_down = _quadratic_form_sym(**{**arrays, "X": up}), _quadratic_form_sym(**{**arrays, "X": down})
        want[idx] = (f_up - f_down) / (2 * h)
    assert rel_error(out["X"], want) < 1e-7


def test_the_gradient_pairs_with_a_symmetric_direction():
    # ⟨∂J/∂A, V⟩ over the free entries equals the directional derivative along a symmetric V
    bp = js.backprop(js.Model.from_toml(MODEL))
    rng = np.random.default_rng(4)
    arrays = _arrays(rng)
    grad = js.kernel(bp)(**arrays)["A"]
    for _ in range(3):
        V, h = _random_symmetric(rng, 4), 1e-6
        fd = (_quadratic_form_sym(**{**arrays, "A": arrays["A"] + h * V})
              - _quadratic_form_sym(**{**arrays, "A": arrays["A"] - h * V})) / (2 * h)
        assert abs(np.sum(np.triu(grad) * V) - fd) < 1e-7 * (1 + abs(fd))


def test_the_model_file_proofs_pass():
    assert js.verify(js.backprop(js.Model.from_toml(MODEL))).ok


# ----- bad input -----
def test_the_kernel_refuses_an_array_that_is_not_symmetric():
    f = js.kernel(js.backprop(js.Model.from_toml(MODEL)))
    arrays = _arrays(np.random.default_rng(5))
    arrays["A"][0, 1] += 1.0
    with pytest.raises(js.KernelInputError, match="A is declared symmetric but is not"):
        f(**arrays)


@pytest.mark.parametrize("declaration, words", [
    ('A = { shape = ["n", "m"], symmetric = true }', "square"),
    ('A = { shape = ["n", "n"], symmetric = "yes" }', "true or false"),
    ('A = { shape = ["n", "n"], symetric = true }', "unknown key"),
])
def test_a_bad_declaration_is_one_line_with_its_line(declaration, words):
    text = f'[inputs]\nx = ["n", 1]\n[params]\n{declaration}\n[forward]\nJ = "sum(A @ x)"\n'
    with pytest.raises(js.ParseError, match=words) as err:
        js.Model.parse(text)
    assert "line 4" in str(err.value) and "\n" not in str(err.value)


def test_the_api_refuses_a_symmetric_rectangle():
    with pytest.raises(js.ShapeError, match="square"):
        js.matrix("A", "n", "m", symmetric=True)


def test_positive_definite_values_are_spd():
    from jacobian_sym.graph.indexed import Graph
    from jacobian_sym.kernels.numeric import random_inputs

    A, x = js.matrix("A", "n", "n", positive_definite=True), js.vector("x", "n")
    graph = Graph(x.T @ A @ x)
    n = sp.Symbol("n", integer=True, positive=True)
    for seed in range(5):
        value = random_inputs(graph, {n: sp.Integer(3)}, np.random.default_rng(seed))["A"]
        assert np.allclose(value, value.T) and np.linalg.eigvalsh(value).min() > 0


def test_the_cli_derives_the_model_file_and_refuses_a_bad_declaration(tmp_path):
    result = CliRunner().invoke(cli, ["derive", MODEL, "--format", "text"])
    assert result.exit_code == 0 and "∂J/∂A" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[params]\nA = { shape = ["n", "m"], symmetric = true }\n[forward]\nJ = "sum(A)"\n')
    result = CliRunner().invoke(cli, ["derive", str(bad)])
    assert result.exit_code == 2 and "square" in result.output and "Traceback" not in result.output


def test_the_hessian_by_x_of_a_symmetric_quadratic_form_uses_the_symmetry():
    # The Matrix Cookbook (81): ∂²xᵀBx/∂x² = B + Bᵀ, which is 2B for a symmetric B; against the Hessian
    # SymPy takes of the explicit form with a symmetric B
    B, x = js.matrix("B", "n", "n", symmetric=True), js.vector("x", "n")
    d = js.hessian(x.T @ B @ x, x)
    assert "ᵀ" not in str(d.closed_form), d.closed_form
    n = 3
    S, xs = _symmetric_symbols(n), sp.Matrix(n, 1, lambda i, _: sp.Symbol(f"x{i}", real=True))
    truth = sp.hessian((xs.T * S * xs)[0, 0], list(xs))
    B0 = _random_symmetric(np.random.default_rng(6), n)
    want = np.array(truth.subs({S[i, j]: B0[i, j] for i in range(n) for j in range(n)}), dtype=float)
    assert rel_error(js.kernel(d)(B=B0), want) < 1e-12


@pytest.mark.parametrize("second", [lambda J, A, V: js.hessian(J, A, kronecker=True), js.hvp, js.jvp])
def test_second_order_by_a_symmetric_matrix_is_refused_in_one_line(second):
    A, V = js.matrix("A", "n", "n", symmetric=True), js.matrix("V", "n", "n", symmetric=True)
    with pytest.raises(js.DerivationError, match="symmetric A are not derived") as err:
        second(js.tr(A @ A @ A), A, V)
    assert "\n" not in str(err.value)


def test_a_kernel_draws_spd_values_for_a_positive_definite_array():
    from jacobian_sym.kernels.timing import random_arrays

    model = js.Model.parse('[inputs]\nx = ["n", 1]\n[params]\nS = { shape = ["n", "n"], positive_definite = true }\n'
                           '[forward]\nJ = "sum(x * (S @ x))"\n')
    f = js.kernel(js.backprop(model))
    for seed in range(3):
        S = random_arrays(f, {"n": 3, "B": 2}, np.random.default_rng(seed))["S"]
        assert np.allclose(S, S.T) and np.linalg.eigvalsh(S).min() > 0


def test_the_printed_forms_of_the_model_file_read_back():
    bp = js.backprop(js.Model.from_toml(MODEL))
    for wrt, form in bp.gradients.items():
        assert js.check(bp, wrt, str(form)).ok, (wrt, form)
    assert not js.check(bp, "X", "2 X A").ok
