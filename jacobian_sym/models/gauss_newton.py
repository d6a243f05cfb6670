"""The Gauss–Newton (for softmax cross-entropy, Fisher) product of a model: G V = Jᵀ H J V.

J is the Jacobian of the model's output — the first error signal's node, the logits θ of the notes'
§3 — by a variable W, and H the Hessian of the loss by that output. Each factor is derived by the
engine: J V as the directional derivative of θ along V (``jvp``), H (J V) as the Hessian–vector
product of the loss by θ (``hvp``, the output a variable there), and Jᵀ u as the gradient of θ by W
with the upstream signal u (the notes' identities 2.5/2.6 at work). G V is their composition.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.engine.derive import Derivation, gradient
from jacobian_sym.engine.layout import gradient_layout
from jacobian_sym.engine.second import hvp, jvp
from jacobian_sym.engine.step import Step
from jacobian_sym.errors import DerivationError
from jacobian_sym.graph import expr as E
from jacobian_sym.graph.expr import Node
from jacobian_sym.render.display import Label
from jacobian_sym.render.printers import plain


def _with_leaf(node: Node, target: Node, leaf: Node, memo: dict) -> Node:
    """``node`` with ``target`` replaced by the variable ``leaf`` (the loss as a function of θ)."""
    if node is target:
        return leaf
    if id(node) not in memo:
        args = tuple(_with_leaf(a, target, leaf, memo) for a in node.args)
        memo[id(node)] = node if all(a is b for a, b in zip(args, node.args)) else \
            Node(node.op, args, node.shape, node.name, node.attrs)
    return memo[id(node)]


def gauss_newton(bp, wrt: str, direction: str = "V") -> Derivation:
    """G V = Jᵀ H J V for the model of ``bp`` and its variable ``wrt``, in closed form."""
    graph, model = bp.graph, bp.model
    W = graph.node_named(wrt)
    if W is None or not W.is_leaf:
        raise DerivationError(f"{wrt!r} is not a variable of the model (it has {', '.join(model.wrt)})")
    if graph.node_named(direction) is not None:
        raise DerivationError(f"the direction {direction!r} is a name the model already uses; pick another")
    if not bp.delta_nodes:
        raise DerivationError("the model has no output before its loss (no error signal) to take J of")
    output = graph.canonical(next(iter(bp.delta_nodes.values())))
    if output.name is None:
        raise DerivationError("the model's output (its first error signal's node) needs a name")
    V = E.matrix(direction, *W.shape)
    out_variable = E.matrix(output.name, *output.shape)
    R = E.matrix(next(n for n in ("R", "R_out", "R_direction") if graph.node_named(n) is None and n != direction),
                 *output.shape)
    loss_of_output = _with_leaf(graph.root, output, out_variable, {})
    if loss_of_output is graph.root:
        raise DerivationError(f"the loss does not depend on {output.name}")
    Jv = jvp(output, W, V, layout=bp.layout)
    Hr = hvp(loss_of_output, out_variable, R, layout=bp.layout)
    pullback = gradient(output, W, layout=bp.layout, upstream="delta")
    u = Hr.closed_form.xreplace({Hr.upstream: Jv.closed_form})
    shape, _ = gradient_layout(output.shape, bp.layout)
    signal = u if tuple(shape) == tuple(output.shape) else sp.Transpose(u)
    closed = pullback.closed_form.xreplace({pullback.upstream: signal})
    Vs = sp.MatrixSymbol(direction, *W.shape)
    theta, Ws = graph.symbol(output), graph.symbol(W)
    label = Label(f"G[{direction}]", rf"G\,[{direction}]")
    steps = [
        Step(Label.directional(theta, Vs), Jv.closed_form, f"J {direction}: the derivative of {plain(theta)} along "
             f"{direction} (forward, element by element)"),
        Step(Label.hvp(theta, sp.MatrixSymbol(R.name, *output.shape), None), Hr.closed_form,
             f"H {R.name}: the Hessian of the loss by {plain(theta)}, applied to {R.name}"),
        Step(sp.Derivative(sp.Symbol("J"), Ws), pullback.closed_form,
             f"Jᵀ δ: the gradient by {plain(Ws)} with the upstream δ = ∂J/∂{plain(theta)}"),
        Step(label, closed, f"G {direction} = Jᵀ H J {direction}: {R.name} = J {direction}, δ = (H {R.name}) in the "
             "layout"),
    ]
    return Derivation(f"The Gauss–Newton product of {model.title!r} in {wrt}, applied to {direction}",
                      "gauss_newton", graph.root, W, bp.layout, steps, Hr.index_form, Hr.free, closed, graph, Vs,
                      parts={"J V": Jv, "H R": Hr, "Jᵀ δ": pullback})


