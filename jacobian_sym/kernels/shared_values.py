"""A forward value that an element-wise derivative reads again, computed once in the forward pass.

GELU(s) = ½ s (1 + tanh(c (s + a s³))) and its derived GELU′(s) = ½ (1 + t) + ½ s c (1 − t²)(1 + 3a s²)
both read t = tanh(c (s + a s³)): the forward pass gives t a line of its own (``_t5 = np.tanh(…)``,
then ``GELU = 0.5 * s * (1 + _t5)``), and the backward's derivative is a helper of s and t
(``_gelu_d1_from(s, _t5)``) instead of a helper that takes s alone and evaluates the tanh, the cube
and the square again. The shared part is found in the op's definition and its derived derivative
(both SymPy forms of the op table), never named per op.

Only tanh and erf are taken out: an exp's lowering is often exp − 1 written as ``expm1`` (ELU), more
precise than the definition printed as it stands, and σ, tanh and softplus already read their
output (σ′ = σ(1 − σ)) or another op (softplus′ = σ).
"""

from __future__ import annotations

import ast
from functools import cache

import sympy as sp

from jacobian_sym.base.codetext import fill_code
from jacobian_sym.kernels.kernel_printer import takes_a_helper
from jacobian_sym.kernels.lowering import NUMPY
from jacobian_sym.ops.functions import _derived_form
from jacobian_sym.ops.table import OPS

#: the applications worth a line of their own, and the call that computes each in the planner's dialect
_CALLS = {sp.tanh: "np.tanh", sp.erf: "_erf"}
_SHARED = tuple(_CALLS)


@cache
def shared_part(op_name: str):
    """The one tanh or erf application that the op's definition and its derived derivative both
    read, when the derivative is printed as a helper (no cheaper lowering); else None."""
    op = OPS.get(op_name)
    fn = op.function if op is not None else None
    if fn is None or fn.form is None or not takes_a_helper(op_name):
        return None
    derived = _derived_form(fn)
    parts = sorted((a for a in fn.form.atoms(*_SHARED) if derived.has(a) and a != fn.form), key=sp.default_sort_key)
    return parts[0] if len(parts) == 1 else None


def forward_codes(op_name: str, arg: str, name: str) -> tuple[str, str] | None:
    """(the shared part's code, the op's code reading it as ``name``), both from the op's lowering
    (``kernels/lowering.py``, so the forward computes what it computed before, in two lines) on the
    array ``arg``; None when the lowering does not call the part's function exactly once."""
    code = fill_code(NUMPY[op_name], arg)
    call = _CALLS[type(shared_part(op_name))]
    found = [n for n in ast.walk(ast.parse(code, mode="eval"))
             if isinstance(n, ast.Call) and ast.unparse(n.func) == call]
    if len(found) != 1:
        return None
    part = ast.get_source_segment(code, found[0])
    return part, code.replace(part, name, 1)


def derivative_reading(op_name: str, u):
    """The op's derived derivative with its shared part written as ``u`` (a scalar form in ``_S`` and u)."""
    return _derived_form(OPS[op_name].function).xreplace({shared_part(op_name): u})
