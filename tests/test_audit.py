"""The audit of whole documents: planted errors found, correct lines left alone, the notes' errata
found on their own, bad input reported per link, and every report shown by what shows it."""

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.audit import verdicts as A
from jacobian_sym.audit.errata import NOTES, audit_claims, notes_text
from jacobian_sym.claims import latex
from jacobian_sym.cli import cli
from tests.typeset import math_blocks, mathjax_errors, pdflatex_errors

HERE = Path(__file__).parent / "audit"


def line_of(text: str, needle: str) -> int:
    """The 1-based line where ``needle`` (unique in ``text``) starts."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


# Each planted error: a piece of its line, and the words its reason must have.
PLANTED = {
    "least_squares.md": [
        (r"= 2 r_i", "wrong scale"),
        (r"X_{2n} w_n", "lies outside X"),
        (r"\sum_{i=1}^{d} r_i X_{ij}", "summation range"),
        (r"\partial y} = r^T", "wrong sign"),
        (r"= x \delta", "missing transpose"),
        (r"W_{1h}", "index range"),
        (r"\frac{\partial a_i}{\partial x_j} = \left", "case i ≠ j is wrong"),
    ],
    "logistic_sections.md": [
        (r"\partial z} = p + y", "mismatch"),
        (r"\partial w} = X (p - y)", "no value: a product"),
    ],
    "ridge_sections.md": [
        (r"\partial w} = X r$$", "no value: a product"),
        (r"+ 2 \lambda w", "mismatch"),
    ],
    "scalar_homework.md": [
        (r"\partial b} = 2 (z - y)", "wrong scale"),
        (r"\partial z} = z$$", "wrong scale"),
    ],
    "hidden_layer.tex": [
        (r"s_k (1 + s_k)", "mismatch"),
        (r"= s_k (1 - s_k) x_k", "past the end"),
        (r"\partial x} = W^T", "missing transpose"),
        (r"= y_i - \hat{y}_i", "wrong sign"),
    ],
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_every_planted_error_is_found_and_no_correct_line_is_a_wrong_value(name):
    path = HERE / name
    text = path.read_text(encoding="utf-8")
    report = js.audit(path)
    expected = {line_of(text, needle): words for needle, words in PLANTED[name]}
    failing = {link.line: link for link in report.failing}
    assert set(failing) == set(expected), report.summary()
    for line, words in expected.items():
        assert words in failing[line].reason, (line, failing[line].reason)
    assert report.decided >= len(report.links) - 2  # only the lines written to be unreadable are left


def test_definitions_hold_in_the_sections_after_them():
    # the same homework with its section headings blanked out (one section, same line numbers):
    # the same lines are wrong values, whatever the sections (the ridge homework needs its sections:
    # it defines J again)
    text = (HERE / "logistic_sections.md").read_text(encoding="utf-8")
    flat = "\n".join("" if line.startswith("## ") else line for line in text.splitlines()) + "\n"
    sectioned, one = js.audit(text), js.audit(flat)
    assert sectioned.decided == len(sectioned.links) and one.decided == len(one.links)
    assert [f.line for f in sectioned.failing] == [f.line for f in one.failing] != []


def test_a_section_that_defines_a_name_again_says_so():
    report = js.audit(HERE / "ridge_sections.md")
    again = [d for d in report.definitions if "defines J again" in d.reason]
    assert len(again) == 1 and "Setup" in again[0].reason and again[0].section == "With a ridge term"


def test_an_earlier_sections_meaning_that_does_not_fit_is_silence_not_a_wrong_value(notes):
    # the notes' §2.7 writes ŷ = softmax(x) and never defines x (θ is meant): §2.5's x, m×1, does not
    # fit beside §2.7's own ŷ of size N; that is undecided, as it was before sections carried over
    links = [link for link in notes.links if link.section == "§2.7" and "softmax}(x)" in link.text]
    assert links and all(link.verdict == A.UNDECIDABLE and "does not fit here" in link.reason for link in links)


def test_a_wrong_value_comes_with_a_counterexample_or_the_derived_form():
    report = js.audit(HERE / "least_squares.md")
    for link in report.failing:
        assert link.counterexample or link.corrected or "index range" in link.reason, link
    sign = next(link for link in report.failing if "sign" in link.reason)
    assert sign.corrected == "∂J/∂y = -rᵀ"  # derived by the engine from r = Xw − y and J = ½ Σ r_i²


# ----- the notes -----
@pytest.fixture(scope="module")
def notes():
    return js.notes_audit()


# the notes' errors, each by a piece of the line its link starts on (found on their own: no list of
# statements is encoded anywhere)
NOTES_ERRORS = {
    r"W_{12} &{\cdots} & W_{1n} \end{array}\right]$ (see": "index range",
    r"= \sum \limits_{k=1}^m \delta_k": "summation range",
    r"&= -y_i(1-\hat{y}_i) - \sum \limits_{k \neq i} y_k \hat{y}_i": "mismatch",
    r"will always be": "mismatch",
    r"\frac{\partial e^{\theta_j}}{\partial e^{\theta_j}} = e^{\theta_j}": "mismatch",
    r"\frac{\partial g(x)}{\partial e^{\theta_j}}": "case i = j is wrong",
    r"{\frac{\partial J}{\partial W} = \frac{\partial J}{\partial z}\frac{\partial z}{\partial b_1}":
        "rest of the chain is ∂J/∂b₁",
    r"make $\sum \limits_{l=1}^m x_l = x_j$": "mismatch",
}
ROW_CIRC_COLUMN = [r"= \delta_1 U ◦ \text{ReLU}'(z)}", r"= \delta_1 U ◦ \text{sng}(h)}"]


def test_the_notes_errors_are_found_on_their_own(notes):
    text = notes_text()
    failing = {}
    for link in notes.failing:
        failing.setdefault(link.line, []).append(link.reason)
    for needle, words in NOTES_ERRORS.items():
        line = line_of(text, needle)
        assert any(words in r for r in failing.get(line, [])), (line, words, failing.get(line))
    assert len(notes.failing) == len(NOTES_ERRORS)  # and no other line is called a wrong value


def test_the_hand_picked_errata_are_all_found_by_the_audit(notes):
    """NOTES_CLAIMS, picked and encoded by hand, earns its place as a cross-check: the 7 statements it
    finds wrong, the audit finds on its own — 5 as wrong values, §3's δ₁U ∘ ReLU′(z) (a row ∘ a column)
    twice as notation, which is what it is."""
    assert len([f for f in audit_claims() if not f.ok]) == 7
    text = notes_text()
    failing = {link.line for link in notes.failing}
    for needle in list(NOTES_ERRORS)[:5] + list(NOTES_ERRORS)[6:7]:
        assert line_of(text, needle) in failing, needle
    notation = {link.line for link in notes.links if link.verdict == A.NOTATION
                and any("row ∘ a column" in n for n in link.notation)}
    assert {line_of(text, needle) for needle in ROW_CIRC_COLUMN} <= notation


def test_the_notes_counts_and_what_was_not_decided(notes):
    assert len(notes.links) >= 110 and notes.decided >= 100
    assert notes.count(A.NOTATION) >= 10  # the notes' conventions (a row ∘ a column, ∂J/∂θ = its element i)
    reasons = " ".join(link.reason for link in notes.links if link.verdict == A.UNDECIDABLE)
    assert "the reader cannot read it" in reasons  # f(x_1; …; x_) in §1.1
    assert "x is not defined in §2.7" in reasons  # ŷ = softmax(x): x is nowhere in §2.7


def test_context_is_scoped_by_section(notes):
    """z is Wx in §2.1 and §2.5, xW in §2.2 and §2.6, x itself in §2.3, and Wx + b₁ in §3."""
    held = {(link.section, link.line) for link in notes.links if link.verdict in (A.HOLDS, A.NOTATION)}
    text = notes_text()
    assert ("§2.2", line_of(text, r"\frac{\partial z}{\partial x} = W^T")) in held
    assert ("§2.3", line_of(text, r"\frac{\partial z}{\partial x} = \boldsymbol{I}")) in held
    assert ("§2.6", line_of(text, r"we can get $\frac{\partial J}{\partial W} = x^T \delta$")) in held


# ----- the reader -----
@pytest.mark.parametrize("text, kind", [
    (r"\sum\limits_{k=1}^{n} W_{kl} x_k", "sum"),
    (r"\frac{\partial J}{\partial W_{ij}}", "deriv"),
    (r"\frac{\partial}{\partial x_j} \sum_k W_{ik} x_k", "deriv"),
    (r"\left( \hat{y} - y \right)^T", "T"),
    (r"\delta_1 U \circ \operatorname{ReLU}'(z)", "hadamard"),
    (r"a \odot b", "hadamard"),
    (r"-\hat{y}_i \cdot \hat{y}_k", "neg"),
    (r"\text{diag}(f'(x))", "call"),
    (r"\left\{\begin{array}{ll} 1 & \text{if } k=i \ \text{and} \ l=j \\ 0 & \text{otherwise} \end{array}\right.",
     "cases"),
    (r"\begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}", "cases"),
    (r"\left[\begin{array}{ccc} W_{11} & \cdots & W_{1m} \end{array}\right]", "matrix"),
    (r"(\frac{\partial z}{\partial x})_{ij}", "elem"),
    (r"e^{\theta_j}", "call"),
    (r"\frac{1}{2}", "frac"),
    (r"W_{i,j}", "sym"),
])
def test_the_reader_reads_what_lecture_notes_write(text, kind):
    assert latex.read(text)[0] == kind


def test_subscripts_with_several_indices():
    assert latex.read(r"W_{kl}") == ("sym", "W", ("k", "l"), 1)
    assert latex.read(r"W_{1m}")[2] == ("1", "m")
    assert latex.read(r"\hat{y}_k")[1:3] == ("yhat", ("k",))


@pytest.mark.parametrize("text, words", [
    (r"\frac{\partial J}{\partial \theta", "unbalanced braces"),
    (r"\begin{weird} a \end{weird}", "environment 'weird'"),
    (r"x +", "expected a term"),
])
def test_unreadable_math_is_an_error_with_its_column(text, words):
    with pytest.raises(latex.LatexError, match=words):
        latex.read(text)


# ----- bad input -----
def test_bad_math_in_a_document_is_one_undecidable_link_and_the_audit_goes_on(tmp_path):
    doc = tmp_path / "bad.md"
    doc.write_text("# 1. Bad\n\nLet $W \\in \\mathbb{R}^{n \\times m}$ and $x \\in \\mathbb{R}^{m}$, $z = Wx$.\n\n"
                   "$$\n\\frac{\\partial z}{\\partial x = W\n$$\n\n"
                   "$$\n\\begin{weird} z = Wx \\end{weird}\n$$\n\n"
                   "$$\n\\frac{\\partial z}{\\partial x} = W\n$$\n", encoding="utf-8")
    report = js.audit(doc)
    undecided = [link for link in report.links if link.verdict == A.UNDECIDABLE]
    assert [link.line for link in undecided] == [6, 10]
    assert "unbalanced braces" in undecided[0].reason and "weird" in undecided[1].reason
    assert [link.verdict for link in report.links if link.line == 14] == [A.HOLDS]


def test_text_with_no_math_and_text_given_directly():
    assert js.audit("just words, no math\n").links == []
    report = js.audit("Let $W \\in \\mathbb{R}^{n \\times m}$, $x \\in \\mathbb{R}^{m}$ and $z = Wx$; then "
                      "$\\frac{\\partial z}{\\partial x} = W^T$.\n")
    assert [link.verdict for link in report.links] == [A.FAILS]


@pytest.mark.parametrize("args, words", [
    (["audit", "no/such/file.md"], "cannot read the document"),
    (["audit", "BINARY"], "not a text file"),
    (["audit", "tests/audit/least_squares.md", "--context", "BADTOML"], "not valid TOML"),
    (["audit", "tests/audit/least_squares.md", "--shape", "W=n"], "--shape takes NAME=ROWS,COLS"),
    (["audit", "tests/audit/least_squares.md", "-o", "no/such/folder/out.md"], "does not exist"),
])
def test_the_cli_refuses_bad_input_in_one_line(args, words, tmp_path):
    binary = tmp_path / "doc.md"
    binary.write_bytes(b"\x00\x01\x02 math $x$")
    bad = tmp_path / "ctx.toml"
    bad.write_text("[section.\"1\"\nx = 1\n", encoding="utf-8")
    args = [str(binary) if a == "BINARY" else str(bad) if a == "BADTOML" else a for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.output


def test_the_cli_exit_code_says_whether_a_wrong_value_was_found(tmp_path):
    runner = CliRunner()
    wrong = runner.invoke(cli, ["audit", str(HERE / "hidden_layer.tex")])
    assert wrong.exit_code == 1 and "Wrong values (4)" in wrong.output
    fine = tmp_path / "fine.md"
    fine.write_text("Let $W \\in \\mathbb{R}^{n \\times m}$, $x \\in \\mathbb{R}^{m}$ and $z = Wx$: "
                    "$\\frac{\\partial z}{\\partial x} = W$.\n", encoding="utf-8")
    ok = runner.invoke(cli, ["audit", str(fine), "--format", "markdown"])
    assert ok.exit_code == 0 and "| hold | 1 |" in ok.output


def test_a_context_file_and_shape_options(tmp_path):
    doc = tmp_path / "ctx.md"
    doc.write_text("# 1. A\n\n$$\n\\frac{\\partial J}{\\partial \\theta} = (\\hat{y} - y)^T\n$$\n", encoding="utf-8")
    assert js.audit(doc).links[0].verdict == A.UNDECIDABLE
    context = ('[section."1"]\ntheta = ["N", 1]\ny = { shape = ["N", 1], one_hot = true }\n'
               'yhat = "softmax(theta)"\nJ = "cross_entropy(y, yhat)"\n')
    assert js.audit(doc, context).links[0].verdict == A.HOLDS
    with pytest.raises(js.JacobianSymError, match="unknown table"):
        js.audit(doc, "[sections]\n")
    with pytest.raises(js.JacobianSymError, match="a size is a name"):
        js.audit(doc, '[all]\nW = ["n", 0]\n')
    plain = tmp_path / "plain.md"
    plain.write_text("$\\frac{\\partial z}{\\partial x} = W$ for $z = Wx$\n", encoding="utf-8")
    assert js.audit(plain, shapes={"W": ("n", "m"), "x": ("m", 1)}).links[-1].verdict == A.HOLDS


# ----- what a person sees -----
@pytest.mark.parametrize("name", sorted(PLANTED))
def test_reports_compile_and_typeset(name, tmp_path):
    report = js.audit(HERE / name)
    assert pdflatex_errors(report.latex(), tmp_path) == []
    errors = [e for e in mathjax_errors(math_blocks(report.markdown())) if e]
    assert errors == []
    assert str(report).startswith(f"audit of {HERE / name}")


def test_the_notes_report_compiles(notes, tmp_path):
    assert pdflatex_errors(notes.latex(), tmp_path) == []
    assert notes.source == NOTES


def test_every_audit_example_of_the_help_runs(tmp_path):
    """The --help's audit examples run as written (exit 1: they find the planted errors)."""
    help_text = CliRunner().invoke(cli, ["--help"]).output + CliRunner().invoke(cli, ["audit", "--help"]).output
    lines = sorted({ln.strip() for ln in help_text.splitlines() if ln.strip().startswith("jacobian-sym audit")})
    assert len(lines) >= 3
    shutil.copytree(HERE, tmp_path / "tests" / "audit")
    for line in lines:
        proc = subprocess.run([sys.executable, "-m", "jacobian_sym", *shlex.split(line)[1:]], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, (line, proc.stderr)
    assert pdflatex_errors((tmp_path / "audit.tex").read_text(encoding="utf-8"), tmp_path) == []


def test_latex_inline_math_and_elided_sums():
    report = js.audit("\\documentclass{article}\\begin{document}\\section{A}\n"
                      "Let \\(W \\in \\mathbb{R}^{n \\times m}\\), \\(x \\in \\mathbb{R}^{m}\\) and \\(z = Wx\\).\n"
                      "Then \\(\\frac{\\partial z}{\\partial x} = W\\) and, for $i = 1$, "
                      "$z_1 = W_{11} x_1 + W_{12} x_2 + \\cdots + W_{1m} x_m$ but not "
                      "$z_1 = W_{11} x_1 + W_{12} x_3 + \\cdots + W_{1m} x_m$.\n\\end{document}\n")
    verdicts = [(link.section, link.verdict) for link in report.links]
    assert verdicts == [("§1", A.HOLDS), ("§1", A.HOLDS), ("§1", A.UNDECIDABLE)]
    assert "do not follow one pattern" in report.links[-1].reason


@pytest.mark.parametrize("words", ["$x$ is a row vector", "a row vector $x$"])
def test_orientation_is_read_from_the_text(words):
    text = (f"Here {words}, $W \\in \\mathbb{{R}}^{{m \\times n}}$ and $z = xW$: "
            "$\\frac{\\partial z}{\\partial x} = W^T$.\n")
    assert [link.verdict for link in js.audit(text).links] == [A.HOLDS]
    column = text.replace("row", "column")  # then xW does not fit: x is m×1
    assert [link.verdict for link in js.audit(column).links] != [A.HOLDS]


def test_a_one_example_homework_is_decided_through_its_scalars():
    # z, y, b and J are numbers: ½(z − y)² has a value, and derivatives by the scalar z are decided
    report = js.audit(HERE / "scalar_homework.md")
    assert report.decided == len(report.links) == 7, report.summary()
    derived = {link.line: link.corrected for link in report.failing}
    text = (HERE / "scalar_homework.md").read_text(encoding="utf-8")
    assert derived[line_of(text, r"\partial b} = 2 (z - y)")] == "∂J/∂b = z - y"  # not z I − y
    assert derived[line_of(text, r"\partial z} = z$$")] == "the left side is 2 z"  # in z, not wᵀx + b


def test_a_shape_option_on_a_defined_name_checks_the_definition(tmp_path):
    # --shape z=1,1 on z = wᵀx + b made z a free variable and every true line after it a wrong value
    path = HERE / "scalar_homework.md"
    plain, shaped = js.audit(path), js.audit(path, shapes={"z": (1, 1)})
    assert [(link.line, link.verdict) for link in shaped.links] == [(link.line, link.verdict) for link in plain.links]
    result = CliRunner().invoke(cli, ["audit", str(path), "--shape", "z=2,1"])
    assert result.exit_code == 2
    assert "--shape z=2,1: z is defined on line 11" in result.output and "1×1" in result.output


def test_a_reason_names_what_is_missing_and_never_an_exception(tmp_path):
    doc = tmp_path / "missing.md"
    doc.write_text("# H\n\n## Forward\n\n$$z = W x$$\n\n$$J = \\frac{1}{2} \\|h - y\\|^2$$\n\n"
                   "## Backward\n\n$$\\frac{\\partial J}{\\partial z} = (h - y)^T$$\n", encoding="utf-8")
    report = js.audit(doc)
    (link,) = report.links
    # h and y have only the shapes their letters suggest: no wrong value from a guess
    assert link.verdict == A.UNDECIDABLE and link.reason.startswith("the shape of W, h, x, y, z is not given")
    for name in sorted(PLANTED):
        for other in js.audit(HERE / name).links:
            assert "Error" not in other.reason and "not read:" not in other.reason, other.reason


def test_a_context_file_takes_the_documents_notation_and_losses_by_name(tmp_path):
    doc = tmp_path / "backward.md"
    doc.write_text("# Logistic regression\n\n## Backward pass\n\n"
                   "$$\\frac{\\partial J}{\\partial w} = X^T (p - y)$$\n\n"
                   "$$\\frac{\\partial J}{\\partial w} = X^T (y - p)$$\n", encoding="utf-8")
    context = tmp_path / "context.toml"
    context.write_text('[all]\nX = ["N", "d"]\nw = ["d", 1]\ny = ["N", 1]\nz = "X w"\np = "\\\\sigma(z)"\n'
                       'J = "binary_cross_entropy(y, p)"\n', encoding="utf-8")
    report = js.audit(doc, context=context)
    verdicts = [link.verdict for link in report.links]
    assert verdicts == [A.NOTATION, A.FAILS], report.summary()  # Xᵀ(p − y) is the column of ∂J/∂w
    assert "wrong sign" in report.links[1].reason
