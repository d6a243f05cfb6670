"""Every intermediate uₖ and every error signal δₖ a model's page names is defined on that page: a
uₖ by a line of the forward pass, a δₖ by the line of the error signals that starts with it. The pages
are rendered from the engine's backprop (the page is the same; the proofs before return are another
test's)."""

import re
from pathlib import Path

import pytest

from jacobian_sym.documents import model_files
from jacobian_sym.models.backprop import backprop
from jacobian_sym.models.model import Model
from jacobian_sym.render.compose import render_backprop_text

ROOT = Path(__file__).resolve().parent.parent
MODELS = [*model_files(ROOT / "derivations"), *sorted((ROOT / "benchmarks" / "models").glob("*.toml")),
          *sorted((ROOT / "tests" / "regressions").glob("*.toml"))]
NAMED = re.compile(r"[uδ][₀₁₂₃₄₅₆₇₈₉]+")


def _section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next((k for k in range(start, len(lines)) if lines[k] and not lines[k].startswith(" ")), len(lines))
    return lines[start:end]


def defined(text: str) -> set[str]:
    """The names a page defines: left-hand sides in its forward pass and its error signals."""
    rows = _section(text, "Forward pass") + _section(text, "Error signals")
    return {m.group(1) for line in rows if (m := re.match(r"\s+(\S+) = ", line))}


def test_defined_reads_left_hand_sides_only():
    page = "T\n\nForward pass\n  u₂ = ms + 1\n  r = rsqrt(u₃)\n\nError signals\n  δ₁ = ∂J/∂u₄ = x\n"
    assert defined(page) == {"u₂", "r", "δ₁"}
    assert set(NAMED.findall(page)) - defined(page) == {"u₃", "u₄"}


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_every_named_signal_is_defined_on_the_page(path):
    text = render_backprop_text(backprop(Model.from_toml(path)))
    missing = sorted(set(NAMED.findall(text)) - defined(text))
    assert not missing, f"{path.name}: {', '.join(missing)} named but not defined on the page"
