"""A real notebook: docs/tutorial.ipynb runs under nbclient + ipykernel, every result shows its rich
displays (MIME types asserted per cell), and every piece of math in them typesets in MathJax 3."""

from pathlib import Path

import pytest
from typeset import math_blocks, mathjax_errors

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path("docs/tutorial.ipynb")

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
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
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
