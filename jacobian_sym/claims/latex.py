"""The LaTeX that lecture notes write, read into a small tree: no eval, no sympify, positions kept.

One reader for claims (``js.check``) and for audits (``js.audit``). Its tree is tuples whose last
field is the 1-based column:

* ``("num", v)``, ``("sym", base, indices)`` — ``W_{ij}`` is ``("sym", "W", ("i", "j"))``, ``\\hat{y}_k``
  is ``("sym", "yhat", ("k",))``, ``\\delta_1`` is ``("sym", "delta", ("1",))``; whether a subscript is
  a name's part (b₁) or an index (x_j) is decided by whoever reads the tree against its context;
* ``("add"|"sub"|"matmul"|"hadamard"|"div", a, b)``, ``("neg", a)``, ``("T", a)``, ``("pow", a, e)``;
* ``("call", name, args, axis)`` (primes as ``_prime`` suffixes), ``("apply", sym, args)`` for ``f(x)``
  where ``f`` may be a function or a factor (the context decides);
* ``("deriv", top, by, notes)`` — ∂top/∂by (the operator ∂/∂by takes the rest of its term as top);
* ``("sum", var, lo, hi, excluded, body)``, ``("cases", ((value, condition), …))``,
  ``("matrix", rows)`` with ``("dots",)`` cells, ``("elem", expr, indices)`` for ``(…)_{ij}``,
  ``("text", words)`` for prose inside math, ``("shape", rows, cols)`` for ``(1 \\times D_h)``.

A condition is ``("rel", op, a, b)`` with op one of = ≠ < > ≤ ≥, ``("and", c, d)`` or
``("otherwise",)``. Notation the reader repairs (a denominator without ∂) is kept in the node's ``notes``.
``walk`` visits every node.
"""

from __future__ import annotations

import math
import re
import unicodedata

from jacobian_sym.base.bounds import MAX_MATH_DEPTH, MAX_NESTING, deepest, too_deep
from jacobian_sym.errors import ParseError

_UNICODE = {"◦": r"\circ", "∘": r"\circ", "⊙": r"\odot", "·": r"\cdot", "×": r"\times", "≠": r"\neq",
            "−": "-", "∂": r"\partial", "θ": r"\theta", "δ": r"\delta", "σ": r"\sigma", "≤": r"\leq",
            "≥": r"\geq", "∈": r"\in", "→": r"\rightarrow", "…": r"\ldots", "⋯": r"\cdots", "ŷ": r"\hat{y}"}
_TOKEN = re.compile(r"\s*(\\[A-Za-z]+|\\.|[A-Za-z]+|\d+(?:\.\d+)?|\.\.\.|\S)")
_SKIP = {r"\,", r"\;", r"\!", r"\:", "\\ ", r"\quad", r"\qquad", r"\left", r"\right", r"\displaystyle",
         r"\limits", r"\nolimits", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr"}
_WRAPPERS = {r"\boldsymbol", r"\mathbf", r"\bm", r"\mathit", r"\vec", r"\mathbfit", r"\mathsf"}
#: the delimiters of a norm ‖x‖: opening → closing
_NORMS = {r"\|": r"\|", r"\lVert": r"\rVert", r"\Vert": r"\Vert"}
_TEXT = {r"\text", r"\mathrm", r"\operatorname", r"\textrm", r"\textit", r"\mathit"}
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega",
         "Delta", "Theta", "Lambda", "Sigma", "Phi", "Psi", "Omega", "Gamma"}
#: words written without a backslash that are functions, not products of letters (log, ReLU, CE)
FUNCTION_WORDS = {"log", "ln", "exp", "max", "min", "relu", "softmax", "sng", "sgn", "sign", "diag", "tanh",
                  "sigmoid", "ce", "gelu", "softplus", "tr", "trace", "sin", "cos", "tan", "det", "onehot"}
#: the bars of an absolute value |x|: opening → closing (log |X| and log |det X| are log-determinants)
_BARS = {"|": "|", r"\lvert": r"\rvert"}
_RELATIONS = {"=": "=", r"\neq": "≠", r"\ne": "≠", "<": "<", ">": ">", r"\leq": "≤", r"\le": "≤",
              r"\geq": "≥", r"\ge": "≥"}
_STOP = {None, "+", "-", ")", "}", "]", ",", ";", "&", r"\\", "=", r"\neq", r"\ne", "<", ">", r"\leq", r"\le",
         r"\geq", r"\ge", r"\in", r"\rightarrow", r"\to", ":", r"\circ", r"\odot", "/", "|", r"\end", ".",
         r"\rVert", r"\rvert"}
_DOTS = {r"\cdots", r"\ldots", r"\dots", r"\vdots", r"\ddots", "..."}


class LatexError(ParseError):
    """Math the reader cannot read (unbalanced braces, an unknown command)."""


#: the size of a number a claim may write: digits of a literal, and 10^k of a power of numbers
MAX_DIGITS = 40
MAX_LOG10 = 300


def _literal_value(node) -> float | None:
    """The value of a number or a power of numbers (2^{2^2}), as a float; None for anything else. A
    tower is refused by its size before it is computed (``_superscript``), so this never overflows."""
    if node[0] == "num":
        return float(node[1])
    if node[0] == "neg":  # 2^{-99999999999}: as costly as its reciprocal
        inner = _literal_value(node[1])
        return None if inner is None else -inner
    if node[0] == "pow":
        base, power = _literal_value(node[1]), _literal_value(node[2])
        if base is not None and power is not None and (base > 0 or float(power).is_integer()):
            return base ** power
    return None


def _shown(value: float) -> str:
    return f"{value:.6g}"


def tokens(text: str) -> list[tuple[str, int]]:
    """(token, 1-based column) pairs; Unicode math signs become their commands."""
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group(1)
        tok = _UNICODE.get(tok, tok)
        if tok in (r"\hat{y}",):
            out += [(r"\hat", m.start(1) + 1), ("y", m.start(1) + 1)]
            continue
        out.append((tok, m.start(1) + 1))
    return out


def read(text: str, source: str = "claim", *, bold_digits: bool = False):
    """The tree of one expression (no relation sign in it). ``bold_digits``: a bold 1 (0) is a vector
    of ones (zeros), the name ``ones`` (``zeros``), as documents mean it; else the number (claims)."""
    opened, closed = len(re.findall(r"(?<!\\)\{", text)), len(re.findall(r"(?<!\\)\}", text))
    if opened != closed:
        raise LatexError(f"unbalanced braces: {opened} {{ and {closed} }}", source=source,
                         col=unbalanced_brace(text))
    deep = too_deep(text)
    if deep is not None:
        raise LatexError(f"more than {MAX_NESTING} brackets open at once", source=source, col=deep)
    reader = Reader(text, source, bold_digits=bold_digits)
    try:
        tree = reader.expr()
    except (RecursionError, MemoryError):  # (a chain the bracket count does not see: x^x^x…, −−−x)
        raise LatexError(f"the expression is nested too deeply (at most {MAX_NESTING} levels)",
                         source=source) from None
    if reader.peek() is not None:
        reader.fail(f"unexpected {reader.peek()!r}")
    deep = deepest(tree, subtrees, MAX_MATH_DEPTH)
    if deep is not None:
        raise LatexError(f"the expression is nested too deeply (at most {MAX_MATH_DEPTH} levels)", source=source,
                         col=deep[-1] if isinstance(deep[-1], int) else None)
    return tree


def subtrees(tree) -> list:
    """A reader tree's children: its non-empty tuples (a call's arguments are a tuple of trees)."""
    return [a for a in tree if isinstance(a, tuple) and a] if isinstance(tree, tuple) else []


def unbalanced_brace(text: str) -> int | None:
    """The 1-based column of the first } that closes nothing, else of the last { never closed (None
    when the braces balance); an escaped \\{ or \\} is a character, not a group."""
    unclosed = []
    for m in re.finditer(r"(?<!\\)[{}]", text):
        if m.group() == "{":
            unclosed.append(m.start() + 1)
        elif not unclosed:
            return m.start() + 1
        else:
            unclosed.pop()
    return unclosed[-1] if unclosed else None


class Reader:
    def __init__(self, text: str, source: str = "claim", col: int = 0, bold_digits: bool = False):
        self.tokens = _unwrap(tokens(text), bold_digits)
        self.i, self.end, self.source, self.col = 0, len(text) + 1, source, col
        #: how many norms ‖…‖ are open: inside one, its closing ‖ ends the expression
        self.norms = 0

    # ----- the stream -----
    def peek(self, ahead: int = 0):
        while self.i < len(self.tokens) and self.tokens[self.i][0] in _SKIP:
            self.i += 1
        j = self.i + ahead
        while j < len(self.tokens) and self.tokens[j][0] in _SKIP:
            j += 1
        return self.tokens[j][0] if j < len(self.tokens) else None

    def pos(self):
        self.peek()
        return (self.tokens[self.i][1] if self.i < len(self.tokens) else self.end) + self.col

    def fail(self, message, pos=None):
        raise LatexError(message, source=self.source, col=pos if pos is not None else self.pos())

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            self.fail(f"expected {want or 'more'}, found {tok or 'the end'}")
        self.i += 1
        return tok

    def at_stop(self):
        tok = self.peek()
        if tok in _TEXT and self.peek(1) == "{" and self.peek(2) in ("and", "or", "if", "for", "when") and \
                self.peek(3) == "}":
            return True  # \text{and} between two conditions
        return tok in _STOP or (tok == "." and self.peek(1) is None) or (tok in (r"\|", r"\Vert") and self.norms > 0)

    def raw_group(self) -> list[str]:
        """A braced group's tokens, or one token (for sub- and superscripts). Unbraced, a script is one
        character, as TeX reads it: ``\\beta_ix_i`` is β_i x_i, not β with the index "ix"."""
        if self.peek() != "{":
            self._one_character()
            return [self.take()]
        self.take("{")
        out, depth = [], 0
        while True:
            tok = self.peek()
            if tok is None:
                self.fail("unbalanced braces: a { is never closed")
            self.i += 1
            if tok == "{":
                depth += 1
            elif tok == "}":
                if depth == 0:
                    return out
                depth -= 1
            out.append(tok)

    def _one_character(self):
        """A run of letters after ^ or _ unbraced: its first letter is the script, the rest follows
        (TeX's rule: ``x^Ty`` is xᵀy, ``A^TBA`` is Aᵀ B A)."""
        tok = self.peek()
        if tok is not None and len(tok) > 1 and tok.isalpha():
            _, col = self.tokens[self.i]
            self.tokens[self.i:self.i + 1] = [(tok[0], col), (tok[1:], col + 1)]

    def sub_reader(self, want_close="}"):
        """The expression inside a braced group."""
        self.take("{")
        inner = self.expr()
        self.take(want_close)
        return inner

    # ----- grammar -----
    def expr(self):
        pos = self.pos()
        if self.peek() in ("-", "+"):
            sign = self.take()
            left = self.hadamard()
            left = ("neg", left, pos) if sign == "-" else left
        else:
            left = self.hadamard()
        while self.peek() in ("+", "-"):
            op_pos = self.pos()
            op = "add" if self.take() == "+" else "sub"
            left = (op, left, self.hadamard(), op_pos)
        return left

    def hadamard(self):
        left = self.product()
        while self.peek() in (r"\circ", r"\odot"):
            pos = self.pos()
            self.take()
            left = ("hadamard", left, self.product(), pos)
        return left

    def product(self):
        pos = self.pos()
        if self.at_stop():
            self.fail(f"expected a term, found {self.peek() or 'the end'}")
        left = self.factor()
        while not self.at_stop():
            fpos = self.pos()
            if self.peek() in (r"\cdot", r"\times"):
                self.take()
            right = self.factor()
            left = ("matmul", left, right, fpos)
        if self.peek() == "/":
            dpos = self.pos()
            self.take()
            left = ("div", left, self.factor(), dpos)
        del pos
        return left

    def factor(self):
        """A postfix expression, or a sum / a derivative operator, which take the rest of the term."""
        tok, pos = self.peek(), self.pos()
        if tok in (r"\sum", r"\Sum"):
            return self.summation()
        if tok == r"\partial" and self.peek(1) == "_":  # \partial_{o_j} l: the operator ∂/∂o_j
            self.take()
            self.take()
            by = _small_tree(self.raw_group(), pos, self) if self.peek() == "{" else self.symbol(self.take(), pos)
            if self.at_stop():
                self.fail("∂/∂… is applied to nothing", pos)
            return ("deriv", self.product(), by, (), pos)
        if tok == r"\nabla":  # \nabla_{\mathbf{x}} f: the gradient, arranged like x (d2l's ∇_x Ax = Aᵀ)
            self.take()
            if self.peek() != "_":
                self.fail("∇ without the variable it is taken by (write \\nabla_x f)", pos)
            self.take()
            by = _small_tree(self.raw_group(), pos, self) if self.peek() == "{" else self.symbol(self.take(), pos)
            if self.at_stop():
                self.fail("∇ is applied to nothing", pos)
            return ("grad", ("deriv", self.product(), by, (), pos), pos)
        if tok in (r"\frac", r"\dfrac", r"\tfrac"):
            self._leibniz()
        if tok in (r"\frac", r"\dfrac", r"\tfrac") and self._is_operator_fraction():
            self.take()
            self.raw_group()  # {\partial}
            by, noted = self.denominator()
            operand = self.product() if not self.at_stop() else None
            if operand is None:
                self.fail("∂/∂… is applied to nothing", pos)
            return ("deriv", operand, by, noted, pos)
        return self.postfix()

    def _group_end(self, j):
        """The index of the } closing the group that opens at token ``j`` (None if it does not)."""
        if j >= len(self.tokens) or self.tokens[j][0] != "{":
            return None
        depth = 0
        for k in range(j, len(self.tokens)):
            depth += {"{": 1, "}": -1}.get(self.tokens[k][0], 0)
            if depth == 0:
                return k
        return None

    def _leibniz(self):
        """Leibniz's \\frac{df}{dx}, \\frac{d}{dx_k}, \\frac{d}{d\\mathbf{V}}: the d's become ∂ (the reader's
        derivative) when the denominator is d and one symbol (a letter or a Greek name, with or without an
        index); any other fraction with a d in it is a quotient (d a size: \\frac{d}{2})."""
        j1 = self._group_end(self.i + 1)
        j2 = self._group_end(j1 + 1) if j1 is not None else None
        if j2 is None:
            return
        num, den = self.tokens[self.i + 2:j1], self.tokens[j1 + 2:j2]
        rest = _after_d(den)
        if rest is None or not num or not (num[0][0] == "d" or (_after_d(num[:1]) is not None)):
            return
        head, *tail = rest
        single = head.isalpha() and len(head) == 1 or head.startswith("\\") and head[1:] in GREEK
        if not single or not (not tail or tail[0] == "_" and (len(tail) == 2 or tail[1] == "{" and tail[-1] == "}")):
            return
        for start, group in ((j1 + 2, den), (self.i + 2, num)):  # the later group first: indices stay valid
            tok, col = group[0]
            self.tokens[start:start + 1] = [(r"\partial", col)] + ([(tok[1:], col + 1)] if tok != "d" else [])

    def _is_operator_fraction(self):
        j = self.i + 1
        return (j + 2 < len(self.tokens) and self.tokens[j][0] == "{" and self.tokens[j + 1][0] == r"\partial"
                and self.tokens[j + 2][0] == "}")

    def summation(self):
        pos = self.pos()
        self.take()
        var = lo = hi = excluded = None
        if self.peek() == "_":
            self.take()
            sub = self.raw_group()
            var, lo, excluded = self._sum_subscript(sub, pos)
        if self.peek() == "^":
            self.take()
            hi = self._group_tree()
        if self.at_stop():
            self.fail("a sum of nothing", pos)
        body = self.product()
        return ("sum", var, lo, hi, excluded, body, pos)

    def _sum_subscript(self, sub, pos):
        if not sub or not re.fullmatch(r"[A-Za-z]", sub[0]):
            self.fail("a sum's subscript starts with its index (\\sum_{k=1}^{n})", pos)
        var, rest = sub[0], sub[1:]
        if not rest:
            return var, None, None
        if rest[0] == "=" and len(rest) >= 2:
            return var, _small_tree(rest[1:], pos, self), None
        if rest[0] in (r"\neq", r"\ne") and len(rest) == 2:
            return var, None, rest[1]
        self.fail(f"a sum's subscript I cannot read: {''.join(sub)}", pos)

    def _group_tree(self):
        pos = self.pos()
        return _small_tree(self.raw_group(), pos, self)

    def denominator(self):
        """{\\partial x} of a derivative; {x} without ∂ is read as ∂x and noted."""
        pos = self.pos()
        self.take("{")
        noted = ()
        if self.peek() == r"\partial":
            self.take()
        else:
            noted = ("a derivative's denominator lacks ∂ (read as ∂ of it)",)
        by = self.expr()
        if self.peek() == r"\partial":
            self.fail("a mixed second derivative is not read here", pos)
        self.take("}")
        return by, noted

    def postfix(self):
        node = self.atom()
        while True:
            tok, pos = self.peek(), self.pos()
            if tok == "^":
                self.take()
                node = self._superscript(node, pos)
            elif tok == "'":
                self.fail("a prime after something that is not a function", pos)
            elif tok == "_" and node[0] in ("call", "apply") and not node[1:2] == ("norm",):
                self.take()  # softmax(o)_j: an entry of the value
                node = ("elem", node, _indices(self.raw_group()), pos)
            elif tok == "_" and node[0] in ("matrix", "elem"):
                self.fail("a subscript here cannot be read", pos)
            else:
                return node

    def _superscript(self, node, pos):
        self._one_character()
        if self.peek() == "{" and self.peek(1) in ("T", "\\top", "\\intercal") and self.peek(2) == "}":
            self.raw_group()
            return ("T", node, pos)
        if self.peek() in ("T", r"\top", r"\intercal"):
            self.take()
            return ("T", node, pos)
        if self.peek() == "{" and self.peek(1) in ("th", "st", "nd", "rd") and self.peek(2) == "}":
            self.raw_group()
            return node  # k^{th}: an ordinal, not a power
        if node[0] == "sym" and self.peek() == "{" and self.peek(1) in ("(", "[") and node[1] != "e":
            label = self._label()
            if label is not None:  # W^{(1)}, a^{[l]}, h^{(l-1)}, x^{(i)}: a label, part of the name
                name = f"{node[1]}{label}"
                if not node[2] and self.peek() == "_":
                    self.take()
                    return ("sym", name, _indices(self.raw_group()), node[3])
                return ("sym", name, node[2], node[3])
        if self.peek() == "{":
            exponent = self.sub_reader()
        else:
            exponent = self.atom()
        if node[0] == "sym" and node[1] == "e" and not node[2]:
            return ("call", "exp", (exponent,), None, pos)
        base, power = _literal_value(node), _literal_value(exponent)
        if base is not None and power is not None and base != 0 and abs(power * math.log10(abs(base))) > MAX_LOG10:
            self.fail(f"a number beyond 10^{MAX_LOG10} or below 10^-{MAX_LOG10} (a power of numbers: "
                      f"{_shown(base)}^{_shown(power)}) is not read here", pos)
        return ("pow", node, exponent, pos)

    def _label(self):
        """``{(l-1)}`` or ``{[l]}`` after ^, taken as a label ("(l-1)") when the group holds nothing but
        the bracket (letters, digits, + and -); None (nothing taken) otherwise."""
        j = self.i
        toks = []
        while j < len(self.tokens) and self.tokens[j][0] != "}":
            toks.append(self.tokens[j][0])
            j += 1
        if j >= len(self.tokens) or len(toks) < 4:
            return None
        opening, inner, closing = toks[1], toks[2:-1], toks[-1]
        if closing != {"(": ")", "[": "]"}.get(opening) or not all(re.fullmatch(r"[A-Za-z0-9+\-]+", t) for t in inner):
            return None
        self.i = j + 1
        return f"{opening}{''.join(inner)}{closing}"

    def atom(self):
        tok, pos = self.peek(), self.pos()
        if tok == r"\mathcal" and self.peek(1) == "{":  # \mathcal{L}: a name of its own (ℒ), not L
            self.take()
            letters = "".join(self.raw_group())
            return self.symbol(_script(letters), pos)
        if tok in (r"\one", r"\zero"):  # \mathbf{1}, \boldsymbol{0}: a vector of ones (zeros), not a number
            self.take()
            return self.symbol("ones" if tok == r"\one" else "zeros", pos)
        if tok == "(" or tok == "[":
            self.take()
            inner = self.expr()
            if tok == "(" and self.peek() == r"\times":  # (1 \times D_h): a shape
                self.take()
                cols = self.expr()
                self.take(")")
                return ("shape", inner, cols, pos)
            if tok == "[" and self.peek() == ",":  # [x_1, x_2, \ldots, x_n], [y, x]: a row of its entries
                cells = [inner]
                while self.peek() == ",":
                    self.take()
                    cells.append(self.expr())
                self.take("]")
                return ("matrix", (tuple(cells),), pos)
            self.take(")" if tok == "(" else "]")
            return self._element_of(inner, pos)
        if tok == "{":
            self.take()
            if self.peek() == "}":
                self.take()
                return ("text", "", pos)
            inner = self.expr()
            self.take("}")
            return self._element_of(inner, pos) if self.peek() == "_" else inner
        if tok in (r"\frac", r"\dfrac", r"\tfrac"):
            return self.fraction()
        if tok in _NORMS:  # ‖x‖, ‖X‖_F, \lVert x \rVert: the 2-norm (Frobenius for a matrix)
            self.take()
            self.norms += 1
            inner = self.expr()
            self.norms -= 1
            self.take(_NORMS[tok])
            if self.peek() == "_":
                self.take()
                sub = "".join(self.raw_group())
                if sub not in ("2", "F"):
                    self.fail(f"a norm ‖·‖_{sub} is not read here (‖·‖, ‖·‖_2 and ‖·‖_F are)", pos)
            return ("call", "norm", (inner,), None, pos)
        if tok == r"\sqrt":
            self.take()
            if self.peek() == "[":
                self.fail("a root other than the square root is not read here", pos)
            return ("call", "sqrt", (self.sub_reader() if self.peek() == "{" else self.atom(),), None, pos)
        if tok is not None and re.fullmatch(r"\d+(?:\.\d+)?", tok):
            if len(tok) > MAX_DIGITS:
                self.fail(f"a number of more than {MAX_DIGITS} digits is not read here", pos)
            self.take()
            return ("num", float(tok) if "." in tok else int(tok), pos)
        if tok in _DOTS:
            self.take()
            return ("dots", pos)
        if tok in _TEXT:
            self.take()
            words = "".join(t if re.fullmatch(r"[A-Za-z]+", t) else f" {t} " for t in self.raw_group()).strip()
            words = re.sub(r"\s+", " ", words)
            if words.lower() in FUNCTION_WORDS and self.peek() in ("(", "'", "{"):
                return self.call(words, pos)
            if words.lower() in FUNCTION_WORDS and self.peek() not in _STOP:
                return self.call(words, pos)
            return ("text", words, pos)
        if tok == r"\begin":
            return self.environment()
        if tok == r"\{" and self.peek(1) == r"\begin":  # \left\{ \begin{array} … \end{array} \right.
            self.take()
            inner = self.environment()
            if self.peek() == ".":
                self.take()
            return inner
        if tok == r"\hat" or tok == r"\tilde" or tok == r"\bar":
            self.take()
            inner = self.raw_group()
            base = "".join(t.lstrip("\\") for t in inner) + tok[1:]
            return self.symbol(base, pos)
        if tok in (r"\mathbb",):
            self.take()
            return ("space", "".join(self.raw_group()), pos)
        if tok in (r"\sigma",) and self.peek(1) in ("(", "'"):  # σ(z), σ'(z): the logistic function
            self.take()
            return self.call("sigma", pos)
        if tok is not None and tok.startswith("\\") and tok[1:] in GREEK:
            self.take()
            return self.symbol(tok[1:], pos)
        if tok is not None and tok.startswith("\\") and tok[1:].lower() in FUNCTION_WORDS:
            self.take()
            return self.call(tok[1:], pos)
        if tok is not None and re.fullmatch(r"[A-Za-z]+", tok):
            return self.word()
        self.fail(f"unexpected {tok or 'end of the math'!r}", pos)

    def _element_of(self, inner, pos):
        if self.peek() != "_":
            return inner
        self.take()
        return ("elem", inner, _indices(self.raw_group()), pos)

    def word(self):
        """A run of letters: a function word (log, ReLU, CE), else one symbol per letter (Wx → W x)."""
        tok, pos = self.take(), self.pos()
        pos = self.tokens[self.i - 1][1] + self.col
        if tok.lower() in FUNCTION_WORDS and self.peek() in ("(", "'", "{"):
            return self.call(tok, pos)
        letters = list(tok)
        node = None
        for k, letter in enumerate(letters):
            last = k == len(letters) - 1
            sym = self.symbol(letter, pos + k) if last else ("sym", letter, (), pos + k)
            node = sym if node is None else ("matmul", node, sym, pos + k)
        return node

    def symbol(self, base, pos):
        indices = ()
        if self.peek() == "_":
            self.take()
            indices = _indices(self.raw_group())
        if self.peek() == "'" or (self.peek() == "(" and len(base) == 1 and base.isalpha()):
            sym = ("sym", base, indices, pos)
            primes = 0
            while self.peek() == "'":
                self.take()
                primes += 1
            if self.peek() != "(":
                if primes:
                    self.fail("a prime after something that is not applied to an argument", pos)
                return sym
            args = self.arguments()
            if len(args) == 1 and self._transpose_follows():
                # a(b)^T: the superscript is the bracket's — A (X)ᵀ for a matrix A, and for an
                # element-wise f, f(x)ᵀ = f(xᵀ) — written by a textbook without further brackets
                self.take()
                self._superscript(None, pos)
                args = (("T", args[0], pos),)
            return ("apply", sym, args, primes, pos)
        return ("sym", base, indices, pos)

    def _transpose_follows(self) -> bool:
        return self.peek() == "^" and (self.peek(1) in ("T", r"\top", r"\intercal") or (
            self.peek(1) == "{" and self.peek(2) in ("T", r"\top", r"\intercal") and self.peek(3) == "}"))

    def arguments(self):
        self.take("(")
        args = [self.expr()]
        while self.peek() in (",", ";"):
            self.take()
            args.append(self.expr())
        self.take(")")
        return tuple(args)

    def call(self, fname, pos):
        if fname.lower() in ("log", "ln") and self.peek() in _BARS:  # log |X|, log |det X|: log |det X|
            close = _BARS[self.take()]
            inner = self.expr()
            self.take(close)
            det = inner[0] == "call" and inner[1] == "det" and len(inner[2]) == 1
            return ("call", "logdet", (inner[2][0] if det else inner,), None, pos)
        if fname.lower() in ("log", "ln") and self.peek() == r"\det":  # log det X: the same
            self.take()
            return ("call", "logdet", self.call("det", pos)[2], None, pos)
        primes = 0
        while self.peek() == "'":
            self.take()
            primes += 1
        if self.peek() == "{":  # \text{sng}{(h)}
            self.take("{")
            args = self.arguments() if self.peek() == "(" else (self.expr(),)
            self.take("}")
        elif self.peek() == "(":
            args = self.arguments()
        elif self.peek() in (r"\sum", r"\Sum"):  # \log \sum_k e^{o_k}
            args = (self.summation(),)
        else:
            args = (self.postfix(),)
        return ("call", fname.lower() + "_prime" * primes, args, None, pos)

    def fraction(self):
        pos = self.pos()
        self.take()
        if self._is_partial_group():
            self.take("{")
            self.take(r"\partial")
            if self.peek() == "^":
                self.fail("a higher derivative is not read here", pos)
            top = self.expr()
            self.take("}")
            by, noted = self.denominator()
            return ("deriv", top, by, noted, pos)
        num = self.sub_reader()
        den = self.sub_reader()
        if num[0] == "num" and den[0] == "num":
            return ("frac", num, den, pos)
        return ("div", num, den, pos)

    def _is_partial_group(self):
        return self.peek() == "{" and self.peek(1) == r"\partial"

    def environment(self):
        pos = self.pos()
        self.take(r"\begin")
        name = "".join(self.raw_group())
        if name == "array":
            self.raw_group()  # the column spec
        elif name not in ("cases", "bmatrix", "pmatrix", "matrix", "vmatrix"):
            self.fail(f"the environment {name!r} is not read inside an expression", pos)
        rows, row, cell_start = [], [], True
        while True:
            if self.peek() is None:
                self.fail(f"\\begin{{{name}}} is never ended", pos)
            if self.peek() == r"\end":
                self.take()
                self.raw_group()
                break
            if self.peek() in (r"\\",):
                self.take()
                rows.append(row)
                row, cell_start = [], True
                continue
            if self.peek() == "&":
                self.take()
                if cell_start:
                    row.append(("text", "", self.pos()))
                cell_start = True
                continue
            if self.peek() in (r"\hline",):
                self.take()
                continue
            row.append(self.cell())
            cell_start = False
        if row:
            rows.append(row)
        rows = [r for r in rows if r]
        if self._is_cases(rows, name):
            return ("cases", tuple((r[0], r[1] if len(r) > 1 else ("otherwise",)) for r in rows), pos)
        return ("matrix", tuple(tuple(r) for r in rows), pos)

    def cell(self):
        """One cell of an array: an expression, dots, or a condition (``\\text{if } k=j``)."""
        pos = self.pos()
        if self.peek() == "{" and self.peek(1) in _TEXT:
            self.take("{")
            cond = self.condition()
            self.take("}")
            return cond
        if self.peek() in _TEXT:
            return self.condition()
        if self.peek() in ("{",) and self.peek(1) in _DOTS and self.peek(2) == "}":
            self.take()
            self.take()
            self.take()
            return ("dots", pos)
        return self.expr()

    def condition(self):
        """``\\text{if } k=i \\ \\text{and} \\ l=j``, ``\\text{if otherwise}``, ``\\text{if } x>0``."""
        pos = self.pos()
        words = " ".join(t for t in self._text_words())
        if re.fullmatch(r"(if\s+)?otherwise", words.strip()) or words.strip() in ("otherwise", "else"):
            return ("otherwise", pos)
        if words.strip() not in ("if", "when", "for", ""):
            return ("text", words, pos)
        cond = self.relation()
        while self.peek() in _TEXT or self.peek() == ",":
            if self.peek() == ",":
                self.take()
                continue
            joiner = " ".join(self._text_words()).strip()
            if joiner != "and":
                self.fail(f"a condition joined by {joiner!r} is not read", pos)
            cond = ("and", cond, self.relation(), pos)
        return cond

    def _text_words(self):
        self.take()
        return [" ".join(t for t in self.raw_group() if t != "\\ ")]

    def relation(self):
        pos = self.pos()
        left = self.expr()
        op = self.peek()
        if op not in _RELATIONS:
            self.fail(f"expected a relation (=, ≠, <, >) in a condition, found {op or 'the end'}", pos)
        self.take()
        return ("rel", _RELATIONS[op], left, self.expr(), pos)

    @staticmethod
    def _is_cases(rows, name):
        if name == "cases":
            return True
        return bool(rows) and all(len(r) == 2 and r[1][0] in ("rel", "and", "otherwise") for r in rows)


def _indices(group: list[str]) -> tuple[str, ...]:
    """``{ij}`` → (i, j); ``{i,j}`` → (i, j); ``{11}`` → (1, 1); ``{x}`` of D_x → (x,)."""
    if "," in group:
        parts, current = [], ""
        for t in group:
            if t == ",":
                parts.append(current)
                current = ""
            else:
                current += t
        return tuple([*parts, current])
    out = []
    for t in group:
        if t.startswith("\\"):
            out.append(t[1:])
        else:
            out.extend(t)
    return tuple(out)


def _small_tree(group, pos, reader):
    """A sum's bound ({1}, {m}, {N}) as a tree."""
    text = " ".join(group)
    try:
        return read(text, reader.source)
    except LatexError:
        reader.fail(f"a sum's bound I cannot read: {text}", pos)


def _after_d(group):
    """The tokens after a leading d (``d x_k`` or ``dx _ k`` → ``x _ k``), None if it does not start
    with d and a name."""
    if not group or not group[0][0].startswith("d") or not group[0][0].isalpha():
        return None
    first = group[0][0]
    rest = [t for t, _ in group[1:]]
    if first == "d":
        return rest or None
    return [first[1:]] + rest


def _unwrap(toks, bold_digits=False):
    """\\boldsymbol{x} → x: a font wrapper and its braces go; what they hold stays."""
    out, depth_stack, i = [], [], 0
    while i < len(toks):
        tok, pos = toks[i]
        if bold_digits and tok in _WRAPPERS and i + 3 < len(toks) and toks[i + 1][0] == "{" and \
                toks[i + 2][0] in ("0", "1") and toks[i + 3][0] == "}":  # a bold digit: a vector of ones (zeros)
            out.append((r"\one" if toks[i + 2][0] == "1" else r"\zero", pos))
            i += 4
            continue
        if tok in _WRAPPERS and i + 1 < len(toks) and toks[i + 1][0] == "{":
            depth_stack.append(0)
            i += 2
            continue
        if depth_stack:
            if tok == "{":
                depth_stack[-1] += 1
            elif tok == "}":
                if depth_stack[-1] == 0:
                    depth_stack.pop()
                    i += 1
                    continue
                depth_stack[-1] -= 1
        if tok in _WRAPPERS:
            i += 1
            continue
        out.append((tok, pos))
        i += 1
    return out


def _script(letters: str) -> str:
    """ℒ for \\mathcal{L}: the script letter, a symbol of its own."""
    if len(letters) != 1 or not letters.isalpha():
        return "cal" + letters
    try:
        return unicodedata.lookup(f"SCRIPT CAPITAL {letters}" if letters.isupper() else f"SCRIPT SMALL {letters}")
    except KeyError:
        try:
            return unicodedata.lookup(f"MATHEMATICAL SCRIPT {'CAPITAL' if letters.isupper() else 'SMALL'} "
                                      f"{letters.upper()}")
        except KeyError:
            return "cal" + letters


# ----- walking a tree -----
def is_node(t) -> bool:
    return isinstance(t, tuple) and bool(t) and isinstance(t[0], str) and isinstance(t[-1], int)


def _trees(part):
    if is_node(part):
        yield part
    elif isinstance(part, tuple):
        for q in part:
            yield from _trees(q)


def children(node):
    """The subtrees of a node (arguments, cases, cells included), in order."""
    for part in node[1:]:
        yield from _trees(part)


def walk(node):
    """Every node of a tree, parents before children."""
    if not is_node(node):
        return
    yield node
    for c in children(node):
        yield from walk(c)
