"""A claim that is false as asked but right for a symmetric matrix the target does not declare symmetric.

Textbooks state many forms for symmetric W only (The Matrix Cookbook (84): ∂(x − s)ᵀW(x − s)/∂x =
2W(x − s), "W symmetric"). When a claim does not hold, each square variable of the target that is not
declared symmetric is declared so in turn, the target derived again, and the claim decided again;
when it holds then, the verdict says "holds only for symmetric W".
"""

from __future__ import annotations

import numpy as np

from jacobian_sym.claims.syntax import parse_claim
from jacobian_sym.engine.derive import Derivation
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph import expr as E
from jacobian_sym.graph.structure import is_symmetric, symmetric_exact
from jacobian_sym.models.backprop import Backprop
from jacobian_sym.models.model import Model
from jacobian_sym.proofs.guard import backprop, gradient, jacobian
from jacobian_sym.proofs.pointwise import PointwiseDerivation, PointwiseModel, differ, random_point

#: at most this many variables are tried (each try derives the target again)
MAX_TRIES = 3


def candidates(graph) -> list[str]:
    """The square variables (n×n, n > 1) of a graph not declared symmetric, in the graph's order."""
    out = []
    for node in graph.nodes:
        rows, cols = node.shape
        if node.is_leaf and node.op == "variable" and rows == cols and rows != 1 and not is_symmetric(node) \
                and not node.attr("one_hot") and not node.attr("constant") and node.name not in out:
            out.append(node.name)
    return out[:MAX_TRIES]


def _declared(node: E.Node, name: str) -> E.Node:
    return E.Node("variable", (), node.shape, name, node.attrs + (("symmetric", True),))


def _rebuild(node: E.Node, leaf: E.Node, memo: dict) -> E.Node:
    """``node`` with the variable named like ``leaf`` replaced by ``leaf``."""
    if id(node) in memo:
        return memo[id(node)]
    if node.is_leaf or node.op == "const":
        out = leaf if node.is_leaf and node.name == leaf.name else node
    else:
        out = E.Node(node.op, tuple(_rebuild(a, leaf, memo) for a in node.args), node.shape, node.name, node.attrs)
    memo[id(node)] = out
    return out


def with_symmetric(target, name: str):
    """The target (a Backprop or a first-order Derivation) derived again with ``name`` declared symmetric;
    None for a target this does not apply to."""
    if isinstance(target, Backprop):
        model = target.model
        leaf = _declared(model.variables[name], name)
        memo: dict = {}
        forward = {k: _rebuild(v, leaf, memo) for k, v in model.forward.items()}
        inputs = {k: leaf if k == name else v for k, v in model.inputs.items()}
        params = {k: leaf if k == name else v for k, v in model.params.items()}
        return backprop(Model(model.title, inputs, params, forward, list(model.wrt), model.source, model.batch),
                        layout=target.layout)
    if isinstance(target, Derivation) and target.kind in ("gradient", "jacobian") and target.upstream is None:
        leaf = _declared(target.graph.node_named(name), name)
        memo = {}
        expr, wrt = _rebuild(target.expr, leaf, memo), _rebuild(target.wrt, leaf, memo)
        if target.kind == "gradient":
            return gradient(expr, wrt, layout=target.layout)
        return jacobian(expr, wrt, layout=target.layout)
    return None


def _agrees_where_symmetric(t, built, name: str, seed: int) -> bool:
    """Whether the claim equals the derived form at a random point where ``name`` is symmetric: a
    gradient by another variable is the same function there, so a claim that differs cannot hold for a
    symmetric ``name`` (this screen spares a false claim the derivation again)."""
    if tuple(built.shape) != tuple(t.expected.shape):  # (a transposed claim is no symmetric one)
        return False
    rng = np.random.default_rng(seed)
    sizes = t.point_sizes()[0]
    leaves = random_point(t.graph, sizes, rng)
    leaves[name] = symmetric_exact(leaves[name])
    if isinstance(t.target, Backprop):
        point = PointwiseModel(t.target, sizes, leaves)
    else:
        point = PointwiseDerivation(t.target, sizes, leaves, rng)
    return not differ(point.evaluate(built), point.evaluate(t.expected))


def symmetric_hint(t, claim, layout, seed, decide):
    """The name of an undeclared square variable for whose symmetric version the claim holds, and that
    verdict (``t`` the claim's target, ``decide`` the claim check); None when there is none."""
    for name in candidates(t.graph):
        try:
            if name != t.wrt and isinstance(claim, str) and not _agrees_where_symmetric(
                    t, parse_claim(claim, t.names, t.functions), name, seed):
                continue
            variant = with_symmetric(t.target, name)
            if variant is None:
                return None
            verdict = decide(variant, t.wrt, claim, layout, seed)
        except JacobianSymError:
            continue
        if verdict.ok:
            return name, verdict
    return None
