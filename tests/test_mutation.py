"""No false claim holds: mutants of true claims from references nobody here wrote.

The identities are The Matrix Cookbook's and the standard ML derivations' (``references/cookbook.py``),
each verified there with NumPy central differences. Every true gradient (and Hessian) must hold; then
each is mutated as people get it wrong — the sign of a term, a dropped or doubled term, a transposed
factor or result, swapped factors, a swapped variable of the same shape, ×2, ×½, and the LaTeX
juxtaposition a(b + c) of a product — every mutant that NumPy shows false (this file's own evaluator
of the claim language at random values, against the reference's NumPy gradient) is checked, and
none may hold.
"""

import ast
import sys
from pathlib import Path

import numpy as np
import pytest

import jacobian_sym as js
from jacobian_sym.models.model import parse_expression

sys.path.insert(0, str(Path(__file__).parent / "references"))
import cookbook  # noqa: E402

SIZES = ({"n": 3, "m": 4, "k": 2, "p": 5}, {"n": 4, "m": 2, "k": 3, "p": 3})
FUNCTIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "square": np.square, "sum": lambda a: np.array([[a.sum()]]), "tr": lambda a: np.array([[np.trace(a)]]),
    "norm": lambda a: np.array([[np.linalg.norm(a)]]),
    "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
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
        return FUNCTIONS[node.func.id](evaluate(node.args[0], env))
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


def _values(identity, sizes, rng):
    env = {}
    for name, shape in identity.shapes.items():
        dims = tuple(d if isinstance(d, int) else sizes[d] for d in shape)
        env[name] = rng.uniform(0.5, 2.0, dims) if name in identity.positive else rng.normal(size=dims)
    return env


def numerically_false(identity, claim: str, want: str) -> bool | None:
    """Whether NumPy shows ``claim`` differs from the reference's gradient (or Hessian); None when the
    claim does not evaluate (outside the language, or its shapes do not fit)."""
    rng = np.random.default_rng(3)
    tree = ast.parse(claim, mode="eval")
    for sizes in SIZES:
        env = _values(identity, sizes, rng)
        reference = getattr(identity, f"numpy_{want}")(*env.values())
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(evaluate(tree, env), dtype=float)
        except (NotClaim, KeyError):
            return None
        if got.shape != reference.shape or not np.isfinite(got).all():
            return True
        if np.linalg.norm(got - reference) > 1e-8 * max(1.0, np.linalg.norm(reference)):
            return True
    return False


def target(identity):
    names = {n: js.matrix(n, *s) for n, s in identity.shapes.items()}
    loss = parse_expression(identity.loss, names, source="loss", line=1, col=1)
    return loss, names[identity.wrt]


def _checked(identity, want, claim):
    loss, wrt = target(identity)
    if want == "hessian":
        return js.check(js.hessian(loss, wrt), wrt, claim)
    return js.check(loss, wrt, claim, layout="denominator")


CASES = [(i, "gradient") for i in cookbook.IDENTITIES] + \
        [(i, "hessian") for i in cookbook.IDENTITIES if i.hessian]
#: the quick tier takes every eighth gradient (its Hessian claims are tested in test_claims); the
#: exhaustive tier takes every case
FAST = [c for c in CASES if c[1] == "gradient"][::8]


def run_case(identity, want):
    claim = getattr(identity, want)
    assert numerically_false(identity, claim, want) is False, "the reference itself must be right"
    truth = _checked(identity, want, claim)
    assert truth.ok is True, f"{identity.name}: the true {want} {claim} did not hold: {truth.reason}"
    tried = 0
    forms = [(m, m) for m in mutants(claim, identity.shapes)]
    forms += [(m, latex_of(ast.parse(m, mode="eval"))) for m, _ in list(forms)]
    for python_form, written in forms:
        if written is None or numerically_false(identity, python_form, want) is not True:
            continue
        try:
            verdict = _checked(identity, want, written)
        except js.JacobianSymError:  # refused (a shape that does not fit): not a certificate
            continue
        tried += 1
        assert verdict.ok is not True, f"{identity.name}: the false claim {written!r} holds ({verdict.decided})"
    return tried


@pytest.mark.parametrize("identity, want", FAST, ids=[f"{i.name}-{w}" for i, w in FAST])
def test_no_mutant_of_a_reference_identity_holds(identity, want):
    assert run_case(identity, want) >= 1


@pytest.mark.exhaustive
@pytest.mark.parametrize("identity, want", CASES, ids=[f"{i.name}-{w}" for i, w in CASES])
def test_no_mutant_of_any_reference_identity_holds(identity, want):
    assert run_case(identity, want) >= 1


def test_the_latex_of_a_product_is_juxtaposition():
    assert latex_of(ast.parse("A @ (X - B)", mode="eval")) == "A(X - B)"
    assert latex_of(ast.parse("2 * (b @ (s - x.T @ b))", mode="eval")) == "2 (b(s - x^T b))"
