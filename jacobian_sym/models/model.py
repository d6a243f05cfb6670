"""Model files: TOML with [inputs], [params], [forward] and [gradients], and the safe line parser.

A forward line is a Python-syntax expression parsed with ``ast`` and checked against a whitelist:
names defined above it, numbers, ``@ + - * /``, unary minus, ``.T`` and calls of op-table functions.
Nothing is ever passed to eval, exec or sympify.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from jacobian_sym.base.files import read_text_capped
from jacobian_sym.base.safe_text import check_name, check_title, one_line
from jacobian_sym.base.sizes import as_size, fmt_shape
from jacobian_sym.errors import BatchError, JacobianSymError, ParseError, ShapeError
from jacobian_sym.graph import expr as E
from jacobian_sym.graph.composites import COMPOSITES, part_names
from jacobian_sym.graph.labels import embedding, labels, onehot
from jacobian_sym.models.batch_sums import mixing_node, model_sizes
from jacobian_sym.models.slice_syntax import read_slice
from jacobian_sym.models.where_syntax import COMPARISON_OUTSIDE, read_where
from jacobian_sym.ops.table import OPS, get_op, vector_axis

SECTIONS = {"title", "inputs", "params", "forward", "gradients"}
_BINOPS = {ast.MatMult: "matmul", ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}
_KEYWORDS = {"axis"}
_SIZE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Model:
    """A feed-forward model: its variables, its named forward nodes (the last is the loss), and the
    variables to differentiate by."""

    title: str
    inputs: dict
    params: dict
    forward: dict  # name -> Node, in order
    wrt: list = field(default_factory=list)
    source: str | None = None
    #: the batch size symbol of a batched model (see :meth:`batched`)
    batch: object = None

    @property
    def loss(self) -> E.Node:
        return list(self.forward.values())[-1]

    @property
    def variables(self) -> dict:
        return {**self.inputs, **self.params}

    def structure(self):
        return self.loss.structure(), tuple(self.wrt)

    def batched(self, size="B") -> Model:
        """The same model over a batch: column-convention inputs n×1 become n×B, row-convention
        inputs 1×n become B×n; the loss sums over the batch, the parameters are shared."""
        B = as_size(size)
        if B in model_sizes(self):
            raise ShapeError(f"{self.title}: the batch size {B} is already a size of the model; name the batch "
                             "differently")
        column = any(v.shape[1] == 1 and v.shape[0] != 1 for v in self.inputs.values())
        # a data matrix (X: N×d, tokens × features) carries its own batch: every input is taken as
        # declared (y: N×1 stays N×1; a 1×k label row stays a row), so the loss is what the file says
        carries = any(1 not in v.shape and not v.attr("constant") for v in self.inputs.values())
        mapping = {}
        for name, v in self.inputs.items():
            rows, cols = v.shape
            shape = (rows, cols) if carries else (rows, B) if column and cols == 1 else (B, cols) if rows == 1 \
                else (rows, cols)
            attrs = v.attrs
            if v.attr("one_hot") and v.attr("one_hot_axis") is None:  # the vector's own axis, not the batch's
                attrs = attrs + (("one_hot_axis", 1 if rows == 1 and cols != 1 else 0),)
            mapping[name] = E.Node("variable", (), shape, name, attrs)
        for name, v in self.params.items():
            mapping[name] = v
        forward = {}
        for name, node in self.forward.items():
            forward[name] = mapping[name] = _rebuild(node, mapping).named(name)
        inputs = {k: mapping[k] for k in self.inputs}
        model = Model(f"{self.title} (a batch of {B})", inputs, dict(self.params), forward, list(self.wrt),
                      self.source, B)
        mixing = mixing_node(model)
        if mixing is not None:
            raise BatchError(f"{self.title}: no batch: {mixing}, so its loss over a batch would not be the sum "
                             "of the one-example losses; pass one example at a time")
        return model

    @classmethod
    def from_toml(cls, path) -> Model:
        path = Path(path)
        return cls.parse(read_text_capped(path, "model file"), source=str(path))

    @classmethod
    def parse(cls, text: str, source: str | None = None) -> Model:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ParseError(f"TOML error: {err}", source=source) from None
        return _build(data, text, source)

    @classmethod
    def build(cls, loss: E.Node, wrt=None, *, title: str = "model") -> Model:
        """A model from an expression built in Python (its named nodes are the forward lines)."""
        variables = {n.name: n for n in loss.walk() if n.is_leaf}
        inputs = {k: v for k, v in variables.items() if v.attr("role") == "input"}
        params = {k: v for k, v in variables.items() if v.attr("role") != "input"}
        forward = {n.name: n for n in loss.walk() if not n.is_leaf and n.name}
        if loss.name is None:
            loss = loss.named("J")
        forward[loss.name] = loss
        return cls(title, inputs, params, forward, list(wrt or params))


def _rebuild(node: E.Node, mapping: dict) -> E.Node:
    """``node`` over new leaves; an along-axis op (softmax) keeps the axis it had on a single example."""
    if node.name in mapping and (node.is_leaf or node.name):
        return mapping[node.name]
    if node.op == "const":
        return node
    args = [_rebuild(a, mapping) for a in node.args]
    params = dict(node.attrs)
    if get_op(node.op).kind == "vector" and params.get("axis") is None:  # (sum(A) stays the total)
        params["axis"] = vector_axis(node.args[0].shape, None)
    if node.op == "slice":  # an example's whole length-1 axis is the whole batch axis after batching
        params["span"] = tuple((0, new) if (start, stop) == (0, 1) and old == 1 else (start, stop)
                               for (start, stop), old, new in zip(params["span"], node.args[0].shape, args[0].shape))
    return E.apply(node.op, *args, **params)


def _line_of(text, key, section="forward"):
    """The 1-based line of ``key = …`` inside [section] (TOML keeps no positions)."""
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line.strip("[]").strip()
        elif current == section and line.split("=", 1)[0].strip() == key:
            eq = raw.index("=")
            quote = min((p for p in (raw.find('"', eq), raw.find("'", eq)) if p >= 0), default=eq)
            return n, quote + 2  # the 1-based column of the expression's first character
    return None, None


def _shape_of(name, value, source, text, section):
    line, _ = _line_of(text, name, section)
    where = dict(source=source, line=line)
    one_hot, constant, structure = False, None, {}
    if isinstance(value, dict):
        unknown = set(value) - {"shape", "one_hot", "constant", "axis", "symmetric", "positive_definite"}
        if unknown:
            raise ParseError(f"{name}: unknown key(s) {', '.join(sorted(unknown))}", **where)
        one_hot = value.get("one_hot", False)
        if not isinstance(one_hot, bool):
            raise ParseError(f"{name}: one_hot = {one_hot!r}; it is true or false", **where)
        if "axis" in value:  # the class axis of a one-hot label matrix (rows of B×k labels: axis = 1)
            if not one_hot or value["axis"] not in (0, 1) or isinstance(value["axis"], bool):
                raise ParseError(f"{name}: axis = {value['axis']!r}; a one-hot label's class axis is 0 or 1",
                                 **where)
            one_hot = ("axis", value["axis"])
        constant = value.get("constant")
        if constant is not None and (section != "inputs" or constant not in E.MASKS):
            raise ParseError(f"{name}: constant = {constant!r}; an input may be one of the constant masks "
                             f"{', '.join(repr(k) for k in E.MASKS)}", **where)
        structure = {k: value[k] for k in ("symmetric", "positive_definite") if k in value}
        value = value.get("shape")
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, str)) for v in value)):
        raise ParseError(f"{name}: a shape is a list of two sizes such as [\"D_h\", 1]", **where)
    for size in value:  # a size name is a name like any other: not np, check, delta1 or a keyword
        for part in _SIZE_PART.findall(size) if isinstance(size, str) else ():
            try:
                check_name(part, "size name")
            except JacobianSymError as err:
                raise ParseError(f"{name}: {err}", **where) from None
    if constant is not None and value[0] != value[1]:
        raise ParseError(f"{name}: the {constant} mask is square, not {value[0]}×{value[1]}", **where)
    return value, one_hot, constant, structure


def _build(data, text, source) -> Model:
    unknown = set(data) - SECTIONS
    if unknown:
        raise ParseError(f"unknown section(s): {', '.join(sorted(unknown))}; expected "
                         "title, [inputs], [params], [forward], [gradients]", source=source)
    for section in ("inputs", "params", "forward"):
        if not isinstance(data.get(section, {}), dict):
            raise ParseError(f"[{section}] must be a table", source=source)
    if not data.get("forward"):
        raise ParseError("the model has no [forward] section (its last line is the loss)", source=source)
    names: dict[str, E.Node] = {}
    inputs, params = {}, {}
    for section, role, store in (("inputs", "input", inputs), ("params", "param", params)):
        for name, value in data.get(section, {}).items():
            line, _ = _line_of(text, name, section)
            _checked_name(name, source, line)
            if isinstance(value, dict) and "dtype" in value:  # int labels or token ids
                names[name] = store[name] = _label_input(name, value, section, source, line)
                continue
            (rows, cols), one_hot, constant, structure = _shape_of(name, value, source, text, section)
            if name in names:
                raise ParseError(f"{name} is declared twice", source=source, line=line)
            try:
                node = E.matrix(name, rows, cols, role=role, **structure)
                if structure and (one_hot or constant is not None):
                    raise ShapeError(f"{name}: a one-hot label or a constant mask is not declared symmetric")
                if one_hot:
                    axis = (("one_hot_axis", one_hot[1]),) if isinstance(one_hot, tuple) else ()
                    node = E.Node("variable", (), node.shape, name, (("role", role), ("one_hot", True), *axis))
                if constant is not None:
                    node = E.Node("variable", (), node.shape, name, (("role", role), ("constant", constant)))
            except JacobianSymError as err:
                raise ParseError(str(err), source=source, line=line) from None
            names[name] = store[name] = node
    forward = {}
    for name, line_text in data["forward"].items():
        line, col = _line_of(text, name)
        _checked_name(name, source, line)
        if not isinstance(line_text, str):
            raise ParseError(f"{name}: a forward line is a string expression", source=source, line=line)
        if name in names:
            raise ParseError(f"{name} is already defined", source=source, line=line)
        parts: list = []
        node = parse_expression(line_text, names, source=source, line=line, col=col, name=name,
                                parts=parts, reserved=frozenset(data["forward"])).named(name)
        for part in parts:  # a composite's named steps (μ₂, v₂, r₂) are lines before its own
            names[part.name] = forward[part.name] = part
        names[name] = forward[name] = node
    loss = list(forward.values())[-1]
    if loss.shape != (1, 1):
        line, _ = _line_of(text, loss.name)
        raise ParseError(f"the last forward line ({loss.name}) is the loss and must be a scalar, "
                         f"not {loss.shape[0]}×{loss.shape[1]}", source=source, line=line)
    if not isinstance(data.get("gradients", {}), dict):
        raise ParseError("[gradients] must be a table (wrt = [names])", source=source)
    wrt = data.get("gradients", {}).get("wrt", list(params))
    unknown_g = set(data.get("gradients", {})) - {"wrt"}
    if unknown_g or not isinstance(wrt, list):
        raise ParseError("[gradients] takes one key: wrt = [names]", source=source)
    for w in wrt:
        if not isinstance(w, str) or w not in names:
            line, _ = _line_of(text, "wrt", "gradients")
            raise ParseError(f"wrt names {w!r}, which is not in the model", source=source, line=line)
        if names[w].attr("constant"):
            line, _ = _line_of(text, "wrt", "gradients")
            raise ParseError(f"wrt names {w!r}, a constant ({names[w].attr('constant')} mask): it has no gradient",
                             source=source, line=line)
    loss_name = list(forward)[-1]
    if loss_name in wrt:
        line, _ = _line_of(text, "wrt", "gradients")
        raise ParseError(f"wrt names the loss {loss_name!r} itself (∂J/∂J is 1); name variables or "
                         "intermediate values", source=source, line=line)
    inputs, forward = _class_axes(inputs, params, forward, text, source)
    return Model(_title(data, source), inputs, params, forward, list(wrt), source)


def _label_input(name, value, section, source, line) -> E.Node:
    """``y = { shape = ["B", 1], dtype = "int", classes = "C" }``: B int labels in 0 … C−1, whose value
    in the mathematics is their one-hot matrix (``graph/labels.py``)."""
    where = dict(source=source, line=line)
    unknown = set(value) - {"shape", "dtype", "classes", "axis"}
    if unknown:
        raise ParseError(f"{name}: unknown key(s) {', '.join(sorted(unknown))} of an int input", **where)
    if value["dtype"] != "int" or section != "inputs":
        raise ParseError(f"{name}: dtype = {value['dtype']!r}; an input may be declared dtype = \"int\" "
                         "(class labels, token ids), nothing else", **where)
    shape, size = value.get("shape"), value.get("classes")
    if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, (int, str)) for v in shape)):
        raise ParseError(f"{name}: a shape is a list of two sizes such as [\"B\", 1]", **where)
    if not isinstance(size, (int, str)) or isinstance(size, bool):
        raise ParseError(f"{name}: an int input names its number of classes: classes = \"C\"", **where)
    axis = value.get("axis")
    if axis is not None and (axis not in (0, 1) or isinstance(axis, bool)):
        raise ParseError(f"{name}: axis = {axis!r}; the class axis is 0 or 1", **where)
    try:
        return labels(name, *shape, size, axis=axis)
    except JacobianSymError as err:
        raise ParseError(str(err), **where) from None


def _class_axes(inputs, params, forward, text, source):
    """A one-hot label matrix (neither side 1) declared without ``axis``: its classes run along the
    axis of the softmax the loss compares it with (``cross_entropy(Y, softmax(X @ W, axis=1))``: a row
    of classes per example, B×k). With no softmax, or softmaxes along both axes, the file must say."""
    open_labels = [n for n in inputs.values() if n.attr("one_hot") and n.attr("one_hot_axis") is None
                   and 1 not in n.shape]
    if not open_labels:
        return inputs, forward
    loss = list(forward.values())[-1]
    axes = {vector_axis(n.args[0].shape, n.attr("axis")) for n in loss.walk()
            if n.op in ("softmax", "log_softmax") and 1 not in n.shape}
    if len(axes) != 1:
        label = open_labels[0]
        line, _ = _line_of(text, label.name, "inputs")
        raise ParseError(f"{label.name} is a one-hot label matrix ({fmt_shape(label.shape)}): say which axis "
                         "holds its classes: axis = 1 when each row is one example's classes (as "
                         "softmax(…, axis=1)), axis = 0 when each column is", source=source, line=line)
    (axis,) = axes
    names = dict(params)
    for name, node in inputs.items():
        names[name] = node if node not in open_labels else E.Node(
            "variable", (), node.shape, name, node.attrs + (("one_hot_axis", axis),))
    rebuilt = {}
    for name, node in forward.items():
        rebuilt[name] = names[name] = _rebuild(node, names).named(name)
    return {k: names[k] for k in inputs}, rebuilt


def _title(data, source) -> str:
    if "title" not in data:
        return one_line(source or "model")
    try:
        return check_title(data["title"])
    except JacobianSymError as err:
        raise ParseError(str(err), source=source, line=1) from None


def _checked_name(name, source, line):
    try:
        check_name(name)
    except JacobianSymError as err:
        raise ParseError(str(err), source=source, line=line) from None


MAX_LINE = 4000  # characters of one forward line
MAX_DEPTH = 60  # nesting of one forward line (each level is a node, a rule pass and a printer frame)


#: what an undefined name is told, by default (a model file's line); {0} is the name
UNDEFINED = "{0!r} is not defined above this line"


def parse_expression(text: str, names: dict, *, source=None, line=None, col=None, name: str | None = None,
                     parts: list | None = None, undefined: str = UNDEFINED,
                     reserved: frozenset = frozenset()) -> E.Node:
    """Parse one forward line against the whitelist; ``names`` holds what is defined above it. A line
    ``name`` that is a composite alone names the composite's steps and appends them to ``parts``;
    ``undefined`` is the message for a name not in ``names``."""
    if len(text) > MAX_LINE:
        raise ParseError(f"the line is {len(text)} characters long; at most {MAX_LINE}", source=source, line=line)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        c = (col or 1) + (err.offset or 1) - 1
        raise ParseError(f"syntax error: {err.msg}", source=source, line=line, col=c) from None
    except (RecursionError, MemoryError):
        raise ParseError(f"the line is nested too deeply (at most {MAX_DEPTH} levels)", source=source,
                         line=line) from None
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:
        raise ParseError(f"the line is nested {depth} levels deep; at most {MAX_DEPTH}", source=source, line=line)
    reader = _Reader(text, names, source, line, col or 1)
    reader.undefined = undefined
    if name is not None and parts is not None:
        reader.line_name, reader.parts, reader.reserved = name, parts, reserved
        reader.top = tree.body
        # a line with one composite in it (h1 = layer_norm(…) * γ + β) names its steps too
        calls = [n for n in ast.walk(tree.body) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                 and n.func.id in COMPOSITES]
        reader.sole = calls[0] if len(calls) == 1 else None
    return reader.read(tree.body)


def _numeric(node) -> bool:
    """Whether an ast is arithmetic on number literals only (an exponent: 2, -1, 1/3, -(2/3))."""
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _numeric(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
        return _numeric(node.left) and _numeric(node.right)
    return False


def _depth(tree) -> int:
    """The nesting depth of an ast (iteratively: a deep tree must not overflow the stack here)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return deepest


class _Reader:
    def __init__(self, text, names, source, line, col):
        self.text, self.names, self.source, self.line, self.col = text, names, source, line, col
        #: the line's name, where its composite's named steps go, and the line's whole expression
        self.line_name, self.parts, self.top = None, None, None
        #: the line's one composite call, if it has exactly one; the model's other line names
        self.sole, self.reserved = None, frozenset()
        self.undefined = UNDEFINED

    def fail(self, node, message):
        raise ParseError(message, source=self.source, line=self.line, col=self.col + node.col_offset)

    @property
    def size_names(self) -> set:
        """The sizes of the variables declared above (a step may not take a size's name)."""
        return {str(s) for value in self.names.values() for dim in getattr(value, "shape", ())
                for s in getattr(dim, "free_symbols", ())}

    def _size_named(self, name):
        """The size ``name`` of a variable declared above (n in x = ["n", 1]), or None."""
        for value in self.names.values():
            for dim in getattr(value, "shape", ()):
                for s in getattr(dim, "free_symbols", ()):
                    if s.name == name:
                        return s
        return None

    def read(self, node) -> E.Node:
        try:
            return self._read(node)
        except ParseError:
            raise
        except JacobianSymError as err:
            self.fail(node, str(err))

    def _read(self, node):
        if isinstance(node, ast.Name):
            if node.id.startswith("__"):
                self.fail(node, f"the name {node.id!r} is not allowed")
            if node.id not in self.names:
                size = self._size_named(node.id)
                if size is None:
                    self.fail(node, self.undefined.format(node.id))
                return E.size_constant(size)
            return self.names[node.id]
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                self.fail(node, f"only numbers are allowed as constants, not {node.value!r}")
            return E.constant(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = self.read(node.right) if _numeric(node.right) else None
            value = exponent.attr("value") if exponent is not None and exponent.op == "const" else None
            if value is None or not 0 < abs(value) <= 8:
                self.fail(node.right, "only element-wise powers by a rational number from -8 to 8 (not 0) are "
                                      "allowed (x ** 2, x ** 0.5, x ** (1/3), x ** -1)")
            base = self.read(node.left)
            if base.op == "const":  # a power of a number is a number, when it is rational
                power = base.attr("value") ** value
                if base.attr("value") == 0 and value < 0:
                    self.fail(node, "division by zero")
                if not isinstance(power, sp.Rational):
                    self.fail(node, f"{ast.unparse(node)} is not a rational number: write its value as a decimal")
                return E.constant(power)
            return E.power(base, value)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = self.read(node.left), self.read(node.right)
            if isinstance(node.op, ast.Div) and right.op == "const" and right.attr("value") == 0:
                self.fail(node.right, "division by zero")
            if left.op == right.op == "const":  # arithmetic on numbers is a number (1 - 1 is 0)
                a, b = left.attr("value"), right.attr("value")
                value = {ast.Add: a + b, ast.Sub: a - b, ast.Div: a / b}.get(type(node.op), a * b)
                return E.size_constant(value) if isinstance(value, sp.Expr) and value.free_symbols else \
                    E.constant(value)
            return E.apply(_BINOPS[type(node.op)], left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.read(node.operand)
            if inner.op == "const" and isinstance(node.op, ast.USub):
                return E.constant(-inner.attr("value"))
            return E.apply("neg", inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                self.fail(node, f"attribute .{node.attr} is not allowed (only .T)")
            return E.apply("transpose", self.read(node.value))
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name):  # E[ids]: rows by int ids
            return embedding(self.read(node.value), self.read(node.slice))
        if isinstance(node, ast.Subscript):
            return read_slice(self, node)
        if isinstance(node, ast.Compare):
            self.fail(node, COMPARISON_OUTSIDE)
        self.fail(node, f"{type(node).__name__.lower()} is not allowed in a forward line")

    def _call(self, node):
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only calls of op-table functions by name are allowed")
        name = node.func.id
        if name == "ones" and name not in self.names:  # ones(n, 1): a constant of ones, sizes by name
            return self._ones(node)
        if name == "where" and name not in self.names:  # where(a > b, c, d): its comparison read there
            return read_where(self, node)
        if name in COMPOSITES:
            return self._composite(node, COMPOSITES[name])
        if name == "onehot" and name not in self.names:  # onehot(y, C): an int label input's one-hot matrix
            if not 1 <= len(node.args) <= 2 or node.keywords or not isinstance(node.args[0], ast.Name):
                self.fail(node, "onehot takes an int input and, optionally, its number of classes: onehot(y, C)")
            size = node.args[1] if len(node.args) == 2 else None
            if size is not None and not (isinstance(size, ast.Name) or isinstance(size, ast.Constant)
                                         and type(size.value) is int):
                self.fail(size, "the number of classes is a size name or a positive integer")
            return onehot(self.read(node.args[0]), None if size is None else getattr(size, "id", None)
                          or size.value)
        if name.startswith("_") or name not in OPS or OPS[name].operator is not None:
            self.fail(node.func, f"unknown function {name!r}")
        params = {}
        for kw in node.keywords:
            if kw.arg not in _KEYWORDS or not isinstance(kw.value, ast.Constant):
                self.fail(kw.value, f"keyword {kw.arg!r} is not allowed")
            if kw.arg in params:
                self.fail(kw.value, f"keyword {kw.arg!r} is given twice")
            params[kw.arg] = kw.value.value
        return E.apply(name, *(self.read(a) for a in node.args), **params)

    def _ones(self, node):
        if len(node.args) != 2 or node.keywords:
            self.fail(node, "ones takes two sizes: ones(n, 1)")
        dims = []
        for a in node.args:
            if isinstance(a, ast.Constant) and type(a.value) is int and a.value > 0:
                dims.append(a.value)
            elif isinstance(a, ast.Name) and self._size_named(a.id) is not None:
                dims.append(self._size_named(a.id))
            elif isinstance(a, ast.Constant) and isinstance(a.value, str):
                dims.append(a.value)
            else:
                self.fail(a, "a size of ones is a positive integer or a size declared above")
        return E.ones(*dims)

    def _composite(self, node, composite):
        """layer_norm(X, axis=1, eps=1e-5): expanded here into the op table's primitives. Its number
        parameters may also be written in order after the operands (clip(a, -1, 2))."""
        args, extra = node.args[:composite.arity], node.args[composite.arity:]
        numbers = all(isinstance(a.operand if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.USub) else a,
                                 ast.Constant) for a in extra)
        if len(args) != composite.arity or len(extra) > len(composite.params) or not numbers:
            operands = "one operand" if composite.arity == 1 else f"{composite.arity} operands"
            keywords = f" and keywords {', '.join(composite.params)}" if composite.params else ""
            self.fail(node, f"{composite.name} takes {operands}{keywords}")
        params = {}
        for kw in [*(ast.keyword(arg=p, value=v) for p, v in zip(composite.params, extra)), *node.keywords]:
            value = kw.value
            negative = isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)
            number = value.operand if negative else value
            if kw.arg not in composite.params or not isinstance(number, ast.Constant):
                self.fail(kw.value, f"{composite.name} takes the keywords {', '.join(composite.params)} (numbers), "
                                    f"not {kw.arg!r}")
            if kw.arg in params:
                self.fail(kw.value, f"keyword {kw.arg!r} is given twice")
            params[kw.arg] = -number.value if negative and isinstance(number.value, (int, float)) else number.value
        operands = [self.read(a) for a in args]
        if (node is self.top or node is self.sole) and composite.names_parts:  # name its steps after the line
            taken = set(self.names) | self.reserved | self.size_names
            free = [names for names in part_names(self.line_name) if not set(names.values()) & taken]
            if free:
                params["names"] = free[0]
        try:
            built = composite.build(*operands, **params)
            if "names" in params:
                named = {n.name: n for n in built.walk() if n.name in params["names"].values()}
                self.parts.extend(named[k] for k in params["names"].values() if k in named)
            return built
        except ShapeError as err:
            self.fail(node, f"{composite.name}: {err}")
