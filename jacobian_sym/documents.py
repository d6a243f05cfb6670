"""The rendered documents kept in ``derivations/``: one per model file, and the notes as a whole."""

from __future__ import annotations

from pathlib import Path

from .backprop import backprop
from .derive import derive
from .files import write_atomic
from .identities import IDENTITIES
from .model import Model
from .render import notes_document, notes_markdown, render_backprop_latex

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
        out[path.with_suffix(".md")] = render_backprop_latex(bp, display="$$")
    notes_model = folder / NOTES_MODEL
    if notes_model.exists():
        derivations = [derive(section) for section in IDENTITIES]
        bp = backprop(Model.from_toml(notes_model))
        out[folder / "notes.tex"] = notes_document(derivations, bp)
        out[folder / "notes.md"] = notes_markdown(derivations, bp)
        from .errata import audit
        from .render import errata_markdown

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
