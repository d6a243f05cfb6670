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


class _Lines:
    def __init__(self, text):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset):
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


def read_document(text: str, source: str = "document", kind: str | None = None) -> Document:
    """Every statement of a Markdown or LaTeX document (``kind``: "markdown" or "latex"; guessed from
    the text when None)."""
    if kind is None:
        kind = "latex" if re.search(r"\\(documentclass|begin\{document\}|section\{)", text) else "markdown"
    if kind == "latex":
        text = re.sub(r"(?<!\\)%[^\n]*", lambda m: " " * len(m.group(0)), text)  # comments, keeping offsets
    lines = _Lines(text)
    headings = _headings(text, kind)
    maths = _maths(text, kind)
    sections, statements, prose = [], [], {}
    stack: list[tuple[int, str, str]] = []
    current = Section((), "", 1)
    h = 0
    last_end = 0
    last_display = 0
    previous_inline = None
    for start, end, body_start, body, display in maths:
        while h < len(headings) and headings[h][0] < start:
            offset, level, title = headings[h]
            prose_add(prose, current, text[last_end:offset])
            last_end = offset
            stack = [s for s in stack if s[0] < level] + [(level, _section_key(title), title)]
            current = Section(tuple(s[1] for s in stack), title, lines.at(offset)[0])
            sections.append(current)
            h += 1
        before = text[last_end:start]
        prose_add(prose, current, before + (text[start:end] if not display else " "))
        last_end = end
        sentence = _last_sentence(text[max(last_display, current_start(headings, h, start)):start])
        if display:
            last_display = end
        new = _statements(body, body_start, lines, current, display, sentence)
        if not display and new and previous_inline and _VERBAL.fullmatch(text[previous_inline[1]:start]):
            # "$a = b$ will always be $c$": the words are an equality between the two formulas
            last = previous_inline[0]
            statements.append(Statement([last.sides[-1], new[0].sides[0]], current, False, last.line,
                                        prose=sentence))
        statements.extend(new)
        previous_inline = (new[-1], end) if new and not display else None
    while h < len(headings):
        offset, level, title = headings[h]
        stack = [s for s in stack if s[0] < level] + [(level, _section_key(title), title)]
        sections.append(Section(tuple(s[1] for s in stack), title, lines.at(offset)[0]))
        h += 1
    return Document(source, sections, statements, prose)


_VERBAL = re.compile(r"\s*(?:will always be|is always|always equals|equals|is equal to|which equals)\s*")


def current_start(headings, h, start):
    """Where the section holding ``start`` begins (prose before it belongs to another section)."""
    return headings[h - 1][0] if h > 0 and headings[h - 1][0] < start else 0


def prose_add(prose, section, text):
    prose.setdefault(section.path, []).append(text)


def _section_key(title: str) -> str:
    number = re.match(r"\s*(\d+(?:\.\d+)*)\.?\s", title + " ")
    return number.group(1) if number else title.strip()


def _last_sentence(prose: str) -> str:
    tail = prose.strip().split("\n\n")[-1]
    return tail[-300:]


def _headings(text, kind):
    """(offset, level, title) of each heading; in Markdown a line all in bold is a sub-heading."""
    out = []
    if kind == "latex":  # numbered as LaTeX numbers them (\section* is not)
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
    fence = False
    offset = 0
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence:
            m = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                out.append((offset, len(m.group(1)), m.group(2).strip()))
            else:
                b = re.fullmatch(r"\s*\*\*([^*]+)\*\*\s*", line)
                if b:
                    out.append((offset, 7, b.group(1).strip()))
        offset += len(line) + 1
    return out


#: (opening, closing, displayed, the kinds of document that use them), tried in order
_DELIMITERS = (("$$", "$$", True, ("markdown", "latex")), ("\\[", "\\]", True, ("latex",)),
               ("\\(", "\\)", False, ("latex",)))


def _maths(text, kind):
    """(start, end, body start, body, display) of each piece of math, in order."""
    out = []
    i, n = 0, len(text)
    envs = "|".join(re.escape(e) for e in _ALIGNS)
    env_start = re.compile(r"\\begin\{(" + envs + r")\}")
    fence = False
    while i < n:
        if kind == "markdown" and text.startswith("```", i) and (i == 0 or text[i - 1] == "\n"):
            fence = not fence
            i = text.find("\n", i) + 1 or n
            continue
        if fence:
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        c = text[i]
        if c == "\\" and text.startswith("\\$", i):
            i += 2
            continue
        delimited = next(((o, c, d) for o, c, d, kinds in _DELIMITERS if kind in kinds and text.startswith(o, i)),
                         None)
        if delimited:  # $$ … $$, \[ … \], \( … \): the math runs to the closing mark (or the end)
            opening, closing, display = delimited
            close = text.find(closing, i + 2)
            close = n if close < 0 else close
            out.append((i, min(n, close + 2), i + 2, text[i + 2:close], display))
            i = close + 2
            continue
        if kind == "latex" and text.startswith("\\begin{", i):
            m = env_start.match(text, i)
            if m:
                end_tag = f"\\end{{{m.group(1)}}}"
                close = text.find(end_tag, m.end())
                close = n if close < 0 else close
                out.append((i, min(n, close + len(end_tag)), i, text[i:close + len(end_tag)], True))
                i = close + len(end_tag)
                continue
        if c == "$":
            close = i + 1
            while close < n:
                if text[close] == "$" and text[close - 1] != "\\":
                    break
                if text[close] == "\n" and text[close + 1:close + 2] == "\n":
                    close = n
                    break
                close += 1
            if close < n:
                out.append((i, close + 1, i + 1, text[i + 1:close], False))
                i = close + 1
                continue
        i += 1
    return out


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
    for k, (row, offset) in enumerate(rows):
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
            row = "".join(" " if k in set(_top_level(row, "&")) else ch for k, ch in enumerate(row))
        out.extend(_chain(row, offset, lines, section, display, sentence, reason, cells, out))
    return out


def _is_dimension_row(cells):
    return any(c for c, _ in cells) and all(
        not c or re.fullmatch(r"\(\s*[^()]+\\times[^()]+\)|[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?", c) for c, _ in cells)


def _text_of(cell):
    m = re.fullmatch(r"\\text\s*\{(.*)\}", cell, re.S)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else cell


_TRAILING_TEXT = re.compile(r"(.*?)(?:\s|\\ |\\quad|\\qquad)+\\text\s*\{([^{}]*)\}\s*", re.S)
_GAP = re.compile(r"(?:\\ \s*){2,}|\\quad|\\qquad")


def _spaced(row, offset):
    """A display row holding two equations set apart by spaces (δ₁ = … \\ \\ δ₂ = …): each on its own."""
    cuts = [m for m in _GAP.finditer(row) if not _nested(row, m.start())]
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


def _nested(text, at):
    depth = 0
    for ch in text[:at]:
        depth += ch in "{(["
        depth -= ch in "})]"
    return depth > 0


def _chain(row, offset, lines, section, display, sentence, reason, cells, previous):
    """The statements of one row: its comma-separated parts, each a chain of sides."""
    out = []
    given = []
    parts = _split(row, ",", offset) if not display else _spaced(row, offset)
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
