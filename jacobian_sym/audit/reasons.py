"""Why links are not decidable, grouped into kinds a reader can act on (what to add to a context
file, which notation the reader does not read), most frequent first, with one example each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jacobian_sym.audit import verdicts as A

#: (kind, pattern on the reason), tried in order; the first match names the kind
_KINDS = (
    ("a side before it has no value", re.compile(r"^the side before it has no value|^no side before it has a value")),
    ("notation the reader does not read: {0}", re.compile(r"the reader cannot read it: unexpected '([^']*)'")),
    ("notation the reader does not read: {0}", re.compile(r"the reader cannot read it: (a sum's [a-z ]+|a sum of "
                                                          r"nothing|unbalanced braces|expected [^,]+, found [^ (]+)")),
    ("notation the reader does not read", re.compile(r"the reader cannot read it")),
    ("a name the document does not define (declare its shape in a context file)",
     re.compile(r" is not defined in ")),
    ("a shape the document does not give (declare it in a context file)",
     re.compile(r"^the shape of .* is not (known|given)")),
    ("a function the document does not define", re.compile(r"not a function in|with [^ ]+ not a function")),
    ("prose inside the math", re.compile(r"^prose inside the math")),
    ("a free index whose range is not known", re.compile(r"^the index .* is free and its range unknown")),
    ("a derivative by an expression", re.compile(r"a derivative by an expression")),
    ("a sum's bound that is not a size", re.compile(r"a sum's (upper|lower) bound that is not a size")),
    ("an ellipsis whose pattern is not clear", re.compile(r"an ellipsis")),
)


@dataclass(frozen=True)
class Reason:
    kind: str
    count: int
    #: one link of that kind: (line, its text, its reason)
    example: tuple[int, str, str]


def kind_of(reason: str) -> str:
    for kind, pattern in _KINDS:
        m = pattern.search(reason)
        if m:
            return kind.format(*(g.replace('\\\\', '\\') for g in m.groups()))
    return re.split(r"[:;(]", reason, maxsplit=1)[0].strip() or "no reason given"


def undecided(links) -> list[Reason]:
    """The kinds of reason of the not-decidable links, most frequent first (ties by first line)."""
    groups: dict[str, list] = {}
    for link in links:
        if link.verdict == A.UNDECIDABLE:
            groups.setdefault(kind_of(link.reason), []).append(link)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0].line))
    return [Reason(kind, len(chosen), (chosen[0].line, chosen[0].text, chosen[0].reason))
            for kind, chosen in ordered]
