"""Every identity of the notes, derived and proved three ways, in both layouts."""

import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.proofs.explicit import Explicit, concrete_sizes

SECTIONS = list(js.IDENTITIES)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("section", SECTIONS)
def test_identity_is_proved(section, layout):
    d = js.derive(section, layout=layout)
    report = js.verify(d)
    assert report.ok, str(report)
    names = [c.name for c in report.checks]
    assert names.count("exact") >= 2 and "numeric" in names and "finite differences" in names
    exact_sizes = [c.sizes for c in report.checks if c.name == "exact"]
    assert all(len(set(s.values())) == len(s) for s in exact_sizes)  # distinct sizes: non-square


def _equal_at_concrete_sizes(derivation, claim):
    """The claim (a matrix expression over the derivation's symbols) equals the closed form."""
    for sizes in concrete_sizes(derivation):
        ex = Explicit(derivation, sizes)
        mapping = {k: sp.ImmutableMatrix(v) for k, v in ex.values.items() if isinstance(v, sp.MatrixBase)}
        mapping.update(sizes)
        value = sp.Matrix(claim.xreplace(mapping).doit().as_explicit())
        if (value - ex.closed()).applyfunc(sp.simplify) != sp.zeros(*value.shape):
            return False
    return True


def _symbols(d):
    out = {s.name: s for s in d.closed_form.atoms(sp.MatrixSymbol)}
    if d.upstream is not None:
        out["delta"] = d.upstream
    return out


# The notes' stated forms as claims (checked, never fed to the engine).
CLAIMS = {
    "2.1": lambda s: s["W"],
    "2.2": lambda s: s["W"].T,
    "2.5": lambda s: s["delta"].T * s["x"].T,
    "2.6": lambda s: s["x"].T * s["delta"],
    "2.7": lambda s: (s["yhat"] - s["y"]).T,
    "2.7-softmax": lambda s: sp.DiagMatrix(s["yhat"]) - s["yhat"] * s["yhat"].T,
}


@pytest.mark.parametrize("section", sorted(CLAIMS))
def test_closed_form_is_the_notes_form(section):
    d = js.derive(section)
    assert _equal_at_concrete_sizes(d, CLAIMS[section](_symbols(d)))


def test_2_5_prints_the_outer_product():
    cf = js.derive("2.5").closed_form
    assert str(cf) == repr(cf) == "δᵀ xᵀ"
    assert str(js.derive("2.5", layout="denominator").closed_form) == "δ xᵀ"


def test_identity_and_diagonal_forms():
    assert js.derive("2.3").closed_form == sp.Identity(sp.Symbol("n", integer=True, positive=True))
    for section in ("2.4", "2.4-relu", "2.4-sigmoid", "2.4-tanh"):
        assert isinstance(js.derive(section).closed_form, sp.DiagMatrix), section


def test_steps_are_index_equations_in_order():
    d = js.derive("2.5")
    whys = [s.why for s in d.steps]
    assert whys[0].endswith("in index notation")
    assert "differentiate" in whys[1] and "chain rule" in whys[2] and "closed form" in whys[-1]
    assert all(isinstance(s.lhs, sp.Basic) and isinstance(s.rhs, sp.Basic) for s in d.steps)


def test_a_wrong_closed_form_fails_every_proof():
    d = js.derive("2.5")
    d.closed_form = d.closed_form.T.T * 1  # same
    assert js.verify(d).ok
    d.closed_form = 2 * d.closed_form
    report = js.verify(d)
    assert not any(c.ok for c in report.checks), str(report)


def test_a_transposed_or_negated_closed_form_fails():
    d = js.derive("2.6")
    d.closed_form = d.closed_form.T
    assert not js.verify(d, sizes=[{"m": 3, "n": 3}]).ok  # square, so only the values can tell
    d2 = js.derive("2.7-softmax")
    d2.closed_form = -d2.closed_form
    assert not js.verify(d2).ok
