"""js.check on a table of right and wrong claims, LaTeX claims, bad claims, and the notes' errata."""

import dataclasses
from pathlib import Path

import pytest

import jacobian_sym as js
from jacobian_sym.audit.errata import audit_claims as audit
from jacobian_sym.claims.syntax import ClaimError
from jacobian_sym.notes.identities import NOTES_CLAIMS
from jacobian_sym.proofs import pointwise


@pytest.fixture(scope="module")
def bp():
    return js.backprop(js.Model.from_toml("derivations/one_layer.toml"))


@pytest.fixture(scope="module")
def residual():
    return js.backprop(js.Model.from_toml("derivations/residual.toml"))


@pytest.fixture(params=["exact", "pointwise"])
def method(request, monkeypatch):
    """Each table runs twice: with the whole explicit expansion (the notes' network is small enough),
    and at random rational points by reverse accumulation (what a deep model gets)."""
    if request.param == "pointwise":
        monkeypatch.setattr(pointwise, "MAX_EXACT_NONLINEAR", 0)
    return request.param


RIGHT = [
    ("W", "delta2.T @ x.T"), ("U", "delta1.T @ h.T"), ("b2", "delta1.T"), ("b1", "delta2.T"), ("x", "(delta2 @ W).T"),
    ("x", "W.T @ delta2.T"), ("delta1", "(yhat - y).T"), ("delta2", "(delta1 @ U) * relu_prime(z).T"),
    ("W", r"\delta_2^T x^T"), ("x", r"\left(\delta_{2} W\right)^{T}"),
    ("delta2", r"\delta_1 U \circ \operatorname{sng}(h)^T"),
]


@pytest.mark.parametrize("wrt, claim", RIGHT)
def test_right_claims_hold(bp, wrt, claim, method):
    verdict = js.check(bp, wrt, claim)
    assert verdict.ok, str(verdict)


WRONG = [
    ("W", "x @ delta2", "missing transpose"),
    ("b1", "delta2", "missing transpose"),
    ("W", "-delta2.T @ x.T", "wrong sign"),
    ("W", "2 * delta2.T @ x.T", "wrong scale: the claim is 2 times"),
    ("U", "delta1.T @ h.T + yhat @ h.T", "extra term"),
    ("U", "delta1.T @ h.T + delta1.T @ h.T", "wrong scale: the claim is 2 times"),
    ("W", "delta2.T", "shape: the claim is D_h×1 but ∂J/∂W is D_h×D_x"),
    ("W", "delta2.T @ x.T * 0 + (delta1 @ U).T @ x.T", "mismatch"),
]


@pytest.mark.parametrize("wrt, claim, reason", WRONG)
def test_wrong_claims_get_a_reason(bp, wrt, claim, reason, method):
    verdict = js.check(bp, wrt, claim)
    assert not verdict.ok and reason in verdict.reason, str(verdict)
    assert verdict.expected == bp.gradients[wrt]


def test_counterexample_has_sizes_and_both_numbers(bp, method):
    verdict = js.check(bp, "W", "-delta2.T @ x.T")
    c = verdict.counterexample
    assert set(c["sizes"]) == {"D_x", "D_h", "N_c"} and c["claim"] == pytest.approx(-c["true"])


def test_missing_term(residual, method):
    verdict = js.check(residual, "x", "(delta1 @ W2).T")
    assert not verdict.ok and "missing term" in verdict.reason and "W₁" in verdict.reason


def test_claims_built_with_the_python_api(bp):
    d2 = bp.delta_symbols["delta_2"]
    x = bp.graph.symbol(bp.graph.node_named("x"))
    assert js.check(bp, "W", d2.T * x.T).ok
    assert not js.check(bp, "W", (x * d2).T.T).ok


GENERAL = [
    ("aᵀXb by X", lambda: (js.vector("a", "n").T @ js.matrix("X", "n", "m") @ js.vector("b", "m"),
                           js.matrix("X", "n", "m")), "a @ b.T", "numerator"),
    ("xᵀBx by x", lambda: (js.vector("x", "n").T @ js.matrix("B", "n", "n") @ js.vector("x", "n"),
                           js.vector("x", "n")), "x.T @ (B + B.T)", "numerator"),
    ("tr(AXB) by X", lambda: (js.tr(js.matrix("A", "p", "n") @ js.matrix("X", "n", "m") @ js.matrix("C", "m", "p")),
                              js.matrix("X", "n", "m")), "A.T @ C.T", "numerator"),
    ("‖XW − Y‖²_F by W", lambda: (js.square(js.norm(js.matrix("X", "n", "m") @ js.matrix("W", "m", "q")
                                                    - js.matrix("Y", "n", "q"))), js.matrix("W", "m", "q")),
     "2 * X.T @ (X @ W - Y)", "denominator"),
]


@pytest.mark.parametrize("name, build, claim, layout", GENERAL, ids=[g[0] for g in GENERAL])
def test_textbook_identities(name, build, claim, layout):
    expr, var = build()
    assert js.check(expr, var, claim, layout=layout).ok
    assert not js.check(expr, var, f"-({claim})", layout=layout).ok


@pytest.mark.parametrize("claim, words", [
    ("delta2.T @", "does not parse"),
    ("delta9.T @ x.T", "'delta9'"),
    ("delta2 @ x", "inner sizes"),
    ("delta2.T * x.T", "Hadamard product of D_h×1 and 1×D_x"),
    ("x.__class__", "attribute"),
    ("__import__('os').system('true')", "only calls of functions by name"),
    ("__import__('os')", "'__import__' is not allowed"),
    ("(lambda: 1)()", "only calls of functions by name"),
    ("lambda: 1", "lambda is not allowed"),
    ("W[0]", "subscript"),
    (r"\delta_2^T x^", "expected"),
    (r"\delta_2^{k}", "a superscript is ^T or a whole or half number"),
    (r"\foo(x)", "unexpected"),
    ("matrix_power(W, 2)", "matrix_power takes a square matrix, not D_h×D_x"),
    ("matrix_power(W, -1)", "a whole number from 0 to 8"),
    ("matrix_power(W)", "matrix_power takes a square matrix and a whole exponent"),
])
def test_bad_claims_name_the_position(bp, claim, words):
    with pytest.raises(ClaimError) as err:
        js.check(bp, "W", claim)
    assert words in str(err.value) and str(err.value).startswith("claim:")


def test_injection_attempts_execute_nothing(bp, tmp_path):
    marker = tmp_path / "ran"
    for attempt in (f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
                    "[c for c in ().__class__.__base__.__subclasses__()]"):
        with pytest.raises(js.JacobianSymError):
            js.check(bp, "W", attempt)
    assert not marker.exists()


def test_unknown_wrt(bp):
    with pytest.raises(js.JacobianSymError) as err:
        js.check(bp, "V", "x")
    assert "'V'" in str(err.value)


def test_the_notes_errata_are_found():
    """js.errata() is the audit of the notes' whole file (tests/test_audit.py checks it line by line)."""
    found = {(f.section, f.reason.split(":")[0]) for f in js.errata()}
    assert ("§2.5", "a wrong summation range") in found   # Σ_{k=1}^{m} where z has n elements
    assert ("§2.7", "a mismatch") in found                # − Σ y_k ŷ_i: a sign error
    lhs_typo = [f for f in js.errata() if "partial b_1" in f.text]
    assert lhs_typo and "∂J/∂b₁" in lhs_typo[0].reason and lhs_typo[0].corrected.startswith("∂J/∂b₁ =")
    assert len(js.errata()) == 8


def test_verdicts_are_decided_at_run_time():
    right = next(c for c in NOTES_CLAIMS if c.section == "2.5" and getattr(c, "wrt", None) == "W")
    assert audit([right])[0].ok
    assert not audit([dataclasses.replace(right, claim=r"x \delta")])[0].ok
    wrong_sum = next(c for c in NOTES_CLAIMS if "sum_{k=1}^{m}" in c.stated)
    fixed = dataclasses.replace(wrong_sum, claimed=lambda E, i, j: sum(
        E.m("delta")[k] * E.diff(E.m("z")[k], E.m("W")[i, j]) for k in range(E.size("n"))))
    assert not audit([wrong_sum])[0].ok and audit([fixed])[0].ok


def test_cli_check_and_errata():
    from click.testing import CliRunner

    from jacobian_sym.cli import cli

    runner = CliRunner()
    ok = runner.invoke(cli, ["check", "derivations/one_layer.toml", "--wrt", "W", "--claim", "delta2.T @ x.T"])
    assert ok.exit_code == 0 and "holds" in ok.output
    bad = runner.invoke(cli, ["check", "derivations/one_layer.toml", "--wrt", "b1", "--claim", r"\delta_2"])
    assert bad.exit_code == 1 and "missing transpose" in bad.output
    broken = runner.invoke(cli, ["check", "derivations/one_layer.toml", "--wrt", "W", "--claim", "x.__dict__"])
    assert broken.exit_code == 2
    errata = runner.invoke(cli, ["errata"])
    assert errata.exit_code == 0 and "8 lines of the notes are wrong values" in errata.output


def _deep_mlp(layers: int, activation: str, bias: bool):
    """A model file text: ``layers`` hidden layers of ``activation``, softmax cross-entropy."""
    lines = ['[inputs]', 'x = ["D_0", 1]', 'y = { shape = ["N", 1], one_hot = true }', '[params]']
    for k in range(1, layers + 1):
        lines.append(f'W{k} = ["D_{k}", "D_{k - 1}"]' + (f'\nb{k} = ["D_{k}", 1]' if bias else ""))
    lines += [f'U = ["N", "D_{layers}"]', '[forward]']
    prev = "x"
    for k in range(1, layers + 1):
        lines.append(f'h{k} = "{activation}(W{k} @ {prev}' + (f' + b{k})"' if bias else ')"'))
        prev = f"h{k}"
    lines.append(f'J = "cross_entropy(y, softmax(U @ {prev}))"')
    deep = js.backprop(js.Model.parse("\n".join(lines) + "\n"))
    return deep, f"delta_{len(deep.deltas)}"


def test_deep_models_are_decided_at_points_with_their_reasons():
    """A 6-hidden-layer MLP: past the exact budget, a claim is decided in well under a second, right
    ones hold and wrong ones get the same reasons as on a small model."""
    deep, last = _deep_mlp(6, "tanh", bias=False)
    assert js.check(deep, "W1", f"{last}.T @ x.T").ok
    verdict = js.check(deep, "W1", f"-{last}.T @ x.T")
    assert not verdict.ok and "wrong sign" in verdict.reason and "random rational point" in verdict.decided
    assert verdict.counterexample["claim"] == pytest.approx(-verdict.counterexample["true"])
    assert "transpose" in js.check(deep, "W1", f"x @ {last}").reason


def test_a_deep_relu_network_is_not_fooled_by_dead_units():
    """At plain random points a deep ReLU network has a layer whose units are all off, the true
    gradient vanishes there, and a wrong claim of the same zero would pass: points are drawn where the
    truth does not vanish (the regression: the negative of ∂J/∂W1 of an 8-layer MLP was accepted)."""
    deep, last = _deep_mlp(8, "relu", bias=True)
    verdict = js.check(deep, "W1", f"-{last}.T @ x.T")
    assert not verdict.ok and "wrong sign" in verdict.reason, str(verdict)
    assert js.check(deep, "W1", f"{last}.T @ x.T").ok
    report = js.verify(deep)
    assert report.ok and any(c.name.startswith("points") for c in report.checks), str(report)


def _references():
    """(label, target, wrt, claim, layout, status): the notation of the references, and the two ways
    a false claim was once certified (a LaTeX bracket read as a difference; a second-order claim judged
    against the gradient)."""
    x, a, b = js.vector("x", "n"), js.vector("a", "n"), js.vector("b", "n")
    A, X, B = js.matrix("A", "n", "n"), js.matrix("X", "n", "n"), js.matrix("B", "n", "n")
    s, lam = js.matrix("s", 1, 1), js.matrix("lam", 1, 1)
    D, w, y = js.matrix("D", "N", "n"), js.vector("w", "n"), js.vector("y", "N")
    W, V = js.matrix("W", "n", "m"), js.matrix("V", "n", "m")
    x1 = js.vector("x", 1)
    trace_loss = js.tr(A.T @ X) - js.sum(X * X) / 2  # ∂/∂X = A − X
    ridge = js.sum(js.square(D @ w - y)) + lam * (w.T @ w)
    squared = (s - x.T @ b) * (s - x.T @ b)
    return [
        ("A(X) is the product AX, false", trace_loss, X, r"\mathbf{A}(\mathbf{X})", "numerator", "does not hold"),
        ("A - X", trace_loss, X, r"\mathbf{A} - \mathbf{X}", "numerator", "holds"),
        ("b(s - xᵀb), denominator", squared, x, r"-2 b(s - x^T b)", "denominator", "holds"),
        ("b(s - xᵀb), numerator", squared, x, r"-2 b(s - x^T b)", "numerator", "holds in the denominator layout"),
        ("‖x − a‖", js.norm(x - a), x, r"\frac{(x - a)^T}{\|x - a\|}", "numerator", "holds"),
        ("‖x − a‖ with \\lVert", js.norm(x - a), x, r"(x - a)^\mathsf{T} / \lVert x - a \rVert", "numerator", "holds"),
        ("‖x − a‖ in Python", js.norm(x - a), x, "(x - a).T / norm(x - a)", "numerator", "holds"),
        ("√(xᵀx)", js.sqrt(x.T @ x), x, r"\frac{x^{\top}}{\sqrt{x^T x}}", "numerator", "holds"),
        ("ridge Hessian", js.hessian(ridge, w), w, r"2 D^T D + 2 \lambda I", "numerator", "holds"),
        ("ridge Hessian, λ once", js.hessian(ridge, w), w, r"2 D^T D + \lambda I", "numerator", "does not hold"),
        ("ridge Hessian in Python", js.hessian(ridge, w), w, "2 * D.T @ D + 2 * lam * eye(n)", "numerator", "holds"),
        ("HVP is 2V", js.hvp(js.sum(js.square(W)), W, V), W, "2 * V", "numerator", "holds"),
        ("HVP is not the gradient", js.hvp(js.sum(js.square(W)), W, V), W, "2 * W", "numerator", "does not hold"),
        ("x³'s Hessian is 6x", js.hessian(js.sum(x1 * x1 * x1), x1), x1, "6 * x", "numerator", "holds"),
        ("x³'s Hessian is not 3x²", js.hessian(js.sum(x1 * x1 * x1), x1), x1, "3 * x * x", "numerator",
         "does not hold"),
        ("xᵀBx's Hessian", js.hessian(x.T @ B @ x, x), x, "B + B.T", "numerator", "holds"),
        ("xᵀBx's Hessian is not B", js.hessian(x.T @ B @ x, x), x, "B", "numerator", "does not hold"),
        ("‖X‖²_F", js.sum(js.square(X)), X, "2 * X", "numerator", "holds"),
        ("tr(X³) by X", js.tr(X @ X @ X), X, "3 * matrix_power(X.T, 2)", "numerator", "holds"),
        ("** is element-wise, not X X", js.tr(X @ X @ X), X, "3 * (X.T ** 2)", "numerator", "does not hold"),
        ("X⁰ is I", js.tr(A.T @ X), X, "matrix_power(A, 1) + 0 * matrix_power(X, 0)", "numerator", "holds"),
    ]


@pytest.mark.parametrize("case", _references(), ids=lambda c: c[0])
def test_the_references_notation_and_order(case):
    _, target, wrt, claim, layout, status = case
    verdict = js.check(target, wrt, claim, layout=layout)
    assert verdict.status == status, (claim, verdict.reason, verdict.decided)


def test_a_disagreement_of_the_two_sides_is_undecided_never_holds(monkeypatch):
    from jacobian_sym.claims import decide

    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    monkeypatch.setattr(decide, "_numeric_error", lambda *args: 0.5)  # a numeric side that disagrees
    verdict = js.check(x.T @ A @ x, x, "x.T @ (A + A.T)")
    assert verdict.ok is None and verdict.status == "undecided" and "0.5" in verdict.reason


#: printed marks the claim reader does not read yet, each one ClaimError line: a slice (W_o[1:k, :]),
#: an axis inside a printed form (mean(…, axis=1)), a ones matrix 1 1ᵀ, a window op's parameters
#: (unfold_3,1,0(X)), the inverse's superscript glyph (Σ⁻¹; X^{-1} and inv(X) are read), abs′, and the
#: printed sum of a signal, sum(δ₁) (read as LaTeX, s u m; sum(delta1) is read)
_UNREAD = ("[", "axis=", "1 1ᵀ", "fold_", "⁻¹", "⁻ᵀ", "abs′", "sum(δ")
_PRINTED_QUICK = ["one_layer.toml", "layer_norm.toml", "batch_norm.toml", "glu.toml"]
_PRINTED_ALL = sorted(p.name for p in Path("derivations").glob("*.toml") if not p.name.endswith(".context.toml"))


def _printed_forms_hold(name):
    bp = js.backprop(js.Model.from_toml(Path("derivations") / name))
    forms = {**bp.deltas, **bp.gradients}
    read = 0
    for wrt, form in forms.items():
        text = str(form)
        if any(mark in text for mark in _UNREAD):
            with pytest.raises(ClaimError) as err:
                js.check(bp, wrt, text)
            assert "\n" not in str(err.value)
            continue
        assert js.check(bp, wrt, text).ok is True, (wrt, text)
        read += 1
    wrt, form = next((w, f) for w, f in bp.gradients.items() if not any(m in str(f) for m in _UNREAD))
    assert js.check(bp, wrt, f"2 ({form})").ok is False  # a printed form changed is not certified
    return read


@pytest.mark.parametrize("name", _PRINTED_QUICK)
def test_what_it_prints_it_reads(name):
    # δ₂ᵀ xᵀ, (δ₁ U) ∘ ReLU′(z)ᵀ, 1ᵀ (δ₁ ∘ x̂), (2/d) diag(δ₂ᵀ) xc, gate: a printed form pasted back holds
    assert _printed_forms_hold(name) >= 3


@pytest.mark.exhaustive
@pytest.mark.parametrize("name", [n for n in _PRINTED_ALL if n not in _PRINTED_QUICK])
def test_what_it_prints_it_reads_on_every_model_file(name):
    assert _printed_forms_hold(name) >= 1


def test_printed_notation_is_translated_character_by_character():
    from jacobian_sym.claims.printed import to_latex

    assert to_latex("δ₂ᵀ xᵀ") == r"\delta_{2}^T x^T"
    assert to_latex("(ŷ − y)ᵀ") == r"(\hat{y} - y)^T"
    assert to_latex("1ᵀ (δ₁ ∘ gate)") == r"\mathbf{1}^T (\delta_{1}  \circ  \mathrm{gate})"
    assert to_latex("tanh″(W x) - 1/d x") == r"\operatorname{tanh}''(W x) - \frac{1}{d} x"
