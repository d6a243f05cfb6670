"""An audit's report: counts, then each failing, conditional, notational and undecidable link with
its line, in text, Markdown (failing lines quoted as code, derived forms as math) and LaTeX."""

from __future__ import annotations

from dataclasses import dataclass, field

from jacobian_sym.audit import verdicts as A
from jacobian_sym.audit.reasons import undecided
from jacobian_sym.base.safe_text import md_text, tex_text
from jacobian_sym.render.display import Displayed

DEFINITION = "definition"


@dataclass(repr=False)
class AuditReport(Displayed):
    """Every link of a document with its verdict, and the counts a reader needs to trust it."""

    source: str
    links: list
    definitions: list = field(default_factory=list)
    seconds: float = 0.0
    #: what the reader could not read as written (an unclosed ``$$``), one line each with its line
    notes: list = field(default_factory=list)

    # ----- counts -----
    def count(self, verdict) -> int:
        return sum(1 for link in self.links if link.verdict == verdict)

    @property
    def decided(self) -> int:
        return len(self.links) - self.count(A.UNDECIDABLE)

    def undecided_reasons(self, top: int | None = None) -> list:
        """The kinds of reason of the not-decidable links (``reasons.Reason``: kind, count, example),
        most frequent first; the first ``top`` of them."""
        return undecided(self.links)[:top]

    @property
    def failing(self) -> list:
        return [link for link in self.links if link.verdict == A.FAILS]

    def summary(self) -> str:
        return (f"{self.source}: {len(self.links)} links, {self.decided} decided — {self.count(A.HOLDS)} hold, "
                f"{self.count(A.NOTATION)} notation, {self.count(A.CONDITIONAL)} conditional, "
                f"{self.count(A.FAILS)} wrong values — {self.count(A.UNDECIDABLE)} not decidable; "
                f"{len(self.definitions)} definitions read as context")

    def __str__(self):
        return text_report(self)

    def markdown(self) -> str:
        return markdown_report(self)

    def latex(self) -> str:
        return latex_report(self)


_NOTES = "Notes on the reading"
_WHY = "Why links are not decidable (most frequent first)"
_TOP = 5
_ORDER = (A.FAILS, A.CONDITIONAL, A.NOTATION, A.UNDECIDABLE)
_HEADINGS = {A.FAILS: "Wrong values", A.CONDITIONAL: "Steps that hold only under a condition the line does not state",
             A.NOTATION: "Notation (holds as evidently meant)", A.UNDECIDABLE: "Not decidable"}


def _counts(report) -> list[tuple[str, int]]:
    return [("links found", len(report.links)), ("decided", report.decided),
            ("hold", report.count(A.HOLDS)), ("notation", report.count(A.NOTATION)),
            ("conditional", report.count(A.CONDITIONAL)), ("wrong values", report.count(A.FAILS)),
            ("not decidable", report.count(A.UNDECIDABLE)), ("definitions read as context", len(report.definitions))]


def text_report(report, verdicts=_ORDER) -> str:
    lines = [f"audit of {report.source} ({report.seconds:.1f} s)", ""]
    lines += [f"  {name:<30} {n}" for name, n in _counts(report)]
    reasons = report.undecided_reasons(_TOP)
    if reasons:
        lines += ["", _WHY]
        for r in reasons:
            shown = " ".join(r.example[1].split())[:100]
            lines += [f"  {r.count:>4}  {r.kind}", f"        e.g. line {r.example[0]}: {shown}"]
    for verdict in verdicts:
        chosen = [link for link in report.links if link.verdict == verdict]
        if not chosen:
            continue
        lines += ["", f"{_HEADINGS[verdict]} ({len(chosen)})"]
        for link in chosen:
            lines.append(f"  {link.section}, line {link.line}: {link.text}")
            lines += [f"      {k}: {v}" for k, v in link.details()]
    if report.notes:
        lines += ["", f"{_NOTES} ({len(report.notes)})", *(f"  {note}" for note in report.notes)]
    return "\n".join(lines)


def _code(text: str) -> str:
    """Inline code, on one line, that holds any backticks of the text."""
    text = " ".join(text.split())
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def markdown_report(report) -> str:
    lines = [f"# Audit of `{report.source}`", "",
             "Every chain of equalities of the document, link by link: each side is given a value at two sets "
             "of concrete sizes and compared at random rational points in 50-digit arithmetic (the truth by "
             "SymPy's own derivatives of explicit values); a link the reader cannot give a value is "
             "*not decidable*, with the reason.", "", "| | links |", "|---|---:|"]
    lines += [f"| {name} | {n} |" for name, n in _counts(report)]
    reasons = report.undecided_reasons(_TOP)
    if reasons:
        lines += ["", f"## {_WHY}", "", "| links | kind | example |", "|---:|---|---|"]
        lines += [f"| {r.count} | {md_text(r.kind)} | line {r.example[0]}: {_code(r.example[1][:100])} |"
                  for r in reasons]
    for verdict in _ORDER:
        chosen = [link for link in report.links if link.verdict == verdict]
        if not chosen:
            continue
        lines += ["", f"## {_HEADINGS[verdict]} ({len(chosen)})", ""]
        for link in chosen:
            lines.append(f"- **{md_text(link.section)}, line {link.line}**: {_code(link.text)}")
            for k, v in link.details():
                if k == "derived" and link.corrected_latex:
                    lines.append(f"  - derived: $\\displaystyle {link.corrected_latex}$")
                else:
                    lines.append(f"  - {k}: {md_text(v)}")
    if report.notes:
        lines += ["", f"## {_NOTES} ({len(report.notes)})", "", *(f"- {md_text(note)}" for note in report.notes)]
    return "\n".join(lines) + "\n"


def _verb(text: str) -> str:
    """Source text shown as typewriter text in LaTeX (every special character escaped), on one line."""
    escaped = tex_text(" ".join(text.split())).replace(r"\textbackslash{}", r"\allowbreak\textbackslash{}")
    return r"\texttt{" + escaped + "}"


def latex_report(report) -> str:
    lines = [r"\documentclass[11pt]{article}", r"\usepackage[T1]{fontenc}", r"\usepackage{amsmath,amssymb}",
             r"\usepackage[margin=2.2cm]{geometry}", r"\begin{document}",
             r"\section*{Audit of " + _verb(report.source) + "}", r"\begin{tabular}{lr}"]
    lines += [f"{name} & {n} \\\\" for name, n in _counts(report)]
    lines.append(r"\end{tabular}")
    reasons = report.undecided_reasons(_TOP)
    if reasons:
        lines += [r"\subsection*{" + tex_text(_WHY) + "}", r"\begin{itemize}"]
        lines += [r"\item " + tex_text(f"{r.count}: {r.kind}; e.g. line {r.example[0]}: ") + _verb(r.example[1][:100])
                  for r in reasons]
        lines.append(r"\end{itemize}")
    for verdict in _ORDER:
        chosen = [link for link in report.links if link.verdict == verdict]
        if not chosen:
            continue
        lines += [r"\subsection*{" + tex_text(_HEADINGS[verdict]) + f" ({len(chosen)})" + "}", r"\begin{itemize}"]
        for link in chosen:
            lines.append(r"\item \textbf{" + tex_text(f"{link.section}, line {link.line}") + "}: "
                         + _verb(link.text))
            lines.append(r"\begin{itemize}")
            for k, v in link.details():
                if k == "derived" and link.corrected_latex:
                    lines.append(r"\item derived: $\displaystyle " + link.corrected_latex + "$")
                else:
                    lines.append(r"\item " + tex_text(f"{k}: {v}"))
            lines.append(r"\end{itemize}")
        lines.append(r"\end{itemize}")
    if report.notes:
        lines += [r"\subsection*{" + tex_text(_NOTES) + f" ({len(report.notes)})" + "}", r"\begin{itemize}",
                  *(r"\item " + _verb(note) for note in report.notes), r"\end{itemize}"]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"
