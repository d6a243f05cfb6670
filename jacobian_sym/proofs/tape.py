"""An element formula's value and its partial derivatives at a point, in mpmath, by reverse accumulation
over the formula's own tree.

The pointwise truth (``pointwise.py``) needs, at each random point, every node's value and the
derivative of each of its elements by the argument elements it reads. SymPy's ``diff`` of each element
formula followed by a 50-digit evaluation of each derivative was most of a claim's time (a variance
element reads a whole row through its mean: n² derivatives of size n); here the formula is walked
once for its value and once backwards for all its partials, in mpmath numbers, linear in its size.

The derivatives are the ordinary rules of the tree's nodes (sums, products, powers, the elementary
functions, max/min), an element-wise op's by its own derived definition (``ops.functions``: ReLU′ is
the project's step, 0 at 0). A node this module does not know raises ``Unsupported``, and the caller
falls back to SymPy's ``diff``: nothing is approximated.
"""

from __future__ import annotations

from functools import cache

import mpmath
import sympy as sp

from jacobian_sym.ops.functions import ElementFunction, derivative_of


class Unsupported(Exception):
    """A node of an element formula with no rule here (the caller uses SymPy's diff instead)."""


_FUNCTIONS = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh, sp.erf: mpmath.erf,
              sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.sinh: mpmath.sinh,
              sp.cosh: mpmath.cosh, sp.atan: mpmath.atan}
#: f′ of each function above, from its argument v and its value u (built once, not per node)
_SLOPES = {sp.exp: lambda v, u: u, sp.log: lambda v, u: 1 / v, sp.tanh: lambda v, u: 1 - u * u,
           sp.erf: lambda v, u: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-v * v), sp.sin: lambda v, u: mpmath.cos(v),
           sp.cos: lambda v, u: -mpmath.sin(v), sp.tan: lambda v, u: 1 + u * u,
           sp.sinh: lambda v, u: mpmath.cosh(v), sp.cosh: lambda v, u: mpmath.sinh(v),
           sp.atan: lambda v, u: 1 / (1 + v * v)}
_ZERO_DERIVATIVE = (sp.Heaviside, sp.sign, sp.KroneckerDelta, sp.floor, sp.ceiling)


def number(x) -> mpmath.mpf:
    """A SymPy number (exact or a Float) as an mpmath number at the working precision."""
    if isinstance(x, mpmath.mpf):
        return x
    if isinstance(x, sp.Integer):
        return mpmath.mpf(int(x))
    if isinstance(x, sp.Rational):
        return mpmath.mpf(int(x.p)) / int(x.q)
    if isinstance(x, sp.Float):
        return mpmath.mpf(x._mpf_)
    if isinstance(x, (int, float)):
        return mpmath.mpf(x)
    if x in (sp.oo, -sp.oo):  # a causal mask's −∞ (exp(−∞) = 0)
        return mpmath.inf if x == sp.oo else -mpmath.inf
    if x in (sp.zoo, sp.nan):  # (a point whose truth is not finite: the caller does not use it)
        return mpmath.nan
    if isinstance(x, sp.Expr) and x.is_number:
        value = sp.N(x, mpmath.mp.dps + 5)
        if not value.is_real:  # (√ of a negative: the truth is not real there, the point is not used)
            return mpmath.nan
        return mpmath.mpf(sp.Float(value, mpmath.mp.dps + 5)._mpf_)
    raise Unsupported(f"not a number: {x!r}")


def to_sympy(x: mpmath.mpf, digits: int) -> sp.Float:
    """An mpmath number as a SymPy Float of ``digits`` digits (read from its bits, not re-rounded at
    mpmath's current precision)."""
    if isinstance(x, mpmath.mpf):
        return sp.Float._new(x._mpf_, sp.core.evalf.dps_to_prec(digits))
    return sp.Float(x, digits)


@cache
def _element_rules(cls):
    """(f, f′) of an element-wise op as functions of an mpmath number: its scalar definition and its
    derived derivative (the project's convention at kinks: ReLU′(0) = 0); a generic f by the numeric
    surrogate every numeric check uses."""
    d = sp.Dummy("s", real=True)
    value = Formula(cls(d).explicit(numeric=True))
    slope = Formula(derivative_of(cls)(d).explicit(numeric=True))
    return (lambda v: value.value({d: v})), (lambda v: slope.value({d: v}))


class Formula:
    """One element formula: its value and its partials at a point (``env``: symbol → mpmath number)."""

    def __init__(self, expr: sp.Expr):
        self.expr = expr
        self._order: list | None = None
        self._last: tuple | None = None  # (env, its values): a point's forward pass, read by its reverse

    def _nodes(self) -> list:
        """The formula's distinct subexpressions, every one after all of its arguments."""
        if self._order is None:
            order, seen, stack = [], set(), [(self.expr, False)]
            while stack:
                e, done = stack.pop()
                if done:
                    order.append(e)
                    continue
                if e in seen:
                    continue
                seen.add(e)
                stack.append((e, True))
                if not isinstance(e, ElementFunction):
                    stack.extend((a, False) for a in _children(e) if a not in seen)
                else:
                    stack.append((e.args[0], False))
            self._order = order
        return self._order

    def values(self, env: dict) -> dict:
        if self._last is not None and self._last[0] is env:
            return self._last[1]
        out: dict = {}
        try:
            for e in self._nodes():
                out[e] = _value(e, out, env)
        except (ZeroDivisionError, ValueError, OverflowError) as err:  # (the caller's SymPy says what)
            raise Unsupported(f"{type(err).__name__} at the point") from None
        self._last = (env, out)
        return out

    def value(self, env: dict) -> mpmath.mpf:
        return self.values(env)[self.expr]

    def partials(self, env: dict) -> tuple[mpmath.mpf, dict]:
        """(the value, {symbol: ∂formula/∂symbol} for every symbol it reads) at ``env``."""
        vals = self.values(env)
        adjoint = {self.expr: mpmath.mpf(1)}
        try:
            for e in reversed(self._nodes()):
                a = adjoint.get(e)
                if not a or e.is_Atom:
                    continue
                for child, local in _locals(e, vals):
                    if local:
                        adjoint[child] = adjoint.get(child, 0) + a * local
        except (ZeroDivisionError, ValueError, OverflowError) as err:
            raise Unsupported(f"{type(err).__name__} at the point") from None
        return vals[self.expr], {s: a for s, a in adjoint.items() if s.is_Symbol}


def _children(e):
    if isinstance(e, sp.Piecewise):
        return [x for pair in e.args for x in pair]  # values and conditions
    return list(e.args)


def _value(e, vals, env):
    if e.is_Symbol:
        if e not in env:
            raise Unsupported(f"no value for {e}")
        return env[e]
    if e.is_Number or e.is_NumberSymbol:
        return number(e)
    if e.is_Add:
        return mpmath.fsum(vals[a] for a in e.args)
    if e.is_Mul:
        out = mpmath.mpf(1)
        for a in e.args:
            out *= vals[a]
        return out
    if e.is_Pow:
        b, x = vals[e.base], vals[e.exp]
        if e.exp.is_Integer:
            return b ** int(e.exp)
        if b < 0:
            raise Unsupported(f"a negative base {e}")
        return b ** x
    if isinstance(e, ElementFunction):
        return _element_rules(type(e))[0](vals[e.args[0]])
    f = _FUNCTIONS.get(type(e))
    if f is not None:
        out = f(vals[e.args[0]])
        if isinstance(out, mpmath.mpc):  # log of a negative
            raise Unsupported(f"a non-real value of {e}")
        return out
    if isinstance(e, sp.Abs):
        return abs(vals[e.args[0]])
    if isinstance(e, (sp.Max, sp.Min)):
        pick = max if isinstance(e, sp.Max) else min
        return pick(vals[a] for a in e.args)
    if isinstance(e, sp.Heaviside):
        v = vals[e.args[0]]
        at_zero = vals[e.args[1]] if len(e.args) > 1 else mpmath.mpf(0.5)
        return mpmath.mpf(1) if v > 0 else mpmath.mpf(0) if v < 0 else at_zero
    if isinstance(e, sp.sign):
        return mpmath.sign(vals[e.args[0]])
    if isinstance(e, sp.Piecewise):
        for value, cond in e.args:
            if cond is sp.true or vals[cond]:
                return vals[value]
        raise Unsupported(f"no branch of {e} holds")
    if isinstance(e, sp.core.relational.Relational):
        lhs, rhs = vals[e.lhs], vals[e.rhs]
        return {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs,
                "==": lhs == rhs, "!=": lhs != rhs}[e.rel_op]
    if e is sp.true or e is sp.false:
        return bool(e)
    if e.is_number:
        return number(e)
    raise Unsupported(f"no numeric rule for {type(e).__name__}")


def _locals(e, vals):
    """(argument, ∂e/∂argument) at the point, for each argument of ``e`` that has a derivative."""
    if e.is_Add:
        return [(a, 1) for a in e.args]
    if e.is_Mul:
        args = e.args
        prefix, out = [mpmath.mpf(1)], []
        for a in args[:-1]:
            prefix.append(prefix[-1] * vals[a])
        suffix = mpmath.mpf(1)
        for k in range(len(args) - 1, -1, -1):
            out.append((args[k], prefix[k] * suffix))
            suffix *= vals[args[k]]
        return out
    if e.is_Pow:
        b, x = vals[e.base], vals[e.exp]
        out = [(e.base, x * b ** (x - 1) if not e.exp.is_Integer else int(e.exp) * b ** (int(e.exp) - 1))]
        if not e.exp.is_number:
            out.append((e.exp, mpmath.log(b) * vals[e]))
        return out
    if isinstance(e, ElementFunction):
        return [(e.args[0], _element_rules(type(e))[1](vals[e.args[0]]))]
    slope = _SLOPES.get(type(e))
    if slope is not None:
        return [(e.args[0], slope(vals[e.args[0]], vals[e]))]
    if isinstance(e, sp.Abs):
        return [(e.args[0], mpmath.sign(vals[e.args[0]]))]
    if isinstance(e, (sp.Max, sp.Min)):
        # the argument that is the value, the first of a tie (Max(0, s) at 0: ReLU′(0) = 0)
        chosen = next(a for a in e.args if vals[a] == vals[e])
        return [(chosen, 1)]
    if isinstance(e, _ZERO_DERIVATIVE) or isinstance(e, sp.core.relational.Relational):
        return []
    if isinstance(e, sp.Piecewise):
        for value, cond in e.args:
            if cond is sp.true or vals[cond]:
                return [(value, 1)]
    if e.is_number:
        return []
    raise Unsupported(f"no derivative rule for {type(e).__name__}")
