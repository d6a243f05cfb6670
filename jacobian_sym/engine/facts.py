"""What the rewrite rules may assume about a graph: the rules' table of facts, keyed by op.

A fact is read off the graph before the sweep: ŷ = softmax(θ) (so exp(θ_a)/Σ exp(θ) may be named
ŷ_a), y is one-hot (Σ_k y_k = 1), u = f(a) for an element-wise f whose derivative is a polynomial in
its output (σ′ = σ(1 − σ), so σ′(a) may be written through u). ``FACTS`` maps an op to the function
that records its fact; element-wise ops need no entry (their output forms are derived for all of them).
"""

from __future__ import annotations

from jacobian_sym.engine.rules import Facts
from jacobian_sym.graph.expr import one_hot_axis
from jacobian_sym.graph.indexed import Graph, element_symbol
from jacobian_sym.ops.functions import output_form
from jacobian_sym.ops.table import get_op, vector_axis


def softmax_definition(graph: Graph, node, facts: Facts) -> None:
    """ŷ = softmax(θ) along its axis: used by ``rules.softmax_quotient``."""
    theta = graph.symbol(graph.canonical(node.args[0]))
    facts.softmax.append((theta, graph.symbol(node), vector_axis(node.shape, node.attr("axis"))))


def mean_definition(graph: Graph, node, facts: Facts) -> None:
    """μ = mean(A, axis): used by ``rules.mean_sum``; and C = A − μ where the graph has it, used by
    ``rules.centred_values``."""
    A = graph.canonical(node.args[0])
    mu = graph.canonical(node)
    facts.means.append((graph.symbol(A), graph.symbol(mu), node.attr("axis")))
    for other in graph.nodes:
        if other.op == "sub" and graph.canonical(other.args[0]) is A and graph.canonical(other.args[1]) is mu:
            facts.centred.append((graph.symbol(A), graph.symbol(mu), graph.symbol(graph.canonical(other))))


def norm_definition(graph: Graph, node, facts: Facts) -> None:
    """N = ‖A‖: used by ``rules.norm_value``."""
    A = graph.symbol(graph.canonical(node.args[0]))
    facts.norms.append((A, element_symbol(graph.symbol(graph.canonical(node)), 0, 0)))


FACTS = {"softmax": softmax_definition, "mean": mean_definition, "norm": norm_definition}


def facts_of(graph: Graph) -> Facts:
    """The facts the rules may use: every op's entry in ``FACTS``, the output forms of element-wise
    functions, and every one-hot label vector."""
    facts = Facts()
    for node in graph.nodes:
        if node.is_leaf:
            if node.attr("one_hot"):
                facts.one_hot.append((graph.symbol(node), one_hot_axis(node)))
            continue
        if node.op == "const":
            continue
        record = FACTS.get(node.op)
        if record is not None:
            record(graph, node, facts)
        fn = get_op(node.op).function
        g = output_form(fn) if fn is not None and fn.form is not None else None
        if g is not None:
            arg = graph.canonical(node.args[0])
            facts.outputs.append((fn, graph.symbol(arg), graph.symbol(node), g))
            if arg.name is None and not arg.is_leaf and node.name is not None:
                facts.unnamed_args.add(graph.symbol(arg))
    return facts
