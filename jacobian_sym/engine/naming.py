"""A subexpression a closed form writes more than once, said once: diag(u₁) − u₁ u₁ᵀ with
u₁ = softmax(θ), not diag(softmax(θ)) − softmax(θ) softmax(θ)ᵀ.

An unnamed inner node of the expression is a candidate — it already has a symbol (u₁) and a
definition on the page — and so is an op's application the engine wrote that is no node (log-sum-exp's
gradient is softmax(θ)), which gets the next free name (u₃) and a definition of its own; only where
naming makes the form shorter as a reader counts it: the occurrences saved must outweigh the
definition added. The named form is the closed form with that
node's matrix form replaced by its symbol, nothing else, so putting the form back gives the closed
form exactly (the engine checks this before it says the form).
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.engine.inline import matrix_form
from jacobian_sym.graph.indexed import Graph, matrix_symbol
from jacobian_sym.ops.table import OpApply
from jacobian_sym.render.printers import plain

DEFINITION_COST = 3  # ", = " around a definition, as a where-clause writes it


def occurrences(expr, part) -> int:
    return sum(1 for e in sp.preorder_traversal(expr) if e == part)


def _worth_naming(count: int, form_length: int, name_length: int) -> bool:
    return count >= 2 and count * (form_length - name_length) > form_length + name_length + DEFINITION_COST


def name_repeated(expr, graph: Graph) -> tuple[sp.Basic, dict]:
    """``(named, names)``: ``expr`` with each repeated unnamed node's form replaced by its symbol, and
    those symbols' forms (in the order they were named, the longest first)."""
    forms: dict = {}
    candidates = []
    for node in graph.nodes:
        if node.is_leaf or node.op == "const" or node.name is not None or node.shape == (1, 1):
            continue
        form = matrix_form(graph, node, forms)
        if isinstance(form, sp.MatrixExpr) and not form.is_symbol:
            candidates.append((graph.symbol(node), form))
    # a form larger than the expression cannot occur in it; dropped before it is printed (the inlined
    # forms of nested composites grow exponentially with depth: 8 layer norms in a row)
    largest = tree_size(expr)
    candidates = [c for c in candidates if tree_size(c[1]) <= largest]
    known = {form for _, form in candidates}
    fresh = _fresh_names(graph)
    for part in _applications(expr):
        if part not in known:
            known.add(part)
            candidates.append((matrix_symbol(next(fresh), *part.shape), part))
    candidates.sort(key=lambda c: -len(plain(c[1])))
    names: dict = {}
    for symbol, form in candidates:
        if _worth_naming(occurrences(expr, form), len(plain(form)), len(plain(symbol))):
            expr = expr.xreplace({form: symbol})
            names[symbol] = form
    return expr, names


def tree_size(expr, memo=None) -> int:
    """The number of nodes of ``expr`` as a tree (a shared subexpression counted at each use), counted
    over its distinct subexpressions once each: linear in what SymPy stores, not in what it prints."""
    memo = {} if memo is None else memo
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if ready:
            memo[e] = 1 + sum(memo[a] for a in e.args)
        elif e not in memo:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in memo)
    return memo[expr]


def _applications(expr) -> list:
    """The op applications in ``expr`` (softmax(θ), not a transpose or a product), in order."""
    return list(dict.fromkeys(e for e in sp.preorder_traversal(expr)
                              if isinstance(e, OpApply) and e.shape != (1, 1)))


def _fresh_names(graph: Graph):
    """u₁, u₂, … past every name the graph has."""
    taken = {graph.symbol(n).name for n in graph.nodes if n.op != "const"}
    counter = 0
    while True:
        counter += 1
        if f"u{counter}" not in taken:
            yield f"u{counter}"


def restored(named, names: dict):
    """The named form with each name replaced by its form again (the forms themselves hold no names)."""
    return named.xreplace(names) if names else named
