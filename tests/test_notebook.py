"""A real notebook: docs/tutorial.ipynb runs under nbclient + ipykernel, every result shows its rich
displays (MIME types asserted per cell), and every piece of math in them typesets in MathJax 3."""

import difflib
import re
from pathlib import Path

import pytest
from typeset import math_blocks, mathjax_errors

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"

#: what each code cell must show, in order (the set of MIME types of its result)
EXPECTED = [
    set(),                                           # imports
    {"text/plain", "text/markdown", "text/latex"},   # a Derivation
    {"text/plain", "text/latex"},                    # its closed form
    {"text/plain", "text/markdown", "text/latex"},   # a Backprop
    {"text/plain", "text/markdown", "text/latex"},   # its deltas
    {"text/plain", "text/markdown"},                 # a Verdict that holds
    {"text/plain", "text/markdown"},                 # a Verdict that does not
    {"text/plain", "text/markdown"},                 # a Link of the notes' audit
    {"text/plain", "text/markdown"},                 # an AuditReport
    {"text/plain", "text/markdown"},                 # a Kernel
    {"text/plain", "text/markdown"},                 # a Gradcheck
    {"text/plain", "text/markdown"},                 # a Report
    {"text/plain", "text/markdown", "text/latex"},   # a Hessian
    {"text/plain", "text/latex"},                    # its closed form
]


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


def _results(nb):
    out = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            data = {}
            for o in cell.outputs:
                assert o.output_type != "error", f"{cell.source[:60]!r}: {o.get('ename')}: {o.get('evalue')}"
                data.update(o.get("data", {}))
            out.append((cell.source, data))
    return out


def test_every_cell_shows_its_rich_display(executed):
    results = _results(executed)
    assert len(results) == len(EXPECTED)
    for (source, data), mime in zip(results, EXPECTED):
        assert set(data) == mime, f"{source!r}: {sorted(data)}"
    for source, data in results:
        plain = data.get("text/plain", "")
        for leak in ("Lambda", "_prime", "OpApply", "HadamardProduct", "Verdict(ok="):
            assert leak not in plain, f"{source!r}: {leak} in {plain[:200]}"


def test_the_notebooks_math_typesets_in_mathjax(executed):
    blocks = []
    for _, data in _results(executed):
        for mime in ("text/latex", "text/markdown"):
            if mime in data:
                blocks += math_blocks(data[mime])
    assert len(blocks) > 10
    errors = mathjax_errors(blocks)
    bad = [(tex[:100], err) for (tex, _), err in zip(blocks, errors) if err]
    assert not bad, bad[:3]


def test_the_committed_notebook_carries_its_outputs():
    """GitHub shows the committed file: it must hold the outputs a run gives (regenerate with
    ``python scripts/run_notebook.py``)."""
    committed = _results(nbformat.read(NOTEBOOK, as_version=4))
    assert [set(d) for _, d in committed] == EXPECTED


#: what differs between two runs of the same code: timings, memory addresses, round-off-sized errors
VOLATILE = [
    (re.compile(r"\d+(\.\d+)?(e[-+]?\d+)? ?(s|ms|µs)\b"), "<time>"),
    (re.compile(r"0x[0-9a-f]+"), "<address>"),
    (re.compile(r"rel\. error \d\.\de-(0[6-9]|[1-9]\d)"), "rel. error <round-off>"),
    # a proof table's error column: finite differences' round-off differs with the BLAS build
    (re.compile(r"\| \d\.\de-(0[6-9]|[1-9]\d) \|"), "| <round-off> |"),
]


def normalised(text: str) -> str:
    for pattern, stand_in in VOLATILE:
        text = pattern.sub(stand_in, text)
    return text


def _texts(nb) -> list:
    """Each code cell's text outputs (plain text and Markdown of its results, its printed streams)."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for o in cell.outputs:
            if o.output_type == "stream":
                texts.append(normalised(o.text))
            for mime in ("text/plain", "text/markdown"):
                if mime in o.get("data", {}):
                    texts.append(normalised(o["data"][mime]))
        out.append((cell.source, texts))
    return out


def test_normalised_masks_only_what_varies_between_runs():
    line = "audit of x.md (0.3 s)  links found 25  rel. error 3.1e-10  at 0x7f3a  rel. error 2.0e-01"
    assert normalised(line) == ("audit of x.md (<time>)  links found 25  rel. error <round-off>  at <address>"
                                "  rel. error 2.0e-01")


def test_the_committed_outputs_are_a_fresh_runs(executed):
    """The committed file's text outputs are those of a fresh run, cell by cell (regenerate with
    ``python scripts/run_notebook.py``)."""
    committed = _texts(nbformat.read(NOTEBOOK, as_version=4))
    fresh = _texts(executed)
    assert [s for s, _ in committed] == [s for s, _ in fresh]
    for (source, old), (_, new) in zip(committed, fresh):
        diff = difflib.unified_diff("\n".join(old).splitlines(), "\n".join(new).splitlines(), "committed",
                                    "fresh", n=0, lineterm="")
        assert old == new, f"{source[:60]!r}: the committed output differs from a fresh run (run " \
                           f"python scripts/run_notebook.py):\n" + "\n".join(list(diff)[:12])
