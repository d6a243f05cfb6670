"""The readability benchmark's references are right, and the forms it measures stay textbook-sized.

Each row of ``benchmarks/readability.py`` writes a textbook form twice, as printed and as a claim; the
claim must hold (``js.check``: symbolic and numeric sides agree), or the row measures nothing. The
rows that met both targets when the benchmark was written must go on meeting them.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

import jacobian_sym as js

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("readability", ROOT / "benchmarks" / "readability.py")
readability = importlib.util.module_from_spec(_spec)
sys.modules["readability"] = readability  # a dataclass looks its module up there
_spec.loader.exec_module(readability)

#: rows that miss a target: a normalisation's ∂J/∂X against the one-term textbook form (the tool
#: writes the staged form, three terms through the variance and the mean), by model and textbook
#: form: the others must keep meeting both
MISSED = {("layer_norm.toml", "r ∘ (G − mean(G) − x̂ ∘ mean(G ∘ x̂)), G = δ₁ ∘ g"),
          ("batch_norm.toml", "(r/B) ∘ (BG − 1ᵀG − x̂ ∘ 1ᵀ(G ∘ x̂)), G = δ₁ ∘ g"),
          ("rmsnorm.toml", "r ∘ (G − X ∘ r² ∘ mean(G ∘ X)), G = δ₁ ∘ g")}


@pytest.fixture(scope="module")
def results():
    return readability.measure()


def test_every_textbook_reference_holds(results):
    broken = [(r["row"].model, r["row"].quantity, r["holds"]) for r in results if r["holds"] is not True]
    assert not broken


def test_rows_that_met_the_targets_still_do(results):
    regressed = [(r["row"].model, r["row"].quantity, r["derived"]) for r in results
                 if (r["row"].model, r["row"].textbook) not in MISSED and not readability.meets(r)]
    assert not regressed


@pytest.mark.parametrize("text, count", [("a − b", 2), ("−a + b", 2), ("(a − b)ᵀ", 1), ("x^−2 y", 1),
                                         ("r ∘ (G − mean(G)), G = δ₁ − g", 1), ("a ∘ −b", 1)])
def test_terms_are_counted_at_the_top_level(text, count):
    assert readability.terms(text) == count


def test_a_gate_signal_is_written_through_the_gate_it_feeds():
    """σ′(x W_z + h U_z) of an unnamed argument reads z ∘ (1 − z) where z = σ(…) is a named line; the
    forms are proved against central differences of the pointwise truth by ``js.verify``."""
    bp = js.backprop(js.Model.from_toml(ROOT / "benchmarks" / "models" / "gru_step.toml"))
    printed = {name: str(form) for name, form in bp.deltas.items()}
    assert not any("′" in text for text in printed.values()), printed
    assert js.verify(bp).ok
