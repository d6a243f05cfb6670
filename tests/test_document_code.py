"""The document reader: code is not math, an unclosed display is one note, and the work is linear."""

import inspect
from pathlib import Path

import pytest

import jacobian_sym as js
from jacobian_sym.audit import document
from jacobian_sym.audit import verdicts as A
from jacobian_sym.audit.document import read_document

ROOT = Path(__file__).resolve().parent.parent
AUDIT = Path(__file__).resolve().parent / "audit"


def texts(doc):
    return [s.text for s in doc.statements]


# ----- Markdown code -----
MARKDOWN_CODE = r"""# Code

The reader takes `$$…$$` and `$…$` blocks, and ``a `$$` inside`` double ticks.

```python
x = "$$ a = b $$"
```

~~~ {.python .input}
price = "$5 and $6"
~~~

  1. an item
     ```
     $$ c = d $$
     ```

Now the math: $p = q$ and

$$
r = s
$$
"""


def test_markdown_code_is_not_math():
    doc = read_document(MARKDOWN_CODE, "code.md", "markdown")
    assert texts(doc) == ["p = q", "r = s"]
    assert doc.notes == []
    lines = MARKDOWN_CODE.split("\n")
    assert [s.line for s in doc.statements] == [lines.index("Now the math: $p = q$ and") + 1, lines.index("r = s") + 1]


def test_a_hash_line_in_a_fence_is_no_heading():
    doc = read_document("# Real\n\n```sh\n# not a heading\n$ echo $HOME\n```\n\n$a = b$\n", "h.md", "markdown")
    assert [s.title for s in doc.sections] == ["Real"]
    assert texts(doc) == ["a = b"]


def test_an_unclosed_fence_runs_to_the_end():
    doc = read_document("$a = b$\n\n```\n$c = d$\n\n$$e = f$$\n", "f.md", "markdown")
    assert texts(doc) == ["a = b"]


def test_unmatched_backticks_are_literal():
    doc = read_document("A lone ` backtick, then $a = b$.\n", "t.md", "markdown")
    assert texts(doc) == ["a = b"]


# ----- LaTeX code -----
LATEX_CODE = r"""\documentclass{article}
\begin{document}
\section{Code}
\begin{verbatim}
$$ a = b $$
\end{verbatim}
\begin{lstlisting}[language=Python]
y = "\[ c = d \]"
\end{lstlisting}
\begin{minted}{python}
z = "$e = f$"
\end{minted}
Inline \verb|$g = h$| and \verb*+\(i = j\)+ are typewriter text.
% a comment: $k = l$
Half, 50\% of it: $p = q$. A line break then a comment: \\% $m = n$
\[ r = s \]
\end{document}
"""


def test_latex_verbatim_and_comments_are_not_math():
    doc = read_document(LATEX_CODE, "code.tex", "latex")
    assert texts(doc) == ["p = q", "r = s"]
    assert doc.notes == []


# ----- unclosed displays -----
def test_an_unclosed_display_is_one_note_and_the_rest_is_read():
    lines = ["# A", "", "A stray $$ in prose, never closed.", "More prose.", "", "$$", "a = b", "$$", "",
             "And $c = d$ inline."]
    doc = read_document("\n".join(lines) + "\n", "u.md", "markdown")
    assert len(doc.notes) == 1
    assert doc.notes[0].startswith("line 3:")
    assert texts(doc) == ["a = b", "c = d"]
    assert [s.line for s in doc.statements] == [7, 10]


@pytest.mark.parametrize("opening", [r"\[", r"\begin{equation}"])
def test_an_unclosed_latex_display_is_one_note(opening):
    text = "\\section{A}\n" + opening + " x = y\n\nProse.\n\n\\[ a = b \\]\n"
    doc = read_document(text, "u.tex", "latex")
    assert len(doc.notes) == 1 and doc.notes[0].startswith("line 2:")
    assert texts(doc) == ["a = b"]


def test_the_note_reaches_the_report():
    report = js.audit("# A\n\nStray $$ here.\n\n$$\nW = 1\n$$\n", kind="markdown")
    assert len(report.notes) == 1 and report.notes[0].startswith("line 3:")
    for shown in (str(report), report.markdown(), report.latex()):
        assert "line 3:" in shown and "never closed" in shown


def test_blank_lines_inside_an_environment_keep_the_display():
    """The notes write blank lines inside an array inside $$ (MathJax reads it)."""
    text = "$$\n\\begin{aligned}\na &= b \\\\\n\nc &= d\n\\end{aligned}\n$$\n"
    doc = read_document(text, "a.md", "markdown")
    assert doc.notes == [] and texts(doc) == ["a = b", "c = d"]


# ----- real documents -----
def test_the_readme_audit_reports_no_wrong_value():
    report = js.audit(ROOT / "README.md")
    assert report.count(A.FAILS) == 0
    assert report.notes == []


@pytest.mark.parametrize("name", ["d2l_backprop.md", "dlbook_notation.tex"])
def test_public_documents_read_without_false_alarms(name):
    report = js.audit(AUDIT / name)
    assert report.count(A.FAILS) == 0
    assert report.notes == []


# ----- linear work -----
def _work_counter(monkeypatch, whole):
    """Count the characters handed to every function of the reader (the lengths of its string arguments
    shorter than the document — the document itself goes with offsets): a scan that copies out the
    rest of the document once per formula, or a row once per character, shows up here."""
    total = [0]

    def counting(fn):
        def wrapper(*args, **kwargs):
            total[0] += sum(len(a) for a in (*args, *kwargs.values()) if isinstance(a, str) and len(a) < whole)
            return fn(*args, **kwargs)
        return wrapper

    for name, fn in inspect.getmembers(document, inspect.isfunction):
        if fn.__module__ == document.__name__:
            monkeypatch.setattr(document, name, counting(fn))
    return total


def _work(monkeypatch, text, kind):
    with monkeypatch.context() as m:
        total = _work_counter(m, len(text))
        document.read_document(text, "w", kind)
        return total[0]


PROSE = "".join(f"line {k} of prose, with words = more words, and $a_{k} = b_{k}$\n" for k in range(80))


@pytest.mark.parametrize("source, kind", [
    (ROOT / "README.md", "markdown"),
    (AUDIT / "d2l_backprop.md", "markdown"),
    (AUDIT / "dlbook_notation.tex", "latex"),
    (AUDIT / "hidden_layer.tex", "latex"),
])
def test_the_work_grows_linearly(monkeypatch, source, kind):
    """The document twice and sixteen times (twice, so that what the reader keeps of the prose after
    the last formula is counted alike): 8× the text, at most 10× the work."""
    text = source.read_text(encoding="utf-8")
    twice, sixteen = (_work(monkeypatch, "\n\n".join([text] * k), kind) for k in (2, 16))
    assert twice > 0
    assert sixteen <= 10 * twice, (twice, sixteen)


@pytest.mark.parametrize("head", ["A stray `$$` in code, then prose:\n", "A stray $$ opening, never closed.\n\n"])
def test_prose_after_a_stray_opening_costs_linear_work(monkeypatch, head):
    """80 lines of prose after one stray ``$$`` (the first-use report): 2× and 16× the prose."""
    twice, sixteen = (_work(monkeypatch, head + PROSE * k, "markdown") for k in (2, 16))
    assert twice > 0
    assert sixteen <= 10 * twice, (twice, sixteen)
