"""No false claim holds: mutants of true claims from references nobody here wrote.

The identities are The Matrix Cookbook's and the standard ML derivations' (``references/cookbook.py``),
each verified there with NumPy central differences. Every true gradient (and Hessian) must hold; then
each is mutated as people get it wrong — the sign of a term, a dropped or doubled term, a transposed
factor or result, swapped factors, a swapped variable of the same shape, ×2, ×½, and the LaTeX
juxtaposition a(b + c) of a product — every mutant that NumPy shows false (``mutants.py``'s evaluator of
the claim language at random values, against the reference's NumPy gradient) is checked, and
none may hold.
"""

import ast
import sys
from pathlib import Path

import numpy as np
import pytest
from mutants import NotClaim, evaluate, latex_of, mutants

import jacobian_sym as js
from jacobian_sym.models.model import parse_expression

sys.path.insert(0, str(Path(__file__).parent / "references"))
import cookbook  # noqa: E402

SIZES = ({"n": 3, "m": 4, "k": 2, "p": 5}, {"n": 4, "m": 2, "k": 3, "p": 3})


def _values(identity, sizes, rng):
    env = {}
    for name, shape in identity.shapes.items():
        dims = tuple(d if isinstance(d, int) else sizes[d] for d in shape)
        env[name] = rng.uniform(0.5, 2.0, dims) if name in identity.positive else rng.normal(size=dims)
    return env


def numerically_false(identity, claim: str, want: str) -> bool | None:
    """Whether NumPy shows ``claim`` differs from the reference's gradient (or Hessian); None when the
    claim does not evaluate (outside the language, or its shapes do not fit)."""
    rng = np.random.default_rng(3)
    tree = ast.parse(claim, mode="eval")
    for sizes in SIZES:
        env = _values(identity, sizes, rng)
        reference = getattr(identity, f"numpy_{want}")(*env.values())
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(evaluate(tree, env), dtype=float)
        except (NotClaim, KeyError):
            return None
        if got.shape != reference.shape or not np.isfinite(got).all():
            return True
        if np.linalg.norm(got - reference) > 1e-8 * max(1.0, np.linalg.norm(reference)):
            return True
    return False


def target(identity):
    names = {n: js.matrix(n, *s) for n, s in identity.shapes.items()}
    loss = parse_expression(identity.loss, names, source="loss", line=1, col=1)
    return loss, names[identity.wrt]


def _checked(identity, want, claim):
    loss, wrt = target(identity)
    if want == "hessian":
        return js.check(js.hessian(loss, wrt), wrt, claim)
    return js.check(loss, wrt, claim, layout="denominator")


CASES = [(i, "gradient") for i in cookbook.IDENTITIES] + \
        [(i, "hessian") for i in cookbook.IDENTITIES if i.hessian]
#: the quick tier takes every eighth gradient (its Hessian claims are tested in test_claims); the
#: exhaustive tier takes every case
FAST = [c for c in CASES if c[1] == "gradient"][::8]


def run_case(identity, want):
    claim = getattr(identity, want)
    assert numerically_false(identity, claim, want) is False, "the reference itself must be right"
    truth = _checked(identity, want, claim)
    assert truth.ok is True, f"{identity.name}: the true {want} {claim} did not hold: {truth.reason}"
    tried = 0
    forms = [(m, m) for m in mutants(claim, identity.shapes)]
    forms += [(m, latex_of(ast.parse(m, mode="eval"))) for m, _ in list(forms)]
    for python_form, written in forms:
        if written is None or numerically_false(identity, python_form, want) is not True:
            continue
        try:
            verdict = _checked(identity, want, written)
        except js.JacobianSymError:  # refused (a shape that does not fit): not a certificate
            continue
        tried += 1
        assert verdict.ok is not True, f"{identity.name}: the false claim {written!r} holds ({verdict.decided})"
    return tried


@pytest.mark.parametrize("identity, want", FAST, ids=[f"{i.name}-{w}" for i, w in FAST])
def test_no_mutant_of_a_reference_identity_holds(identity, want):
    assert run_case(identity, want) >= 1


@pytest.mark.exhaustive
@pytest.mark.parametrize("identity, want", CASES, ids=[f"{i.name}-{w}" for i, w in CASES])
def test_no_mutant_of_any_reference_identity_holds(identity, want):
    assert run_case(identity, want) >= 1


def test_the_latex_of_a_product_is_juxtaposition():
    assert latex_of(ast.parse("A @ (X - B)", mode="eval")) == "A(X - B)"
    assert latex_of(ast.parse("2 * (b @ (s - x.T @ b))", mode="eval")) == "2 (b(s - x^T b))"
