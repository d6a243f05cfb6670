"""A number made of sizes (√k, 1/√k, 2/n) as plain Python arithmetic on the kernel's ``_size_k``: a Python
float, which every engine multiplies into float32 arrays as float32 (NumPy's np.sqrt of an int is a
float64 scalar that makes them float64; JAX cannot take float() of a traced value under jit)."""

from __future__ import annotations

import sympy as sp


def size_number_code(expr) -> str | None:
    """``expr`` (a SymPy number of sizes) as Python source, or None when it is not made of sums,
    products and powers of sizes and numbers."""
    if expr.is_Symbol:
        return f"_size_{expr.name}"
    if expr.is_Integer:
        return f"({int(expr)})" if expr < 0 else str(int(expr))
    if expr.is_Rational:
        return repr(float(expr)) if expr > 0 else f"({float(expr)!r})"
    if isinstance(expr, (sp.Add, sp.Mul)):
        parts = [size_number_code(a) for a in expr.args]
        if any(p is None for p in parts):
            return None
        return "(" + (" + " if isinstance(expr, sp.Add) else " * ").join(parts) + ")"
    if isinstance(expr, sp.Pow) and expr.exp.is_Rational:
        base = size_number_code(expr.base)
        return None if base is None else f"({base} ** {float(expr.exp)!r})"
    return None
