"""Notation of real documents the audit reads: the document's own macros (expanded with limits, never a
file), superscript labels as part of a name, ℒ, a bold 1, two equations joined by a word."""

from __future__ import annotations

import jacobian_sym as js
from jacobian_sym.audit import macros
from jacobian_sym.audit.document import read_document
from jacobian_sym.claims import latex


def test_newcommand_def_and_declaremathoperator_are_expanded_lines_kept():
    text = ("\\newcommand{\\matr}[1]{\\mathbf{#1}}\n\\newcommand{\\transpose}[1]{#1^\\top}\n"
            "\\def\\half{\\frac{1}{2}}\n\\DeclareMathOperator{\\diag}{diag}\n"
            "$\\matr{Z} = \\transpose{\\matr{X}} \\half \\diag x$\n")
    out, notes = macros.expand(text)
    assert out.count("\n") == text.count("\n") and not notes
    assert out.splitlines()[4] == "$\\mathbf{Z} = \\mathbf{X}^\\top \\frac{1}{2} \\operatorname{diag} x$"


def test_an_optional_argument_and_a_line_break_before_a_name():
    out, _ = macros.expand("\\newcommand{\\v}[2][x]{#1_{#2}}\n$\\v{i} + \\v[y]{j}$ \\\\v")
    assert "$x_{i} + y_{j}$ \\\\v" in out


def test_a_macro_that_reads_files_or_writes_is_not_expanded():
    out, _ = macros.expand("\\newcommand{\\bad}{\\input{/etc/passwd}}\n\\def\\w{\\write18{ls}}\n$\\bad \\w$")
    assert "\\bad \\w" in out and "passwd" not in out.splitlines()[-1]


def test_a_macro_that_calls_itself_stops_with_a_note():
    out, notes = macros.expand("\\newcommand{\\a}{x\\a}\n$\\a$")
    assert notes and len(out) < 200


def test_a_macro_that_doubles_stops_at_the_size_limit():
    out, notes = macros.expand("\\newcommand{\\d}{\\d\\d}\n$\\d$")
    assert notes and len(out) < 200_000


def test_superscript_labels_are_part_of_the_name_and_powers_stay_powers():
    assert latex.read("W^{(1)}")[:3] == ("sym", "W(1)", ())
    assert latex.read("a^{[l]}_i")[:3] == ("sym", "a[l]", ("i",))
    assert latex.read("h^{(l-1)}")[:3] == ("sym", "h(l-1)", ())
    assert latex.read("x^{2}")[0] == "pow"
    assert latex.read("(a+b)^{2}")[0] == "pow"
    assert latex.read("e^{(x)}")[:2] == ("call", "exp")


def test_mathcal_and_bold_digits_are_names_of_their_own():
    assert latex.read(r"\mathcal{L}")[1] == "ℒ"
    assert latex.read(r"\mathbf{1}_n", bold_digits=True)[:3] == ("sym", "ones", ("n",))
    assert latex.read(r"\mathbf{1}")[0] == "num"  # the claims' \mathbf{1} (their broadcast) is unchanged
    assert latex.read(r"\mathbf{x}")[:3] == ("sym", "x", ())


def test_two_equations_joined_by_a_word_are_two_statements():
    doc = read_document("$$a = 1 \\textrm{ and } b = 2$$ and $x = y \\text{ and hence } z = 3$", "d", "markdown")
    assert [[s.text for s in st.sides] for st in doc.statements] == [["a", "1"], ["b", "2"], ["x", "y"],
                                                                      ["z", "3"]]


def test_a_definition_that_reads_itself_is_not_a_crash():
    report = js.audit("$$f(x) = x + f(x - 1)$$\n\n$$g = f(2)$$\n", kind="markdown")
    assert report.count("fails") == 0


def test_the_report_names_the_top_reasons_for_not_decidable():
    report = js.audit("$$\\frac{\\partial L}{\\partial W} = \\prod_i W_i$$\n$$y = q + r$$\n", kind="markdown")
    reasons = report.undecided_reasons()
    assert reasons and all(r.count >= 1 and r.example[1] for r in reasons)
    assert "Why links are not decidable" in str(report) and "Why links are not decidable" in report.markdown()


def test_mathjax_inline_and_display_delimiters_in_markdown():
    doc = read_document("For \\( z = Wx \\) and \\\\( a = 1 \\\\) and\n\\[ y = 2 \\]", "d", "markdown")
    assert [([s.text for s in st.sides], st.line) for st in doc.statements] == [
        (["z", "Wx"], 1), (["a", "1"], 1), (["y", "2"], 2)]


def test_read_as_people_write_it():
    assert latex.read(r"\partial_{o_j} l(y)")[0] == "deriv"
    assert latex.read(r"\mathrm{softmax}(o)_j")[0] == "elem"
    assert latex.read(r"\log \sum_{k=1}^q \exp(o_k)")[2][0][0] == "sum"


def test_a_condition_in_the_prose_is_not_an_equation():
    doc = read_document("Then $l = 0$ only if we are sure, and whenever $\\xi_t = 0$ we stop; when $i = 1, z_1 = w$.",
                        "d", "markdown")
    assert [[s.text for s in st.sides] for st in doc.statements] == [["z_1", "w"]]


def test_setting_a_gradient_to_zero_is_a_condition_not_an_identity():
    text = ("Let $\\mathbf{X} \\in \\mathbb{R}^{n \\times d}$, $\\mathbf{w} \\in \\mathbb{R}^{d}$ and labels "
            "$\\mathbf{y}$.\n\nTaking the derivative and setting it equal to zero yields:\n\n"
            "$$\\partial_{\\mathbf{w}} \\|\\mathbf{y} - \\mathbf{X}\\mathbf{w}\\|^2 = 2 \\mathbf{X}^\\top "
            "(\\mathbf{X} \\mathbf{w} - \\mathbf{y}) = 0 \\textrm{ and hence } \\mathbf{X}^\\top \\mathbf{y} = "
            "\\mathbf{X}^\\top \\mathbf{X} \\mathbf{w}.$$\n")
    report = js.audit(text, kind="markdown")
    verdicts = [link.verdict for link in report.links]
    assert verdicts == ["notation", "not decidable", "not decidable"], [(x.text, x.reason) for x in report.links]
    planted = js.audit(text.replace("2 \\mathbf{X}^\\top (", "2 \\mathbf{X} ("), kind="markdown")
    assert planted.links[0].verdict == "fails"  # y's shape comes from X w − y: a wrong value is found


def test_the_issues_non_identities_are_never_wrong_values():
    text = ("# S\n\nLet $A \\in \\mathbb{R}^{n \\times m}$ and $\\theta \\in \\mathbb{R}^{m}$. Compute "
            "$\\sigma = \\sigma(A\\theta)$ and then $a = 1$ and $b = 2$.\nThe minima are at $x = -1, 0, 2$. "
            "For the sum to survive we need $j = k$.\n\n$$\\boldsymbol{\\sigma} = \\sigma(A \\theta)$$\n\n"
            "$$a = 1 \\text{ and } b = 2$$\n")
    report = js.audit(text, kind="markdown")
    assert not report.failing
    assert all(link.line in (6, 8) for link in report.links)
