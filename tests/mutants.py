"""Mutants of a true claim, as people get it wrong, and the claim language in NumPy to tell which of
them are false: the sign of a term, a dropped or doubled term, a transposed factor or result,
swapped factors, a swapped variable of the same shape, ×2, ×½, and the LaTeX juxtaposition a(b + c)
of a product. Test material: shares nothing with the claim reader it tests."""

import ast

import numpy as np


def _gelu(z):
    return z / 2 * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))


def _softmax(z, axis=None):
    if axis is None:  # a vector's classes
        e = np.exp(z - z.max())
        return e / e.sum()
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _total(a, axis=None):
    return np.array([[a.sum()]]) if axis is None else a.sum(axis=axis, keepdims=True)


#: the claim language's functions in NumPy, from their textbook definitions (keyword: axis only)
FUNCTIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "square": np.square, "sum": _total, "tr": lambda a: np.array([[np.trace(a)]]),
    "norm": lambda a: np.array([[np.linalg.norm(a)]]), "softmax": _softmax, "gelu": _gelu,
    "mean": lambda a, axis: a.mean(axis=axis, keepdims=True), "relu_prime": lambda a: (a > 0).astype(float),
    "diag": lambda v: np.diag(np.asarray(v).reshape(-1)), "eye": lambda n: np.eye(int(n)),
    "matrix_power": lambda a, k: np.linalg.matrix_power(a, int(k)),
    "sin": np.sin, "cos": np.cos, "inv": np.linalg.inv,
    # an int label input is its one-hot matrix to the graph, and so in the oracle's values
    "onehot": lambda y, *classes: y,
}


class NotClaim(Exception):
    """A mutant outside the claim language, or with shapes that do not fit: not a claim to check."""


def evaluate(node, env):
    """The claim language in NumPy (a 1×1 operand of + − ∘ / broadcasts as a number; nothing else does)."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body, env)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(node.operand, env)
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return np.asarray(evaluate(node.value, env)).T
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        keywords = {k.arg: evaluate(k.value, env) for k in node.keywords}
        if set(keywords) - {"axis"}:
            raise NotClaim
        if "axis" in keywords:
            keywords["axis"] = int(keywords["axis"])
        return FUNCTIONS[node.func.id](*(evaluate(a, env) for a in node.args), **keywords)
    if isinstance(node, ast.BinOp):
        a, b = evaluate(node.left, env), evaluate(node.right, env)
        if isinstance(node.op, ast.MatMult):
            if np.ndim(a) != 2 or np.ndim(b) != 2 or a.shape[1] != b.shape[0]:
                raise NotClaim
            return a @ b
        if isinstance(node.op, ast.Pow):
            return a ** b
        sa, sb = np.shape(a), np.shape(b)
        if sa not in ((), (1, 1)) and sb not in ((), (1, 1)) and sa != sb:
            raise NotClaim
        op = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}[type(node.op)]
        return op(a, b)
    raise NotClaim


def _terms(node, sign=1):
    """The top-level terms of a sum as (sign, node)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _terms(node.left, sign) + _terms(node.right, sign if isinstance(node.op, ast.Add) else -sign)
    return [(sign, node)]


def _sum(terms):
    out = None
    for sign, t in terms:
        if out is None:
            out = t if sign > 0 else ast.UnaryOp(ast.USub(), t)
        else:
            out = ast.BinOp(out, ast.Add() if sign > 0 else ast.Sub(), t)
    return out


def _rebuild(node, target, new):
    """A copy of ``node`` with the node ``target`` (by identity) replaced by ``new``."""
    if node is target:
        return new
    if not isinstance(node, ast.AST):
        return node
    fields = {}
    for name, value in ast.iter_fields(node):
        if isinstance(value, list):
            fields[name] = [_rebuild(v, target, new) for v in value]
        else:
            fields[name] = _rebuild(value, target, new)
    return type(node)(**fields)


def mutants(text: str, shapes: dict) -> list[str]:
    """Python-syntax mutants of a claim."""
    tree = ast.parse(text, mode="eval").body
    out = [f"-({text})", f"2 * ({text})", f"0.5 * ({text})", f"({text}).T"]
    terms = _terms(tree)
    if len(terms) > 1:
        for k in range(len(terms)):
            flipped = [(-s if j == k else s, t) for j, (s, t) in enumerate(terms)]
            out.append(ast.unparse(_sum(flipped)))
            out.append(ast.unparse(_sum([t for j, t in enumerate(terms) if j != k])))
            out.append(ast.unparse(_sum(terms + [terms[k]])))
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            out.append(ast.unparse(_rebuild(tree, node, ast.BinOp(node.right, ast.MatMult(), node.left))))
        if isinstance(node, ast.Name) and node.id in shapes:
            out.append(ast.unparse(_rebuild(tree, node, ast.Attribute(ast.Name(node.id), "T"))))
            for other, shape in shapes.items():
                if other != node.id and shape == shapes[node.id]:
                    out.append(ast.unparse(_rebuild(tree, node, ast.Name(other))))
    return list(dict.fromkeys(m for m in out if m != text))


def latex_of(node) -> str | None:
    """The claim as a textbook writes it: a product by juxtaposition, a(b + c) with brackets; None when it
    has a function or a quotient (kept to Python syntax)."""
    if isinstance(node, ast.Expression):
        return latex_of(node.body)
    if isinstance(node, ast.Name):
        return node.id if len(node.id) == 1 else None
    if isinstance(node, ast.Constant):
        return str(node.value) if float(node.value).is_integer() else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = latex_of(node.operand)
        return None if inner is None else f"-({inner})"
    if isinstance(node, ast.Attribute) and node.attr == "T":
        inner = latex_of(node.value)
        return None if inner is None else (f"{inner}^T" if len(inner) == 1 else f"({inner})^T")
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.MatMult, ast.Add, ast.Sub, ast.Mult)):
        a, b = latex_of(node.left), latex_of(node.right)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.MatMult):
            bracket = (lambda s: s if len(s) <= 3 and "-" not in s and "+" not in s else f"({s})")
            return f"{bracket(a)} {bracket(b)}" if not isinstance(node.right, ast.BinOp) else f"{bracket(a)}({b})"
        if isinstance(node.op, ast.Mult):
            return f"{a} ({b})" if isinstance(node.left, ast.Constant) else None
        return f"{a} {'+' if isinstance(node.op, ast.Add) else '-'} {b}"
    return None
