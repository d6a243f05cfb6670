"""A static audit of generated source, before it is loaded: its shape, and every name it uses.

The generator only ever emits a docstring, ``import numpy as np``, literal constants, the runtime's
functions and class, and one kernel function. The audit parses the text with ``ast`` and refuses
anything else: another import, a top-level statement that runs code, a dunder name or attribute, a
call of a builtin outside a short list, or a name that nothing binds (which would be a ``NameError``
at call time — a bug of the generator, caught here rather than in the user's training loop).
"""

from __future__ import annotations

import ast
import builtins

from jacobian_sym.errors import JacobianSymError

#: the builtins the runtime and the kernels call
SAFE_BUILTINS = frozenset({
    "ValueError", "abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "isinstance", "len", "list",
    "max", "min", "next", "range", "sorted", "str", "sum", "tuple", "type", "zip", "None", "True", "False",
})
_LITERALS = (ast.Constant, ast.Dict, ast.Tuple, ast.List, ast.UnaryOp)


class SourceAuditError(JacobianSymError):
    """Generated source that is not of the form the generator emits (refused before it runs)."""


def audit_source(text: str, filename: str = "<kernel>", *, imports=(("numpy", "np"),),
                 module_names=frozenset({"np"}), statements=frozenset(), dunders=frozenset()) -> ast.Module:
    """Refuse ``text`` unless it has exactly the generated module's shape; return its tree. Another
    engine's module (``kernels/backends``) names its imports, the module names they bind, the exact
    module-level calls it emits (``f_loss.defvjp(…)``) and the dunder names its classes need."""
    try:
        tree = ast.parse(text, filename)
    except SyntaxError as err:
        raise SourceAuditError(f"the generated source does not compile: {err.msg} (line {err.lineno})") from None
    module_names = set(module_names)
    allowed = {(name, asname) for name, asname in imports}
    for n, stmt in enumerate(tree.body):
        if n == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring
        if isinstance(stmt, ast.Import) and len(stmt.names) == 1 and (stmt.names[0].name,
                                                                       stmt.names[0].asname) in allowed:
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and ast.unparse(stmt) in statements:
            continue
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            if not _is_literal(stmt.value):
                raise SourceAuditError(f"line {stmt.lineno}: a module-level value that is not a literal")
            module_names.update(t.id for t in stmt.targets)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            module_names.add(stmt.name)
            continue
        raise SourceAuditError(f"line {stmt.lineno}: a {type(stmt).__name__} statement is not generated code")
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in tree.body:
            raise SourceAuditError(f"line {node.lineno}: an import inside a function")
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom)):
            raise SourceAuditError(f"line {node.lineno}: {type(node).__name__} is not generated code")
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name is not None and name.startswith("__") and name not in dunders:
            raise SourceAuditError(f"line {node.lineno}: the dunder name {name!r}")
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            _check_bound(stmt, module_names)
    return tree


def _is_literal(node) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return isinstance(node.operand, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_literal(k) for k in node.keys) and all(_is_literal(v) for v in node.values)
    return False


def _check_bound(fn: ast.FunctionDef, module_names: set) -> None:
    """Every name a function loads is a parameter, a local it assigns, a module name or a safe
    builtin; every builtin it calls is on the safe list."""
    args = fn.args
    bound = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    bound |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.comprehension):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    known = bound | module_names | SAFE_BUILTINS
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in known:
            what = "a builtin the kernels do not use" if hasattr(builtins, node.id) else "a name nothing defines"
            raise SourceAuditError(f"line {node.lineno}: {fn.name} uses {node.id!r}, {what}")
