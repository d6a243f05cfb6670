"""jacobian_sym: symbolic derivation of neural-network gradients, element by element, on SymPy.

    import jacobian_sym as js
    W, x = js.matrix("W", "n", "m"), js.vector("x", "m")
    js.derive("2.5").closed_form          # δᵀxᵀ, derived
    js.jacobian(W @ x, x).closed_form      # W
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    f = js.kernel(bp)                      # NumPy loss and gradients

"""

from . import ops as _ops
from .backprop import Backprop, backprop
from .claim_syntax import ClaimError
from .claims import Verdict, check
from .codegen import Gradcheck, Kernel, KernelInputError, codegen, gradcheck, kernel
from .derive import Derivation, derive, gradient, jacobian
from .errata import Finding, audit, errata
from .errors import (
    ClosedFormError,
    DerivationError,
    JacobianSymError,
    ParseError,
    ShapeError,
    SizeError,
    UnknownFunctionError,
)
from .expr import Node, apply, constant, matrix, row, scalar, vector
from .generate import KernelError
from .identities import IDENTITIES
from .model import Model
from .ops import undefined_function
from .step import Step
from .verify import Report, verify

__version__ = "0.1.0"


_STRUCTURAL = ("matmul", "transpose", "add", "sub", "mul", "div", "neg")


def _op_function(name):
    def call(*args, **params):
        return apply(name, *args, **params)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Apply the op {name!r} of the op table."
    return call


# One callable per op of the op table (js.relu, js.softmax, js.cross_entropy, …).
for _name in list(_ops.OPS):
    if _name not in _STRUCTURAL:
        globals()[_name] = _op_function(_name)


def function(name: str):
    """A generic element-wise function f (undefined; its derivative is f′)."""
    return _op_function(undefined_function(name).name)


__all__ = [
    "ClaimError", "ClosedFormError", "DerivationError", "JacobianSymError", "Node", "ParseError", "ShapeError",
    "SizeError", "UnknownFunctionError", "apply", "constant", "function", "matrix", "row", "scalar",
    "vector", "Finding", "Verdict", "audit", "check", "errata", "Backprop", "backprop", "Gradcheck", "Kernel",
    "KernelError", "KernelInputError", "codegen", "gradcheck",
    "kernel", "Derivation", "derive", "gradient", "jacobian", "IDENTITIES", "Model", "Step", "Report",
    "verify", *[n for n in _ops.OPS if n not in _STRUCTURAL],
]
