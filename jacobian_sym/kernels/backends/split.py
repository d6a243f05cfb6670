"""What the framework backends add to a plan: its forward and backward as two functions, and what the
first hands the second.

A ``torch.autograd.Function`` and a ``jax.custom_vjp`` run the forward when the loss is computed and
the backward when the gradients are asked for. The forward saves exactly the arrays the backward
lines read that the forward lines (or the inputs) define — activations, softmax outputs, the centred
values of a norm — and the arrays whose shapes give the backward its sizes; each side frees its own
temporaries after their last use.
"""

from __future__ import annotations

import ast
import re

from jacobian_sym.kernels.generate import Plan, _freed


def _assigned(lines) -> list[str]:
    out = []
    for line in lines:
        for node in ast.walk(ast.parse(line.strip())):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in out:
                out.append(node.id)
    return out


def _read(lines) -> set[str]:
    return {node.id for line in lines for node in ast.walk(ast.parse(line.strip()))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def size_sources(p: Plan, lines) -> set[str]:
    """The arrays whose shapes give the sizes ``lines`` read."""
    return {m.group(1) for m in re.finditer(r"= ([A-Za-z_][A-Za-z0-9_]*)\.shape\[", "\n".join(p.size_lines(lines)))}


def saved(p: Plan) -> list[str]:
    """The arrays the forward hands the backward, in the order the forward defines them (inputs first)."""
    forward = [*p.constant_lines, *p.forward]
    defined = [*p.spec, *_assigned(forward)]
    wanted = (_read(p.backward) - set(_assigned(p.backward))) | size_sources(p, p.backward)
    return [n for n in defined if n in wanted]


def forward_body(p: Plan) -> list[str]:
    """The forward lines, each temporary freed after its last use unless the backward reads it."""
    return _freed([*p.constant_lines, *p.forward], keep={p.loss, *p.spec, *saved(p)})


def backward_body(p: Plan) -> list[str]:
    """The backward lines, freed as they go (the gradients are kept)."""
    return _freed(list(p.backward), keep=set(p.spec))
