"""The NumPy printer of generated kernels: closed forms as fast, stable, dtype-preserving NumPy.

Lowerings (each measured against hand-written NumPy in ``benchmarks/kernels.py``):
* a product with a ones vector is a sum over an axis (Δᵀ1 → Δ.sum(axis=…, keepdims=True));
* a product whose inner dimension is the batch is ``_mm``: a broadcast multiply when the batch is 1
  (an outer product is not a k = 1 GEMM), ``@`` otherwise;
* an element-wise derivative f′(a) is written through the layer's output when the forward pass has
  it (σ′(z) = h ∘ (1 − h), tanh′ = 1 − h²), else through f's own stable lowering, else as derived;
  a step is a comparison ((z > 0) for ReLU′);
* error signals and variables keep the notes' names (delta1, delta2, yhat).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .functions import _derived_form, element_class, output_form
from .numpy_printer import ClosedFormPrinter
from .ops import OPS


def py_name(name: str) -> str:
    """delta_1, Delta_1 → delta1 (the generated code's names)."""
    return name.replace("_", "").lower() if name.startswith(("delta_", "Delta_")) else name


class KernelPrinter(ClosedFormPrinter):
    def __init__(self, *, outputs: dict, batch=None):
        super().__init__({"fully_qualified_modules": False})
        self._module = "np"
        self.outputs = outputs  # (op name, argument symbol name) -> output variable name
        self.batch = batch

    def _print_MatrixSymbol(self, e):
        return py_name(e.name)

    def _print_Heaviside(self, e):
        h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
        if h0 == 0:
            return f"({self._print(e.args[0])} > 0)"
        return super()._print_Heaviside(e)

    def _print_MatMul(self, e):
        coeff, mats = e.as_coeff_matrices()
        code = self._chain(list(mats))
        if coeff == 1:
            return code
        if coeff == -1:
            return f"(-{code})"
        return f"({self._print(coeff)} * {code})"

    def _chain(self, mats) -> str:
        if len(mats) == 1:
            return self._operand(mats[0])
        if isinstance(mats[-1], sp.OneMatrix):
            return f"{self._chain(mats[:-1])}.sum(axis=1, keepdims=True)"
        if isinstance(mats[0], sp.OneMatrix):
            return f"{self._chain(mats[1:])}.sum(axis=0, keepdims=True)"
        left, right = mats[:-1], mats[-1]
        inner = right.shape[0]
        code_left = self._chain(left)
        if self.batch is not None and inner == self.batch:
            return f"_mm({code_left}, {self._operand(right)})"
        return f"({code_left} @ {self._operand(right)})"

    def _operand(self, m):
        code = self._print(m)
        simple = isinstance(m, sp.MatrixSymbol) or (isinstance(m, sp.Transpose) and isinstance(m.arg, sp.MatrixSymbol))
        return code if simple else f"({code})"

    def _print_Transpose(self, e):
        return f"{self._operand(e.arg)}.T"

    def _print_HadamardProduct(self, e):
        return " * ".join(f"({self._print(a)})" if isinstance(a, sp.MatAdd) else self._print(a) for a in e.args)

    def _print_MatAdd(self, e):
        terms = [self._print(a) for a in e.args]
        out = terms[0]
        for t in terms[1:]:
            out += f" - {t[2:-1] if t.startswith('(-') else t[1:]}" if t.startswith(("(-", "-")) else f" + {t}"
        return out

    def _print_ElementwiseApplyFunction(self, e):
        fn = element_class(e.function)
        arg = e.expr
        if fn is not None and isinstance(arg, sp.MatrixSymbol):
            code = self._elementwise(fn, arg)
            if code is not None:
                return code
        if isinstance(arg, sp.MatrixSymbol):  # f(z) printed on the variable itself: (z > 0)
            d = sp.Dummy("s")
            body = e.function(d)
            return self._print(body.xreplace({d: sp.Symbol(self._print(arg))}))
        return super()._print_ElementwiseApplyFunction(e)

    def _elementwise(self, fn, arg):
        a = self._print(arg)
        op = OPS.get(fn.op_name)
        if fn.order == 0:
            out = self.outputs.get((fn.op_name, arg.name))
            return out if out is not None else "(" + op.numpy.format(a, np="np.") + ")"
        if fn.order != 1 or op is None:
            return None
        g = output_form(op.function)
        if g is not None:
            out = self.outputs.get((fn.op_name, arg.name))
            value = out if out is not None else "(" + op.numpy.format(a, np="np.") + ")"
            u = sp.Symbol(value)
            return f"({self._print(g(u))})"
        other = _same_as_op(op.name)
        return None if other is None else "(" + OPS[other].numpy.format(a, np="np.") + ")"


@cache
def _same_as_op(name: str) -> str | None:
    """The op whose definition equals the derivative of ``name`` (softplus′ = sigmoid), if any."""
    derived = _derived_form(OPS[name].function)
    for other in OPS.values():
        fn = other.function
        if fn is not None and fn.form is not None and other.name != name and not derived.is_polynomial():
            if sp.simplify(derived - fn.form) == 0:
                return other.name
    return None
