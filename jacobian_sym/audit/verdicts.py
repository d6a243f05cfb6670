"""Audit a document: every link of every chain of equalities decided, or said to be undecidable and why.

A link ``a = b`` is decided by giving both sides values at two sets of concrete sizes (distinct, so no
matrix is square by accident) and comparing them at random rational points in 50-digit arithmetic,
for every value of the indices left free (``values.py``: SymPy's own derivatives of explicit
values). In a chain ``a = b = c`` each side is compared with the chain's first side — unless that
first side is the odd one out (the rest agree among themselves), when it alone is wrong.

Verdicts: **holds**; **notation** (it holds read as evidently meant: a row where the notes' layout
has a column, a row ∘ a column, the whole vector on one side and its i-th element on the other, a
derivative without ∂); **conditional** (it holds only when, say, i = j, which the line does not
say); **fails** (a wrong value: shape, sign, scale, a missing transpose, a wrong summation range, an
index past the end, a mismatch), with a counterexample and the statement the engine derives; and
**not decidable** (prose, an unknown symbol, notation the reader lacks), with the reason.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from jacobian_sym.audit.context import Scope, free_indices
from jacobian_sym.audit.document import Side, Statement
from jacobian_sym.audit.reading import Reading, display_of, parse_side
from jacobian_sym.audit.values import (
    IDENTITY,
    Evaluator,
    IllFormed,
    Tensor,
    Undecidable,
    World,
    greek,
    is_matrix,
    scalar_of,
    shape_of,
)
from jacobian_sym.base.safe_text import md_text
from jacobian_sym.base.sizes import fmt_shape
from jacobian_sym.claims.latex import walk
from jacobian_sym.render.display import Displayed

HOLDS, NOTATION, CONDITIONAL, FAILS, UNDECIDABLE = "holds", "notation", "conditional", "fails", "not decidable"
DIGITS = 50
LAYOUT = ("layout: one side is a row and the other a column (the notes write a gradient by a column vector as a "
          "column, a Jacobian as a row)")


@dataclass(repr=False)
class Link(Displayed):
    """One link ``left = right`` of a chain (or one matrix display), and its verdict."""

    section: str
    line: int
    col: int
    left: str
    right: str
    verdict: str
    reason: str = ""
    counterexample: str = ""
    corrected: str = ""
    notation: list = field(default_factory=list)
    #: the document's own reason for the step ("using identity (2.1)")
    stated_reason: str = ""
    corrected_latex: str = ""
    #: how it was decided (for displays: what was compared)
    decided: str = ""

    @property
    def text(self) -> str:
        return f"{self.left} = {self.right}" if self.left else self.right

    def details(self) -> list[tuple[str, str]]:
        """(what, text) pairs: why, notation, counterexample, the derived statement, the text's reason."""
        out = []
        if self.reason:
            out.append(("why", self.reason))
        if self.notation:
            out.append(("notation", "; ".join(self.notation)))
        if self.counterexample:
            out.append(("counterexample", self.counterexample))
        if self.corrected:
            out.append(("derived", self.corrected))
        if self.stated_reason:
            out.append(("the text's reason", self.stated_reason))
        return out

    def summary(self) -> str:
        return f"{self.verdict}: {self.section}, line {self.line}: {' '.join(self.text.split())[:80]}"

    def __str__(self):
        lines = [f"{self.section}, line {self.line}: {self.text}"]
        return "\n".join(lines + [f"    {k}: {v}" for k, v in self.details()])

    def markdown(self) -> str:
        fence = "``" if "`" in self.text else "`"
        lines = [f"**{self.verdict}** — {md_text(self.section)}, line {self.line}: {fence}{' '.join(self.text.split())}"
                 f"{fence}", ""]
        for k, v in self.details():
            if k == "derived" and self.corrected_latex:
                lines.append(f"- derived: $\\displaystyle {self.corrected_latex}$")
            else:
                lines.append(f"- {k}: {md_text(v)}")
        return "\n".join(lines)


# ----- worlds -----
def worlds(scope: Scope):
    """Two sets of distinct concrete sizes (one the other's reverse order), each with its one-hot class."""
    names = scope.sizes()
    base = [2 + k for k in range(len(names))]
    out = []
    for k, order in enumerate((base, base[::-1])):
        sizes = dict(zip(names, order))
        out.append(World(scope, sizes, hot=k))
    return out


def _points(expr_symbols, rng, count=2):
    names = sorted(expr_symbols, key=lambda s: s.name)
    return [{s: sp.Rational(int(rng.choice((-1, 1)) * rng.integers(1, 40)), int(rng.integers(7, 30)))
             for s in names} for _ in range(count)]


def _number(expr):
    value = sp.N(expr, DIGITS)
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    try:
        return complex(value)
    except TypeError:
        return None


def _close(a, b):
    if a is None or b is None:
        return False
    return abs(a - b) <= 1e-30 * max(1.0, abs(a), abs(b))


# ----- comparing two values -----
@dataclass
class Comparison:
    verdict: str
    reason: str = ""
    where: tuple | None = None  # (entry, claimed number, true number)
    notes: list = field(default_factory=list)


def compare(a, b, rng, sizes_named, world) -> Comparison:
    """Whether the value ``b`` equals ``a`` (the reference); a row against a column is layout."""
    a, b = scalar_of(a), scalar_of(b)
    if a is IDENTITY or b is IDENTITY:  # I takes its size from the other side
        other = b if a is IDENTITY else a
        if not is_matrix(other) or other.rows != other.cols:
            return Comparison(FAILS, f"shape: I where the other side is {_named(shape_of(other), sizes_named)}")
        a, b = (sp.eye(other.rows), b) if a is IDENTITY else (a, sp.eye(other.rows))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a.top_shape == b.top_shape and \
                a.by_shape == b.by_shape:
            return _entries(sp.Matrix(a.entries), sp.Matrix(b.entries), rng, world)
        raise Undecidable("one side is a 4-index array (a Jacobian of a matrix) and the other is not")
    sa, sb = shape_of(a), shape_of(b)
    if not is_matrix(a) and not is_matrix(b):
        return _entries(sp.Matrix([[a]]), sp.Matrix([[b]]), rng, world)
    if sa == sb:
        return _entries(_m(a), _m(b), rng, world)
    if sa == sb[::-1]:
        flipped = _entries(_m(a), _m(b).T, rng, world)
        if flipped.verdict == HOLDS:
            if 1 in sa:
                return Comparison(NOTATION, notes=[LAYOUT])
            return Comparison(FAILS, "a missing transpose: one side is the transpose of the other")
        if 1 in sa:  # a row against a column that differs in value too: the value is what is wrong
            return flipped
    return Comparison(FAILS, f"shape: {_named(sb, sizes_named)} where the left side is {_named(sa, sizes_named)}")


def _m(v):
    return v if is_matrix(v) else sp.Matrix([[v]])


def _named(shape, sizes_named):
    return "×".join(sizes_named.get(d, str(d)) for d in shape)


def _entries(a, b, rng, world) -> Comparison:
    exprs = [*a, *b]
    points = _points(world.leaf_symbols(exprs), rng)
    for p in points:
        p = world.numbers(exprs, p)
        for idx in range(len(a)):
            x, y = _number(a[idx].xreplace(p)), _number(b[idx].xreplace(p))
            if not _close(x, y):
                return Comparison(FAILS, "", (divmod(idx, a.cols), y, x, p))
    return Comparison(HOLDS)


# ----- one side's value under bindings -----
class ReadSide:
    """One side of a statement as the audit uses it: its tree (or why it could not be read), its free
    indices and the notation the reader repaired in it."""

    def __init__(self, stmt: Statement, k: int, reading: Reading, scope: Scope):
        self.side: Side = stmt.sides[k]
        self.tree = parse_side(stmt, k, reading)
        self.error = self.tree if isinstance(self.tree, Exception) else None
        self.free = [] if self.error else free_indices(self.tree, scope)
        self.notes = set()
        if not self.error:
            self.notes.update(_reader_notes(self.tree))

    @classmethod
    def probe(cls, like, tree, free=None):
        """A side with another tree (−b, b ÷ 2, ∂J/∂b₁): what-ifs that read a failure's reason."""
        out = cls.__new__(cls)
        out.side, out.tree, out.error, out.notes = like.side, tree, None, set()
        out.free = like.free if free is None else free
        return out


def _reader_notes(tree):
    return {note for n in walk(tree) if n[0] == "deriv" for note in n[3]}


def index_ranges(sides, scope, world, bindings):
    """The range of each free index: from its first use as a subscript on either side."""
    out = {}
    for s in sides:
        for ix in s.free:
            if ix in out or ix in bindings:
                continue
            ev = Evaluator(world, {})
            n = scope.natural_range(ix, s.tree, ev)
            if n is None:
                for t in [s.tree for s in sides] + _definitions_in(sides, scope):
                    n = scope.natural_range(ix, t, ev)
                    if n is not None:
                        break
            if n is None:
                raise Undecidable(f"the range of the index {ix} is not clear")
            out[ix] = n
    return out


def _definitions_in(sides, scope):
    """The definitions with indices of their own (g = e^{θ_i}) that the sides use."""
    out = []
    for s in sides:
        for n in walk(s.tree):
            name = n[1][1] if n[0] == "apply" else n[1] if n[0] == "sym" and not n[2] else None
            var = scope.var(name) if name else None
            if var is not None and var.definition is not None and scope.has_free(var):
                out.append(var.definition)
    return out


def _conditions(stmt: Statement):
    """A condition stated just before the display (``if $i=j$``, ``If $i \\neq j$``)."""
    m = re.search(r"\b[Ii]f\s+\$\s*([a-z])\s*(=|\\neq|\\ne)\s*([a-z])\s*\$\s*[,:]?\s*$", stmt.prose)
    if not m:
        return []
    return [(m.group(1), "=" if m.group(2) == "=" else "≠", m.group(3))]


def _allowed(assignment, conditions):
    for a, op, b in conditions:
        if a in assignment and b in assignment:
            if (assignment[a] == assignment[b]) != (op == "="):
                return False
    return True


def decide(ref: ReadSide, other: ReadSide, scope: Scope, stmt: Statement, seed: int) -> Comparison:
    """``other`` against ``ref`` over every world and every value of the free indices."""
    rng = np.random.default_rng(seed)
    given = {name: value - 1 for name, value in stmt.given}
    conditions = _conditions(stmt)
    notes: set = set(ref.notes | other.notes)
    extra_ref = [ix for ix in other.free if ix not in ref.free and ix not in given]
    extra_other = [ix for ix in ref.free if ix not in other.free and ix not in given]
    if extra_ref and extra_other:
        raise IllFormed(f"an index mismatch between the two sides: {', '.join(extra_other)} on the left, "
                        f"{', '.join(extra_ref)} on the right")
    failures, held = [], []
    for world in worlds(scope):
        sizes_named = {v: k for k, v in world.sizes.items()}
        ranges = index_ranges([ref, other], scope, world, given)
        shared = {k: v for k, v in ranges.items()}
        for assignment in assignments(shared):
            if not _allowed(assignment, conditions):
                continue
            bindings = {**given, **assignment}
            a_bind = {k: v for k, v in bindings.items() if k not in extra_ref}
            b_bind = {k: v for k, v in bindings.items() if k not in extra_other}
            a = Evaluator(world, a_bind, notes=notes).value(ref.tree)
            b = Evaluator(world, b_bind, notes=notes).value(other.tree)
            a = _element(a, [bindings[ix] for ix in extra_ref], notes, ref, other)
            b = _element(b, [bindings[ix] for ix in extra_other], notes, other, ref)
            result = compare(a, b, rng, sizes_named, world)
            notes.update(result.notes)
            (held if result.verdict in (HOLDS, NOTATION) else failures).append((world, assignment, result))
    if not failures:
        return Comparison(NOTATION if notes else HOLDS, notes=sorted(notes))
    if held and any(assignment for _, assignment, _ in failures):
        cond = _condition_of(failures, held)
        if cond and "cases" in (ref.tree[0], other.tree[0]):  # a case split with one case wrong
            world, assignment, result = failures[0]
            wrong = cond.replace("=", "≠") if "≠" not in cond else cond.replace("≠", "=")
            return Comparison(FAILS, f"the case {wrong} is wrong (the other case holds)",
                              (result.where, world, assignment) if result.where else None, sorted(notes))
        if cond:
            return Comparison(CONDITIONAL, f"holds only when {cond}", None, sorted(notes))
    world, assignment, result = failures[0]
    result.notes = sorted(notes)
    result.where = (result.where, world, assignment) if result.where else None
    return result


def assignments(ranges):
    names = sorted(ranges)
    for values in itertools.product(*(range(ranges[n]) for n in names)):
        yield dict(zip(names, values))


def _element(value, numbers, notes, whole, part):
    """The whole vector on one side, its element on the other: the element, noted as notation."""
    if not numbers:
        return value
    value = scalar_of(value)
    if not is_matrix(value):
        return value  # it does not depend on the index: the same number for every value of it
    notes.add(f"the whole {'vector' if 1 in value.shape else 'matrix'} on one side, its element "
              f"{','.join(part.free)} on the other")
    if len(numbers) == 1 and 1 in value.shape and numbers[0] < len(value):
        return value[numbers[0]]
    if len(numbers) == 2 and numbers[0] < value.rows and numbers[1] < value.cols:
        return value[numbers[0], numbers[1]]
    if len(numbers) <= 2 and 1 in value.shape or len(numbers) == 2:
        raise Undecidable(f"the index {','.join(part.free)} runs past the {fmt_shape(value.shape)} value it indexes")
    raise Undecidable("one side has free indices the other lacks")


def _condition_of(failures, held):
    """i = j (or i ≠ j) when every failure has it and no success needs the other."""
    pairs = set()
    for _, assignment, _ in failures + held:
        pairs.update(itertools.combinations(sorted(assignment), 2))
    for a, b in sorted(pairs):
        if all(asg[a] != asg[b] for _, asg, _ in failures if a in asg and b in asg) and \
                any(asg[a] == asg[b] for _, asg, _ in held if a in asg and b in asg):
            return f"{a} = {b}"
        if all(asg[a] == asg[b] for _, asg, _ in failures if a in asg and b in asg) and \
                any(asg[a] != asg[b] for _, asg, _ in held if a in asg and b in asg):
            return f"{a} ≠ {b}"
    return None


def kind_of_failure(ref, other, scope, stmt, seed, where=None) -> str:
    """The reason of a failed value: a wrong sign, a wrong scale, or a sum over the wrong range."""
    tries = [(("neg", other.tree, 0), "a wrong sign: the right side is the negative of the left")]
    if where and where[0][1] is not None and where[0][2] is not None and abs(where[0][2]) > 1e-12:
        ratio = sp.nsimplify(where[0][1].real / where[0][2].real, rational=True, tolerance=1e-9)
        if ratio not in (0, 1, -1) and abs(ratio.q) <= 100 and abs(ratio.p) <= 100:
            tries.append((("div", other.tree, ("num", ratio, 0), 0),
                          f"a wrong scale: the right side is {ratio} times the left"))
    tries += [(("add", other.tree, term, 0), f"a missing term: the right side lacks {_shown(term, ref)}")
              for term in _terms(ref.tree)]
    tries += [(("sub", other.tree, term, 0), f"an extra term: {_shown(term, other)} should not be there")
              for term in _terms(other.tree)]
    for scaled, words in tries:
        probe = ReadSide.probe(other, scaled)
        try:
            if decide(ref, probe, scope, stmt, seed).verdict in (HOLDS, NOTATION):
                return words
        except (Undecidable, IllFormed):
            pass
    ranges = sum_range_error(other.tree, scope)
    if ranges:
        return ranges
    return ""


def _terms(tree) -> list:
    """The signed terms of a sum (a − b + c: a, −b, c); none for a single term."""
    if tree[0] not in ("add", "sub"):
        return []
    out, stack = [], [(tree, 1)]
    while stack:
        node, sign = stack.pop()
        if node[0] in ("add", "sub"):
            stack.append((node[2], sign if node[0] == "add" else -sign))
            stack.append((node[1], sign))
        else:
            out.append(node if sign > 0 else ("neg", node, node[-1]))
    return out


def _shown(term, side) -> str:
    """A term's source text, cut from its side by the columns the reader kept."""
    text = side.side.text
    start = term[-1] - 1 if term[0] != "neg" else term[1][-1] - 1
    return ("−" if term[0] == "neg" else "") + text[max(0, start):].split(" + ")[0].split(" - ")[0].strip()


def sum_range_error(tree, scope):
    """A sum whose stated bound is not the length its terms run over (Σ_{k=1}^{m} δ_k with δ of length n)."""
    for node in walk(tree):
        found = _sum_range(node, scope)
        if found:
            return found
    return ""


def _sum_range(tree, scope):
    if tree[0] == "sum" and tree[3] is not None and tree[3][0] == "sym" and not tree[3][2]:
        var, hi = tree[1], tree[3][1]
        for base, indices in _subscripts(tree[5]):
            v = scope.var(base)
            if v is None or var not in indices:
                continue
            axis = 0 if len(indices) == 1 and v.shape[1] == 1 else (1 if len(indices) == 1 else indices.index(var))
            length = v.shape[axis]
            if isinstance(length, str) and length != hi and scope.is_size(hi):
                return (f"a wrong summation range: {var} runs to {hi}, but {greek(base)}_{''.join(indices)} "
                        f"needs {var} = 1, …, {length}")
    return ""


def _subscripts(tree):
    for n in walk(tree):
        if n[0] == "sym" and n[2]:
            yield n[1], n[2]


# ----- displays -----
def decide_display(tree, scope: Scope) -> tuple[str, str]:
    """A matrix written with dots: its last row and column must be the variable's last ones."""
    base, last, rows, _cols, kind = display_of(tree)
    var = scope.var(base)
    if var is None:
        return UNDECIDABLE, f"{greek(base)} is not defined in {scope.label}"
    shape = var.shape
    what = "a matrix" if kind == "element" else f"a matrix of ∂{kind.split()[-1]}/∂{greek(base)} entries"
    if len(last) == 1:
        length = shape[0] if shape[1] == 1 else shape[1]
        if 1 not in shape:
            return FAILS, f"{greek(base)} is {_dims(shape)}; one index does not address its elements"
        if _dim(last[0]) != length:
            return FAILS, (f"an index range: the display ends at {greek(base)}_{last[0]}, but {greek(base)} has "
                           f"{length} elements")
        return HOLDS, f"{what} that ends at {greek(base)}_{last[0]}, {greek(base)} being {_dims(shape)}"
    if len(last) != 2:
        return UNDECIDABLE, "a display with more than two indices"
    wrong = [(axis, last[axis], shape[axis]) for axis in (0, 1)
             if _dim(last[axis]) != shape[axis] and not (rows == 1 and axis == 0)]
    if wrong:
        axis, got, want = wrong[0]
        where = "row" if axis == 0 else "column"
        fixed = [str(want) if k == axis else ix for k, ix in enumerate(last)]
        return FAILS, (f"an index range: the display's last {where} index is {got}, but {greek(base)} is "
                       f"{_dims(shape)} (its last {where} is {want}, so it ends at {greek(base)}_{''.join(fixed)})")
    return HOLDS, f"{what} whose corners match {greek(base)}, {_dims(shape)}"


def _dim(ix):
    return int(ix) if ix.isdigit() else ix


def _dims(shape):
    return "×".join(str(d) for d in shape)


__all__ = ["Link", "decide", "decide_display", "HOLDS", "NOTATION", "CONDITIONAL", "FAILS", "UNDECIDABLE",
           "ReadSide", "kind_of_failure", "sum_range_error", "assignments",
           "index_ranges"]
