"""The matrix-level chain rule of a backprop, as the notes write §3:

    δ₂ = ∂J/∂z = ∂J/∂θ ∂θ/∂h ∂h/∂z = δ₁ ∂θ/∂h ∂h/∂z = δ₁ U diag(ReLU′(z)) = δ₁U ∘ ReLU′(z)ᵀ

For a signal or a variable n, every path up the graph through the model's named lines to the next
error signal (or to the loss) gives a product of matrix-level partials; each partial is cited by the
identity it is an instance of (``engine/citations.py``). When every partial on every path is a
vector-by-vector Jacobian, its closed form is derived by the engine (``jacobian``) and shown as its own
step. This module only collects the data; ``render/pages.py`` lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from jacobian_sym.engine.citations import identity_of
from jacobian_sym.engine.derive import jacobian
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.indexed import Graph


@dataclass(frozen=True)
class Path:
    """One path: the signal it starts from (None: the loss J itself) and the nodes below it, top first."""

    top: object
    nodes: tuple


@dataclass(frozen=True)
class ChainForm:
    """∂J/∂node as a sum over paths of products of partials, with their citations."""

    paths: tuple
    #: per path, the closed forms of its partials (vector-by-vector Jacobians), or None
    local_forms: tuple | None
    citations: tuple


def _named(node) -> bool:
    return node.name is not None


def _paths(graph: Graph, node, signal_of: dict) -> list[Path]:
    """Every path from ``node`` up to a signal node or the root, through named nodes only."""
    out = []

    def walk(current, below):
        for consumer in graph.consumers[id(current)]:
            if id(consumer) in signal_of or consumer is graph.root:
                out.append(Path(signal_of.get(id(consumer)), (consumer, *below)))
            elif _named(consumer):
                walk(consumer, [consumer, *below])
            else:
                walk(consumer, below)

    walk(graph.canonical(node), [graph.canonical(node)])
    # paths that differ only through unnamed nodes (where's r read by abs(r) and r²) are one path: its
    # partial ∂h/∂r is the whole derivative of the named line, every way through it
    unique = {}
    for path in out:
        unique.setdefault((path.top, tuple(id(n) for n in path.nodes)), path)
    return list(unique.values())


def _citations(graph: Graph, upper, lower) -> list[str]:
    """The identities used by the ops between a named node and the named node below it."""
    found = []

    def walk(current):
        for consumer in graph.consumers[id(current)]:
            position = [graph.canonical(a) for a in consumer.args].index(current)
            use = identity_of(graph, consumer, position)
            if use and use not in found:
                found.append(use)
            if consumer is not upper and not _named(consumer) and consumer is not graph.root:
                walk(consumer)

    walk(lower)
    # the identity (2.3) "disappears" in a product with another identity, as the notes say
    return found if found == ["2.3"] else [u for u in found if u != "2.3"]


def _vector(node) -> bool:
    return 1 in node.shape


def chain_form(graph: Graph, node, signal_of: dict, layout: str) -> ChainForm:
    """The matrix-level chain for ∂J/∂node (``signal_of`` maps a signal node's id to its symbol)."""
    paths = _paths(graph, node, signal_of)
    citations = []
    for path in paths:
        for upper, lower in zip(path.nodes, path.nodes[1:]):
            for use in _citations(graph, upper, lower):
                if use not in citations:
                    citations.append(use)
    local = None
    if layout == "numerator" and all(p.top is not None for p in paths) and all(
            _vector(n) and n.shape[1] == 1 for p in paths for n in p.nodes):
        try:
            local = tuple(tuple(jacobian(upper, lower).closed_form for upper, lower in zip(p.nodes, p.nodes[1:]))
                          for p in paths)
        except JacobianSymError:
            local = None
    return ChainForm(tuple(paths), local, tuple(sorted(citations)))


def partials(graph: Graph, path: Path) -> list:
    """The matrix-level partials of one path, as SymPy Derivatives of the nodes' symbols."""
    J = sp.Symbol("J")
    out = []
    for upper, lower in zip(path.nodes, path.nodes[1:]):
        top = J if upper is graph.root else graph.symbol(upper)
        out.append(sp.Derivative(top, graph.symbol(lower)))
    return out
