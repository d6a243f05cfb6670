"""The exact zero test used by every exact proof and check.

An expression is decided to be 0 symbolically, with two devices: each exponential becomes a positive
generator (one per exponent up to an integer scale), so a rational function of exponentials cancels;
and a kink (ReLU's max, a step) is decided on every sign pattern of the symbol inside it, or at
random rational points when its argument is compound.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools

import mpmath
import numpy as np
import sympy as sp

from jacobian_sym.ops.functions import explicit, with_surrogates


def kink_symbols(e):
    """Symbols inside Heaviside / Max / Min / Abs arguments (the places a sign decides)."""
    found = set()
    for f in e.atoms(sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign):
        for a in f.args:
            found |= a.free_symbols
    return sorted(found, key=lambda s: s.name)


def exp_generators(e):
    """Every exp(c·a) becomes E_a**c for a positive symbol E_a (c the rational content of the
    exponent, sign included): one generator per exponent up to scale, so that a rational function of
    exponentials (exp(a)², exp(2a), 1/exp(−a)) cancels exactly."""
    gens: dict = {}

    def generator(x):
        content, key = sp.expand(x.args[0]).as_content_primitive()
        if not content.is_Integer:  # keep powers integral: exp(a/154) is its own generator
            content, key = sp.Integer(1), sp.expand(x.args[0])
        if key.could_extract_minus_sign():
            content, key = -content, -key
        g = gens.setdefault(key, sp.Dummy("E", positive=True))
        return g**content

    return e.replace(lambda x: isinstance(x, sp.exp), generator)


#: past this many operations an exact zero test takes minutes: the expression is decided at random
#: points instead, and the decision says so
EXACT_OPS = 3000
RANDOM_POINTS = 4
_methods: contextvars.ContextVar = contextvars.ContextVar("zero_test_methods", default=None)
_exact_ops: contextvars.ContextVar = contextvars.ContextVar("exact_ops", default=EXACT_OPS)


@contextlib.contextmanager
def exact_budget(ops: int):
    """Inside the block an exact zero test is tried only up to ``ops`` operations, and a rational
    function (a quotient of quadratic forms: its cancel took minutes) only up to a tenth of that; past
    it the test is decided at random points and says so."""
    token = _exact_ops.set(ops)
    try:
        yield
    finally:
        _exact_ops.reset(token)


def too_large(e) -> bool:
    """Whether an exact zero test of ``e`` would be made at random points instead (its size, under the
    budget of ``exact_budget``)."""
    limit, ops = _exact_ops.get(), sp.count_ops(e)
    if ops > limit:
        return True
    if limit < EXACT_OPS:  # under a budget: a quotient of polynomials is expanded over its denominator
        quotient = any(p.exp.is_negative and p.base.free_symbols for p in e.atoms(sp.Pow))
        return quotient and ops > limit // 10
    return False


@contextlib.contextmanager
def recording():
    """Collect how each zero test inside the block was decided ("exact" or "random points")."""
    found: set = set()
    token = _methods.set(found)
    try:
        yield found
    finally:
        _methods.reset(token)


def _record(method):
    found = _methods.get()
    if found is not None:
        found.add(method)


def is_zero_smooth(e) -> bool:
    """Whether the smooth expression ``e`` is 0: a random point where it is clearly not settles
    "no" at once; "yes" is proved exactly (exponentials as positive generators, then cancel), or, for
    an expression too large for that, at RANDOM_POINTS random rational points to 50 digits."""
    numeric = with_surrogates(e)
    if not vanishes_at_random_points(numeric, points=1):
        return False
    if too_large(e):
        _record("random points")
        return vanishes_at_random_points(numeric, points=RANDOM_POINTS, seed=1)
    _record("exact")
    e = e.rewrite(sp.exp) if e.has(sp.tanh) else e
    if sp.cancel(sp.together(sp.expand(exp_generators(e)))) == 0:
        return True
    if _exact_ops.get() < EXACT_OPS:  # under a budget SymPy's simplify (minutes, at times) is not tried
        _record("random points")
        return vanishes_at_random_points(numeric, points=RANDOM_POINTS, seed=1)
    try:
        return sp.simplify(e) == 0
    except (RuntimeError, StopIteration, TypeError, ValueError, AttributeError, RecursionError):
        _record("random points")  # SymPy's simplify gave up: decide at random points
        return vanishes_at_random_points(numeric, points=RANDOM_POINTS, seed=1)


#: past this nesting, substituting numbers into an expression makes SymPy evaluate its assumptions
#: at every level, which grows exponentially (σ(σ(…)) 20 deep took minutes): such an expression is
#: decided at random points, compiled once (the networks here nest 10–15 levels)
MAX_EXACT_DEPTH = 40


def tree_depth(expr) -> int:
    """The nesting depth of a SymPy tree (iteratively)."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        e, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((a, d + 1) for a in e.args)
    return deepest


def is_zero_at(e, fixed: dict) -> bool:
    """``is_zero_smooth(e.xreplace(fixed))``, without substituting into a very deep expression."""
    if tree_depth(e) > MAX_EXACT_DEPTH:
        _record("random points")
        return vanishes_at_random_points(with_surrogates(e), fixed=fixed)
    return is_zero_smooth(e.xreplace(fixed))


def vanishes_at_random_points(e, points: int = RANDOM_POINTS, seed: int = 0, fixed: dict | None = None) -> bool:
    """e = 0 at random points, evaluated to 50 digits (an analytic e that is not identically zero
    vanishes at a random point with probability 0). The expression is compiled once for mpmath, so a
    deep nesting costs linear time (SymPy's evalf re-evaluates nested arguments at rising precision)."""
    rng = np.random.default_rng(seed)
    fixed = fixed or {}
    symbols = sorted(e.free_symbols, key=lambda s: s.name)
    evaluate = _mpmath_function(tuple(symbols), e)
    for _ in range(points):
        point = [sp.Rational(fixed[s]) if s in fixed else sp.Rational(int(rng.integers(1, 997)), 997) * (
            1 if s.is_positive else int(rng.choice((-1, 1)))) for s in symbols]
        try:
            value = evaluate(point)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return False
        if value is None or not abs(value) < 1e-30:
            return False
    return True


def value_at(e, assignment: dict) -> complex | None:
    """e at the numbers ``assignment`` (every free symbol), to 50 digits, compiled once for mpmath
    (no substitution into the tree: SymPy would evaluate assumptions at every nesting level)."""
    e = with_surrogates(e)
    symbols = sorted(e.free_symbols, key=lambda s: s.name)
    if any(s not in assignment for s in symbols):
        return None
    try:
        return _mpmath_function(tuple(symbols), e)([sp.Rational(assignment[s]) for s in symbols])
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


@functools.lru_cache(maxsize=512)
def _mpmath_function(symbols: tuple, e):
    """point → e at the point, to 50 digits: through mpmath when SymPy can print e for it, else evalf
    (cached: the screen and the decision of one zero test evaluate the same expression)."""
    try:
        fn = sp.lambdify(symbols, e, modules="mpmath")
    except Exception:  # noqa: BLE001 - a function mpmath's printer does not know: evaluate with SymPy
        fn = None

    def evaluate(point):
        if fn is not None:
            with mpmath.workdps(50):
                try:
                    return complex(fn(*(mpmath.mpf(int(p.p)) / int(p.q) for p in point)))
                except (NameError, AttributeError, TypeError):
                    pass
        value = sp.N(e.xreplace(dict(zip(symbols, point))), 50)
        return complex(value) if value.is_number else None

    return evaluate


def vanishes(e, rng) -> bool:
    """Whether ``e`` is exactly 0. A kink (ReLU's max, a step) whose argument is one symbol is
    decided on every sign pattern (all up to 2⁶, else 24 random ones); one whose argument is a
    compound expression (ReLU(Wx)) is decided at 8 random rational points of the symbols inside it,
    the rest staying symbolic. Everything else is decided symbolically."""
    e = explicit(sp.Integer(e) if isinstance(e, int) else e).doit()
    if e == 0:
        return True
    kinks = kink_symbols(e)
    if not kinks:
        return is_zero_smooth(e)
    compound = any(not a.is_Symbol and a.free_symbols
                   for f in e.atoms(sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign) for a in f.args)
    if compound:
        for _ in range(8):
            point = random_rational_point(kinks, rng)
            if not is_zero_smooth(e.xreplace(point)):
                return False
        return True
    if len(kinks) <= 6:
        patterns = itertools.product((1, -1), repeat=len(kinks))
    else:
        patterns = (tuple(rng.choice((1, -1), size=len(kinks))) for _ in range(24))
    for signs in patterns:
        sub = {s: sg * sp.Dummy(f"p_{s.name}", positive=True) for s, sg in zip(kinks, signs)}
        if not is_zero_smooth(e.xreplace(sub)):
            return False
    return True


def random_rational_point(symbols, rng):
    """A random rational point with no integer coordinate and no two coordinates equal: the kinks of the
    op table are at integers (ReLU's at 0, hardtanh's at ±1) and at ties (max), and a point on one
    would compare two conventions for the step."""
    point = {}
    for s in symbols:
        while True:  # no two coordinates equal either: max's and max-pooling's kinks are at ties
            p, q = int(rng.choice((-1, 1)) * rng.integers(1, 61)), int(rng.integers(7, 31))
            value = sp.Rational(p, q) if p % q else sp.Rational(2 * p + 1, 2 * q)
            if value not in point.values():
                break
        point[s] = value
    return point
