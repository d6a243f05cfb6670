"""The notes' section 3, derived: the error signals and the five gradients, proved exactly."""


import pytest
import sympy as sp

from jacobian_sym.documents import model_files
from jacobian_sym.models.backprop import backprop
from jacobian_sym.models.model import Model
from jacobian_sym.proofs import pointwise
from jacobian_sym.proofs.model_proofs import verify_model


@pytest.fixture(scope="module")
def bp():
    return backprop(Model.from_toml("derivations/one_layer.toml"))


def _sym(bp, name):
    return bp.graph.symbol(bp.graph.node_named(name))


def test_signals_are_the_notes(bp):
    d1, d2 = bp.delta_symbols["delta_1"], bp.delta_symbols["delta_2"]
    assert list(bp.deltas) == ["delta_1", "delta_2"]
    assert bp.delta_nodes["delta_1"].name == "theta" and bp.delta_nodes["delta_2"].name == "z"
    d1_form = bp.deltas["delta_1"]
    assert isinstance(d1_form, sp.Transpose) and list(d1_form.arg.args) == [_sym(bp, "yhat"), -_sym(bp, "y")]
    d2_form = bp.deltas["delta_2"]
    assert isinstance(d2_form, sp.HadamardProduct) and d2_form.args[0] == d1 * _sym(bp, "U")
    assert bp.shapes["delta_2"] == d2.shape == (1, _sym(bp, "z").shape[0])


def test_gradients_are_the_notes(bp):
    d1, d2 = bp.delta_symbols["delta_1"], bp.delta_symbols["delta_2"]
    x, h, W = _sym(bp, "x"), _sym(bp, "h"), _sym(bp, "W")
    assert bp.gradients["U"] == d1.T * h.T
    assert bp.gradients["b2"] == d1.T
    assert bp.gradients["W"] == d2.T * x.T
    assert bp.gradients["b1"] == d2.T
    assert bp.gradients["x"] == sp.Transpose(d2 * W)


def test_denominator_layout(bp):
    den = backprop(bp.model, layout="denominator")
    d2 = den.delta_symbols["delta_2"]
    assert den.gradients["W"] == d2 * _sym(den, "x").T
    assert den.gradients["x"] == _sym(den, "W").T * d2


def test_justifications_point_at_identities(bp):
    whys = [s.why for s in bp.steps]
    assert any("identity (2.7)" in w for w in whys)
    assert any("identity (2.1)" in w and "identity (2.4)" in w for w in whys)


def test_exact_proof_of_the_whole_network(bp):
    report = verify_model(bp, sizes=[{"D_x": 3, "D_h": 4, "N_c": 2}])
    assert report.ok, str(report)
    names = [c.name for c in report.checks]
    assert sorted(n for n in names if n.startswith("exact")) == sorted(f"exact ∂J/∂{v}" for v in bp.gradients)
    assert sorted(n for n in names if n.startswith("fd")) == sorted(f"fd ∂J/∂{v}" for v in bp.gradients)


def test_a_wrong_gradient_is_caught(bp):
    wrong = backprop(bp.model)
    wrong.gradients["W"] = wrong.gradients["W"] * 2
    report = verify_model(wrong, sizes=[{"D_x": 2, "D_h": 3, "N_c": 2}])
    assert not report.ok


def test_points_proof_catches_a_wrong_gradient_and_a_wrong_signal(bp, monkeypatch):
    """The proof a deep model gets (random rational points, reverse accumulation): it passes the
    notes' network and fails a doubled gradient or a doubled error signal, each by its own check."""
    monkeypatch.setattr(pointwise, "MAX_EXACT_NONLINEAR", 0)
    sizes = [{"D_x": 2, "D_h": 3, "N_c": 2}]
    report = verify_model(bp, sizes=sizes)
    assert report.ok and any(c.name == "points ∂J/∂W" for c in report.checks), str(report)
    wrong = backprop(bp.model)
    wrong.gradients["W"] = wrong.gradients["W"] * 2
    failed = {c.name for c in verify_model(wrong, sizes=sizes).checks if not c.ok}
    assert "points ∂J/∂W" in failed and "points ∂J/∂U" not in failed
    wrong = backprop(bp.model)
    wrong.deltas["delta_2"] = wrong.deltas["delta_2"] * 2
    failed = {c.name for c in verify_model(wrong, sizes=sizes).checks if not c.ok}
    assert "points delta_2" in failed and "points delta_1" not in failed


MODELS = model_files()
#: whole proofs of these take from 10 s to minutes each: the exhaustive tier runs them (the quick tier
#: proves the notes' network in test_exact_proof_of_the_whole_network, and every model's forms at a
#: point in test_guard)
LONG_PROOFS = {"attention", "multi_head_attention", "transformer_block", "two_layer_mse", "one_layer", "residual"}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.exhaustive) if p.stem in LONG_PROOFS else p
                                  for p in MODELS], ids=[p.stem for p in MODELS])
def test_every_model_file_is_derived_and_proved(path):
    model = Model.from_toml(path)
    result = backprop(model)
    assert set(result.gradients) == set(model.wrt)
    report = verify_model(result)
    assert report.ok, str(report)


def test_residual_sums_both_paths():
    bp = backprop(Model.from_toml("derivations/residual.toml"))
    d1, d2 = bp.delta_symbols["delta_1"], bp.delta_symbols["delta_2"]
    W1, W2 = (bp.graph.symbol(bp.graph.node_named(n)) for n in ("W1", "W2"))
    grad = bp.gradients["x"]
    assert isinstance(grad, sp.Transpose) and set(grad.arg.args) == {d1 * W2, d2 * W1}


def test_a_weight_used_in_two_layers_gets_both_paths():
    text = """
[inputs]
x = ["n", 1]
[params]
W = ["n", "n"]
[forward]
h1 = "tanh(W @ x)"
h2 = "tanh(W @ h1)"
J  = "sum(h2)"
"""
    bp = backprop(Model.parse(text))
    assert verify_model(bp, sizes=[{"n": 2}], fd_sizes=[{"n": 6}]).ok
    assert isinstance(bp.gradients["W"], sp.MatAdd)


def test_logistic_regression_signal_is_p_minus_y():
    bp = backprop(Model.from_toml("derivations/logistic.toml"))
    p, y = (bp.graph.symbol(bp.graph.node_named(n)) for n in ("p", "y"))
    assert sp.simplify((bp.deltas["delta_1"] - (p - y)).as_explicit()) == sp.zeros(1, 1)


def test_batch_column_convention_gives_delta_transposed_x_transposed():
    bp = backprop(Model.from_toml("derivations/one_layer.toml").batched("B"))
    D2 = bp.delta_symbols["Delta_2"]
    X = bp.graph.symbol(bp.graph.node_named("x"))
    B = sp.Symbol("B", integer=True, positive=True)
    assert X.shape[1] == B and D2.shape[0] == B  # one row of Δ₂ per example
    assert bp.gradients["W"] == D2.T * X.T
    report = verify_model(bp, sizes=[{"B": 2, "D_x": 2, "D_h": 2, "N_c": 2}],
                          fd_sizes=[{"B": 5, "D_x": 4, "D_h": 6, "N_c": 3}])
    assert report.ok, str(report)


def test_batch_row_convention():
    bp = backprop(Model.from_toml("derivations/row_softmax.toml").batched())
    D1 = bp.delta_symbols["Delta_1"]
    yhat, y, x = (bp.graph.symbol(bp.graph.node_named(n)) for n in ("yhat", "y", "x"))
    assert set(bp.deltas["Delta_1"].args) == {yhat, -y}  # one-hot along the class axis survives batching
    assert bp.gradients["W"] == x.T * D1
    report = verify_model(bp, sizes=[{"B": 2, "D_x": 3, "N_c": 2}], fd_sizes=[{"B": 4, "D_x": 5, "N_c": 3}])
    assert report.ok, str(report)


def test_shape_table_is_the_notes_dimension_check(bp):
    lhs, factors = bp.shape_table["delta_2"]
    D_h, N_c = (sp.Symbol(s, integer=True, positive=True) for s in ("D_h", "N_c"))
    assert lhs == (1, D_h)
    assert [f if f == "∘" else f[1] for f in factors] == [(1, N_c), (N_c, D_h), "∘", (1, D_h)]


def test_public_api(bp):
    import jacobian_sym as js

    again = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    assert again.gradients == bp.gradients
    assert js.verify(again, sizes=[{"D_x": 2, "D_h": 2, "N_c": 2}]).ok
