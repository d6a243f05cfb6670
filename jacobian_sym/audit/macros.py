"""A document's own macros (``\\newcommand``, ``\\renewcommand``, ``\\providecommand``, ``\\def``,
``\\DeclareMathOperator``), expanded in its text before it is read.

Text substitution only: nothing is run, no file is read. A macro whose body names ``\\input``,
``\\include``, ``\\write``, ``\\openout``, ``\\read``, ``\\csname`` or ``\\catcode`` is left alone (not
expanded). Expansion stops at a depth of ``MAX_DEPTH`` passes and when the text would grow past
``MAX_GROWTH`` times its length (a note says so); a definition's newlines are dropped from its body so
every line of the document keeps its number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DEPTH = 8
MAX_GROWTH = 4
MAX_ARGS = 9
_UNSAFE = re.compile(r"\\(?:input|include|write|immediate|openout|openin|read|csname|catcode|def|edef|gdef|xdef"
                     r"|newcommand|renewcommand|let)(?![A-Za-z])")
_DEFINE = re.compile(r"\\(newcommand|renewcommand|providecommand|DeclareMathOperator|def)(\*?)\s*")
_NAME = re.compile(r"\\([A-Za-z]+)")


@dataclass(frozen=True)
class Macro:
    name: str
    args: int
    body: str
    default: str | None = None  # the first argument's default (\newcommand{\a}[2][x]{…})


def _group(text: str, i: int) -> tuple[str, int] | None:
    """The braced group at ``i`` (after spaces): (inside, end), or None."""
    while i < len(text) and text[i] in " \t\n":
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth, j = 0, i
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    return None


def _bracket(text: str, i: int) -> tuple[str, int] | None:
    """The [optional] argument at ``i`` (after spaces): (inside, end), or None."""
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text) or text[i] != "[":
        return None
    close = text.find("]", i)
    return (text[i + 1:close], close + 1) if close > 0 else None


def definitions(text: str) -> tuple[dict[str, Macro], list[tuple[int, int]]]:
    """The macros a text defines, and the spans of their definitions (to be blanked)."""
    macros, spans = {}, []
    for m in _DEFINE.finditer(text):
        kind, i = m.group(1), m.end()
        if kind == "def":
            name = _NAME.match(text, i)
            if not name:
                continue
            i = name.end()
            params = re.match(r"(?:#[1-9])*", text[i:])
            args = len(params.group(0)) // 2
            i += params.end()
            body = _group(text, i)
            if body is None:
                continue
            macro = Macro(name.group(1), args, body[0])
            end = body[1]
        else:
            head = _group(text, i)
            if head is not None:
                name, i = head[0].strip(), head[1]
            else:
                bare = _NAME.match(text, i)
                if not bare:
                    continue
                name, i = bare.group(0), bare.end()
            if not re.fullmatch(r"\\[A-Za-z]+", name):
                continue
            if kind == "DeclareMathOperator":
                body = _group(text, i)
                if body is None:
                    continue
                macro, end = Macro(name[1:], 0, rf"\operatorname{{{body[0]}}}"), body[1]
            else:
                args, default = 0, None
                count = _bracket(text, i)
                if count is not None:
                    if not count[0].strip().isdigit():
                        continue
                    args, i = int(count[0]), count[1]
                    opt = _bracket(text, i)
                    if opt is not None:
                        default, i = opt
                body = _group(text, i)
                if body is None or args > MAX_ARGS:
                    continue
                macro, end = Macro(name[1:], args, body[0], default), body[1]
                if kind == "providecommand" and macro.name in macros:
                    spans.append((m.start(), end))
                    continue
        spans.append((m.start(), end))
        if _UNSAFE.search(macro.body):
            continue
        macros[macro.name] = Macro(macro.name, macro.args, macro.body.replace("\n", " "), macro.default)
    return macros, spans


def _arguments(text: str, i: int, macro: Macro) -> tuple[list[str], int] | None:
    args = []
    want = macro.args
    if macro.default is not None:
        opt = _bracket(text, i)
        if opt is not None:
            args.append(opt[0])
            i = opt[1]
        else:
            args.append(macro.default)
        want -= 1
    for _ in range(want):
        group = _group(text, i)
        if group is not None:
            args.append(group[0])
            i = group[1]
            continue
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text) or text[i] in "\n}":
            return None
        single = _NAME.match(text, i)
        end = single.end() if single else i + 1
        args.append(text[i:end])
        i = end
    return args, i


def _substitute(body: str, args: list[str]) -> str:
    return re.sub(r"#([1-9])", lambda m: args[int(m.group(1)) - 1] if int(m.group(1)) <= len(args) else "",
                  body)


def _pass(text: str, macros: dict[str, Macro]) -> tuple[str, bool]:
    out, i, changed = [], 0, False
    pattern = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")
    while True:
        m = pattern.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out), changed
        if m.start() > 0 and text[m.start() - 1] == "\\":  # \\transpose: a line break, then a word
            out.append(text[i:m.end()])
            i = m.end()
            continue
        macro = macros[m.group(1)]
        got = _arguments(text, m.end(), macro)
        if got is None:
            out.append(text[i:m.end()])
            i = m.end()
            continue
        args, end = got
        out.append(text[i:m.start()])
        expansion = _substitute(macro.body, args)
        # a letter right after the expansion must not join a command it ends with (\top x)
        if re.search(r"\\[A-Za-z]+$", expansion) and end < len(text) and text[end].isalpha():
            expansion += " "
        out.append(expansion)
        i, changed = end, True


def expand(text: str) -> tuple[str, list[str]]:
    """The text with its macro definitions blanked (newlines kept) and its macros expanded; the notes
    (a limit reached)."""
    macros, spans = definitions(text)
    if not spans:
        return text, []
    pieces, last = [], 0
    for start, end in spans:
        if start < last:
            continue
        pieces.append(text[last:start])
        pieces.append(re.sub(r"[^\n]", " ", text[start:end]))
        last = end
    pieces.append(text[last:])
    text = "".join(pieces)
    if not macros:
        return text, []
    limit = MAX_GROWTH * len(text) + 10_000
    for _ in range(MAX_DEPTH):
        new, changed = _pass(text, macros)
        if not changed:
            return text, []
        if len(new) > limit:
            return text, [f"the document's macros were not expanded further: the text would grow past "
                          f"{MAX_GROWTH} times its size"]
        text = new
    still = _pass(text, macros)[1]
    return text, ([f"the document's macros were expanded {MAX_DEPTH} times deep and still use macros "
                   "(a macro that calls itself?); the rest are left as written"] if still else [])
