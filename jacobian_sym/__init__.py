"""jacobian_sym: symbolic derivation of neural-network gradients, element by element, on SymPy.

    import jacobian_sym as js
    W, x = js.matrix("W", "n", "m"), js.vector("x", "m")
    js.derive("2.5").closed_form          # δᵀxᵀ, derived
    js.jacobian(W @ x, x).closed_form      # W
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    f = js.kernel(bp)                      # NumPy loss and gradients

"""

from jacobian_sym.audit.driver import AuditReport, audit
from jacobian_sym.audit.errata import Finding, errata, notes_audit
from jacobian_sym.claims.decide import Verdict, check
from jacobian_sym.claims.syntax import ClaimError
from jacobian_sym.engine.derive import Derivation
from jacobian_sym.engine.step import Step
from jacobian_sym.errors import (
    ClosedFormError,
    DerivationError,
    JacobianSymError,
    ParseError,
    ShapeError,
    SingularMatrixError,
    SizeError,
    UnknownFunctionError,
)
from jacobian_sym.graph.composites import batch_norm, clip, conv1d, huber, layer_norm, maximum, minimum
from jacobian_sym.graph.expr import Node, apply, constant, matrix, ones, row, scalar, vector
from jacobian_sym.graph.expr import size_constant as size
from jacobian_sym.kernels.codegen import Gradcheck, Kernel, KernelInputError, codegen, gradcheck, kernel
from jacobian_sym.kernels.generate import KernelError
from jacobian_sym.models.backprop import Backprop
from jacobian_sym.models.model import Model
from jacobian_sym.notes.identities import IDENTITIES
from jacobian_sym.ops import table as _ops
from jacobian_sym.ops.table import undefined_function
from jacobian_sym.proofs.guard import backprop, gauss_newton, gradient, hessian, hvp, jacobian, jvp
from jacobian_sym.proofs.guard import derive_identity as derive
from jacobian_sym.proofs.verify import Report, verify

__version__ = "0.1.0"


def _op_function(name):
    def call(*args, **params):
        return apply(name, *args, **params)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Apply the op {name!r} of the op table."
    return call


#: the ops offered as functions: all but those a Python operator spells (@, +, .T, …) and the engine's own
#: (_argmax: the derivative of max)
_FUNCTIONS = [name for name, op in _ops.OPS.items() if op.operator is None and not name.startswith("_")]

# One callable per op of the op table (js.relu, js.softmax, js.cross_entropy, …).
for _name in _FUNCTIONS:
    globals()[_name] = _op_function(_name)


def function(name: str):
    """A generic element-wise function f (undefined; its derivative is f′)."""
    return _op_function(undefined_function(name).name)


__all__ = [
    "ClaimError", "ClosedFormError", "DerivationError", "JacobianSymError", "Node", "ParseError", "ShapeError",
    "SingularMatrixError", "SizeError", "UnknownFunctionError", "apply", "constant", "function", "matrix", "ones",
    "row", "scalar",
    "size",
    "vector", "Finding", "Verdict",
    "AuditReport", "audit", "notes_audit", "check", "errata", "Backprop", "backprop", "Gradcheck", "Kernel",
    "KernelError", "KernelInputError", "codegen", "gradcheck",
    "kernel", "Derivation", "derive", "gradient", "jacobian", "hessian", "hvp", "jvp",
    "gauss_newton", "IDENTITIES", "Model", "Step", "Report", "layer_norm", "batch_norm", "huber",
    "maximum", "minimum", "clip", "conv1d",
    "verify", *_FUNCTIONS,
]
