"""Element-wise activations, each declared by its scalar definition alone.

From ``relu: max(s, 0)`` the engine makes a SymPy function and derives its derivative (ReLU′ is the
step, 0 at 0); the printers, the kernels and the claim reader find the op by name in their own tables.
To add an activation, add one line here and one entry to each of those tables (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.ops.table import declare, elementwise_op

LEAKY_SLOPE = sp.Rational(1, 100)


def _sigmoid(s):
    return 1 / (1 + sp.exp(-s))



for _name, _form in [
    ("relu", lambda s: sp.Max(s, 0)),
    ("leaky_relu", lambda s: sp.Max(s, LEAKY_SLOPE * s)),
    ("sigmoid", _sigmoid),
    ("tanh", sp.tanh),
    ("exp", sp.exp),
    ("log", sp.log),
    ("softplus", lambda s: sp.log(1 + sp.exp(s))),
    ("square", lambda s: s**2),
]:
    declare(elementwise_op(_name, _form))
