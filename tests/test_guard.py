"""A closed form is right or refused: every form the API returns was checked against the truth at a
random rational point (``proofs/guard.py``). Planted wrong forms — the kinds of error a recogniser
makes: a sign, a scale, a transpose, a dropped term, a swapped factor — must each be refused."""

import copy
from pathlib import Path

import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.engine import derive as engine_derive
from jacobian_sym.engine import second as engine_second
from jacobian_sym.models.backprop import backprop as unchecked_backprop
from jacobian_sym.proofs.guard import MAX_TERMS, checked

MODELS = sorted(p for p in Path("derivations").glob("*.toml") if not p.name.endswith(".context.toml"))


def _mutants(form, symmetric=False):
    """Wrong forms of the same shape made from a right one (a Hessian is its own transpose)."""
    out = [-form, 2 * form, sp.Rational(1, 2) * form]
    if form.shape[0] == form.shape[1] and form.shape != (1, 1) and not symmetric:
        out.append(form.T)
    if isinstance(form, sp.MatAdd):
        out += [sp.MatAdd(*form.args[1:]), sp.MatAdd(*form.args, form.args[0])]
    if isinstance(form, sp.MatMul):
        mats = [a for a in form.args if isinstance(a, sp.MatrixExpr)]
        if len(mats) == 2 and mats[0].shape == mats[1].shape[::-1] == mats[1].shape:
            out.append(sp.MatMul(mats[1], mats[0]))
    return out


def test_every_model_file_is_checked_before_it_is_returned():
    for path in MODELS:
        bp = js.backprop(js.Model.from_toml(path))
        assert "checked" in bp.form_check, path


@pytest.mark.parametrize("path", ["derivations/one_layer.toml", "derivations/layer_norm.toml",
                                  "derivations/residual.toml"])
def test_a_planted_wrong_form_is_refused(path):
    right = unchecked_backprop(js.Model.from_toml(path))
    planted = 0
    for table in ("gradients", "deltas"):
        for name, form in getattr(right, table).items():
            for wrong in _mutants(form):
                bp = copy.copy(right)
                setattr(bp, table, {**getattr(right, table), name: wrong})
                bp.form_check = None
                with pytest.raises(js.ClosedFormError, match="is wrong, so it is not returned"):
                    checked(bp)
                planted += 1
    assert planted >= 10


def _refuses_its_mutants(d):
    """``d`` passes the check, and each wrong form planted in a copy of it is refused."""
    assert checked(d) is d and d.form_check
    for wrong in _mutants(d.closed_form, symmetric=d.kind == "hessian"):
        bad = copy.copy(d)
        bad.closed_form, bad.form_check = wrong, None
        with pytest.raises(js.ClosedFormError):
            checked(bad)


def test_a_planted_wrong_gradient_of_an_expression_is_refused():
    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    _refuses_its_mutants(engine_derive.gradient(x.T @ A @ x, x))


def test_planted_wrong_second_order_forms_are_refused():
    x, B = js.vector("x", "n"), js.matrix("B", "n", "n")
    W, X, V = js.matrix("W", "d", "k"), js.matrix("X", "N", "d"), js.matrix("V", "d", "k")
    for d in (engine_second.hessian(x.T @ B @ x, x),
              engine_second.hessian(js.sum(js.tanh(B @ x)), x),
              engine_second.hvp(js.sum(js.square(X @ W)), W, V)):
        _refuses_its_mutants(d)


def test_the_public_functions_return_checked_results():
    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    V = js.vector("V", "n")
    for result in (js.gradient(x.T @ A @ x, x), js.jacobian(A @ x, x), js.hessian(x.T @ A @ x, x),
                   js.hvp(x.T @ A @ x, x, V), js.jvp(js.tanh(A @ x), x, V), js.derive("2.5"), js.derive("2.7")):
        assert result.form_check.startswith("closed form checked at"), result.title


def test_a_check_beyond_its_budget_is_refused_before_any_work():
    x, W = js.vector("x", 3000), js.matrix("W", 3000, 3000)
    with pytest.raises(js.SizeError, match=f"limit {MAX_TERMS}"):
        js.gradient(js.sum(js.tanh(W @ x)), W)
