"""What the symbols of a document are, section by section: shapes, definitions, one-hot labels, generic
functions — read from the document where it says so, the rest from a small context file.

Read from the document (in the section and the sections it sits in):

* ``W \\in \\mathbb{R}^{n \\times m}`` (a shape; ``\\mathbb{R}^{n}`` a column unless the text says "row
  vector"), "row vector $x$" / "column vector $x$", "$y$ is a one hot …", "elementwise function $f$";
* definitions ``z = Wx`` (a bare name not yet known, set equal to an expression), ``x = \\text{input}``
  (a variable), ``\\frac{\\partial J}{\\partial z} = \\delta`` (δ is J's derivative; a J known only by its
  derivative is taken as J = Σ δ_k z_k, which has exactly that derivative), ``\\delta_1 =
  \\frac{\\partial J}{\\partial \\theta}``;
* matrix displays ``W = [W_{11} ⋯ W_{1n}; …; W_{m1} ⋯ W_{mn}]`` give a shape that nothing else gave.

Shapes nothing states are inferred through the definitions (z = xW with x a row of unknown length);
a symbol no statement shapes is a matrix when upper-case and a column vector when lower-case, the
notes' convention. A context file (TOML) adds or overrides per section::

    [section."2.7"]               # this section and those inside it; [all] for the whole document
    theta = ["N", 1]              # a shape, as in model files
    y = { shape = ["N", 1], one_hot = true }
    yhat = "softmax(theta)"       # a definition (model-file syntax, or LaTeX)
    f = "elementwise"             # a generic element-wise function
"""

from __future__ import annotations

import ast
import copy
import re
import tomllib
from dataclasses import dataclass, field

from jacobian_sym.base.bounds import MAX_DEPTH, MAX_TEXT, deepest
from jacobian_sym.base.safe_text import check_name
from jacobian_sym.claims import latex
from jacobian_sym.errors import JacobianSymError, ParseError


class ContextError(ParseError):
    """A context file or option that cannot be read."""


@dataclass
class Var:
    name: str
    shape: tuple  # (dim, dim): a size name, an int, or a fresh "?…" name until inferred
    kind: str = "leaf"  # leaf | one_hot | defined | loss_of
    definition: tuple | None = None
    signal: str | None = None  # loss_of: δ and z of J = Σ δ_k z_k
    of: str | None = None
    origin: str = ""
    #: the line of the document that defined it (for "not decidable" reasons)
    line: int | None = None


@dataclass
class Scope:
    """The symbols of one section."""

    label: str
    vars: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    #: shapes given by a display (name → line): the display is a declaration there, not a claim
    displayed: dict = field(default_factory=dict)
    orientation: dict = field(default_factory=dict)
    one_hot: set = field(default_factory=set)
    #: names set by the context file (a document's own definition of them is then a claim)
    fixed: set = field(default_factory=set)
    #: the sections before this one, latest first, once this one has been read: a name this section
    #: neither defines nor declares means what the latest of them made it (z = Xw in "Forward pass"
    #: holds in "Backward pass"); a section that defines or declares the name has its own meaning
    earlier: list = field(default_factory=list, repr=False)
    #: names taken from an earlier section (name → that section's label), for the report
    inherited: dict = field(default_factory=dict)

    #: False while the section itself is read (what it defines is its own), True after
    looks_back: bool = False
    #: the names the section declares itself (``reading._own_names``)
    own: set = field(default_factory=set)
    #: sizes no line gives (a shape guessed from the letter's case: h is a column): a wrong value that
    #: rests on one is not reported (it may be the guess that is wrong)
    guessed: set = field(default_factory=set)

    def var(self, name):
        found = self.vars.get(name)
        if found is not None and found.origin == "--shape" and found.kind == "leaf" and self.looks_back:
            _, earlier = self.earlier_var(name)  # --shape z=1,1 shapes the z an earlier section defines
            if earlier is not None and earlier.kind == "defined":
                del self.vars[name]
                found = None
        if found is None and self.looks_back and name not in self.functions:
            found = self.take_earlier(name)
        return found

    def earlier_var(self, name):
        """(section, variable) of the latest earlier section that defined or declared ``name``: what a
        section made a name by defining or declaring it; a bare leaf it only used (the x of z = xW)
        comes along only with a definition that reads it."""
        for scope in self.earlier:
            var = scope.vars.get(name)
            if var is not None and (var.kind in ("defined", "loss_of") or var.origin):
                return scope, var
        return None, None

    def take_earlier(self, name):
        """The earlier section's meaning of ``name``, made this section's (None if none has one)."""
        scope, _ = self.earlier_var(name)
        if scope is None:
            return None
        self._inherit(scope, name)
        return self.vars[name]

    def _inherit(self, scope, name):
        if name in self.vars or name not in scope.vars:
            return
        var = self.vars[name] = copy.deepcopy(scope.vars[name])
        self.inherited[name] = scope.inherited.get(name, scope.label)
        self.guessed |= {d for d in var.shape if d in scope.guessed}
        if name in scope.orientation:
            self.orientation[name] = scope.orientation[name]
        if name in scope.one_hot:
            self.one_hot.add(name)
        for read in (var.signal, var.of, *symbols_of(var.definition)):
            if read:
                self._inherit(scope, read)

    def function(self, name):
        return self.functions.get(name)

    def sizes(self) -> list[str]:
        out = set()
        for v in self.vars.values():
            out.update(d for d in v.shape if isinstance(d, str) and d != "?")
        return sorted(out)

    def has_free(self, var) -> bool:
        """Whether a definition has indices of its own (g = e^{θ_i}), so its value depends on them."""
        if not hasattr(var, "_free"):
            var._free = bool(free_indices(var.definition, self))
        return var._free

    def is_size(self, name) -> bool:
        return name in self.sizes()

    def natural_range(self, index, body, ev):
        """The length of the axis ``index`` runs over in ``body`` (its first use as a subscript)."""
        for inner, indices in _elements_of(body):
            if index in indices:
                try:
                    value = ev.value(inner)
                except Exception:  # noqa: BLE001 — a value that cannot be had gives no range
                    continue
                shape = getattr(value, "shape", (1, 1))
                if len(indices) == 1:
                    return shape[0] * shape[1]
                return shape[0] if indices[0] == index else shape[1]
        for base, indices in _subscripted(body):
            if index not in indices:
                continue
            var = self.var(base)
            if var is None:
                continue
            rows, cols = ev.world.shape(var)
            if len(indices) == 1:
                return rows * cols
            if len(indices) == 2:
                return rows if indices[0] == index else cols
        return None


def _elements_of(node):
    """(expression, indices) of each (…)_{ij} in ``node``."""
    for n in latex.walk(node):
        if n[0] == "elem":
            yield n[1], n[2]


def _subscripted(node):
    """(variable, indices) of each subscripted symbol in ``node``."""
    for n in latex.walk(node):
        if n[0] == "sym" and n[2]:
            yield n[1], n[2]


def free_indices(node, scope: Scope, bound=frozenset(), _through=frozenset()) -> list[str]:
    """The index letters of ``node`` not bound by a sum, in order of appearance (a definition that
    reads its own name, as ``f(x) = … f(x) …`` does, is entered once: ``_through`` are those entered)."""
    out: list[str] = []

    def visit(n, bound):
        if not isinstance(n, tuple) or not n:
            return
        kind = n[0]
        if kind == "sum":
            _, var, lo, hi, excluded, body, _pos = n
            if excluded is not None and excluded not in bound:
                add(excluded, bound)
            visit(lo, bound)
            visit(hi, bound)
            visit(body, bound | {var})
            return
        if kind == "sym":
            base, indices = n[1], n[2]
            is_name = any(scope.var(c) is not None for c in _candidates(base, indices))
            var = scope.var(base) if not indices else None
            if var is not None and var.kind == "defined" and var.definition is not None and \
                    base not in _through and scope.has_free(var):
                for ix in free_indices(var.definition, scope, _through=_through | {base}):
                    add(ix, bound)
            if indices and not is_name:
                for ix in indices:
                    add(ix, bound)
            elif not indices and base in subscripts and scope.var(base) is None and not scope.is_size(base):
                add(base, bound)
            return
        if kind == "apply":
            var = scope.var(n[1][1])
            if var is not None and var.origin == "function":  # h(x) = …: x is the notes' placeholder
                name = n[1][1]
                inner = var.definition if var.definition is not None and name not in _through else None
                for ix in (free_indices(inner, scope, _through=_through | {name}) if inner is not None else ()):
                    add(ix, bound)
                return
            if scope.function(n[1][1]) is None:
                visit(n[1], bound)
            for a in n[2]:
                visit(a, bound)
            return
        if kind == "elem":
            visit(n[1], bound)
            for ix in n[2]:
                add(ix, bound)
            return
        if kind == "rel":
            visit(n[2], bound)
            visit(n[3], bound)
            return
        for part in latex.children(n):
            visit(part, bound)

    def add(ix, bound):
        if ix in bound or ix.isdigit() or scope.is_size(ix) or ix in out:
            return
        if re.fullmatch(r"[a-z]", ix):
            out.append(ix)

    subscripts = set("ijkl") | {ix for n in latex.walk(node) if n[0] == "sym" for ix in n[2]}
    visit(node, frozenset(bound))
    return out


def _candidates(base, indices):
    if not indices:
        return [base]
    sub = "".join(indices)
    return [f"{base}_{sub}", f"{base}{sub}"]


# ----- the context file -----
def read_context(text: str, source: str = "context") -> dict:
    """{section key or "*": {name: entry}} from a context file's TOML."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None)
        raise ContextError(f"not valid TOML: {str(err).split(' (at')[0]}", source=source, line=line) from None
    out: dict = {}
    for key, table in data.items():
        if key == "all":
            out.setdefault("*", {}).update(_entries(table, source, "all"))
        elif key == "section" and isinstance(table, dict):
            for section, entries in table.items():
                out.setdefault(str(section), {}).update(_entries(entries, source, f"section.{section}"))
        else:
            raise ContextError(f"unknown table [{key}] (the context file has [all] and [section.\"…\"])",
                               source=source)
    return out


def _entries(table, source, where):
    if not isinstance(table, dict):
        raise ContextError(f"[{where}] is not a table", source=source)
    out = {}
    for name, entry in table.items():
        try:
            check_name(name, "symbol")
        except JacobianSymError as err:
            raise ContextError(str(err), source=source) from None
        if isinstance(entry, str) and entry in ("elementwise", "element-wise"):
            out[name] = ("function", "generic")
        elif isinstance(entry, str):
            out[name] = ("define", _definition(entry, source, name))
        elif isinstance(entry, list):
            out[name] = ("shape", _shape(entry, source, name), False)
        elif isinstance(entry, dict) and "shape" in entry and set(entry) <= {"shape", "one_hot"}:
            out[name] = ("shape", _shape(entry["shape"], source, name), bool(entry.get("one_hot", False)))
        else:
            raise ContextError(f"{name}: a shape [rows, cols], {{shape = …, one_hot = true}}, a definition "
                               "\"…\" or \"elementwise\"", source=source)
    return out


def _shape(entry, source, name):
    if not isinstance(entry, list) or len(entry) not in (1, 2):
        raise ContextError(f"{name}: a shape is [rows, cols] or [length]", source=source)
    dims = []
    for d in entry:
        if isinstance(d, int) and not isinstance(d, bool) and d > 0:
            dims.append(d)
        elif isinstance(d, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", d):
            dims.append(d)
        else:
            raise ContextError(f"{name}: a size is a name or a positive whole number, not {d!r}", source=source)
    return tuple(dims) if len(dims) == 2 else (dims[0], 1)


def _definition(text, source, name):
    """A definition in model-file syntax (``X @ w``, ``sigmoid(z)``) or in the document's own notation
    (``X w``, ``\\sigma(z)``, ``W^T x``): Python syntax first, the LaTeX reader when that fails."""
    if len(text) > MAX_TEXT:
        raise ContextError(f"{name}: the definition is {len(text):,} characters long (at most {MAX_TEXT:,})",
                           source=source)
    try:
        if "\\" in text or "^" in text:
            return latex.read(text, source=f"{source}:{name}")
        try:
            return _python(text)
        except ParseError as err:
            try:
                return latex.read(text, source=f"{source}:{name}")
            except ParseError:
                raise err from None
    except ParseError as err:
        raise ContextError(f"{name}: {err.message}", source=source) from None


_OPS = {ast.MatMult: "matmul", ast.Mult: "hadamard", ast.Add: "add", ast.Sub: "sub", ast.Div: "div"}


def _python(text):
    """A definition in model-file syntax, read with ``ast`` into the reader's tree (nothing is run)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as err:
        raise ParseError(f"does not parse: {err.msg}", col=err.offset) from None
    except (RecursionError, MemoryError):
        raise ParseError(f"the definition is nested too deeply (at most {MAX_DEPTH} levels)") from None
    deep = deepest(tree, ast.iter_child_nodes)
    if deep is not None:
        raise ParseError(f"the definition is nested too deeply (at most {MAX_DEPTH} levels)",
                         col=getattr(deep, "col_offset", 0) + 1)
    return _from_ast(tree)


def _from_ast(node):
    pos = getattr(node, "col_offset", 0) + 1
    if isinstance(node, ast.Name) and not node.id.startswith("_"):
        return ("sym", node.id, (), pos)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return ("num", node.value, pos)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return (_OPS[type(node.op)], _from_ast(node.left), _from_ast(node.right), pos)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return ("neg", _from_ast(node.operand), pos)
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return ("T", _from_ast(node.value), pos)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords and \
            not node.func.id.startswith("_"):
        return ("call", node.func.id, tuple(_from_ast(a) for a in node.args), None, pos)
    raise ParseError(f"{type(node).__name__.lower()} is not allowed in a definition", col=pos)


def apply_entries(scope: Scope, entries: dict, origin: str):
    for name, entry in entries.items():
        if entry[0] == "function":
            scope.functions[name] = entry[1]
        elif entry[0] == "shape":
            scope.vars[name] = Var(name, entry[1], "one_hot" if entry[2] else "leaf", origin=origin)
            if entry[2]:
                scope.one_hot.add(name)
        else:
            scope.vars[name] = Var(name, ("?", "?"), "defined", entry[1], origin=origin)
        scope.fixed.add(name)


def child(scope: Scope, label: str) -> Scope:
    out = copy.deepcopy(scope)
    out.label = label
    return out


def symbols_of(tree) -> list:
    """The names a definition's tree reads (bare symbols, and b_1 as one name)."""
    out = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple) and node and isinstance(node[0], str):
            if node[0] == "sym" and len(node) > 2:
                out.append(node[1])
                if node[2]:
                    out.append(f"{node[1]}_{''.join(map(str, node[2]))}")
            stack.extend(x for x in node[1:] if isinstance(x, tuple))
        elif isinstance(node, tuple):
            stack.extend(x for x in node if isinstance(x, tuple))
    return out
