"""A document read into scopes: per section, what its symbols are (``context.Scope``), and which of its
statements are definitions and declarations rather than claims.

Shapes nothing states are inferred through the definitions by unification (sizes that are names
of the document are constants; an unknown length is a fresh unknown until something fixes it).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from jacobian_sym.audit import einstein, elements
from jacobian_sym.audit.context import ContextError, Scope, Var, apply_entries, child
from jacobian_sym.audit.document import Document, Statement
from jacobian_sym.audit.prose_shapes import stated_shapes
from jacobian_sym.claims import latex


@dataclass
class Reading:
    """Scopes by section path, each statement's role, and the parsed sides (or the parse error)."""

    scopes: dict
    roles: dict = field(default_factory=dict)  # id(statement) → "definition" | "declaration" | "display"
    trees: dict = field(default_factory=dict)  # (id(statement), k) → tree or LatexError
    #: names the text shows alone in inline math ("labels $\\mathbf{y}$"): the document's variables
    mentioned: set = field(default_factory=set)
    #: the line from which the document writes Einstein's convention (a repeated index is summed), if it does
    einstein: int | None = None
    #: the single capitals each section's math writes alone (their small letters with two indices are
    #: their elements: audit/elements.py)
    capitals: dict = field(default_factory=dict)


def parse_side(stmt: Statement, k: int, reading: Reading):
    key = (id(stmt), k)
    if key not in reading.trees:
        side = stmt.sides[k]
        try:
            tree = latex.read(side.text, source=f"line {side.line}", bold_digits=True)
            shown = reading.capitals.get(stmt.section.path)
            if shown:
                tree = elements.lifted(tree, shown)
            einstein_from = reading.einstein
            reading.trees[key] = einstein.summed(tree) if einstein_from is not None and \
                stmt.line >= einstein_from else tree
        except latex.LatexError as err:
            reading.trees[key] = err
        except RecursionError:  # [[[[…]]]] 500 deep: a reason, never a traceback
            reading.trees[key] = latex.LatexError("nested too deeply to read", source=f"line {side.line}")
    return reading.trees[key]


def read_scopes(doc: Document, context: dict, shapes: dict | None = None) -> Reading:
    reading = Reading({}, einstein=einstein.declared_from(doc))
    for section in doc.sections:
        texts = [side.text for stmt in doc.statements if stmt.section.path == section.path for side in stmt.sides]
        reading.capitals[section.path] = elements.capitals(
            texts + elements.math_of("".join(doc.prose.get(section.path, []))))
    root = Scope("the document")
    if shapes:
        apply_entries(root, {k: ("shape", v, False) for k, v in shapes.items()}, "--shape")
    apply_entries(root, context.get("*", {}), "the context file")
    reading.scopes[()] = root
    by_section: dict = {}
    for stmt in doc.statements:
        by_section.setdefault(stmt.section.path, []).append(stmt)
    paths = [()] + [s.path for s in doc.sections]
    for stmt in doc.statements:
        if len(stmt.sides) == 1 and not stmt.display:
            tree = parse_side(stmt, 0, reading)
            if not isinstance(tree, Exception) and tree[0] == "sym" and not tree[2]:
                reading.mentioned.add(tree[1])
    done: list = []  # the scopes read so far, latest first
    for path in paths:
        if path in reading.scopes and path != ():
            continue
        if path == ():
            scope = root
        else:
            parent = reading.scopes.get(_parent(path, reading.scopes), root)
            label = next((s.label() for s in doc.sections if s.path == path), "the document")
            scope = child(parent, label)
            for key in path:
                if key in context:
                    apply_entries(scope, context[key], "the context file")
        scope.earlier, scope.looks_back = list(done), False
        prose = "".join(doc.prose.get(path, []))
        _read_prose(scope, prose)
        _read_statements(scope, by_section.get(path, []), reading)
        _one_hot_labels(scope, done, _left_names(by_section.get(path, []), reading))
        reading.scopes[path] = scope
        done.insert(0, scope)
    for scope in done:  # read: now a name a section lacks is looked up in the sections before it
        scope.looks_back = True
    return reading


def _left_names(statements, reading) -> set:
    """The names a section's equations have on their left (y of y_i = …)."""
    out = set()
    for stmt in statements:
        if stmt.relation == "=" and len(stmt.sides) >= 2:
            left = parse_side(stmt, 0, reading)
            if not isinstance(left, Exception) and left[0] == "sym":
                out.add(left[1])
    return out


def _one_hot_labels(scope, done, written):
    """"y is a one-hot vector": the y a section took from the section it is part of (d2l's y = o + ε)
    and does not define on its own lines is a label there, and in the sections after it."""
    for name in set(scope.one_hot).union(*(earlier.one_hot for earlier in done)):
        var = scope.vars.get(name)
        if var is not None and var.kind == "defined" and name not in written:
            scope.vars[name] = Var(name, var.shape, "one_hot", origin="the text (one-hot)")
            scope.one_hot.add(name)


def _parent(path, scopes):
    for cut in range(len(path) - 1, -1, -1):
        if path[:cut] in scopes:
            return path[:cut]
    return ()


# ----- prose -----
_NAME = r"\$\s*(?:\\(?:boldsymbol|mathbf|bm)\{)?\\?([A-Za-z]+)\}?\s*\$"


def _read_prose(scope: Scope, prose: str):
    for m in re.finditer(r"\b(row|column) vector(?: of [a-z ]+)?\s+" + _NAME, prose):
        scope.orientation[m.group(2)] = m.group(1)
    for m in re.finditer(_NAME + r"\s+is\s+(?:a\s+)?(row|column) vector", prose):
        scope.orientation[m.group(1)] = m.group(2)
    for m in re.finditer(_NAME + r"\s+is\s+(?:a\s+|an\s+)?one[- ]hot", prose):
        scope.one_hot.add(m.group(1))
    for m in re.finditer(r"element-?wise function\s+\$\s*(?:[A-Za-z]\s*=\s*)?([A-Za-z])\s*\(", prose):
        scope.functions.setdefault(m.group(1), "generic")
    for m in re.finditer(r"element-?wise function\s+\$([A-Za-z])\$", prose):
        scope.functions.setdefault(m.group(1), "generic")
    for name, shape in stated_shapes(prose):  # "$X$ is a $n \times m$ matrix"
        if name not in scope.fixed and scope.vars.get(name) is None:
            scope.vars[name] = Var(name, shape, "leaf", origin="the text")
            scope.orientation.setdefault(name, "matrix")


# ----- statements -----
def _name_of(tree, scope: Scope, *, new: bool):
    """The variable a bare symbol names (b_1 → b_1; x_j of a known x is an element, not a name)."""
    if tree is None or isinstance(tree, Exception) or tree[0] != "sym":
        return None
    base, indices = tree[1], tree[2]
    if not indices:
        return base
    if scope.var(base) is not None and not new:
        return None
    if scope.var(base) is not None:
        return None
    return f"{base}_{''.join(indices)}"


def _own_names(scope: Scope, statements: list, reading: Reading) -> set:
    """The names a section declares itself (x ∈ ℝⁿ, a matrix display, its prose's row vector x):
    an earlier section's meaning of them does not hold here."""
    own = set(scope.orientation) | set(scope.one_hot)
    for stmt in statements:
        for k in range(len(stmt.sides)):
            tree = parse_side(stmt, k, reading)
            found = None if isinstance(tree, Exception) else display_of(tree)
            if found is not None:
                own.add(found[0])
        if stmt.relation == "\\in" and len(stmt.sides) == 2:
            left = parse_side(stmt, 0, reading)
            if not isinstance(left, Exception) and left[0] == "sym":
                own.add(left[1])
    return own


def _read_statements(scope: Scope, statements: list, reading: Reading):
    scope.own = _own_names(scope, statements, reading)
    definitions = []
    for stmt in statements:
        if stmt.relation != "=" or len(stmt.sides) < 2:
            continue
        left, right = parse_side(stmt, 0, reading), parse_side(stmt, 1, reading)
        if isinstance(left, Exception) or isinstance(right, Exception):
            continue
        if index_only(left, scope) and index_only(right, scope):
            continue  # i = 1, l = m: about indices
        before = set(scope.vars)
        role = _definition(scope, left, right)
        for name, var in scope.vars.items():
            if name not in before or (var.line is None and var.definition is right):
                var.line = stmt.line
        if role:
            reading.roles[id(stmt)] = role
            definitions.append(stmt)
    for right in scope.__dict__.pop("_arguments", []):
        _leaves_of(scope, right)
    for stmt in statements:
        if stmt.relation == "\\in" and len(stmt.sides) == 2:
            _declare_space(scope, stmt, reading)
    created = _link_leaves(scope, statements, reading)
    _infer(scope)
    for stmt in statements:
        _display_shapes(scope, stmt, reading)
    _infer(scope)
    for name in created:  # a shape the links do not give in full: the name stays unknown
        var = scope.vars.get(name)
        if var is not None and var.kind == "leaf" and any(_fresh(scope._dims.find(d)) for d in var.shape):
            del scope.vars[name]
    _defaults(scope)


def _link_leaves(scope, statements, reading) -> list:
    """Names the text shows as its variables ("labels $\\mathbf{y}$") that a section's equations read and
    no line defines or declares become leaves, their shapes to be unified through the equations they are
    in (Xw − y: y is n×1); the equations are kept for ``_infer``. A derivative's bare top (∂L/∂X) and
    its variable are not made leaves (a leaf L would make ∂L/∂X zero)."""
    created, links = [], []
    for stmt in statements:
        if stmt.relation != "=" or len(stmt.sides) < 2 or id(stmt) in reading.roles:
            continue
        trees = [parse_side(stmt, k, reading) for k in range(len(stmt.sides))]
        if any(isinstance(t, Exception) for t in trees):
            continue
        new = []
        for tree in trees:
            for name in _plain_names(tree):
                if name in reading.mentioned and scope.var(name) is None and not scope.is_size(name) \
                        and name not in INDEX_LETTERS and name not in ("e", "I") and name not in scope.functions \
                        and not any(name in earlier.vars for earlier in scope.earlier):
                    scope.vars[name] = Var(name, _default_shape(scope, name), _leaf_kind(scope, name))
                    new.append(name)
        if new:
            created += new
            links.append(trees)
    scope.__dict__["_links"] = links
    return created


def _plain_names(tree):
    """The bare symbols of a tree outside derivative tops that are bare symbols and derivative variables."""
    if not latex.is_node(tree):
        return
    if tree[0] == "sym":
        if not tree[2]:
            yield tree[1]
        return
    if tree[0] == "deriv":
        if tree[1][0] != "sym":
            yield from _plain_names(tree[1])
        return
    if tree[0] == "sum":
        yield from _plain_names(tree[5])
        return
    for part in latex.children(tree):
        yield from _plain_names(part)


#: letters that name indices or sizes when nothing defines them (i = 1, l = m, k = i)
INDEX_LETTERS = set("ijklmn")


def index_only(tree, scope) -> bool:
    """A bare number or a bare letter that is not a variable (an index, a size)."""
    if isinstance(tree, Exception):
        return False
    if tree[0] == "num":
        return True
    return tree[0] == "sym" and not tree[2] and scope.var(tree[1]) is None and (
        tree[1] in INDEX_LETTERS or scope.is_size(tree[1]))


def _declare_space(scope, stmt, reading):
    left = parse_side(stmt, 0, reading)
    name = _name_of(left, scope, new=True) if not isinstance(left, Exception) else None
    dims = _space_dims(stmt.sides[1].text)
    if name is None or dims is None:
        return
    if name in scope.fixed:
        return
    if len(dims) == 1:
        dims = (1, dims[0]) if scope.orientation.get(name) == "row" else (dims[0], 1)
    old = scope.var(name)
    if old is not None and old.kind == "defined":
        old.shape = dims  # a definition's shape, stated
    else:
        kind = "one_hot" if name in scope.one_hot else "leaf"
        scope.vars[name] = Var(name, dims, kind, origin=f"line {stmt.line}")
    reading.roles[id(stmt)] = "declaration"


def _space_dims(text):
    if re.fullmatch(r"\s*\\mathbb\s*\{?R\}?\s*", text):
        return (1, 1)  # a number
    m = re.fullmatch(r"\s*\\mathbb\s*\{?R\}?\s*\^\s*(\{(.*)\}|\S)\s*", text, re.S)
    if not m:
        return None
    body = m.group(2) if m.group(2) is not None else m.group(1)
    parts = [p.strip() for p in re.split(r"\\times", body)]
    if not 1 <= len(parts) <= 2:
        return None
    dims = []
    for p in parts:
        p = p.replace("{", "").replace("}", "").replace(" ", "")
        if re.fullmatch(r"\d+", p):
            dims.append(int(p))
        elif re.fullmatch(r"[A-Za-z](_[A-Za-z0-9]+)?", p):
            dims.append(p)
        else:
            return None
    return tuple(dims)


def _definition(scope: Scope, left, right):
    """Whether ``left = right`` defines something new (and then record it)."""
    # x = \text{input}: a variable
    if right[0] == "text":
        name = _name_of(left, scope, new=True)
        if name and (scope.var(name) is None or scope.var(name).kind in ("leaf", "one_hot")):
            if scope.var(name) is None:
                scope.vars[name] = Var(name, _default_shape(scope, name), _leaf_kind(scope, name))
            return "declaration"
        return None
    # ∂J/∂z = δ: δ is J's derivative (and J, unknown otherwise, is Σ δ_k z_k)
    if left[0] == "deriv" and right[0] == "sym":
        signal = _name_of(right, scope, new=True)
        top, by = left[1], left[2]
        loss = _name_of(top, scope, new=True)
        of = _name_of(by, scope, new=False)
        known = scope.var(loss) if loss else None
        if signal and scope.earlier_var(signal)[1] is not None and scope.earlier_var(signal)[1].kind == "defined":
            return None  # ∂J/∂r = r with r defined in an earlier section: a claim about r
        if signal and signal != "I" and scope.var(signal) is None and loss and of and \
                (known is None or known.kind == "loss_of" or known.definition is not None and top[0] == "sym"):
            if known is not None and known.kind == "defined" and loss not in ("J", "L", "E"):
                return None  # ∂z/∂x = A with z = Wx: a claim about a defined z
            if scope.var(loss) is None:
                if scope.var(of) is None:
                    scope.vars[of] = Var(of, _default_shape(scope, of), _leaf_kind(scope, of))
                scope.vars[signal] = Var(signal, ("?", "?"), "leaf", origin="derivative")
                scope.vars[loss] = Var(loss, (1, 1), "loss_of", signal=signal, of=of)
            else:
                scope.vars[signal] = Var(signal, ("?", "?"), "defined", left)
            return "definition"
        return None
    # h(x) = …: a function of the notes' generic argument, read as the value it stands for
    if left[0] == "apply" and not left[3] and left[1][1] not in scope.vars and scope.function(left[1][1]) is None:
        name = _name_of(left[1], scope, new=True)
        if name:
            scope.vars[name] = Var(name, ("?", "?"), "defined", right, origin="function")
            if all(a[0] == "sym" and not a[2] for a in left[2]) and len(left[2]) > 1:
                # a(w, x, y, z) = …: its named arguments are the document's variables, once every
                # definition of the section is read (u in f(u, v) is defined by the next row)
                scope.__dict__.setdefault("_arguments", []).append(right)
            return "definition"
        return None
    name = _name_of(left, scope, new=True)
    given = scope.vars.get(name) if name else None
    if given is not None and given.origin == "--shape" and given.kind == "leaf" and right[0] != "matrix" \
            and not _mentions(right, name):  # --shape z=1,1 on z = wᵀx + b: the definition stands, the shape checks it
        scope.vars[name] = Var(name, given.shape, "defined", right, origin="--shape")
        _leaves_of(scope, right)
        return "definition"
    if not name or scope.var(name) is not None or right[0] == "matrix" or _mentions(right, name):
        return None
    if name in scope.fixed:
        return None
    scope.vars[name] = Var(name, ("?", "?"), "defined", right)
    _leaves_of(scope, right)
    return "definition"


def _mentions(tree, name):
    return any(n[0] == "sym" and (n[1] == name or f"{n[1]}_{''.join(n[2])}" == name) for n in latex.walk(tree))


def _leaves_of(scope, tree):
    """The unknown bare symbols of a definition become variables (z = Wx: W and x)."""
    if not latex.is_node(tree):
        return
    if tree[0] == "sym":
        if tree[2] and all(ix.isalpha() for ix in tree[2]):  # y_k: an element of y
            tree = ("sym", tree[1], (), tree[-1])
        name = tree[1] if not tree[2] else f"{tree[1]}_{''.join(tree[2])}"
        if tree[2] and scope.var(tree[1]) is not None:
            return
        if scope.var(name) is None and name not in ("e", "I") and not scope.is_size(name) \
                and name not in INDEX_LETTERS and (name in scope.own or scope.take_earlier(name) is None):
            scope.vars[name] = Var(name, _default_shape(scope, name), _leaf_kind(scope, name))
        return
    if tree[0] == "sum":  # its index and bounds are not variables
        _leaves_of(scope, tree[5])
        return
    if tree[0] == "apply" and scope.function(tree[1][1]) is not None:
        for a in tree[2]:
            _leaves_of(scope, a)
        return
    for part in latex.children(tree):
        _leaves_of(scope, part)


def _leaf_kind(scope, name):
    return "one_hot" if name in scope.one_hot else "leaf"


def _default_shape(scope, name):
    """A symbol no statement shapes: upper-case a matrix, lower-case a vector (row when the text says)."""
    if scope.orientation.get(name) == "row":
        return (1, f"?{name}")
    if name[:1].isupper():
        return (f"?{name}0", f"?{name}1")
    return (f"?{name}", 1)


# ----- shapes by unification -----
class _Dims:
    def __init__(self):
        self.parent: dict = {}

    def find(self, d):
        while self.parent.get(d, d) != d:
            d = self.parent[d]
        return d

    def union(self, a, b) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if _fresh(a):
            self.parent[a] = b
            return True
        if _fresh(b):
            self.parent[b] = a
            return True
        return False  # two different sizes the document names: a conflict, left for the audit to find


def _is_one(d) -> bool:
    return d == 1


def _fresh(d):
    return isinstance(d, str) and d.startswith("?")


_SCALAR = "scalar"


def _infer(scope: Scope):
    dims = getattr(scope, "_dims", None) or _Dims()
    scope._dims = dims
    for _ in range(3):
        for var in list(scope.vars.values()):
            if var.kind == "defined" and var.definition is not None:
                shape = _shape(var.definition, scope, dims)
                if shape is None:
                    continue
                if shape == _SCALAR:
                    shape = (1, 1)
                if var.shape == ("?", "?"):
                    var.shape = shape
                elif not (dims.union(var.shape[0], shape[0]) & dims.union(var.shape[1], shape[1])) and \
                        var.origin == "--shape":
                    given, found = (_shown(dims, d) for d in (var.shape, shape))
                    raise ContextError(f"--shape {var.name}={given.replace('×', ',')}: {var.name} is defined on line "
                                       f"{var.line}, and its definition is {found}")
            if var.kind == "loss_of":
                of = scope.var(var.of)
                sig = scope.var(var.signal)
                if of is not None and sig is not None and sig.shape == ("?", "?"):
                    sig.shape = (1, of.shape[0]) if of.shape[1] == 1 else of.shape
        for trees in scope.__dict__.get("_links", ()):  # the sides of an equation have one shape
            shapes = [_shape(t, scope, dims) for t in trees]
            known = [sh for sh in shapes if sh not in (None, _SCALAR)]
            for a, b in zip(known, known[1:]):
                dims.union(a[0], b[0])
                dims.union(a[1], b[1])
    _resolve(scope, dims)


def _shown(dims, shape) -> str:
    return "×".join(str(dims.find(d)).lstrip("?") for d in shape)


def _resolve(scope, dims):
    for var in scope.vars.values():
        if var.shape != ("?", "?"):
            var.shape = tuple(dims.find(d) for d in var.shape)


def _shape(tree, scope, dims):
    kind = tree[0]
    if kind == "num":
        return _SCALAR
    if kind == "frac":  # \frac{a}{b}: a number, or a's shape over a scalar b
        return _shape(("div", tree[1], tree[2]), scope, dims)
    if kind == "pow":  # (z − y)² keeps its base's shape (a square matrix's power too)
        base = _shape(tree[1], scope, dims)
        if base not in (None, _SCALAR) and _shape(tree[2], scope, dims) == _SCALAR and \
                all(_fresh(dims.find(d)) for d in base if not _is_one(dims.find(d))):
            # (w + x + y + z)² of names no line shapes: a power of numbers, so they are numbers
            for d in base:
                dims.union(d, 1)
            return (1, 1)
        return None if base is None else base if _shape(tree[2], scope, dims) == _SCALAR else None
    if kind == "sym":
        for name in (tree[1] if not tree[2] else f"{tree[1]}_{''.join(tree[2])}",
                     f"{tree[1]}{''.join(tree[2])}"):
            var = scope.var(name)
            if var is not None:
                return None if var.shape == ("?", "?") else var.shape
        return _SCALAR if tree[2] else None
    if kind in ("neg",):
        return _shape(tree[1], scope, dims)
    if kind == "T":
        s = _shape(tree[1], scope, dims)
        return s[::-1] if s not in (None, _SCALAR) else s
    if kind in ("matmul", "add", "sub", "hadamard", "div"):
        a, b = _shape(tree[1], scope, dims), _shape(tree[2], scope, dims)
        if a is None or b is None:
            return None
        if a == _SCALAR:
            return b
        if b == _SCALAR:
            return a
        if kind == "matmul":
            dims.union(a[1], b[0])
            return (a[0], b[1])
        if kind == "div":
            return a
        dims.union(a[0], b[0])
        dims.union(a[1], b[1])
        return a
    if kind == "call":
        name = tree[1].replace("_prime", "").lower()
        args = [_shape(a, scope, dims) for a in tree[2]]
        if name in ("ce", "cross_entropy", "binary_cross_entropy", "bce", "mse", "norm"):
            return _SCALAR
        if name == "diag" and args and args[0] not in (None, _SCALAR):
            n = args[0][0] if args[0][1] == 1 else args[0][1]
            return (n, n)
        return args[0] if args else None
    if kind == "apply":
        var = scope.var(tree[1][1])
        if var is not None and var.origin == "function":
            return None if var.shape == ("?", "?") else var.shape
        if scope.function(tree[1][1]) is not None:
            return _shape(tree[2][0], scope, dims)
        return None
    if kind == "sum":
        _sized_by_bound(tree, scope, dims)
        return _SCALAR
    if kind == "deriv":
        top, by = _shape(tree[1], scope, dims), _shape(tree[2], scope, dims)
        if top is None or by is None:
            return None
        if top in (_SCALAR, (1, 1)):
            return by if by == _SCALAR else ((1, by[0]) if by[1] == 1 else by)
        return None
    return None


def _sized_by_bound(tree, scope, dims):
    """Σ_{j=1}^{q} y_j o_j: the vectors the sum reads at its index have q entries (q a size the
    document names: its bound), when nothing else gives their length."""
    _, var, lo, hi, _excluded, body, _pos = tree
    if var is None or hi is None or hi[0] != "sym" or hi[2] or scope.var(hi[1]) is not None:
        return
    if lo is not None and lo != ("num", 1, lo[-1]) and not (lo[0] == "num" and lo[1] == 1):
        return
    for node in latex.walk(body):
        if node[0] != "sym" or node[2] != (var,):
            continue
        v = scope.var(node[1])
        if v is None or v.shape == ("?", "?"):
            continue
        axis = 0 if v.shape[1] == 1 else 1 if v.shape[0] == 1 else None
        if axis is None:
            continue
        d = dims.find(v.shape[axis])
        if _fresh(d):
            dims.union(d, hi[1])
        elif d in scope.guessed:  # a size an earlier section guessed: the bound names it
            scope.guessed.discard(d)
            for other in scope.vars.values():
                other.shape = tuple(hi[1] if x == d else x for x in other.shape)


# ----- displays -----
def display_of(tree):
    """(variable, last indices, rows, cols, kind) of a matrix written with its own elements and dots —
    ``[W_{11} ⋯ W_{1m}; ⋮; W_{n1} ⋯ W_{nm}]``, or of ∂J/∂W_{ij} cells — else None."""
    if tree is None or isinstance(tree, Exception):
        return None
    if tree[0] == "T":  # [x_1, x_2, …, x_n]ᵀ: a column of its elements
        found = display_of(tree[1])
        return found and (*found[:2], found[3], found[2], found[4])
    if tree[0] != "matrix":
        return None
    rows = tree[1]
    base, last, kinds = None, None, set()
    for row in rows:
        for cell in row:
            if cell[0] == "dots":
                continue
            key = _cell_key(cell)
            if key is None:
                return None
            b, indices, kind = key
            if base is None:
                base = b
            if b != base:
                return None
            kinds.add(kind)
            last = indices
    if base is None or last is None or not any(c[0] == "dots" for r in rows for c in r):
        return None
    return base, last, len(rows), max(len(r) for r in rows), kinds.pop()


def _cell_key(cell):
    if cell[0] == "sym" and cell[2]:
        return cell[1], cell[2], "element"
    if cell[0] == "deriv" and cell[2][0] == "sym" and cell[2][2] and cell[1][0] == "sym" and not cell[1][2]:
        return cell[2][1], cell[2][2], f"derivative of {cell[1][1]}"
    return None


def _display_shapes(scope, stmt, reading):
    """A display of a variable that has no stated shape gives it one."""
    for k in range(len(stmt.sides)):
        tree = parse_side(stmt, k, reading)
        found = display_of(tree)
        if found is None:
            continue
        base, last, rows, cols, _kind = found
        var = scope.var(base)
        if var is None:
            kind = _leaf_kind(scope, base)
            if len(last) == 1:
                shape = (1, _dim(last[0])) if rows == 1 else (_dim(last[0]), 1)
            else:
                shape = (_dim(last[0]), _dim(last[1]))
            scope.vars[base] = Var(base, shape, kind, origin=f"line {stmt.line}")
            scope.displayed[base] = stmt.line
            reading.roles[id(stmt)] = "display"
            continue
        dims = scope._dims
        if len(last) == 1:
            axis = 1 if rows == 1 else 0
            if _fresh(dims.find(var.shape[axis])):
                dims.union(var.shape[axis], _dim(last[0]))
                scope.displayed[base] = stmt.line
                reading.roles[id(stmt)] = "display"
        elif len(last) == 2:
            changed = False
            for axis in (0, 1):
                if _fresh(dims.find(var.shape[axis])):
                    dims.union(var.shape[axis], _dim(last[axis]))
                    changed = True
            if changed:
                scope.displayed[base] = stmt.line
                reading.roles[id(stmt)] = "display"
    _resolve(scope, scope._dims)


def _dim(ix):
    return int(ix) if ix.isdigit() else ix


def _defaults(scope):
    """Unknown sizes left at the end get plain names (a, b, …) so worlds can give them values."""
    dims = scope._dims
    taken = set(scope.sizes())
    letters = (f"d{k}" for k in itertools.count(1))  # (a section may leave more than 99 unknown)
    names = {}
    for var in scope.vars.values():
        if var.shape == ("?", "?"):
            if var.kind == "loss_of":
                var.shape = (1, 1)
            continue  # a definition whose shape nothing gives: its links are not decidable
        new = []
        for d in var.shape:
            d = dims.find(d)
            if _fresh(d):
                if d not in names:
                    name = next(letters)
                    while name in taken:
                        name = next(letters)
                    names[d] = name
                d = names[d]
            new.append(d)
        var.shape = tuple(new)
    scope.guessed |= set(names.values())
