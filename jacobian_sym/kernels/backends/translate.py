"""The planner's lines (NumPy dialect) in another engine's terms: one pass over their syntax tree.

The planner writes every line as NumPy code: ``np.<function>(…)``, operators, ``.T``, ``.sum(axis=…,
keepdims=…)`` and the runtime's helpers (``_softmax``, ``_mm`` …). A backend is a table from each
``np.`` name (and any helper whose arguments change) to a rewrite of the call; the translation parses
a line with ``ast``, rewrites the calls bottom-up and prints the line again. A name the table lacks is
refused (``BackendError``), never passed through: the registry test lists what each table covers.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from jacobian_sym.base.codetext import fill
from jacobian_sym.errors import JacobianSymError


class BackendError(JacobianSymError):
    """An unknown backend, or planner code that a backend's table cannot write."""


#: a rewrite: (the call's positional arguments, its keywords, as source) -> the engine's code
Rewrite = Callable[[list, dict], str]


def dotted(node) -> str | None:
    """``np.linalg.norm`` for the attribute chain of a call's function, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Translator(ast.NodeTransformer):
    def __init__(self, table: dict, engine: str):
        self.table, self.engine = table, engine

    def visit_Call(self, node):
        self.generic_visit(node)
        name = dotted(node.func)
        if name is None or (not name.startswith("np.") and name not in self.table):
            return node
        rewrite = self.table.get(name)
        if rewrite is None:
            raise BackendError(f"the {self.engine} backend has no entry for {name} "
                               f"(kernels/backends/{self.engine}_engine.py)")
        args = [ast.unparse(a) for a in node.args]
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        return ast.parse(rewrite(args, keywords), mode="eval").body


def translate(code: str, table: dict, engine: str) -> str:
    """``code`` (statements, or a whole function) with every NumPy call rewritten by ``table``."""
    tree = ast.parse(code.strip("\n") if not code.startswith("    ") else _dedent(code))
    tree = ast.fix_missing_locations(_Translator(table, engine).visit(tree))
    out = ast.unparse(tree)
    return _indent(out) if code.startswith("    ") else out


def _dedent(code: str) -> str:
    return "\n".join(line[4:] if line.startswith("    ") else line for line in code.split("\n"))


def _indent(code: str) -> str:
    return "\n".join("    " + line if line else line for line in code.split("\n"))


def same(prefix: str) -> Rewrite:
    """np.f(a, …, k=v) → <prefix>.f(a, …, k=v) (an engine that mirrors NumPy's names)."""
    def rewrite_for(name):
        def rewrite(args, keywords):
            return f"{prefix}{name}({', '.join([*args, *(f'{k}={v}' for k, v in keywords.items())])})"
        return rewrite
    return rewrite_for


def call(template: str) -> Rewrite:
    """A rewrite from a template over the positional arguments ({0}, {1}) and keywords ({axis})."""
    def rewrite(args, keywords):
        return fill(template, *args, **keywords)
    return rewrite


def float_inputs_only(labels: dict, engine: str) -> None:
    """Refuse a plan with int inputs: its indexing helpers (``np.add.at``, assignment at the labels) are
    NumPy's; the other engines take the model's one-hot form."""
    if labels:
        names = ", ".join(labels)
        what = "is an int input" if len(labels) == 1 else "are int inputs"
        raise BackendError(f"the {engine} backend takes float arrays only, and {names} {what} (class labels or "
                           "token ids): use --backend numpy, or declare the one-hot matrix (one_hot = true) for "
                           "this engine")
