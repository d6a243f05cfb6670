"""The pointwise truth's numeric reverse accumulation over an element formula (``proofs/tape.py``)
against SymPy's own ``diff`` of the same formula, evaluated at 50 digits: for every element-wise op of
the op table, and for the sums, products, powers and max/min an element formula is made of."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from jacobian_sym.ops.functions import derivative_of, explicit
from jacobian_sym.ops.table import OPS, undefined_function
from jacobian_sym.proofs import tape

x, y, z = sp.symbols("x y z", real=True)
ELEMENTWISE = sorted(name for name, op in OPS.items() if op.kind == "elementwise")


def _point(rng):
    return {s: sp.Rational(int(rng.integers(1, 30)), 13) * (1 if s is z else int(rng.choice((-1, 1))))
            for s in (x, y, z)}


def _sympy_partials(expr, point):
    """SymPy's diff, each op by its derived derivative (its fdiff), evaluated at 50 digits."""
    return {s: sp.N(explicit(sp.diff(expr, s), numeric=True).xreplace(point), 50) for s in (x, y, z)}


def _tape_partials(expr, point):
    with mpmath.workdps(50):
        value, partials = tape.Formula(expr).partials({s: tape.number(v) for s, v in point.items()})
    return tape.to_sympy(value, 50), {s: tape.to_sympy(partials.get(s, mpmath.mpf(0)), 50) for s in (x, y, z)}


def _close(a, b):
    return abs(a - b) <= sp.Float("1e-40") * max(1, abs(b))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_elementwise_op_inside_a_formula(name):
    f = OPS[name].function
    positive = "positive" in OPS[name].domains or not explicit(f(sp.Integer(-1)), numeric=True).is_real  # (log)
    inner = z * (1 + x**2) if positive else x * y + z / 3
    expr = f(inner) * (x - y) ** 2 + f(inner) / (1 + z) + sp.Max(x, y) * f(inner)
    rng = np.random.default_rng(len(name))
    for _ in range(3):
        point = _point(rng)
        value, partials = _tape_partials(expr, point)
        assert _close(value, sp.N(explicit(expr, numeric=True).xreplace(point), 50))
        want = _sympy_partials(expr, point)
        assert all(_close(partials[s], want[s]) for s in (x, y, z)), (name, partials, want)


def test_derivatives_of_derivatives_and_a_generic_function():
    g = undefined_function("g").function
    relu_prime = derivative_of(OPS["relu"].function)
    tanh_prime = derivative_of(OPS["tanh"].function)
    expr = tanh_prime(x * y) + g(x + z) * relu_prime(y) + sp.sqrt(z) * x ** sp.Rational(3, 2)
    point = {x: sp.Rational(3, 7), y: sp.Rational(-5, 11), z: sp.Rational(2, 3)}
    value, partials = _tape_partials(expr, point)
    want = _sympy_partials(expr, point)
    assert _close(value, sp.N(explicit(expr, numeric=True).xreplace(point), 50))
    assert all(_close(partials[s], want[s]) for s in (x, y, z))


def test_a_node_without_a_rule_is_unsupported_never_approximated():
    with pytest.raises(tape.Unsupported):
        tape.Formula(sp.gamma(x)).partials({x: mpmath.mpf(2)})
    with pytest.raises(tape.Unsupported):  # log′ at 0: SymPy's diff is left to say what it is
        tape.Formula(sp.log(x)).partials({x: mpmath.mpf(0)})
    with pytest.raises(tape.Unsupported):  # and a value that is not real
        tape.Formula(sp.log(x)).value({x: mpmath.mpf(-1)})
