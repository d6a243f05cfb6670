"""The rendered documents kept in ``derivations/``: one per model file, and the notes as a whole."""

from __future__ import annotations

from pathlib import Path

from jacobian_sym.base.files import write_atomic
from jacobian_sym.claims.errata import audit
from jacobian_sym.models.backprop import backprop
from jacobian_sym.models.model import Model
from jacobian_sym.notes.identities import IDENTITIES, derive
from jacobian_sym.render.compose import (
    errata_markdown,
    notes_document,
    notes_markdown,
    render_backprop_latex,
    render_backprop_markdown,
)

NOTES_MODEL = "one_layer.toml"


def model_files(folder="derivations") -> list[Path]:
    return sorted(Path(folder).glob("*.toml"))


def expected(folder="derivations") -> dict[Path, str]:
    """Every document's path and the text it must have (deterministic)."""
    folder = Path(folder)
    out = {}
    for path in model_files(folder):
        bp = backprop(Model.from_toml(path))
        out[path.with_suffix(".tex")] = render_backprop_latex(bp, standalone=True)
        out[path.with_suffix(".md")] = render_backprop_markdown(bp)
    notes_model = folder / NOTES_MODEL
    if notes_model.exists():
        derivations = [derive(section) for section in IDENTITIES]
        bp = backprop(Model.from_toml(notes_model))
        out[folder / "notes.tex"] = notes_document(derivations, bp)
        out[folder / "notes.md"] = notes_markdown(derivations, bp)
        findings = audit()
        out[folder / "errata.md"] = errata_markdown([f for f in findings if not f.ok], len(findings))
    return out


def stale(folder="derivations") -> list[Path]:
    """Documents that are missing or differ from what the engine renders now."""
    return [p for p, text in expected(folder).items() if not p.exists() or p.read_text(encoding="utf-8") != text]


def write(folder="derivations") -> list[Path]:
    written = []
    for path, text in expected(folder).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            written.append(path)
    return written
