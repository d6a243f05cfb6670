"""The NumPy printer for closed forms (proofs, numeric checks, and the base of the kernel printer).

``NumPyPrinter`` subclass for the matrix expressions the engine produces: element-wise functions
(``ElementwiseApplyFunction``), diagonals, identities and ones matrices, Hadamard products, and the
NumPy lowerings of ``kernels.lowering`` for the element-wise ops and their derivatives.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from jacobian_sym.base.codetext import fill_code, group
from jacobian_sym.kernels import runtime as kernel_runtime
from jacobian_sym.kernels import window_runtime
from jacobian_sym.kernels.lowering import NUMPY, with_axis_code
from jacobian_sym.ops.functions import ElementFunction
from jacobian_sym.ops.table import vector_axis


class ClosedFormPrinter(NumPyPrinter):
    """Prints closed forms as NumPy code (matrices as 2-D arrays). A printer for another array library
    subclasses it with its own ``lowering`` table and ``_module`` (see ``jax_printer``)."""

    #: the op table's lowerings this printer writes (``{np}`` is replaced by ``_module`` and a dot)
    lowering = NUMPY

    def __init__(self, settings=None):
        super().__init__(settings or {})
        self._bound: dict = {}

    def _print(self, expr, **kwargs):
        # an irrational constant (√2, √(2/π), e^½) as a Python float: NumPy's np.sqrt(2) is a float64
        # scalar, which would turn a float32 kernel into float64; a Python float does not
        if isinstance(expr, sp.Expr) and expr.is_number and not expr.is_Rational and expr.is_real:
            value = float(expr)
            return repr(value) if value >= 0 else f"({value!r})"
        return super()._print(expr, **kwargs)

    def _print_Dummy(self, e):
        if e in self._bound:
            return self._bound[e]
        return super()._print_Dummy(e)

    def _print_Pow(self, e, rational=False):
        # s³ as s*s*s: NumPy 2.4's float32 power with a negative base takes 30× longer than two
        # multiplies (6.4 ms against 0.22 ms for 128×1024 values; benchmarks/transformer.py)
        if e.exp.is_Integer and 3 <= e.exp <= 4:
            base = group(self._print(e.base))
            return "(" + " * ".join([base] * int(e.exp)) + ")"
        return super()._print_Pow(e, rational=rational)


    def _print_ElementwiseApplyFunction(self, e):
        d = sp.Dummy("s")
        fn = e.function
        body = fn(d) if not isinstance(fn, sp.Lambda) else fn.expr.xreplace({fn.variables[0]: d})
        self._bound[d] = group(self._print(e.expr))
        try:
            return group(self._print(body))
        finally:
            del self._bound[d]

    def _print_Function(self, e):
        # (SymPy dispatches a Function subclass on its own name only, never on ElementFunction)
        if isinstance(e, ElementFunction):
            return self._print_ElementFunction(e)
        return super()._print_Function(e)

    def _print_ElementFunction(self, e):
        template = self.lowering.get(e.op_name) if e.order == 0 else None
        if template is not None:
            return group(fill_code(template, group(self._print(e.args[0])), np=self._module + "."))
        return group(self._print(e.explicit(numeric=True)))

    def _print_erf(self, e):
        return f"_erf({self._print(e.args[0])})"  # the runtime's (NumPy has no erf)

    def _print_Transpose(self, e):
        if isinstance(e.arg, sp.Transpose):  # (Aᵀ)ᵀ is A
            return self._print(e.arg.arg)
        return f"({self._print(e.arg)}).T"

    def _print_MatrixSlice(self, e):
        """The rows and columns of a concatenation's signal that one part fills: ``G[:, k:2*k]``."""
        spans = []
        for (start, stop, _), size in zip((e.rowslice, e.colslice), e.parent.shape):
            spans.append(":" if start == 0 and stop == size else
                         f"{'' if start == 0 else self._print(start)}:{'' if stop == size else self._print(stop)}")
        return f"{group(self._print(e.parent))}[{spans[0]}, {spans[1]}]"

    def _print_Embedded(self, e):
        """A block set in zeros (the gradient of a slice): ``np.pad(G, ((r0, below), (c0, right)))``."""
        above, below, left, right = (self._print(m) for m in e.margins)
        return f"{self._module}.pad({self._print(e.block)}, (({above}, {below}), ({left}, {right})))"

    def _print_BlockMatrix(self, e):
        """Blocks side by side or one above another (a sliced matrix's gradient): np.concatenate."""
        rows, cols = e.blocks.shape
        if rows != 1 and cols != 1:
            return super()._print_BlockMatrix(e)
        parts = ", ".join(self._print(b) for b in e.blocks)
        return f"{self._module}.concatenate(({parts}), axis={1 if rows == 1 else 0})"

    def _print_DiagMatrix(self, e):
        return f"{self._module}.diagflat({self._print(e.args[0])})"

    def _dtype(self) -> str:
        """The dtype keyword of a constant the code builds ("" here: NumPy's float64)."""
        return ""

    def _print_Identity(self, e):
        return f"{self._module}.eye({self._print(e.shape[0])}{self._dtype()})"

    def _print_OneMatrix(self, e):
        return f"{self._module}.ones(({self._print(e.shape[0])}, {self._print(e.shape[1])}){self._dtype()})"

    def _print_ZeroMatrix(self, e):
        return f"{self._module}.zeros(({self._print(e.shape[0])}, {self._print(e.shape[1])}){self._dtype()})"

    def _print_HadamardProduct(self, e):
        return "(" + " * ".join(f"({self._print(a)})" for a in e.args) + ")"

    def _print_HadamardPower(self, e):
        if e.exp.is_Integer and 3 <= e.exp <= 4:  # (as _print_Pow)
            base = group(self._print(e.base))
            return "(" + " * ".join([base] * int(e.exp)) + ")"
        return f"(({self._print(e.base)}) ** ({self._print(e.exp)}))"

    def _print_Heaviside(self, e):
        h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
        return f"{self._module}.heaviside({self._print(e.args[0])}, {self._print(h0)})"

    def _print_Abs(self, e):
        return f"{self._module}.abs({self._print(e.args[0])})"

    def _print_Max(self, e):
        return self._nested(f"{self._module}.maximum", e.args)

    def _print_Min(self, e):
        return self._nested(f"{self._module}.minimum", e.args)

    def _nested(self, fn, args):
        """max(a, b, c) as maximum(maximum(a, b), c): element-wise, unlike SymPy's functools.reduce."""
        code = self._print(args[0])
        for a in args[1:]:
            code = f"{fn}({code}, {self._print(a)})"
        return code

    def _print_OpApply(self, e):
        numbers = {k: str(v) for k, v in e.params.items() if k != "axis"}  # (unfold's width, stride)
        code = fill_code(self.lowering[e.op_name], *(self._print(a) for a in e.operands), np=self._module + ".",
                         **numbers)
        if "{axis}" in code:
            axis = e.params.get("axis", vector_axis(e.operands[0].shape, None))
            code = code.replace("{axis}", str(axis))
        code = with_axis_code(code, e.params.get("axis"))
        if e.shape == (1, 1):  # a reduction gives a NumPy scalar; as a matrix factor it is 1×1
            return f"{self._module}.reshape({code}, (1, 1))"
        return group(code)

    def _print_Det(self, e):
        return f"{self._module}.linalg.det({self._print(e.arg)})"

    def _print_LogDet(self, e):
        return f"{self._module}.linalg.slogdet({self._print(e.arg)})[1]"

    def _print_Trace(self, e):
        return f"{self._module}.trace({self._print(e.arg)})"

    def _print_MatrixElement(self, e):
        if e.parent.shape == (1, 1):  # a reduction gives a NumPy scalar, a 1×1 variable a 2-D array
            return f"_scalar({self._print(e.parent)})"
        return f"{self._print(e.parent)}[{self._print(e.i)}, {self._print(e.j)}]"


def numeric_function(args, expr):
    """A NumPy callable of ``expr`` over the matrix symbols ``args`` (for proofs and checks)."""
    return sp.lambdify(args, expr, modules=[RUNTIME, "numpy"], printer=ClosedFormPrinter, cse=True)


# the vector ops' stable lowerings, shared with the generated kernels
RUNTIME = {name: getattr(kernel_runtime, name)
           for name in ("_softmax", "_log_softmax", "_cross_entropy", "_binary_cross_entropy", "_scalar", "_erf",
                         "_inv", "_solve", "_det", "_logdet")}
RUNTIME |= {name: getattr(window_runtime, name)
            for name in ("_first_indicator", "_im2col", "_col2im", "_max_pool1d", "_to_window_max")}


__all__ = ["RUNTIME", "ClosedFormPrinter", "ElementFunction", "numeric_function"]
