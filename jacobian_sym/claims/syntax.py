"""Claims as text: a Python-syntax matrix expression or the notes' subset of LaTeX → SymPy.

Both syntaxes are read into one small tree — ("name", s), ("num", v), ("matmul", a, b),
("hadamard", a, b), ("add", a, b), ("sub", a, b), ("div", a, b), ("neg", a), ("T", a),
("call", f, a, axis), ("ones", r, c) — each node with its position, and one builder turns the tree into a SymPy matrix
expression over a table of names. Nothing is passed to eval, exec or sympify.
"""

from __future__ import annotations

import ast
import math
import re

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from jacobian_sym.base.bounds import MAX_DEPTH, MAX_NESTING, MAX_TEXT, deepest, too_deep
from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.claims import latex
from jacobian_sym.claims.linalg_claims import inverse, is_square_matrix, linalg_call, solved
from jacobian_sym.claims.printed import is_printed, to_latex
from jacobian_sym.claims.spelling import SPELLING
from jacobian_sym.errors import JacobianSymError, ParseError
from jacobian_sym.graph.expr import exact_number
from jacobian_sym.graph.labels import OneHotSymbol
from jacobian_sym.ops.functions import derivative_of
from jacobian_sym.ops.table import OPS, OpApply

_BIN = {ast.MatMult: "matmul", ast.Mult: "hadamard", ast.Add: "add", ast.Sub: "sub", ast.Div: "div"}


class ClaimError(ParseError):
    """A claim that does not parse, names something the target lacks, or has shapes that do not fit."""


# ----- positions: a tree's position is the 1-based character of the whole claim -----
def _line_starts(lines: list[str]) -> list[int]:
    """The 0-based character offset at which each line starts."""
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return starts


def line_col(text: str, pos: int) -> tuple[int, int]:
    """(line, column), both from 1, of the 1-based character ``pos`` of ``text``."""
    before = text[:pos - 1]
    return before.count("\n") + 1, pos - before.rfind("\n") - 1


def _syntax_error_pos(text: str, err: SyntaxError) -> int:
    """The character a SyntaxError points at; the end of the text when Python points past it (an
    expression cut short, as ``x +``, gets offset 0)."""
    lines = text.split("\n")
    if not err.lineno or not err.offset or err.lineno > len(lines):
        return len(text) + 1
    line = lines[err.lineno - 1]
    return _line_starts(lines)[err.lineno - 1] + min(err.offset, len(line) + 1)


def _absolute_offsets(tree, text: str) -> None:
    """Make every node's ``col_offset`` the 0-based character offset in the whole text (ast counts
    UTF-8 bytes within a line), so that a position names the line and the column of any claim; a
    binary operation's is its operator's (the @ of a product whose sizes differ), an attribute's its
    name's (the U of x.U), as the LaTeX reader's are."""
    lines = text.split("\n")
    starts = _line_starts(lines)

    def absolute(line, offset):
        return starts[line - 1] + len(lines[line - 1].encode()[:offset].decode(errors="ignore"))

    nodes = [n for n in ast.walk(tree) if getattr(n, "lineno", None) and hasattr(n, "col_offset")]
    for node in nodes:
        node.col_offset = absolute(node.lineno, node.col_offset)
        node.end_col_offset = absolute(node.end_lineno, node.end_col_offset)
    for node in nodes:
        if isinstance(node, (ast.BinOp, ast.Attribute)):
            after = node.left if isinstance(node, ast.BinOp) else node.value
            node.col_offset = _next_sign(text, after.end_col_offset, ") \t\n." if isinstance(node, ast.Attribute)
                                         else ") \t\n")


def _next_sign(text: str, at: int, skipped: str) -> int:
    """The offset of the first character from ``at`` that is not one of ``skipped``."""
    while at < len(text) and text[at] in skipped:
        at += 1
    return at


# ----- Python syntax -----
def parse_python(text: str):
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ClaimError(f"the claim does not parse: {err.msg}", source="claim",
                         col=_syntax_error_pos(text, err)) from None
    except (RecursionError, MemoryError):
        raise ClaimError(f"the claim is nested too deeply (at most {MAX_DEPTH} levels)", source="claim") from None
    _absolute_offsets(tree, text)
    deep = deepest(tree.body, ast.iter_child_nodes)
    if deep is not None:
        raise ClaimError(f"the claim is nested too deeply (at most {MAX_DEPTH} levels)", source="claim",
                         col=getattr(deep, "col_offset", 0) + 1)
    return _from_ast(tree.body)


def _from_ast(node):
    pos = node.col_offset + 1
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise ClaimError(f"the name {node.id!r} is not allowed", source="claim", col=pos)
        return ("name", node.id, pos)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return ("num", node.value, pos)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return ("pow", _from_ast(node.left), _exponent(node.right), pos)
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return (_BIN[type(node.op)], _from_ast(node.left), _from_ast(node.right), pos)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return ("neg", _from_ast(node.operand), pos)
    if isinstance(node, ast.Attribute):
        if node.attr != "T":
            raise ClaimError(f"attribute .{node.attr} is not allowed (only .T)", source="claim", col=pos)
        return ("T", _from_ast(node.value), pos)
    if isinstance(node, ast.Call) and not isinstance(node.func, ast.Name):
        raise ClaimError("only calls of functions by name are allowed (relu_prime(z), diag(v))", source="claim",
                         col=pos)
    if isinstance(node, ast.Call):
        name = node.func.id
        if name.startswith("_"):
            raise ClaimError(f"the name {name!r} is not allowed", source="claim", col=pos)
        if name == "ones":
            if len(node.args) != 2 or node.keywords:
                raise ClaimError("ones takes two sizes: ones(n, 1)", source="claim", col=pos)
            return ("ones", *(_size_arg(a) for a in node.args), pos)
        if name == "eye":
            if len(node.args) != 1 or node.keywords:
                raise ClaimError("eye takes one size: eye(n)", source="claim", col=pos)
            return ("eye", _size_arg(node.args[0]), pos)
        if name == "solve":  # NumPy's name: A⁻¹ b
            if len(node.args) != 2 or node.keywords:
                raise ClaimError("solve takes a square matrix and a right-hand side: solve(A, b)", source="claim",
                                 col=pos)
            return ("solve", *(_from_ast(a) for a in node.args), pos)
        if name == "matrix_power":  # NumPy's name: X X … X (k times); ** stays element-wise
            if len(node.args) != 2 or node.keywords:
                raise ClaimError("matrix_power takes a square matrix and a whole exponent: matrix_power(X, 3)",
                                 source="claim", col=pos)
            power = node.args[1]
            if not (isinstance(power, ast.Constant) and type(power.value) is int and 0 <= power.value <= 8):
                raise ClaimError("matrix_power's exponent is a whole number from 0 to 8 (claims do not read "
                                 "an inverse)", source="claim", col=power.col_offset + 1)
            return ("matpow", _from_ast(node.args[0]), power.value, pos)
        axis = None
        repeated = _repeated_keyword(node)
        if repeated is not None:
            raise ClaimError(f"{name}: the keyword {repeated.arg!r} is given twice", source="claim",
                             col=repeated.value.col_offset + 1)
        for kw in node.keywords:
            if kw.arg != "axis" or name not in ("sum", "mean") or not (
                    isinstance(kw.value, ast.Constant) and kw.value.value in (0, 1) and type(kw.value.value) is int):
                raise ClaimError(f"{name} takes no keyword {kw.arg!r} (sum and mean take axis=0 or 1)",
                                 source="claim", col=kw.value.col_offset + 1)
            axis = kw.value.value
        if len(node.args) != 1:
            raise ClaimError(f"{name} takes one argument", source="claim", col=pos)
        return ("call", name, _from_ast(node.args[0]), axis, pos)
    raise ClaimError(f"{type(node).__name__.lower()} is not allowed in a claim", source="claim", col=pos)


def _repeated_keyword(call):
    """The first keyword of ``call`` that an earlier one already gave (axis=1, axis=0), or None:
    ``ast.parse`` accepts it, and the last would silently win."""
    seen = set()
    for kw in call.keywords:
        if kw.arg in seen:
            return kw
        seen.add(kw.arg)
    return None


def _exponent(node):
    """A power's exponent: a rational number from −8 to 8 (2, 0.5, 1/3, -(2/3)), as in the model language."""
    return _checked_exponent(_literal(node), node.col_offset + 1)


def _literal(node):
    """The exact value of arithmetic on number literals (1/3 is a third, 0.1 a tenth), None otherwise."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)) or not math.isfinite(node.value):
            return None
        return sp.Rational(repr(node.value)) if isinstance(node.value, float) else sp.Integer(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literal(node.operand)
        return None if inner is None else -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
        a, b = _literal(node.left), _literal(node.right)
        if a is None or b is None or (isinstance(node.op, ast.Div) and b == 0):
            return None
        return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op)) if not isinstance(
            node.op, ast.Div) else a / b
    return None


def _checked_exponent(value, pos):
    if value is not None and not isinstance(value, sp.Rational):
        value = sp.Rational(repr(value)) if isinstance(value, float) else sp.Rational(value) if isinstance(
            value, int) and not isinstance(value, bool) else None
    if value is None or not -8 <= value <= 8:
        raise ClaimError("a power's exponent is a rational number from -8 to 8 (x ** 2, x ** 0.5, x ** (1/3))",
                         source="claim", col=pos)
    return value


def _size_arg(node):
    if isinstance(node, ast.Constant) and type(node.value) is int and 0 < node.value < 10**9:
        return node.value
    if isinstance(node, ast.Name):
        return node.id
    raise ClaimError("a size is a name of the target's sizes or a positive integer", source="claim",
                     col=node.col_offset + 1)


# ----- the notes' LaTeX (read by claims/latex.py, narrowed here to matrix claims) -----
#: LaTeX function names → what they call: the ops' spellings, and the reader's own diag and sign
_FUNCTIONS = {word: op for op, spelling in SPELLING.items() for word in spelling.latex} | {
    "diag": "diag", "sng": "sng", "sgn": "sng", "sign": "sng"}
_NOT_IN_CLAIMS = {"deriv": "a derivative", "sum": "a sum over an index", "cases": "a case split",
                  "matrix": "a matrix written out", "elem": "an element (…)_{ij}", "text": "text",
                  "shape": "a shape", "dots": "dots", "space": "a space"}


def parse_latex(text: str):
    """The claim tree of a matrix claim in the notes' LaTeX (``\\delta_1^T h^T``)."""
    try:
        tree = latex.read(text)
    except latex.LatexError as err:
        raise ClaimError(err.message, source="claim", col=err.col) from None
    deep = deepest(tree, latex.subtrees)
    if deep is not None:
        raise ClaimError(f"the claim is nested too deeply (at most {MAX_DEPTH} levels)", source="claim",
                         col=deep[-1] if isinstance(deep[-1], int) else None)
    return _narrow(tree)


def claim_name(base: str, indices) -> str:
    """δ₁ → delta_1 (an error signal), b₁ → b1, ŷ → yhat: a subscript is part of a claim's names."""
    sub = "".join(indices)
    return f"{base}_{sub}" if base in ("delta", "Delta") and sub else f"{base}{sub}"


def _narrow(node):
    kind, pos = node[0], node[-1]
    if kind == "sym":
        return ("name", claim_name(node[1], node[2]), pos)
    if kind == "text" and re.fullmatch(r"[A-Za-z]\w*", node[1]):  # \mathrm{gate}: a name of several letters
        return ("name", node[1], pos)
    if kind == "num":
        return node
    if kind == "frac":
        return ("num", sp.Rational(node[1][1], node[2][1]), pos) if node[2][1] else ("num", float("inf"), pos)
    if kind in ("neg", "T"):
        return (kind, _narrow(node[1]), pos)
    if kind in ("add", "sub", "matmul", "hadamard", "div"):
        return (kind, _narrow(node[1]), _narrow(node[2]), pos)
    if kind == "call":
        name, primes = node[1], 0
        while name.endswith("_prime"):
            name, primes = name[: -len("_prime")], primes + 1
        if len(node[2]) != 1:
            raise ClaimError(f"{name} takes one argument", source="claim", col=pos)
        key = _FUNCTIONS.get(name, name)
        return ("call", key + "_prime" * primes, _narrow(node[2][0]), node[3], pos)
    if kind == "apply":
        sym, args, primes = node[1], node[2], node[3]
        if primes or len(args) != 1 or sym[2]:
            return ("call", sym[1] + "_prime" * primes, _narrow(args[0]), None, pos) if len(args) == 1 else \
                _refuse("a call with several arguments", pos)
        return ("applied", sym[1], _narrow(args[0]), pos)
    if kind == "pow":
        exponent = node[2]
        if exponent[0] == "num":
            return ("pow", _narrow(node[1]), _checked_exponent(exponent[1], pos), pos)
        if exponent[0] == "neg" and exponent[1][0] == "num" and exponent[1][1] == 1:  # X^{-1}
            return ("inv", _narrow(node[1]), pos)
        if exponent[0] == "neg" and exponent[1][0] == "num":
            return ("pow", _narrow(node[1]), _checked_exponent(-exponent[1][1], pos), pos)
        if exponent[0] == "neg" and exponent[1][0] == "sym" and exponent[1][1] == "T":  # X^{-T}
            return ("T", ("inv", _narrow(node[1]), pos), pos)
        shown = exponent[1] if exponent[0] in ("num", "sym") else "…"
        raise ClaimError(f"a superscript is ^T or a whole or half number, not ^{shown}", source="claim", col=pos)
    return _refuse(_NOT_IN_CLAIMS.get(kind, kind), pos)


def _refuse(what, pos):
    raise ClaimError(f"{what} cannot appear in a matrix claim", source="claim", col=pos)


# ----- building SymPy -----
def _shape(e):
    return e.shape if isinstance(e, sp.MatrixExpr) else (1, 1)



def _reduce(A, axis, mean):
    """sum(A) (a number), sum(A, axis=0) = 1ᵀA, sum(A, axis=1) = A1; mean divides by the count."""
    rows, cols = A.shape
    if axis is None:
        total = sp.Trace(sp.MatMul(sp.OneMatrix(1, rows), A, sp.OneMatrix(cols, 1)))  # the one element of 1ᵀA1
        return total / (rows * cols) if mean else total
    out = sp.MatMul(sp.OneMatrix(1, rows), A) if axis == 0 else sp.MatMul(A, sp.OneMatrix(cols, 1))
    return sp.MatMul(1 / (rows if axis == 0 else cols), out) if mean else out


class _Eye:
    """The identity I of a claim, its size taken from what it meets (A + λI: A's) or given (I_n)."""

    def __init__(self, pos, coeff=1):
        self.pos, self.coeff = pos, sp.Integer(coeff) if isinstance(coeff, int) else coeff


class _Outer:
    """M 1ᵀ (M a column) or 1 M (M a row), as the printed forms write a broadcast: an outer product
    with a ones vector whose length is taken from what it meets (x₂ − μ 1ᵀ: x₂'s columns)."""

    def __init__(self, M, right: bool, pos):
        self.M, self.right, self.pos = M, right, pos

    def sized(self, n):
        return sp.MatMul(self.M, sp.OneMatrix(1, n)) if self.right else sp.MatMul(sp.OneMatrix(n, 1), self.M)


def _is_one(tree) -> bool:
    return tree[0] == "num" and tree[1] == 1 and type(tree[1]) is int


#: Greek letters a claim writes (\lambda) and the names a variable for them has (Python reserves lambda)
_GREEK_NAMES = {"lambda": ("lambda", "lambda_", "lam", "λ")}


class Builder:
    """Turns a claim tree into a SymPy matrix expression over ``names`` (name → matrix symbol)."""

    def __init__(self, names: dict, functions: dict | None = None):
        # W_o is also Wo: a LaTeX subscript (W_{o}, the printed Wₒ) joins the name's letters
        self.names = {**{k.replace("_", ""): v for k, v in names.items() if "_" in k}, **names}
        self.functions = functions or {}
        #: the target's sizes by name (for ones(n, 1))
        self.sizes = {str(s): s for m in names.values() if isinstance(m, sp.MatrixExpr)
                      for d in m.shape for s in getattr(d, "free_symbols", ())}

    def fail(self, message, pos):
        raise ClaimError(message, source="claim", col=pos)

    def _sized(self, a, b, kind, pos):
        """Operands with an identity I given the size of what it meets: the other side's rows in a
        product on the left, its columns on the right, its (square) shape in a sum."""
        def size_for(eye, other, left):
            if isinstance(other, _Eye) or not isinstance(other, sp.MatrixExpr):
                self.fail("the identity I needs a size here: write eye(n) or I_n", eye.pos)
            rows, cols = other.shape
            if kind == "matmul":
                return eye.coeff * sp.Identity(rows if left else cols)
            if rows != cols:
                self.fail(f"I against a {fmt_shape(other.shape)} matrix: the shapes differ", eye.pos)
            return eye.coeff * sp.Identity(rows)

        # λ I, 2 I, I / 2: a number or a 1×1 value scales I, which still takes its size from later
        for eye, other in ((a, b), (b, a)):
            if isinstance(eye, _Eye) and kind in ("matmul", "hadamard") and _shape(other) == (1, 1) \
                    and not isinstance(other, _Eye):
                scale = sp.Trace(other) if isinstance(other, sp.MatrixExpr) else other
                return _Eye(eye.pos, eye.coeff * scale), None
        if isinstance(a, _Eye) and kind == "div" and _shape(b) == (1, 1) and not isinstance(b, _Eye):
            return _Eye(a.pos, a.coeff / (sp.Trace(b) if isinstance(b, sp.MatrixExpr) else b)), None
        if isinstance(a, _Eye):
            a = size_for(a, b, True)
        if isinstance(b, _Eye):
            b = size_for(b, a, False)
        for outer, other, left in ((a, b, True), (b, a, False)):
            if isinstance(outer, _Outer):
                if not isinstance(other, sp.MatrixExpr):
                    self.fail("a ones vector needs a length here: write ones(n, 1)", outer.pos)
                rows, cols = other.shape
                if kind == "matmul":
                    n = rows if left else cols
                else:
                    n = cols if outer.right else rows
                if left:
                    a = outer.sized(n)
                else:
                    b = outer.sized(n)
        return a, b

    def _ones_product(self, node):
        """A product with the ones vector of the printed forms (1ᵀ A: column sums, A 1: row sums,
        μ 1ᵀ and 1 b: broadcasts), or None when neither factor is a ones vector."""
        left, right = node[1], node[2]
        if left[0] == "matmul" and _is_one(left[2]) and not _is_one(right):  # (1/B) 1 b: c times 1 b
            c, b = self.build(left[1]), self.build(right)
            if not isinstance(c, sp.MatrixExpr) and isinstance(b, sp.MatrixExpr) and b.shape[0] == 1:
                return _Outer(c * b, False, node[-1])
        if _is_one(right) and not _is_one(left):
            a = self.build(left)
            return sp.MatMul(a, sp.OneMatrix(a.shape[1], 1)) if isinstance(a, sp.MatrixExpr) else None
        if left[0] == "T" and _is_one(left[1]):
            b = self.build(right)
            return sp.MatMul(sp.OneMatrix(1, b.shape[0]), b) if isinstance(b, sp.MatrixExpr) else None
        if right[0] == "T" and _is_one(right[1]):
            a = self.build(left)
            return _Outer(a, True, node[-1]) if isinstance(a, sp.MatrixExpr) and a.shape[1] == 1 else None
        if _is_one(left):
            b = self.build(right)
            return _Outer(b, False, node[-1]) if isinstance(b, sp.MatrixExpr) and b.shape[0] == 1 else None
        return None

    def _function(self, name) -> bool:
        """Whether ``name(…)`` calls a function (the target's generic f, an op no variable shadows)
        rather than multiplying the variable ``name`` by a bracket, as a textbook's a(b + c) does."""
        return name in self.functions or (name in OPS and name not in self.names)

    def build(self, node):
        kind, pos = node[0], node[-1]
        if kind == "name" and node[1] not in self.names:
            for alias in _GREEK_NAMES.get(node[1], ()):
                if alias in self.names:
                    return self.names[alias]
            identity = re.fullmatch(r"I(?:_(\w+))?", node[1])
            if identity:  # I, \mathbf{I}, I_n (n a size of the target)
                return _Eye(pos) if identity.group(1) is None else sp.Identity(self.size(identity.group(1), pos))
        if kind == "eye":
            return sp.Identity(self.size(node[1], pos))
        if kind == "name":
            if node[1] not in self.names and node[1] in self.sizes:  # 1/d: a size of the target, a number
                return self.sizes[node[1]]
            if node[1] not in self.names:
                known = ", ".join(sorted(self.names))
                self.fail(f"the claim names {node[1]!r}, which the target does not have (it has: {known})", pos)
            return self.names[node[1]]
        if kind == "num":
            try:
                return exact_number(node[1])
            except JacobianSymError as err:
                self.fail(str(err), pos)
        if kind == "neg":
            inner = self.build(node[1])
            if isinstance(inner, _Outer):
                return _Outer(-inner.M, inner.right, inner.pos)
            return _Eye(inner.pos, -inner.coeff) if isinstance(inner, _Eye) else -inner
        if kind == "T":
            built = self.build(node[1])
            if isinstance(built, _Eye):
                return built
            if not isinstance(built, sp.MatrixExpr):
                self.fail("a transpose of a number: a ones vector is written ones(n, 1), its transpose ones(1, n)", pos)
            return sp.Transpose(built)
        if kind == "pow":  # element-wise, as in the model language (a 1×1 value: its power)
            base = self.build(node[1])
            if not isinstance(base, sp.MatrixExpr):
                return base ** node[2]
            return sp.Trace(base) ** node[2] if base.shape == (1, 1) else sp.HadamardPower(base, node[2])
        if kind == "ones":
            return sp.OneMatrix(*(self.size(s, pos) for s in node[1:3]))
        if kind == "matpow":
            base = self.build(node[1])
            if not isinstance(base, sp.MatrixExpr) or base.shape[0] != base.shape[1]:
                self.fail(f"matrix_power takes a square matrix, not {fmt_shape(_shape(base))}", pos)
            if node[2] == 0:
                return sp.Identity(base.shape[0])
            return base if node[2] == 1 else sp.MatMul(*[base] * node[2])
        if kind == "inv":  # X^{-1}: the inverse of a square matrix; of a number or a vector its reciprocal
            base = self.build(node[1])
            return inverse(base, self.fail, pos) if is_square_matrix(base) else self.build(("pow", node[1], -1, pos))
        if kind == "solve":
            return solved(self.build(node[1]), self.build(node[2]), self.fail, pos)
        if kind == "call":
            return self.call(node[1], self.build(node[2]), pos, node[3])
        if kind == "applied":  # f(x): a call of a function the target has, else the product f x
            if self._function(node[1]):
                return self.call(node[1], self.build(node[2]), pos)
            kind, node = "matmul", ("matmul", ("name", node[1], pos), node[2], pos)
        if kind == "matmul" and (_is_one(node[1]) or _is_one(node[2]) or any(
                t[0] == "T" and _is_one(t[1]) for t in node[1:3]) or (node[1][0] == "matmul" and _is_one(node[1][2]))):
            ones = self._ones_product(node)
            if ones is not None:
                return ones
        a, b = self._sized(*(self.build(node[1]), self.build(node[2])), kind, pos)
        if b is None:  # a scaled identity, still to be sized
            return a
        if kind != "matmul":  # a 1×1 matrix against a bigger one is its one element, broadcast
            if _shape(a) == (1, 1) and isinstance(a, sp.MatrixExpr) and _shape(b) != (1, 1):
                a = sp.Trace(a)
            if _shape(b) == (1, 1) and isinstance(b, sp.MatrixExpr) and _shape(a) != (1, 1):
                b = sp.Trace(b)
        sa, sb = _shape(a), _shape(b)
        scalar_a, scalar_b = not isinstance(a, sp.MatrixExpr), not isinstance(b, sp.MatrixExpr)
        fa, fb = fmt_shape(sa), fmt_shape(sb)
        if kind == "matmul":
            if scalar_a or scalar_b:
                return a * b
            if sa[1] != sb[0] and sa == (1, 1):  # λ x: a 1×1 value written in front is a number
                return sp.Trace(a) * b
            if sa[1] != sb[0] and sb == (1, 1):
                return a * sp.Trace(b)
            if sa[1] != sb[0]:
                self.fail(f"a product of {fa} and {fb}: inner sizes {sa[1]} and {sb[0]} differ", pos)
            return sp.MatMul(a, b)
        if kind == "hadamard":
            if scalar_a or scalar_b:
                return sp.MatMul(a, b) if not (scalar_a and scalar_b) else a * b
            if sa != sb:
                self.fail(f"a Hadamard product of {fa} and {fb}: the shapes differ", pos)
            return sp.HadamardProduct(a, b)
        if kind == "div":
            if scalar_b and b == 0:
                self.fail("division by zero", pos)
            if scalar_b:
                return sp.MatMul(1 / b, a) if not scalar_a else a / b
            if not scalar_a and sa != sb:
                self.fail(f"an element-wise quotient of {fa} and {fb}: the shapes differ", pos)
            ones = sp.OneMatrix(*sb)
            return sp.HadamardProduct(a if not scalar_a else sp.MatMul(a, ones), sp.HadamardPower(b, -1))
        if scalar_a != scalar_b:  # a number and a matrix: element-wise, as the notes write σ(1 − σ)
            if scalar_a:
                a = sp.MatMul(a, sp.OneMatrix(*sb)) if a != 0 else sp.ZeroMatrix(*sb)
            else:
                b = sp.MatMul(b, sp.OneMatrix(*sa)) if b != 0 else sp.ZeroMatrix(*sa)
            return sp.MatAdd(a, b if kind == "add" else -b)
        if not scalar_a and sa != sb:
            self.fail(f"{'a sum' if kind == 'add' else 'a difference'} of {fa} and {fb}: the shapes differ",
                      pos)
        return sp.MatAdd(a, b if kind == "add" else -b) if not scalar_a else (a + b if kind == "add" else a - b)

    def size(self, name, pos):
        if isinstance(name, int):
            return sp.Integer(name)
        if name not in self.sizes:
            self.fail(f"{name!r} is not a size of the target (it has: {', '.join(sorted(self.sizes))})", pos)
        return self.sizes[name]

    def call(self, fname, arg, pos, axis=None):
        if not isinstance(arg, sp.MatrixExpr):
            self.fail(f"{fname} takes a vector or matrix", pos)
        if fname in ("sum", "mean"):
            return _reduce(arg, axis, fname == "mean")
        if fname == "norm":  # ‖x‖₂ of a vector, ‖X‖_F of a matrix: a number
            return sp.sqrt(_reduce(sp.HadamardProduct(arg, arg), None, False))
        if fname == "onehot":  # an int label input is its one-hot matrix already (graph/labels.py)
            if not isinstance(arg, OneHotSymbol):
                self.fail("onehot takes an int label input of the model (declared dtype = \"int\")", pos)
            return arg
        if fname in ("tr", "trace"):
            if arg.shape[0] != arg.shape[1]:
                self.fail(f"tr takes a square matrix, not a {fmt_shape(arg.shape)} one", pos)
            return sp.Trace(arg)
        base, primes = fname, 0
        while base.endswith("_prime"):
            base, primes = base[: -len("_prime")], primes + 1
        if base == "diag":
            rows, cols = arg.shape
            if cols != 1 and rows != 1:
                self.fail(f"diag takes a vector, not a {fmt_shape(arg.shape)} matrix", pos)
            return sp.DiagMatrix(arg if cols == 1 else sp.Transpose(arg))
        if base == "sng":
            s = sp.Dummy("s")
            return ElementwiseApplyFunction(sp.Lambda(s, sp.sign(s)), arg)
        op = OPS.get(base) or self.functions.get(base)
        if (op is None or base.startswith("_") or op.operator is not None) and fname in self.names:
            self.fail(f"{fname} is a variable, not a function: a product is written {fname} @ (…)", pos)
        if op is None or base.startswith("_") or op.operator is not None:
            self.fail(f"unknown function {fname!r}", pos)
        reason = SPELLING[base].reason if base in SPELLING else None
        if reason is not None:
            self.fail(f"{fname} cannot appear in a claim: {reason}", pos)
        if op.kind == "linalg" and not primes:
            return linalg_call(base, arg, self.fail, pos)
        if op.function is not None:
            fn = op.function
            for _ in range(primes):
                fn = derivative_of(fn)
            return ElementwiseApplyFunction(fn, arg)
        if primes or op.kind != "vector":
            self.fail(f"{fname} cannot appear in a claim", pos)
        return OpApply(base, arg.shape, arg)


def parse_claim(text: str, names: dict, functions: dict | None = None):
    """A claim (Python syntax, or the notes' LaTeX when it has a backslash or a ^) as a SymPy matrix
    expression; an error names the line and the column of the claim, both from 1."""
    if not isinstance(text, str) or not text.strip():
        raise ClaimError("the claim is empty", source="claim")
    if len(text) > MAX_TEXT:
        raise ClaimError(f"the claim is {len(text):,} characters long (at most {MAX_TEXT:,})", source="claim")
    col = too_deep(text)
    if col is not None:
        raise _located(ClaimError(f"the claim opens more than {MAX_NESTING} brackets at once", source="claim",
                                  col=col), text)
    if is_printed(text):  # the tool's own printed notation (δ₂ᵀ xᵀ), read as the LaTeX it stands for
        reading = to_latex(text)
        try:
            return _built(parse_latex(reading), names, functions)
        except ClaimError as err:
            raise _in_reading(err, reading) from None
    try:
        return _built(parse_latex(text) if ("\\" in text or "^" in text) else parse_python(text), names, functions)
    except ClaimError as err:
        if "does not parse" in str(err):  # a product written as a reader writes it, X A or 2 W (x - s)
            try:
                return _built(parse_latex(text), names, functions)
            except ClaimError:
                pass
        raise _located(err, text) from None


def _built(tree, names, functions):
    built = Builder(names, functions).build(tree)
    if isinstance(built, _Outer):
        raise ClaimError("a ones vector needs a length here: write ones(n, 1)", source="claim", col=built.pos)
    if isinstance(built, _Eye):
        raise ClaimError("the identity I needs a size here: write eye(n) or I_n", source="claim", col=built.pos)
    return built


def _located(err: ClaimError, text: str) -> ClaimError:
    """The error with its position as claim:LINE:COLUMN of ``text``."""
    if err.col is None:
        return err
    line, col = line_col(text, err.col)
    return ClaimError(err.message, source="claim", line=line, col=col)


def _in_reading(err: ClaimError, reading: str) -> ClaimError:
    """An error in a printed-notation claim: its column is one of the LaTeX the claim was read as,
    which the message shows, since the printed characters do not map one to one."""
    if err.col is None:
        return err
    line, col = line_col(reading, err.col)
    return ClaimError(f"{err.message} (at column {col} of its LaTeX reading: {reading.splitlines()[line - 1]})",
                      source="claim", line=line)
