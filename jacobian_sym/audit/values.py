"""What a side of an equation is worth: a tree of ``claims/latex.py`` evaluated at concrete sizes.

A :class:`World` fixes the sizes (n = 3, m = 2, …), gives every variable a matrix of real symbols
(a one-hot vector a concrete unit vector) and every definition its explicit value; an
:class:`Evaluator` turns a tree into a SymPy number, an explicit ``Matrix``, or a :class:`Tensor` (a
Jacobian of a matrix by a matrix), with its indices bound to numbers. Derivatives are SymPy's own
``diff`` of these explicit values — the independent truth the audit compares the document against.
By an intermediate (∂J/∂θ) the later definitions are re-evaluated from fresh symbols put in its place.

The layout is the notes': ∂(number)/∂(vector) is a row, ∂(number)/∂(matrix) has the matrix's shape,
∂(vector)/∂(vector) is the Jacobian; a side that is a column where the other is a row is a matter of
layout, which the audit reports as notation.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from jacobian_sym.base.bounds import Budget
from jacobian_sym.claims.latex import GREEK, walk
from jacobian_sym.errors import SizeError
from jacobian_sym.ops.functions import derivative_of, explicit
from jacobian_sym.ops.table import OPS

#: function words → the op of the op table that is their scalar definition
ELEMENTWISE = {"relu": "relu", "sigma": "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh", "exp": "exp",
               "log": "log", "ln": "log", "softplus": "softplus", "gelu": "gelu"}
#: the losses of the op table a context file may name besides CE: −Σ y log p + (1 − y) log(1 − p), and
#: ½ Σ (p − y)² (summed, as in model files)
LOSSES = {"binary_cross_entropy": "bce", "bce": "bce", "mse": "mse"}
#: the generic f of identity (2.4), for numbers only: smooth, and no identity holds for it by accident
_S = sp.Symbol("s", real=True)
SURROGATE = sp.sin(_S) + _S**3 / 7


class Undecidable(Exception):
    """The side cannot be given a value here (prose, an unknown symbol, notation the reader lacks)."""


class IllFormed(Exception):
    """The side, as written, has no value: shapes that do not fit, an index past the end."""


@dataclass
class Tensor:
    """∂A/∂B for a matrix A or B that is not a vector: ``entries[a][b]`` over flattened elements."""

    top_shape: tuple
    by_shape: tuple
    entries: list

    @property
    def shape(self):
        return ("tensor", self.top_shape, self.by_shape)


def is_matrix(v):
    return isinstance(v, sp.MatrixBase)


def scalar_of(v):
    """A 1×1 matrix is its one element."""
    return v[0, 0] if is_matrix(v) and v.shape == (1, 1) else v


def shape_of(v):
    if isinstance(v, Tensor):
        return v.shape
    return v.shape if is_matrix(v) else (1, 1)


def fmt(shape):
    if shape and shape[0] == "tensor":
        return f"a 4-index array ({fmt(shape[1])} by {fmt(shape[2])})"
    return f"{shape[0]}×{shape[1]}"


#: the largest exponent of a number the audit computes exactly (2^{k} with k defined elsewhere)
MAX_NUMBER_EXPONENT = 4096


class World:
    """Concrete sizes and the explicit value of every variable of a scope."""

    def __init__(self, scope, sizes: dict, hot: int = 0):
        self.scope, self.sizes, self.hot = scope, sizes, hot
        self._values: dict = {}
        #: the symbols a derivative by an intermediate put in its place → that intermediate's value; put
        #: back only at a numeric point (putting them back symbolically rebuilds every max(…, 0): minutes)
        self.cut_values: dict = {}
        #: the symbols this world's values may hold, counted before each matrix is built
        self.budget = Budget("the explicit values at these sizes")

    def spend(self, rows: int, cols: int) -> None:
        """Count a ``rows``×``cols`` matrix of symbols against the budget; past it, not decidable
        (a literal W ∈ ℝ^{100000×3} must not build 300,000 symbols)."""
        try:
            self.budget.spend((rows, cols))
        except SizeError as err:
            raise Undecidable(str(err)) from None

    def numbers(self, exprs, point: dict) -> dict:
        """``point`` (values of the variables' symbols) extended to every cut symbol ``exprs`` reach."""
        out = dict(point)
        pending = [s for e in exprs for s in e.free_symbols if s in self.cut_values and s not in out]
        while pending:
            s = pending.pop()
            if s in out:
                continue
            value = self.cut_values[s]
            inner = [t for t in value.free_symbols if t in self.cut_values and t not in out]
            if inner:
                pending += [s] + inner
                continue
            out[s] = sp.N(value.xreplace(out), 60)
        return out

    def leaf_symbols(self, exprs) -> set:
        """The variables' symbols ``exprs`` depend on, through any cut symbols."""
        out, seen = set(), set()
        stack = [s for e in exprs for s in e.free_symbols]
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            if s in self.cut_values:
                stack += list(self.cut_values[s].free_symbols)
            else:
                out.add(s)
        return out

    def put_back(self, expr):
        """``expr`` with the cut symbols replaced by what they stand for (symbolically; for display)."""
        for _ in range(8):
            found = {s: self.cut_values[s] for s in expr.free_symbols if s in self.cut_values}
            if not found:
                return expr
            expr = expr.xreplace(found)
        return expr

    def size(self, dim) -> int:
        if isinstance(dim, int):
            return dim
        if dim not in self.sizes:
            raise Undecidable(f"the size {dim} is not known")
        return self.sizes[dim]

    def shape(self, var) -> tuple[int, int]:
        if any(not isinstance(d, int) and d not in self.sizes for d in var.shape):
            raise Undecidable(unknown_shape(var))
        return self.size(var.shape[0]), self.size(var.shape[1])

    def value(self, name: str, cut: dict | None = None):
        """The explicit value of a variable; ``cut`` puts fresh symbols in place of some variables."""
        cut = cut or {}
        if name in cut:
            return cut[name]
        key = (name, tuple(sorted(cut)))
        if key in self._values:
            return self._values[key]
        var = self.scope.var(name)
        rows, cols = self.shape(var)
        if var.kind in ("one_hot", "leaf"):
            self.spend(rows, cols)
        if var.kind == "one_hot":
            value = sp.Matrix(rows, cols, lambda i, j: 1 if (i if cols == 1 else j) == self.hot % max(rows, cols)
                              else 0)
        elif var.kind == "leaf":
            value = symbols_for(name, rows, cols)
        elif var.kind == "loss_of":  # J known only by δ = ∂J/∂z: J = Σ δ_k z_k has exactly that derivative
            delta = self.value(var.signal, cut)
            z = self.value(var.of, cut)
            value = sum(d * e for d, e in zip(delta, z))
        else:
            try:
                value = Evaluator(self, {}, cut).value(var.definition)
            except Undecidable as err:
                if var.line is None or "reads it" in str(err):
                    raise
                raise Undecidable(f"{err} — {greek(name)}'s definition on line {var.line} reads it") from None
        self._values[key] = value
        return value


def unknown_shape(var) -> str:
    """Why a variable has no value: whose shape is missing, and the line that should have given it."""
    name = greek(var.name)
    if var.kind == "defined" and var.line is not None:
        return (f"the shape of {name} is not known: its definition on line {var.line} does not give one "
                f"(declare it, e.g. {name} \\in \\mathbb{{R}}, or the shapes of what it reads)")
    if var.kind == "defined":
        return f"the shape of {name} is not known: its definition does not give one"
    return f"the shape of {name} is not known: no line declares it (e.g. {name} \\in \\mathbb{{R}}^{{n}})"


def symbols_for(name, rows, cols):
    clean = "".join(ch if ch.isalnum() else "_" for ch in name)
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{clean}_{i}_{j}", real=True))


def _size_name(base, indices):
    return f"{base}_{''.join(indices)}" if indices else base


class Evaluator:
    """A tree's value in a world, with indices bound (``bindings``: index letter → 0-based number)."""

    def __init__(self, world: World, bindings: dict, cut: dict | None = None, notes: set | None = None):
        self.world, self.bindings, self.cut = world, bindings, cut or {}
        self.notes = notes if notes is not None else set()
        self.scope = world.scope

    def derived(self, **bindings):
        return Evaluator(self.world, {**self.bindings, **bindings}, self.cut, self.notes)

    # ----- the tree -----
    def value(self, node):
        kind = node[0]
        method = getattr(self, f"_{kind}", None)
        if method is None:
            raise Undecidable(f"{kind} is not read as a value")
        return method(node)

    def _num(self, node):
        v = node[1]
        return sp.Rational(str(v)) if isinstance(v, float) else sp.Rational(v)

    def _frac(self, node):
        if node[2][1] == 0:
            raise IllFormed("a division by zero")
        return sp.Rational(node[1][1], node[2][1])

    def _text(self, node):
        raise Undecidable(f"prose inside the math ({node[1]!r})" if node[1] else "an empty cell")

    def _dots(self, node):
        raise Undecidable("an ellipsis (⋯) stands for terms that are not written")

    def _space(self, node):
        raise Undecidable("a space (ℝ) is a declaration, not a value")

    def _shape(self, node):
        raise Undecidable("a shape (a × b) is a declaration, not a value")

    def _sym(self, node):
        _, base, indices, _pos = node
        scope = self.scope
        for name in candidate_names(base, indices):
            if scope.var(name) is not None:
                return self.variable(name)
        if indices and scope.var(base) is not None:
            return self.element(base, indices)
        if base in self.bindings and not indices:
            return sp.Integer(self.bindings[base] + 1)  # an index used as a number (i = 1)
        if base == "I" and not indices:
            return IDENTITY
        if not indices and scope.is_size(base):
            return sp.Integer(self.world.size(base))
        if indices and scope.is_size(_size_name(base, indices)):
            return sp.Integer(self.world.size(_size_name(base, indices)))
        shown = f"{base}_{''.join(indices)}" if indices else base
        before = " or before it" if scope.earlier else ""
        raise Undecidable(f"{greek(shown)} is not defined in {scope.label}{before}")

    def variable(self, name):
        """A variable's value; a definition with free indices (g = e^{θ_i}) takes this evaluator's."""
        var = self.scope.var(name)
        if var.kind == "defined" and var.definition is not None and name not in self.cut and \
                self.scope.has_free(var):
            return Evaluator(self.world, self.bindings, self.cut, self.notes).value(var.definition)
        return self.world.value(name, self.cut)

    def element(self, base, indices):
        value = self.variable(base)
        if not is_matrix(value):
            raise IllFormed(f"{greek(base)} is a number; it has no element {''.join(indices)}")
        rows, cols = value.shape
        numbers = [self.index(ix) for ix in indices]
        if len(numbers) == 1 and (rows == 1 or cols == 1):
            k = numbers[0]
            if not 0 <= k < rows * cols:
                raise IllFormed(f"{greek(base)}_{indices[0]} = {greek(base)}[{k + 1}] is past the end of "
                                f"{greek(base)}, which has {rows * cols} elements")
            return value[k]
        if len(numbers) == 2:
            i, j = numbers
            if not (0 <= i < rows and 0 <= j < cols):
                raise IllFormed(f"{greek(base)}[{i + 1},{j + 1}] lies outside {greek(base)}, which is {rows}×{cols}")
            return value[i, j]
        raise IllFormed(f"{greek(base)} is {rows}×{cols}; {len(numbers)} indices do not address one element")

    def index(self, ix: str) -> int:
        """An index as a 0-based number: a digit, a bound letter, or a size (its last value)."""
        if ix.isdigit():
            return int(ix) - 1
        if ix in self.bindings:
            return self.bindings[ix]
        if self.scope.is_size(ix):
            return self.world.size(ix) - 1
        raise Undecidable(f"the index {ix} is free and its range unknown")

    def _neg(self, node):
        v = self.value(node[1])
        if isinstance(v, Tensor):
            raise Undecidable("a negated 4-index array")
        return -v

    def _T(self, node):
        v = self.value(node[1])
        if isinstance(v, Tensor):
            raise Undecidable("the transpose of a 4-index array")
        return v.T if is_matrix(v) else v

    def _pow(self, node):
        base, exponent = self.value(node[1]), scalar_of(self.value(node[2]))
        if is_matrix(exponent) or isinstance(exponent, Tensor):
            raise IllFormed("an exponent that is not a number")
        base = scalar_of(base)
        if (getattr(exponent, "is_Number", False) and abs(exponent) > MAX_NUMBER_EXPONENT
                and getattr(base, "is_Number", False) and abs(base) not in (0, 1)):
            raise Undecidable(f"a power of a number by more than {MAX_NUMBER_EXPONENT} (its exact value is too large)")
        if is_matrix(base):
            if exponent == -1 and base.rows == base.cols:
                return base.inv()
            raise Undecidable(f"a power of a {fmt(base.shape)} matrix")
        return base ** exponent

    def _add(self, node):
        if any(n[0] == "dots" for n in _summands(node)):
            return self.value(elided_sum(_summands(node)))
        return self.combine(node, lambda a, b: a + b, "a sum")

    def _sub(self, node):
        return self.combine(node, lambda a, b: a - b, "a difference")

    def combine(self, node, op, what):
        a, b = scalar_of(self.value(node[1])), scalar_of(self.value(node[2]))
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            raise Undecidable(f"{what} of 4-index arrays")
        if a is IDENTITY or b is IDENTITY:
            other = b if a is IDENTITY else a
            if not is_matrix(other) or other.rows != other.cols:
                raise IllFormed(f"{what} of I and a {fmt(shape_of(other))} value")
            a, b = (sp.eye(other.rows), b) if a is IDENTITY else (a, sp.eye(other.rows))
        if is_matrix(a) and is_matrix(b):
            if a.shape != b.shape:
                raise IllFormed(f"{what} of {fmt(a.shape)} and {fmt(b.shape)}: the shapes differ")
            return op(a, b)
        if is_matrix(a) or is_matrix(b):  # a number and a matrix: element-wise, as the notes write 1 − σ
            m = a if is_matrix(a) else b
            ones = sp.ones(*m.shape)
            return op(a if is_matrix(a) else a * ones, b if is_matrix(b) else b * ones)
        return op(a, b)

    def _hadamard(self, node):
        a, b = scalar_of(self.value(node[1])), scalar_of(self.value(node[2]))
        if not (is_matrix(a) and is_matrix(b)):
            return self.product(a, b)
        if a.shape != b.shape:
            if a.shape == b.shape[::-1] and 1 in a.shape:
                self.notes.add(f"a {'row' if a.rows == 1 else 'column'} ∘ a {'column' if a.rows == 1 else 'row'}: "
                               "read as the element-wise product of the two vectors, shaped as the left one")
                b = b.T
            else:
                raise IllFormed(f"a Hadamard product of {fmt(a.shape)} and {fmt(b.shape)}: the shapes differ")
        return a.multiply_elementwise(b)

    def _matmul(self, node):
        return self.product(self.value(node[1]), self.value(node[2]))

    def product(self, a, b):
        a, b = scalar_of(a), scalar_of(b)
        if a is IDENTITY or b is IDENTITY:
            return b if a is IDENTITY else a
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            return _tensor_product(a, b)
        if not is_matrix(a) or not is_matrix(b):
            return a * b
        if a.cols != b.rows:
            raise IllFormed(f"a product of {fmt(a.shape)} and {fmt(b.shape)}: inner sizes {a.cols} and {b.rows} "
                            "differ")
        return scalar_of(a * b)

    def _div(self, node):
        a, b = scalar_of(self.value(node[1])), scalar_of(self.value(node[2]))
        if is_matrix(b) and (not is_matrix(a) or a.shape == b.shape) and not isinstance(a, Tensor):
            # y / p of two vectors (or 1 / p): element-wise, as a homework writes the BCE derivative
            if any(e == 0 for e in b):
                raise IllFormed("a division by zero")
            self.notes.add("a division by a vector or matrix: read element-wise")
            numerator = a if is_matrix(a) else a * sp.ones(*b.shape)
            return numerator.multiply_elementwise(b.applyfunc(lambda e: 1 / e))
        if is_matrix(b) or isinstance(b, Tensor):
            raise IllFormed(f"a division by a {fmt(shape_of(b))} matrix")
        if b == 0:
            raise IllFormed("a division by zero")
        if isinstance(a, Tensor):
            raise Undecidable("a 4-index array divided")
        return a / b

    def _elem(self, node):
        value = self.value(node[1])
        numbers = [self.index(ix) for ix in node[2]]
        if not is_matrix(value):
            raise IllFormed("an element of a number")
        if len(numbers) == 2 and 0 <= numbers[0] < value.rows and 0 <= numbers[1] < value.cols:
            return value[numbers[0], numbers[1]]
        if len(numbers) == 1 and 1 in value.shape and 0 <= numbers[0] < len(value):
            return value[numbers[0]]
        raise IllFormed(f"element {','.join(str(k + 1) for k in numbers)} of a {fmt(value.shape)} value")

    def _sum(self, node):
        _, var, lo, hi, excluded, body, _pos = node
        if var is None:
            raise Undecidable("a sum without an index")
        first = 1 if lo is None else int(scalar_of(self.value(lo)))
        if hi is None:
            last = self.scope.natural_range(var, body, self)
            if last is None:
                raise Undecidable(f"the range of the sum over {var} is not stated and not clear from its terms")
        else:
            last = scalar_of(self.value(hi))
            if not (isinstance(last, sp.Integer) or isinstance(last, int)):
                raise Undecidable("a sum's upper bound that is not a size")
            last = int(last)
        skip = None if excluded is None else self.index(excluded)
        total = sp.Integer(0)
        for k in range(first - 1, last):
            if k == skip:
                continue
            total = self.derived(**{var: k}).value(body) + total
        return total

    def _cases(self, node):
        for value, condition in node[1]:
            verdict = self.condition(condition)
            if verdict is True:
                return self.value(value)
            if verdict is not False:  # a condition on values (x > 0): element by element
                return self._piecewise(node)
        raise IllFormed("no case applies")

    def _piecewise(self, node):
        pieces = []
        for value, condition in node[1]:
            pieces.append((self.value(value), condition))
        conds = [self.condition(c, symbolic=True) for _, c in pieces]
        shapes = {shape_of(v) for v, _ in pieces} | {c.shape for c in conds if isinstance(c, Conditions)}
        shapes.discard((1, 1))
        if len(shapes) > 1:
            raise IllFormed("cases of different shapes")
        if not shapes:
            return sp.Piecewise(*[(scalar_of(v), c) for (v, _), c in zip(pieces, conds)])
        rows, cols = shapes.pop()

        def at(x, i, j):
            return x[i, j] if is_matrix(x) or isinstance(x, Conditions) else x

        return sp.Matrix(rows, cols, lambda i, j: sp.Piecewise(
            *[(at(v, i, j), at(c, i, j)) for (v, _), c in zip(pieces, conds)]))

    def condition(self, cond, symbolic=False):
        kind = cond[0]
        if kind == "otherwise":
            return True
        if kind == "and":
            a, b = self.condition(cond[1], symbolic), self.condition(cond[2], symbolic)
            if a is False or b is False:
                return False
            if a is True:
                return b
            return a if b is True else sp.And(a, b)
        if kind == "text":
            raise Undecidable(f"a condition in words ({cond[1]!r})")
        if kind != "rel":
            raise Undecidable("a condition I cannot read")
        _, op, left, right, _pos = cond
        a, b = self.value(left), self.value(right)
        rel = {"=": sp.Eq, "≠": sp.Ne, "<": sp.Lt, ">": sp.Gt, "≤": sp.Le, "≥": sp.Ge}[op]
        if is_matrix(a) or is_matrix(b):
            m = a if is_matrix(a) else b
            return Conditions([[rel(a[i, j] if is_matrix(a) else a, b[i, j] if is_matrix(b) else b)
                                for j in range(m.cols)] for i in range(m.rows)])
        out = rel(a, b)
        if out in (sp.true, sp.false):
            return bool(out)
        return out

    # ----- functions -----
    def _call(self, node):
        _, name, args, _axis, pos = node
        primes = 0
        while name.endswith("_prime"):
            name, primes = name[: -len("_prime")], primes + 1
        values = [scalar_of(self.value(a)) for a in args]
        return apply_function(name, primes, values, self)

    def _apply(self, node):
        _, sym, args, primes, pos = node
        base = sym[1]
        var = self.scope.var(base)
        if var is not None and var.origin == "function" and not primes:
            return self.variable(base)
        if self.scope.function(base) is not None:
            if sym[2]:
                raise Undecidable(f"{base}_{''.join(sym[2])}(…): a component of a function")
            values = [scalar_of(self.value(a)) for a in args]
            return apply_function(base, primes, values, self)
        if primes:
            raise Undecidable(f"{base} is not a function in {self.scope.label}")
        if len(args) != 1:
            raise Undecidable(f"{base}(…, …) with {base} not a function in {self.scope.label}")
        return self.product(self._sym(sym), self.value(args[0]))

    # ----- derivatives -----
    def _deriv(self, node):
        _, top, by, _notes, pos = node
        return derivative(self, top, by)

    def _grad(self, node):
        """∇_v f: ∂f/∂v arranged like v — for a column v the transpose of the notes' row (or Jacobian)."""
        value = self.value(node[1])
        variable, _ = _variable_of(node[1][2], self)
        if isinstance(value, Tensor):
            raise Undecidable("∇ of a matrix by a matrix")
        cols = self.world.shape(self.scope.var(variable))[1]
        return value.T if cols == 1 and is_matrix(value) else value

    def _matrix(self, node):
        rows = node[1]
        if any(cell[0] == "dots" for row in rows for cell in row):
            raise Undecidable("a matrix written with dots (⋯) shows its pattern; it is checked as a display")
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            raise IllFormed("a matrix whose rows have different lengths")
        values = [[scalar_of(self.value(c)) for c in row] for row in rows]
        if any(is_matrix(v) or isinstance(v, Tensor) for row in values for v in row):
            raise Undecidable("a matrix of blocks")
        return sp.Matrix(values)


class Conditions:
    """A condition element by element (x > 0 for a vector x): a grid of SymPy relations."""

    def __init__(self, rows):
        self.rows = rows
        self.shape = (len(rows), len(rows[0]))

    def __getitem__(self, ij):
        return self.rows[ij[0]][ij[1]]


class _Identity:
    """The identity I, its size taken from what it meets."""

    shape = ("identity",)

    def __repr__(self):
        return "I"


IDENTITY = _Identity()


def _summands(node):
    """The terms of a chain of additions a + b + ⋯ + c, in order."""
    if node[0] != "add":
        return [node]
    return _summands(node[1]) + _summands(node[2])


_RUNNING = "κ"  # the index an elided sum runs over (no document writes it)


def elided_sum(terms):
    """a_1 + a_2 + ⋯ + a_m as Σ_{κ=1}^{m} a_κ: the pattern read off the first and last terms (the index
    positions where they differ run together from the first's value to the last's), and every term
    written out checked against it."""
    dots = [k for k, t in enumerate(terms) if t[0] == "dots"]
    if len(dots) != 1 or dots[0] in (0, len(terms) - 1):
        raise Undecidable("an ellipsis (⋯) whose pattern is not clear")
    first, last = terms[0], terms[-1]
    varying = {}
    template = _template(first, last, varying)
    if template is None or len(set(varying.values())) != 1:
        raise Undecidable("an ellipsis (⋯) whose pattern is not clear")
    start, end = next(iter(varying.values()))
    if not start.isdigit():
        raise Undecidable("an ellipsis (⋯) whose first term has no number")
    for k, term in enumerate(terms[1:dots[0]], start=int(start) + 1):
        if _strip_pos(term) != _strip_pos(_instance(template, str(k))):
            raise Undecidable("an ellipsis (⋯) whose written terms do not follow one pattern")
    hi = ("num", int(end), 0) if end.isdigit() else ("sym", end, (), 0)
    return ("sum", _RUNNING, ("num", int(start), 0), hi, None, template, 0)


def _template(a, b, varying):
    """``b`` with the index atoms where it differs from ``a`` replaced by the running index."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b) or a[0] != b[0]:
        return None
    if a[0] == "sym":
        if a[1] != b[1] or len(a[2]) != len(b[2]):
            return None
        out = []
        for x, y in zip(a[2], b[2]):
            if x == y:
                out.append(y)
            else:
                varying[(x, y)] = (x, y)
                out.append(_RUNNING)
        return ("sym", b[1], tuple(out), b[3])
    parts = [a[0]]
    for x, y in zip(a[1:-1], b[1:-1]):
        if isinstance(x, tuple) and x and isinstance(x[0], str) and isinstance(x[-1], int):
            sub = _template(x, y, varying)
            if sub is None:
                return None
            parts.append(sub)
        elif isinstance(x, tuple) and all(isinstance(q, tuple) for q in x) and len(x) == len(y):
            subs = tuple(_template(p, q, varying) for p, q in zip(x, y))
            if any(s is None for s in subs):
                return None
            parts.append(subs)
        elif x != y:
            return None
        else:
            parts.append(y)
    return (*parts, b[-1])


def _instance(template, value):
    if not isinstance(template, tuple):
        return template
    if template and template[0] == "sym":
        return ("sym", template[1], tuple(value if ix == _RUNNING else ix for ix in template[2]), template[3])
    return tuple(_instance(p, value) if isinstance(p, tuple) else p for p in template)


def _strip_pos(tree):
    if not isinstance(tree, tuple):
        return tree
    body = tree[:-1] if tree and isinstance(tree[0], str) and isinstance(tree[-1], int) else tree
    return tuple(_strip_pos(p) for p in body)


def candidate_names(base, indices):
    """The variable names a symbol may be: b₁ → b1 or b_1, δ₁ → delta_1, D_h → D_h."""
    if not indices:
        return [base]
    sub = "".join(indices)
    return [f"{base}_{sub}", f"{base}{sub}"]


def greek(name: str) -> str:
    """theta → θ, yhat → ŷ, for messages."""
    table = {"theta": "θ", "delta": "δ", "sigma": "σ", "alpha": "α", "beta": "β", "lambda": "λ", "mu": "μ",
             "gamma": "γ", "eta": "η", "phi": "φ", "psi": "ψ", "omega": "ω", "epsilon": "ε"}
    for word, letter in table.items():
        name = name.replace(word, letter)
    return name.replace("yhat", "ŷ").replace("hat", "̂")


def _tensor_product(a, b):
    """A row times ∂A/∂B (the notes' δ ∂z/∂W): Σ_k δ_k ∂z_k/∂B, shaped as B."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        raise Undecidable("a product of two 4-index arrays")
    if isinstance(b, Tensor) and is_matrix(a) and a.rows == 1 and a.cols == len(b.entries):
        rows, cols = b.by_shape
        flat = [sum(a[k] * b.entries[k][m] for k in range(a.cols)) for m in range(rows * cols)]
        return sp.Matrix(rows, cols, flat)
    if isinstance(b, Tensor) and not is_matrix(a):
        return Tensor(b.top_shape, b.by_shape, [[a * e for e in row] for row in b.entries])
    raise Undecidable(f"a product of {fmt(shape_of(a))} and {fmt(shape_of(b))}")


def apply_function(name, primes, values, ev: Evaluator):
    lower = name.lower()
    scope = ev.scope
    if scope.function(name) == "generic":
        if len(values) != 1:
            raise Undecidable(f"{name} of several arguments")
        form = sp.diff(SURROGATE, _S, primes)
        return _elementwise(lambda s: form.xreplace({_S: s}), values[0])
    if lower in ELEMENTWISE:
        fn = OPS[ELEMENTWISE[lower]].function
        for _ in range(primes):
            fn = derivative_of(fn)
        if len(values) != 1:
            raise IllFormed(f"{name} takes one argument")
        return _elementwise(lambda s: explicit(fn(s)), values[0])
    if primes:
        raise Undecidable(f"{name}′ is not read")
    if lower in ("sng", "sgn", "sign"):
        return _elementwise(sp.sign, values[0])
    if lower in ("max", "min"):
        if len(values) != 2:
            raise IllFormed(f"{name} takes two arguments here")
        f = sp.Max if lower == "max" else sp.Min
        a, b = values
        if is_matrix(a) or is_matrix(b):
            m = a if is_matrix(a) else b
            return sp.Matrix(m.rows, m.cols, lambda i, j: f(a[i, j] if is_matrix(a) else a,
                                                          b[i, j] if is_matrix(b) else b))
        return f(a, b)
    if lower == "softmax":
        v = values[0]
        if not is_matrix(v) or 1 not in v.shape:
            raise IllFormed("softmax of something that is not a vector")
        total = sum(sp.exp(e) for e in v)
        return v.applyfunc(lambda e: sp.exp(e) / total)
    if lower in ("ce", "cross_entropy"):
        if len(values) != 2:
            raise IllFormed("CE takes the labels and the prediction: CE(y, ŷ)")
        y, p = values
        if not (is_matrix(y) and is_matrix(p)) or len(y) != len(p):
            raise IllFormed("CE(y, ŷ) of two vectors of different lengths")
        return -sum(a * sp.log(b) for a, b in zip(y, p))
    if lower == "norm":  # ‖A‖: the Euclidean (Frobenius) norm
        if len(values) != 1:
            raise IllFormed("a norm of one value")
        v = values[0]
        return sp.sqrt(sum(e**2 for e in v)) if is_matrix(v) else sp.Abs(v)
    if lower in LOSSES:  # the model files' losses by name, as a context file may write them
        if len(values) != 2:
            raise IllFormed(f"{name} takes the labels and the prediction: {name}(y, p)")
        y, p = values
        if is_matrix(y) != is_matrix(p) or (is_matrix(y) and y.shape != p.shape):
            raise IllFormed(f"{name}(y, p) of two values of different shapes")
        pairs = zip(y, p) if is_matrix(y) else [(y, p)]
        return -sum(a * sp.log(b) + (1 - a) * sp.log(1 - b) for a, b in pairs) if LOSSES[lower] == "bce" \
            else sp.Rational(1, 2) * sum((b - a) ** 2 for a, b in pairs)
    if lower == "diag":
        v = values[0]
        if not is_matrix(v) or 1 not in v.shape:
            raise IllFormed("diag of something that is not a vector")
        return sp.diag(*list(v))
    raise Undecidable(f"the function {name} is not known in {scope.label}")


def _elementwise(f, v):
    return v.applyfunc(f) if is_matrix(v) else f(v)


def derivative(ev: Evaluator, top, by):
    """∂top/∂by in the notes' layout (see the module's docstring). The variable ``by`` names (or whose
    element or expression it is) is replaced by fresh symbols, ``top`` re-evaluated from them, and the
    fresh symbols stand for the variable's value from then on (``World.cut_values``)."""
    world, scope = ev.world, ev.scope
    variable, element = _variable_of(by, ev)
    var = scope.var(variable)
    if top[0] != "sym" and var is not None and var.kind == "defined" and var.definition is not None and \
            not any(n[0] == "sym" for n in walk(var.definition)):
        # ∂f/∂x at an example's x = 4 is the derivative there; of an expression (df(x)/dx, f(x + h))
        # the set value would stand in for the variable it is applied to
        raise Undecidable(f"a derivative by {variable}, which the text set to a number for an example")
    rows, cols = world.shape(var)
    world.spend(rows, cols)
    fresh = symbols_for("d_" + "_".join([variable, *sorted(ev.cut)]), rows, cols)
    inner = Evaluator(world, ev.bindings, {**ev.cut, variable: fresh}, ev.notes)
    # the top's value does not depend on the indices only ``by`` reads (∂‖X − UV‖²/∂v_ab for every a, b)
    letters = {part for n in walk(top) for field in n[1:] for part in (field if isinstance(field, tuple) else (field,))
               if isinstance(part, str)}  # every name the top's nodes hold: indices, a sum's k ≠ j, …
    key = (id(top), variable, tuple(sorted(ev.cut)),
           tuple(sorted((k, v) for k, v in ev.bindings.items() if k in letters)))
    cache = world.__dict__.setdefault("_tops", {})
    # only a top of leaves: a defined name may carry a free index its tree does not show (g = e^{θ_i})
    leaves = all(n[0] != "apply" and (n[0] != "sym" or (scope.var(n[1]) is not None and
                                                        scope.var(n[1]).kind in ("leaf", "one_hot")))
                 for n in walk(top))
    if not leaves:
        cache = {}
    if key not in cache:
        cache[key] = (top, scalar_of(inner.value(top)))  # the tree kept: its id stays its own
    top_value = cache[key][1]
    if isinstance(top_value, Tensor):
        raise Undecidable("a derivative of a 4-index array")
    actual = world.value(variable, ev.cut)
    if not is_matrix(actual):  # a scalar intermediate (z = wᵀx + b of one example)
        actual = sp.Matrix([[actual]])
    for i in range(rows):
        for j in range(cols):
            world.cut_values[fresh[i, j]] = actual[i, j]
    if element is not None:
        return _by_scalar(top_value, scalar_of(inner.value(by)), fresh)
    if not is_matrix(top_value):
        out = sp.Matrix(rows, cols, lambda i, j: sp.diff(top_value, fresh[i, j]))
        return out.T if cols == 1 else out  # a column's gradient is a row (numerator layout)
    if 1 in top_value.shape and 1 in (rows, cols):
        return top_value.reshape(len(top_value), 1).jacobian(sp.Matrix(list(fresh)))
    return Tensor(top_value.shape, (rows, cols), [[sp.diff(e, s) for s in fresh] for e in top_value])


def _by_scalar(top_value, by_value, fresh):
    """∂top/∂(an element, or an expression of one element: ∂h/∂e^{θ_j} is (dh/dθ_j) ÷ (de^{θ_j}/dθ_j),
    the chain rule for a change of that one variable); a vector top gives a column."""
    if is_matrix(by_value):
        raise Undecidable("a derivative by a vector expression")
    free = [s for s in fresh if by_value.has(s)]
    if len(free) != 1:
        raise Undecidable("a derivative by an expression of several variables")
    s = free[0]
    slope = sp.diff(by_value, s)
    if slope == 0:
        raise IllFormed("a derivative by something that does not vary")
    if is_matrix(top_value):
        return sp.Matrix(len(top_value), 1, [sp.diff(e, s) / slope for e in top_value])
    return sp.diff(top_value, s) / slope


def _variable_of(by, ev):
    """The variable a derivative is taken by, and whether by an element or expression of it."""
    if by[0] == "sym":
        _, base, indices, _pos = by
        for name in candidate_names(base, indices):
            if ev.scope.var(name) is not None:
                return name, None
        if indices and ev.scope.var(base) is not None:
            return base, by
        raise Undecidable(f"∂/∂{greek(base)}: {greek(base)} is not defined in {ev.scope.label}")
    names = {n for n in _symbols_in(by) if ev.scope.var(n) is not None}
    if len(names) != 1:
        raise Undecidable("a derivative by an expression that is not of one variable")
    return names.pop(), by


def _symbols_in(node):
    for n in walk(node):
        if n[0] == "sym":
            yield n[1]
            yield from candidate_names(n[1], n[2])




__all__ = ["GREEK", "World", "Evaluator", "Tensor", "Undecidable", "IllFormed", "derivative"]
