"""A document's math, with where it is: sections, displayed and inline math, rows, chains of equalities.

Markdown (``$…$``, ``$$…$$``, headings ``#``, a line in bold as a sub-heading) and LaTeX
(``\\[…\\]``, ``$$…$$``, ``equation``/``align``/``gather`` and their starred forms, ``\\section``) are
read into :class:`Statement` objects: one per row of a display or per comma-separated part of
inline math, each a chain ``a = b = c`` of :class:`Side` objects with their line and column in the
file. A row of an ``align`` (or of the notes' two-column ``array``) that starts with ``=`` continues
the chain of the row above; a row's ``\\text{…}`` cell is its stated reason.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from jacobian_sym.audit.macros import expand

_ALIGNS = ("align", "align*", "aligned", "alignat", "alignat*", "eqnarray", "eqnarray*", "split", "gather",
           "gather*", "gathered", "equation", "equation*", "multline", "multline*", "displaymath")
_TEX_SECTION = re.compile(r"\\(part|chapter|section|subsection|subsubsection|paragraph)\*?\{([^{}]*)\}")
_TEX_LEVEL = {"part": 0, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5}
_DROP = re.compile(r"\\(?:label|tag\*?|eqref|ref)\{[^{}]*\}|\\nonumber|\\notag|\\displaystyle")


@dataclass(frozen=True)
class Section:
    """A heading: its number (``2.5``) or title, and its ancestors, outermost first."""

    path: tuple[str, ...]
    title: str
    line: int

    @property
    def key(self) -> str:
        return self.path[-1] if self.path else ""

    def label(self) -> str:
        return f"§{self.key}" if self.key and re.fullmatch(r"[0-9.]+", self.key) else (self.title or "preamble")


@dataclass
class Side:
    """One side of a chain: its text and where it starts."""

    text: str
    line: int
    col: int
    #: the reason the document gives for this step (the notes' "using identity (2.1)")
    reason: str = ""


@dataclass
class Statement:
    """One row (or one inline formula): a chain of sides joined by ``=`` (or one side, or a relation)."""

    sides: list[Side]
    section: Section
    display: bool
    line: int
    reason: str = ""
    #: the relation joining a two-part statement when it is not ``=`` (``\\in``, ``\\rightarrow``)
    relation: str = "="
    #: the prose just before the math (what it says about the math: "if $i=j$")
    prose: str = ""
    #: the columns of the notes' dimension table under this row (text per column), if any
    shapes: list = field(default_factory=list)
    #: the row's cells, when it came from an array row of several columns
    cells: list = field(default_factory=list)
    #: bindings stated in the same formula before it (``i=1,\\ z_1 = …``)
    given: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return " = ".join(s.text for s in self.sides)


@dataclass
class Document:
    source: str
    sections: list[Section]
    statements: list[Statement]
    #: prose by section key (the text outside math, inline math kept as $…$), for context sentences
    prose: dict
    #: what the reader could not read as written, one line each ("line 12: $$ is never closed …")
    notes: list = field(default_factory=list)


class _Lines:
    def __init__(self, text):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset):
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def _enter(heading, stack, current, last_end, text, lines, prose, sections):
    """A heading reached: the prose before it is the current section's, and it opens the next section
    (its key: the keys of the open headings above it). Returns (stack, the new section, its start)."""
    offset, level, title = heading
    prose_add(prose, current, text[last_end:offset])
    stack = [s for s in stack if s[0] < level] + [(level, _section_key(title), title)]
    section = Section(tuple(s[1] for s in stack), title, lines.at(offset)[0])
    sections.append(section)
    return stack, section, offset


def read_document(text: str, source: str = "document", kind: str | None = None) -> Document:
    """Every statement of a Markdown or LaTeX document (``kind``: "markdown" or "latex"; guessed from
    the text when None)."""
    if kind is None:
        kind = "latex" if re.search(r"\\(documentclass|begin\{document\}|section\{)", text) else "markdown"
    original, text = text, without_code(text, kind)
    text, macro_notes = expand(text)  # the document's own \newcommand, \def, \DeclareMathOperator
    lines = _Lines(text)
    headings = _headings(text, original, kind)
    maths, unclosed = _maths(text, kind)
    notes = [_unclosed_note(lines, offset, token) for offset, token in unclosed] + macro_notes
    sections, statements, prose = [], [], {}
    stack: list[tuple[int, str, str]] = []
    current = Section((), "", 1)
    h = 0
    last_end = 0
    last_display = 0
    previous_inline = None
    for start, end, body_start, body, display in maths:
        while h < len(headings) and headings[h][0] < start:
            stack, current, last_end = _enter(headings[h], stack, current, last_end, text, lines, prose, sections)
            h += 1
        before = text[last_end:start]
        prose_add(prose, current, before + (text[start:end] if not display else " "))
        last_end = end
        sentence = _last_sentence(text, max(last_display, current_start(headings, h, start)), start)
        if display:
            last_display = end
        new = _statements(body, body_start, lines, current, display, sentence)
        if not display and new:  # "$l = 0$ only if …", "whenever $\xi_t = 0$": a condition, not an identity
            before, after = _condition(text, start, end)
            new = new[1:] if before else new[:-1] if after else new
        if not display and new and previous_inline and _VERBAL.fullmatch(text[previous_inline[1]:start]):
            # "$a = b$ will always be $c$": the words are an equality between the two formulas
            last = previous_inline[0]
            statements.append(Statement([last.sides[-1], new[0].sides[0]], current, False, last.line,
                                        prose=sentence))
        statements.extend(new)
        previous_inline = (new[-1], end) if new and not display else None
    while h < len(headings):
        stack, current, last_end = _enter(headings[h], stack, current, last_end, text, lines, prose, sections)
        h += 1
    prose_add(prose, current, text[last_end:])  # the prose after the last formula is the section's too
    return Document(source, sections, statements, prose, notes)


_BEFORE_CONDITION = re.compile(r"(?:\b(?:if|iff|when|whenever|unless|until|we need|need|require|requires|such that|"
                               r"assume|assuming|suppose|provided|whether)\s*)$", re.I)
_AFTER_CONDITION = re.compile(r"\s*(?:only if|if and only if|iff|exactly when|precisely when)\b", re.I)


def _condition(text, start, end) -> tuple[bool, bool]:
    """Whether the prose makes the first part of inline math a condition ("if $x = 0$", "when $i = 1, …$"),
    and whether it makes the last one ("$l = 0$ only if …")."""
    return (bool(_BEFORE_CONDITION.search(text[max(0, start - 40):start])), bool(_AFTER_CONDITION.match(text, end)))


def _unclosed_note(lines, offset, token):
    line = lines.at(offset)[0]
    return f"line {line}: {token} is never closed (no closing mark before a blank line); read as text"


_VERBAL = re.compile(r"\s*(?:will always be|is always|always equals|equals|is equal to|which equals)\s*")


def current_start(headings, h, start):
    """Where the section holding ``start`` begins (prose before it belongs to another section)."""
    return headings[h - 1][0] if h > 0 and headings[h - 1][0] < start else 0


def prose_add(prose, section, text):
    prose.setdefault(section.path, []).append(text)


def _section_key(title: str) -> str:
    number = re.match(r"\s*(\d+(?:\.\d+)*)\.?\s", title + " ")
    return number.group(1) if number else title.strip()


def _last_sentence(text: str, start: int, end: int) -> str:
    """The last 300 characters of ``text[start:end].strip().split("\\n\\n")[-1]``, without copying the
    span (a section of many inline formulas would otherwise be copied once per formula)."""
    while end > start and text[end - 1].isspace():
        end -= 1
    lead = re.compile(r"\s*").match(text, start, end).end()
    cut = text.rfind("\n\n", lead, end)
    if cut >= 0:  # split pairs a run of newlines from its left end
        run = cut
        while run > lead and text[run - 1] == "\n":
            run -= 1
        lead = run + 2 * ((cut + 2 - run) // 2)
    return text[max(lead, end - 300):end]


def _headings(text, original, kind):
    """(offset, level, title) of each heading; in Markdown a line all in bold is a sub-heading. ``text``
    has its code blanked (a ``#`` line in a fenced block is no heading), titles are read in ``original``."""
    if kind == "latex":
        return _tex_headings(text)
    out = []
    offset = 0
    for line, shown in zip(original.split("\n"), text.split("\n")):
        head = shown.lstrip()[:1]
        if head and head == line.lstrip()[:1]:
            m = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                out.append((offset, len(m.group(1)), m.group(2).strip()))
            else:
                b = re.fullmatch(r"\s*\*\*([^*]+)\*\*\s*", line)
                if b:
                    out.append((offset, 7, b.group(1).strip()))
        offset += len(line) + 1
    return out


def _tex_headings(text):
    """LaTeX's headings, numbered as LaTeX numbers them (``\\section*`` is not)."""
    out = []
    counters = [0] * 6
    for m in _TEX_SECTION.finditer(text):
        level = _TEX_LEVEL[m.group(1)]
        title = m.group(2).strip()
        if not m.group(0).split("{")[0].endswith("*") and level >= 2:
            counters[level] += 1
            counters[level + 1:] = [0] * (5 - level)
            number = ".".join(str(c) for c in counters[2:level + 1] if c)
            title = f"{number} {title}"
        out.append((m.start(), level, title))
    return out


# ----- code: what is not math -----
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_BACKTICKS = re.compile(r"`+")
_BLANK = re.compile(r"\n[ \t]*\n")
_VERBATIM_ENVS = ("verbatim", "verbatim*", "Verbatim", "Verbatim*", "lstlisting", "minted", "comment")
_TEX_CODE = re.compile(r"\\\\|\\%|%|\\verb\*?|\\begin\{(" + "|".join(re.escape(e) for e in _VERBATIM_ENVS) + r")\}")


def _blanked(text, spans):
    """``text`` with each (start, end) span turned to spaces, its newlines kept (offsets and lines stay)."""
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(re.sub(r"[^\n]", " ", text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def _fences(text):
    """(start, end) of each fenced code block (``` or ~~~, any indentation and info string, to the end
    of the document when it is not closed)."""
    spans, offset, opened = [], 0, None
    for line in text.split("\n"):
        m = _FENCE.fullmatch(line)
        if opened is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                opened = (offset, m.group(1))
        elif m and m.group(1)[0] == opened[1][0] and len(m.group(1)) >= len(opened[1]) and not m.group(2).strip():
            spans.append((opened[0], offset + len(line)))
            opened = None
        offset += len(line) + 1
    if opened is not None:
        spans.append((opened[0], len(text)))
    return spans


def _code_spans(text, start, end):
    """(start, end) of each code span of one paragraph: a run of backticks closed by the next run of the
    same length (an unmatched run is literal backticks)."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text, start, end)]
    by_length: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(runs):
        by_length.setdefault(b - a, []).append(k)
    seen = {length: 0 for length in by_length}  # how far each length's list is used: one pass in all
    spans, k = [], 0
    while k < len(runs):
        a, b = runs[k]
        same = by_length[b - a]
        while seen[b - a] < len(same) and same[seen[b - a]] <= k:
            seen[b - a] += 1
        escaped = a > 0 and text[a - 1] == "\\"
        if escaped or seen[b - a] == len(same):
            k += 1
            continue
        closer = same[seen[b - a]]
        spans.append((a, runs[closer][1]))
        k = closer + 1
    return spans


def _markdown_code(text):
    """(start, end) of the code of a Markdown document: fenced blocks and code spans, in order."""
    fences = _fences(text)
    spans, last = [], 0
    for start, end in [*fences, (len(text), len(text))]:
        para = last
        for blank in _BLANK.finditer(text, last, start):
            spans += _code_spans(text, para, blank.start())
            para = blank.end() - 1
        spans += _code_spans(text, para, start)
        if start < end:
            spans.append((start, end))
        last = end
    return spans


def _latex_code(text):
    """(start, end) of what a LaTeX document does not typeset as math: ``%`` comments (not ``\\%``),
    ``\\verb|…|`` and the verbatim, listing and comment environments."""
    spans, i = [], 0
    while True:
        m = _TEX_CODE.search(text, i)
        if not m:
            return spans
        token = m.group(0)
        if token in ("\\\\", "\\%"):
            i = m.end()
            continue
        if token == "%":
            end = text.find("\n", m.start())
        elif token.startswith("\\verb"):
            delim = text[m.end():m.end() + 1]
            line_end = text.find("\n", m.end())
            line_end = len(text) if line_end < 0 else line_end
            close = text.find(delim, m.end() + 1, line_end) if delim and delim != "\n" else -1
            end = line_end if close < 0 else close + 1
        else:
            close = text.find(f"\\end{{{m.group(1)}}}", m.end())
            end = -1 if close < 0 else close + len(m.group(1)) + 6
        end = len(text) if end < 0 else end
        spans.append((m.start(), end))
        i = max(end, m.end())


def without_code(text, kind):
    """The document with its code (Markdown) or verbatim text and comments (LaTeX) turned to spaces."""
    return _blanked(text, _latex_code(text) if kind == "latex" else _markdown_code(text))


# ----- math -----
#: (opening, closing, displayed, the kinds of document that use them), tried in order
_DELIMITERS = (("$$", "$$", True, ("markdown", "latex")), ("\\[", "\\]", True, ("latex", "markdown")),
               ("\\(", "\\)", False, ("latex", "markdown")))
_ENV_START = re.compile(r"\\begin\{(" + "|".join(re.escape(e) for e in _ALIGNS) + r")\}")
#: MathJax reads \[…\] and \(…\) in Markdown too
_OPENING = {"markdown": re.compile(r"\\\$|\$\$|\$|\\\[|\\\("), "latex": re.compile(r"\\\$|\$\$|\$|\\\[|\\\(|\\begin\{")}
_INNER = re.compile(r"\\begin\{|\\end\{|\n[ \t]*\n")


def _close(text, start, closing):
    """Where ``closing`` is after ``start``, or -1 when a blank line outside any inner environment
    comes first (TeX allows no paragraph break in math; the notes' arrays hold blank lines)."""
    depth, i = 0, start
    close = text.find(closing, start)
    while True:
        m = _INNER.search(text, i, len(text) if close < 0 else close)
        if not m:
            return close
        if m.group(0).startswith("\n"):
            if depth == 0:
                return -1
        else:
            depth = max(0, depth + (1 if m.group(0) == "\\begin{" else -1))
        i = m.end() if m.group(0)[0] == "\\" else m.end() - 1


def _inline_close(text, start):
    """The ``$`` closing inline math opened before ``start`` (not ``\\$``), or -1 at a blank line first."""
    blank = _BLANK.search(text, start)
    stop = len(text) if blank is None else blank.start()
    i = start
    while True:
        close = text.find("$", i, stop)
        if close < 0 or text[close - 1] != "\\":
            return close
        i = close + 1


def _maths(text, kind):
    """(start, end, body start, body, display) of each piece of math, in order, and the offsets of the
    display openings never closed (read as text)."""
    out, unclosed, i = [], [], 0
    opening = _OPENING[kind]
    while True:
        m = opening.search(text, i)
        if not m:
            return out, unclosed
        i, token = m.start(), m.group(0)
        if token == "\\$":
            i += 2
            continue
        delimited = next(((o, c, d) for o, c, d, kinds in _DELIMITERS if kind in kinds and token == o), None)
        if delimited:  # $$ … $$, \[ … \], \( … \)
            _, closing, display = delimited
            close = _close(text, i + 2, closing)
            if close < 0:
                unclosed.append((i, token))
                i += 2
                continue
            body = text[i + 2:close]
            # kramdown's \\( … \\): the closing \) found at the second backslash of \\)
            out.append((i, close + 2, i + 2, body[:-1] if body.endswith("\\") else body, display))
            i = close + 2
            continue
        if token == "\\begin{":
            env = _ENV_START.match(text, i)
            if not env:
                i += len(token)
                continue
            end_tag = f"\\end{{{env.group(1)}}}"
            close = _close(text, env.end(), end_tag)
            if close < 0:
                unclosed.append((i, env.group(0)))
                i = env.end()
                continue
            out.append((i, close + len(end_tag), i, text[i:close + len(end_tag)], True))
            i = close + len(end_tag)
            continue
        close = _inline_close(text, i + 1)  # $ … $; a lone $ is a dollar sign
        if close >= 0:
            out.append((i, close + 1, i + 1, text[i + 1:close], False))
            i = close + 1
        else:
            i += 1


# ----- rows and chains -----
_ENV_TAG = re.compile(r"\\(begin|end)\s*\{[^{}]*\}")
_DELIM = re.compile(r"\\(left|right)\s*(\\[{}|]|\\[A-Za-z]+|.)")


def _top_level(body: str, sep: str, start: int = 0):
    """Offsets of ``sep`` outside braces, brackets, parentheses and environments."""
    depth, env, out, i = 0, 0, [], start
    while i < len(body):
        tag = _ENV_TAG.match(body, i)
        if tag:
            env += 1 if tag.group(1) == "begin" else -1
            i = tag.end()
            continue
        if body.startswith("\\\\", i) and sep != "\\\\":
            i += 2
            continue
        delim = _DELIM.match(body, i)
        if delim:  # \left( … \right): a group, whatever the delimiters
            depth += 1 if delim.group(1) == "left" else -1
            i = delim.end()
            continue
        if body.startswith("\\{", i) or body.startswith("\\}", i):
            i += 2
            continue
        ch = body[i]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0 and env == 0 and body.startswith(sep, i):
            if sep == "=" and (body[i - 1:i] in ("<", ">", "!", "\\") or body[i + 1:i + 2] == "="):
                i += 1
                continue
            out.append(i)
            i += len(sep)
            continue
        i += 1
    return out


def _split(body: str, sep: str, offset: int):
    """(piece, offset of the piece) at each top-level ``sep``."""
    cuts = _top_level(body, sep)
    pieces, start = [], 0
    for c in cuts:
        pieces.append((body[start:c], offset + start))
        start = c + len(sep)
    pieces.append((body[start:], offset + start))
    return pieces


def _strip(piece: str, offset: int):
    """Whitespace, LaTeX spacing and a trailing full stop or comma off a piece, keeping its offset."""
    m = re.match(r"(?:\s|\\[ ,;!:]|\\quad|\\qquad|&|\\displaystyle)*", piece)
    lead = m.end()
    body = piece[lead:]
    body = re.sub(r"(?:\s|\\[ ,;!:]|\\quad|\\qquad|[.,;])*$", "", body)
    return body, offset + lead


def _unbrace(cell: str, offset: int):
    """A cell written as one braced group ({…}) → what it holds."""
    body, offset = _strip(cell, offset)
    while body.startswith("{") and body.endswith("}") and _matching(body, 0) == len(body) - 1:
        body, offset = _strip(body[1:-1], offset + 1)
    return body, offset


def _matching(text, i):
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and text[j - 1:j] != "\\":
            depth += 1
        elif text[j] == "}" and text[j - 1:j] != "\\":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _environment(body: str):
    """(name, inner start, inner end) when the whole body is one alignment environment or array."""
    stripped = body.strip()
    lead = len(body) - len(body.lstrip())
    m = re.match(r"\\begin\{([a-z*]+)\}", stripped)
    if not m or m.group(1) not in (*_ALIGNS, "array"):
        return None
    end_tag = f"\\end{{{m.group(1)}}}"
    if not stripped.endswith(end_tag):
        return None
    inner_start = lead + m.end()
    if m.group(1) in ("array", "alignat", "alignat*"):
        spec = re.match(r"\s*\{[^{}]*\}", body[inner_start:])
        if spec:
            inner_start += spec.end()
    return m.group(1), inner_start, lead + len(stripped) - len(end_tag)


def _statements(body, body_start, lines, section, display, sentence):
    body = _DROP.sub(lambda m: " " * len(m.group(0)), body)
    env = _environment(body)
    rows: list[tuple[str, int]]
    array = False
    if env:
        name, a, b = env
        rows = _split(body[a:b], "\\\\", body_start + a)
        array = name == "array"
    else:
        rows = _split(body, "\\\\", body_start) if display and _top_level(body, "\\\\") else [(body, body_start)]
    out: list[Statement] = []
    for row, offset in rows:
        row, offset = _strip(row, offset)
        if not row:
            continue
        reason, cells = "", []
        if array:
            cells = [_unbrace(c, o) for c, o in _split(row, "&", offset)]
            cells = [(c, o) for c, o in cells]
            if _is_dimension_row(cells) and out:
                out[-1].shapes = [c for c, _ in cells]
                continue
            texts = [(c, o) for c, o in cells if c and not re.fullmatch(r"\\text\s*\{.*\}", c, re.S)]
            reasons = [c for c, _ in cells if re.fullmatch(r"\\text\s*\{.*\}", c, re.S)]
            if len(texts) > 2 or (texts and texts[0][0] in ("=",)):  # a table row: the cells joined
                row = " ".join(c for c, _ in cells if c)
                offset = cells[0][1]
                cells = [c for c, _ in cells]
            else:
                if not texts:
                    continue
                row, offset = texts[0]
                reason = _text_of(reasons[0]) if reasons else ""
                cells = []
        else:
            row = _blanked(row, [(c, c + 1) for c in _top_level(row, "&")])
        out.extend(_chain(row, offset, lines, section, display, sentence, reason, cells, out))
    return out


def _is_dimension_row(cells):
    return any(c for c, _ in cells) and all(
        not c or re.fullmatch(r"\(\s*[^()]+\\times[^()]+\)|[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?", c) for c, _ in cells)


def _text_of(cell):
    m = re.fullmatch(r"\\text\s*\{(.*)\}", cell, re.S)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else cell


_TRAILING_TEXT = re.compile(r"(.*?)(?:\s|\\ |\\quad|\\qquad)+\\text\s*\{([^{}]*)\}\s*", re.S)
#: what sets two equations of one row apart: spaces, or a joining word between them (\textrm{ and })
_SPACE = r"(?:\s|\\ |\\quad|\\qquad|\\,|\\;)*"
_GAP = re.compile(_SPACE + r"\\(?:text|textrm|mathrm)\s*\{\s*(?:and hence|and so|hence|thus|and|where|with|for|,)"
                  r"\s*\}" + _SPACE + r"|(?:\\ \s*){2,}|\\quad|\\qquad"
                  # cs231n: f(x,y) = x y \hspace{0.5in} \rightarrow \hspace{0.5in} ∂f/∂x = y \hspace{0.5in} ∂f/∂y = x
                  r"|\\hspace\*?\s*\{[^{}]*\}|\\(?:rightarrow|Rightarrow|longrightarrow|implies)(?![A-Za-z])")


def _spaced(row, offset):
    """A display row holding two equations set apart by spaces (δ₁ = … \\ \\ δ₂ = …): each on its own."""
    depth = _depths(row)
    cuts = [m for m in _GAP.finditer(row) if depth[m.start()] <= 0]
    if not cuts:
        return [(row, offset)]
    pieces, start = [], 0
    for m in cuts:
        pieces.append((row[start:m.start()], offset + start))
        start = m.end()
    pieces.append((row[start:], offset + start))
    if all(_top_level(p, "=") for p, _ in pieces if p.strip()) and sum(1 for p, _ in pieces if p.strip()) > 1:
        return pieces
    return [(row, offset)]


def _depths(text):
    """The bracket depth before each character of ``text`` (one pass)."""
    out, depth = [], 0
    for ch in text:
        out.append(depth)
        depth += (ch in "{([") - (ch in "})]")
    return out


def _enumeration(parts) -> bool:
    """``x = -1, 0, 2``: the values a name may take, listed (no equation: x is none of them in particular)."""
    numbers = [bool(re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*\.?", p)) for p, _ in parts[1:]]
    first = re.fullmatch(r"\s*[A-Za-z]\w*\s*=\s*-?\d+(?:\.\d+)?\s*", parts[0][0])
    return bool(numbers) and all(numbers) and first is not None


def _chain(row, offset, lines, section, display, sentence, reason, cells, previous):
    """The statements of one row: its comma-separated parts, each a chain of sides."""
    out = []
    given = []
    parts = [q for p in _split(row, ",", offset) for q in _spaced(*p)] if not display else _spaced(row, offset)
    if not display and _enumeration(parts):
        return out
    for part, poff in parts:
        part, poff = _strip(part, poff)
        if not part:
            continue
        relation = "="
        for rel in ("\\in", "\\rightarrow", "\\to", ":", "\\neq", ">", "<", "\\leq", "\\geq"):
            if any(not part[c + len(rel):c + len(rel) + 1].isalpha() or not rel[-1].isalpha()
                   for c in _top_level(part, rel)):
                relation = rel.strip()
                break
        pieces = _split(part, "=", poff) if relation == "=" else _split(part, relation, poff)
        sides = []
        for piece, p in pieces:
            piece, p = _strip(piece, p)
            line, col = lines.at(p)
            sides.append(Side(piece, line, col))
        if sides:  # "= (ŷ − y)ᵀ \ \ \text{if y is a column vector}": the words are a stated condition
            m = _TRAILING_TEXT.fullmatch(sides[-1].text)
            if m and m.group(1).strip():
                sides[-1].text = m.group(1).rstrip()
                reason = (reason + "; " if reason else "") + re.sub(r"\s+", " ", m.group(2)).strip()
        if sides and len(sides) > 1:
            sides[-1].reason = reason
        continues = relation == "=" and len(sides) > 1 and not sides[0].text
        if continues and previous and previous[-1].relation == "=" and previous[-1].display == display:
            previous[-1].sides.extend(sides[1:])  # "= c" on the next row: the chain goes on
            continue
        if continues:
            sides = sides[1:]
        stmt = Statement(sides, section, display, sides[0].line if sides else lines.at(poff)[0], reason,
                         relation, sentence, cells=cells, given=list(given))
        if relation == "=" and len(sides) == 2 and re.fullmatch(r"[a-z]", sides[0].text) and \
                re.fullmatch(r"\d+", sides[1].text) and not display:
            given.append((sides[0].text, int(sides[1].text)))  # i=1, then the formula for that i
        out.append(stmt)
        previous = previous + [stmt]
    return out
