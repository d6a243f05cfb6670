"""Python source as text: when a piece of code needs parentheses, and filling an op's code template.

Every printer that fills a template or joins operands goes through :func:`group`, so precedence is
decided in one place (``0.5 * {0}`` scales all of ``a + b``).
"""

import re

_SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")


def fill(template: str, *args: str, **named: str) -> str:
    """The template with {0}, {1} replaced by the arguments and {name} by ``named`` (LaTeX braces stay
    as they are, so a template never writes a literal {0} or {1}: \\tfrac12, not \\tfrac{1}{2})."""
    values = {str(n): a for n, a in enumerate(args)} | named
    # one pass: a filled-in argument is never read again (W_{1} stays W_{1} when {1} is a slot)
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?(e[+-]?[0-9]+)?\Z")


def one_group(code: str) -> bool:
    """Whether ``code`` is one parenthesised group, ``( … )`` with its own closing bracket last."""
    return code.startswith("(") and _group_end(code) == len(code) - 1


def is_atom(code: str) -> bool:
    """A name, an unsigned number, a call ``f(…)``, an attribute chain or one parenthesised group:
    code that needs no parentheses as an operand."""
    if _NUMBER.match(code):
        return True
    name = _NAME.match(code)
    rest = code[name.end():] if name else code
    while rest:
        if rest.startswith("(") or rest.startswith("["):
            close = _group_end(rest)
            if close is None:
                return False
            rest = rest[close + 1:]
        elif rest.startswith(".") and _NAME.match(rest[1:]):
            rest = rest[1 + _NAME.match(rest[1:]).end():]
        else:
            return False
    return True


def _group_end(code: str):
    depth = 0
    for n, ch in enumerate(code):
        depth += (ch in "([") - (ch in ")]")
        if depth == 0:
            return n
    return None


def fill_code(template: str, *args: str, np: str = "np.", **numbers: str) -> str:
    """An op's NumPy template filled with argument code, each argument parenthesised unless it is a
    name, an unsigned number or one parenthesised group (so ``0.5 * {0}`` scales all of ``a + b``);
    ``{np}`` becomes the module prefix, ``{width}`` an op's number parameter (``numbers``)."""
    values = {"np": np, **numbers}
    for n, a in enumerate(args):
        slot = "{" + str(n) + "}"
        # an argument that is only ever a whole call argument, f({0}) or f({0}, …), needs no parentheses
        elsewhere = template.replace(f"({slot})", "").replace(f"({slot},", "")
        values[str(n)] = group(a) if slot in elsewhere else a[1:-1] if one_group(a) else a
    # one pass: a filled-in argument is never read again
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def group(code: str) -> str:
    """``code`` as one operand: unchanged if it is a name, an unsigned number or one parenthesised
    group, else in parentheses."""
    return code if is_atom(code) else f"({code})"
