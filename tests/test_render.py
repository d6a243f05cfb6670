"""Rendering: LaTeX in the notes' notation, Markdown, text; the documents are up to date and compile."""

import os
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli
from jacobian_sym.documents import expected, expected_paths, model_files
from jacobian_sym.render import compose as render


@pytest.fixture(scope="module")
def bp():
    return js.backprop(js.Model.from_toml("derivations/one_layer.toml"))


def test_backprop_latex_reads_like_the_notes(bp):
    tex = bp.latex()
    for piece in (r"\frac{\partial J}{\partial W} &= \frac{\partial J}{\partial z} \frac{\partial z}{\partial W}",
                  r"&= \delta_{2}^{T} x^{T} \tag*{using identity (2.5)}", r"\delta_{1}", r"\hat{y}", r"\theta",
                  r"\circ", r"\operatorname{ReLU}'", r"\begin{align*}", r"\begin{array}", r"\dfrac"):
        assert piece in tex, piece
    assert r"&= \left(\delta_{2} W\right)^{T}" in tex
    assert "\\\\\n\\end{align*}" not in tex  # no empty last row (it adds a line of space)


def test_diag_and_sums_over_one_to_n():
    tex = js.derive("2.4-relu").latex()
    assert r"\operatorname{diag}(\operatorname{ReLU}'(x))" in tex
    assert r"\sum_{l=1}^{m} W_{kl} x_{l}" in js.derive("2.5").latex()


def test_markdown_has_headings_and_one_environment_per_display(bp):
    for text in (render.render_markdown(js.derive("2.7")), render.render_backprop_markdown(bp)):
        assert text.startswith("# ") and text.count("$$") % 2 == 0 and text.count("$$") >= 2
        for block in text.split("$$")[1::2]:
            assert block.count(r"\begin{") == 1, block


def test_text_is_unicode(bp):
    text = render.render_backprop_text(bp)
    assert "= δ₂ᵀ xᵀ    [using identity (2.5)]" in text and "ReLU′(z)" in text
    assert "∂J/∂θ = ŷ - y" in str(js.derive("2.7")) or "∂J/∂θ = (ŷ - y)ᵀ" in str(js.derive("2.7"))


def test_jupyter_reprs(bp):
    for result in (js.derive("2.5"), bp):
        assert result._repr_latex_().startswith("$$") and "**" not in result._repr_latex_()
        assert result._repr_markdown_().startswith("#### ")


@pytest.mark.exhaustive  # (the quick tier runs the README's `jacobian-sym render --check`)
def test_documents_are_up_to_date():
    documents = expected()
    assert list(documents) == expected_paths()  # what the page tests are collected over, without rendering
    out_of_date = [p for p, text in documents.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not out_of_date, f"run 'jacobian-sym render': {out_of_date}"


@pytest.mark.exhaustive
def test_render_check_detects_a_stale_document(tmp_path):
    for p in model_files():
        shutil.copy(p, tmp_path / p.name)
    runner = CliRunner()
    assert runner.invoke(cli, ["render", "--folder", str(tmp_path)]).exit_code == 0
    assert runner.invoke(cli, ["render", "--check", "--folder", str(tmp_path)]).exit_code == 0
    (tmp_path / "one_layer.md").write_text("edited by hand\n")
    result = runner.invoke(cli, ["render", "--check", "--folder", str(tmp_path)])
    assert result.exit_code == 1 and "one_layer.md" in result.output


def _pdflatex():
    exe = shutil.which("pdflatex")
    if exe is None and os.environ.get("CI"):
        pytest.fail("pdflatex is missing on CI: .ci/run installs texlive-latex-base and texlive-latex-recommended")
    if exe is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    return exe


@pytest.mark.parametrize("path", sorted(p for p in expected_paths() if p.suffix == ".tex"), ids=lambda p: p.stem)
def test_every_standalone_document_compiles(path, tmp_path):
    exe = _pdflatex()
    (tmp_path / "doc.tex").write_text(path.read_text())
    proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    errors = [ln for ln in log.splitlines() if ln.startswith("!")]
    assert proc.returncode == 0 and not errors, errors[:3]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    # no line runs off the page (a few points over the margin are invisible; a wide array is not)
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)]
    assert all(w < 10 for w in overfull), f"{path.name}: lines wider than the page by {overfull} pt"


def test_derive_pdf(tmp_path):
    _pdflatex()
    out = tmp_path / "one_layer.pdf"
    result = CliRunner().invoke(cli, ["derive", "derivations/one_layer.toml", "--standalone", "--pdf", str(out)])
    assert result.exit_code == 0 and out.read_bytes().startswith(b"%PDF")


def test_derive_pdf_without_pdflatex_says_how_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing on PATH: no pdflatex
    proc = subprocess.run([sys.executable, "-m", "jacobian_sym", "derive", "2.5", "--pdf", str(tmp_path / "x.pdf")],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "apt-get install texlive-latex-base" in proc.stderr
    assert "Traceback" not in proc.stderr
