"""SymPy function classes for the element-wise ops of the op table.

An element-wise op is declared once in ``ops/elementwise.py`` with its scalar definition (``relu``: max(s, 0)).
From that declaration this module makes a SymPy ``Function`` whose derivative is a second, named
function (``relu_prime``) defined by the derivative the engine computes from the scalar definition.
"""

from functools import cache

import sympy as sp

_S = sp.Dummy("s", real=True)

#: what an undefined function (the generic f of identity 2.4) stands for in numeric checks only
SURROGATE = sp.sin(_S) + _S**3 / 7


def _derive_scalar(form: sp.Expr) -> sp.Expr:
    """d/ds of a scalar definition, with the project's conventions at a kink: a step is 0 at 0
    (ReLU′(0) = 0), and the derivative of a step is 0 (ReLU″ = 0: it is 0 everywhere but at the kink,
    where it is a Dirac delta that a second-order method at a point never meets)."""
    derived = sp.diff(form, _S).replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))
    return derived.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: sp.Heaviside(_unscaled(e.args[0]), 0))


def _unscaled(arg):
    """c·s → s and −c·s → −s for a positive number c: the step of (99/100)s is the step of s."""
    coeff, rest = arg.as_coeff_Mul()
    return rest if coeff.is_positive else -rest if coeff.is_negative else arg


class ElementFunction(sp.Function):
    """A function applied element by element; subclasses are made by :func:`element_function`."""

    nargs = 1
    op_name: str = ""
    #: the scalar definition as an expression of ``_S``; None for an undefined function such as f
    form: sp.Expr | None = None
    #: how many times the op's scalar definition is differentiated (0: the op itself)
    order: int = 0

    def fdiff(self, argindex=1):
        """The derivative, derived from the scalar definition: written out when it is a polynomial
        (square′(s) = 2s) or the function itself (exp′ = exp), else the named function f′."""
        derived = _derived_form(type(self))
        if derived is not None and derived.is_rational_function(_S):  # square′ = 2s, log′ = 1/s
            return derived.xreplace({_S: self.args[0]})
        if derived is not None and derived == self.form:
            return self
        named = _named_as_op(derived)  # sin′ = cos, cos′ = −sin: another op's definition, up to sign
        if named is not None:
            return named(self.args[0])
        return derivative_of(type(self))(self.args[0])

    def explicit(self, numeric: bool = False) -> sp.Expr:
        """The scalar definition applied to the argument (for explicit checks and numerics); with
        ``numeric`` an undefined function is replaced by :data:`SURROGATE`."""
        if self.form is not None:
            return self.form.xreplace({_S: self.args[0]})
        if numeric:
            return sp.diff(SURROGATE, _S, self.order).xreplace({_S: self.args[0]})
        base = sp.Function(self.op_name)
        if self.order == 0:
            return base(self.args[0])
        s = sp.Dummy("s")
        return sp.Subs(sp.diff(base(s), s, self.order), s, self.args[0])

    def _eval_is_real(self):
        return self.args[0].is_real



#: the element-wise function classes made at run time, by the name pickle looks them up by
_CLASSES: dict[str, type] = {}


def _registered(cls):
    """``cls`` findable by pickle as ``jacobian_sym.ops.functions._element_<name>`` (a derivative made
    in another process is derived again on lookup, see ``__getattr__``)."""
    key = f"_element_{cls.__name__}"
    while key in _CLASSES and _CLASSES[key] is not cls:
        key += "_"
    _CLASSES[key] = cls
    cls.__qualname__, cls.__module__ = key, __name__
    return cls


def __getattr__(name: str):
    if name in _CLASSES:
        return _CLASSES[name]
    if name.startswith("_element_") and name.endswith("_prime"):
        return derivative_of(__getattr__(name[: -len("_prime")]))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def element_function(name: str, form_of=None):
    """The Function class of an element-wise op; ``form_of(s)`` gives its scalar definition."""
    form = None if form_of is None else form_of(_S)
    return _registered(type(
        name,
        (ElementFunction,),
        {
            "op_name": name,
            "form": form,
            "order": 0,
        },
    ))


def _named_as_op(derived):
    """A derivative that is another declared op's scalar definition, or its negative, as a function
    of the argument (cos for sin′, −sin for cos′, σ for softplus′: e^s/(1 + e^s) is 1/(1 + e^−s));
    None when there is none."""
    if derived is None:
        return None
    for cls in _CLASSES.values():
        # (not the step: ReLU′ stays ReLU′, hardtanh′ its own — where's selector names no derivative)
        if cls.order == 0 and cls.form is not None and not isinstance(cls.form, sp.Heaviside):
            if _same(cls.form, derived):
                return cls
            if _same(cls.form, -derived):
                return lambda a, cls=cls: -cls(a)
    return None


#: points the numeric screen of ``_same`` tries (not integers, not near a kink or a pole)
_SCREEN = (sp.Rational(3, 7), sp.Rational(-5, 11), sp.Rational(13, 9))


@cache
def _same(form, derived) -> bool:
    """Whether two scalar definitions are one function: equal as written, or equal at three points
    and then proved equal by SymPy's simplify (the screen keeps simplify off the many pairs that differ)."""
    if form == derived:
        return True
    try:
        if any(abs(complex((form - derived).xreplace({_S: p}).evalf(30))) > 1e-20 for p in _SCREEN):
            return False
    except (TypeError, ValueError):
        return False
    return sp.simplify(form - derived) == 0


@cache
def _derived_form(cls):
    return None if cls.form is None else _derive_scalar(cls.form)


@cache
def derivative_of(cls):
    """The named derivative f′ of an element-wise function class (its definition is derived)."""
    form = _derived_form(cls)
    base = cls.op_name
    return _registered(type(
        f"{base}{'_prime' * (cls.order + 1)}" if cls.order == 0 else f"{cls.__name__}_prime",
        (ElementFunction,),
        {
            "op_name": base,
            "form": form,
            "order": cls.order + 1,
        },
    ))


def explicit(expr: sp.Expr, numeric: bool = False) -> sp.Expr:
    """Replace every element-wise function by its scalar definition (see ``ElementFunction.explicit``)."""
    return expr.replace(lambda e: isinstance(e, ElementFunction), lambda e: e.explicit(numeric))


@cache
def output_form(cls):
    """f′ written through the output u = f(s) when that is a polynomial in u (σ′ = u(1 − u),
    tanh′ = 1 − u²) or one power of it ((√s)′ = 1/(2u), (s^⅓)′ = ⅓ u⁻²), derived by solving
    u = f(s) for s; None when there is no such form (ReLU)."""
    derived = _derived_form(cls)
    if derived is None or derived.is_polynomial(_S):
        return None
    u = sp.Dummy("u", real=True)
    direct = derived.xreplace({cls.form: u})  # tanh′ = 1 − tanh² reads off at once
    if not direct.has(_S) and (direct.is_polynomial(u) or _power_of(direct, u)):
        return sp.Lambda(u, sp.expand(direct))
    if cls.form.count(_S) != 1:  # only a chain of single-argument steps is inverted: sp.solve on
        return None  # GELU's s·tanh(c(s + 0.044715s³)) runs for minutes and finds nothing
    found = _inverted(derived, cls.form, _S, u)
    # a function defined for s > 0 only (1/√s: complex at s = −1), with positive values: invert there.
    # (Not for one defined everywhere: ReLU = s for s > 0, but ReLU′ is not 1 everywhere.)
    if found is None and not cls.form.xreplace({_S: -1}).is_real:
        s, v = sp.Dummy("s", positive=True), sp.Dummy("u", positive=True)
        if cls.form.xreplace({_S: s}).is_positive:
            found = _inverted(derived.xreplace({_S: s}), cls.form.xreplace({_S: s}), s, v)
            found = found.xreplace({v: u}) if found is not None else None
    return sp.Lambda(u, found) if found is not None else None


def _inverted(derived, form, s, u):
    """f′ in terms of u = f(s), by solving for s; None unless it is a polynomial in u."""
    try:
        roots = sp.solve(sp.Eq(form, u), s)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if len(roots) != 1:
        return None
    g = sp.simplify(derived.xreplace({s: roots[0]}))
    if g.has(s) or not (g.is_polynomial(u) or _power_of(g, u)):
        return None
    return sp.expand(g)


def _power_of(g, u) -> bool:
    """Whether ``g`` is one term c·u^p with a rational p (1/(2u), −½u³)."""
    coeff, rest = g.as_independent(u, as_Add=False)
    return coeff.is_number and (rest == u or rest.is_Pow and rest.base == u and rest.exp.is_Rational)


def element_class(fn):
    """The ElementFunction class behind an element-wise map (SymPy wraps classes as Lambdas)."""
    if isinstance(fn, type) and issubclass(fn, ElementFunction):
        return fn
    if isinstance(fn, sp.Lambda) and isinstance(fn.expr, ElementFunction) and fn.expr.args == fn.variables:
        return type(fn.expr)
    return None


def with_surrogates(expr):
    """Undefined functions (f, and f′ written as Derivative/Subs) replaced by :data:`SURROGATE`, so
    that an expression about a generic f can be evaluated numerically."""
    from sympy.core.function import AppliedUndef

    expr = explicit(expr, numeric=True)
    undefined = {type(u) for u in expr.atoms(AppliedUndef)}
    if not undefined:
        return expr
    surrogate = sp.Lambda(_S, SURROGATE)
    return expr.replace(lambda e: type(e) in undefined, lambda e: surrogate(*e.args)).doit()
