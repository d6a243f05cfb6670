"""Common subexpressions of a kernel's lines, computed once: the planner's last pass, before any
backend prints the plan (so NumPy, JAX and PyTorch all benefit).

The closed forms of different gradients repeat whole subexpressions the recogniser writes out again
in each (a weight-normalised layer's ∂J/∂V and ∂J/∂g both read X V and ‖V‖, and ∂J/∂V reads ‖V‖
three times); the product sharing of ``kernels/products.py`` sees matrix chains only. The kernel's
lines assign each name once, so a subexpression means the same wherever it appears: the largest one
that occurs twice gets a line of its own (``_c1 = …``) before its first use — or, when it is the
whole right-hand side of an earlier line, that line's name — and the count starts again.
"""

from __future__ import annotations

import ast


def _worth_a_line(node) -> bool:
    """A call or an arithmetic operation that reads an array (not a number of sizes: 2/_size_d)."""
    if not isinstance(node, (ast.Call, ast.BinOp)):
        return False
    called = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return any(isinstance(n, ast.Name) and n.id not in called and n.id != "np" and not n.id.startswith("_size_")
               for n in ast.walk(node))


class _Replace(ast.NodeTransformer):
    def __init__(self, dump: str, name: str):
        self.dump, self.name = dump, name

    def generic_visit(self, node):
        if isinstance(node, ast.expr) and ast.dump(node) == self.dump:
            return ast.Name(self.name, ast.Load())
        return super().generic_visit(node)


def shared_subexpressions(forward: list[str], backward: list[str]) -> tuple[list[str], list[str]]:
    """``forward`` and ``backward`` with every repeated subexpression computed once; a line nothing
    changed keeps its text."""
    # each entry: [statement, its original text (None once changed or inserted), whether forward]
    entries = [[ast.parse(line.strip()).body[0], line, k < len(forward)]
               for k, line in enumerate([*forward, *backward])]
    temp = 0
    while True:
        seen: dict = {}
        for k, (stmt, _, _) in enumerate(entries):
            for node in ast.walk(stmt.value):
                if _worth_a_line(node):
                    entry = seen.setdefault(ast.dump(node), [k, node, 0])
                    entry[2] += 1
        repeated = [(len(d), d, k, node) for d, (k, node, count) in seen.items() if count >= 2]
        if not repeated:
            break
        _, dump, k, node = max(repeated, key=lambda r: r[0])
        if ast.dump(entries[k][0].value) == dump:  # the whole right-hand side of line k: read its name
            name = entries[k][0].targets[0].id
        else:
            temp += 1
            name = f"_c{temp}"
            entries.insert(k, [ast.Assign([ast.Name(name, ast.Store())], node, lineno=0), None, entries[k][2]])
            k += 1
        for entry in entries[k + 1 if entries[k][0].targets[0].id == name else k:]:
            before = ast.dump(entry[0])
            entry[0] = _Replace(dump, name).visit(entry[0])  # (in place)
            if ast.dump(entry[0]) != before:
                entry[1] = None
    out = [(text if text is not None else f"    {ast.unparse(ast.fix_missing_locations(stmt))}", fwd)
           for stmt, text, fwd in entries]
    return [t for t, fwd in out if fwd], [t for t, fwd in out if not fwd]
