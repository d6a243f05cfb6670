"""No false claim holds on the model files and the notes' identities either.

The true claims are a textbook's (``references/model_claims.py``): each is first shown right by
NumPy — the claim language evaluated at random values (``mutants.py``) against central differences of
the independent forward (``oracle.py``): ∂J/∂v for a gradient, ∂J/∂node for an error signal, and
∂ vec z/∂ vec x for a Jacobian — then must hold; then every mutant that NumPy shows false (the sign of
a term, a dropped or doubled term, a transposed factor or result, swapped factors, a swapped variable
of the same shape, ×2, ×½, the LaTeX juxtaposition) is checked, and none may hold.
"""

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import oracle
import pytest
import sympy as sp
from mutants import NotClaim, evaluate, latex_of, mutants

import jacobian_sym as js
from jacobian_sym.kernels.numeric import random_inputs
from jacobian_sym.notes.identities import IDENTITIES

sys.path.insert(0, str(Path(__file__).parent / "references"))
from model_claims import IDENTITY_CLAIMS, MODEL_CLAIMS  # noqa: E402

ROOT = Path(__file__).parent.parent
MODEL_FILES = {p.name: p for p in [*ROOT.glob("derivations/*.toml"), *ROOT.glob("benchmarks/models/*.toml")]
               if not p.name.endswith(".context.toml")}
#: two size assignments, cycled over a target's size names in order
SIZE_SETS = ((3, 2, 4, 5, 3, 2), (4, 3, 2, 3, 5, 4))


def _sizes(symbols, k):
    return {s: sp.Integer(SIZE_SETS[k][j % 6]) for j, s in enumerate(sorted(symbols, key=lambda s: s.name))}


def _concrete(shape, sizes):
    return tuple(int(sp.S(d).subs(sizes)) for d in shape)


def _in_layout(value, shape):
    """The numeric truth arranged as the target's form is (the notes' layout makes ∂J/∂θ of a column a row)."""
    if value.shape != shape and value.T.shape == shape:
        return value.T
    return value


@dataclass(frozen=True)
class Target:
    """A model file or an identity: what js.check is given, and the NumPy truth at a size set."""

    label: str

    @functools.cached_property
    def checked(self):
        if self.label in MODEL_FILES:
            return js.backprop(js.Model.from_toml(MODEL_FILES[self.label]))
        return js.derive(self.label)

    @functools.cache  # noqa: B019 (a handful of targets, alive for the session)
    def numeric(self, k: int):
        """(env, truth by wrt) at size set k: the values a claim may name and each derivative."""
        rng = np.random.default_rng(11 + k)
        if self.label in MODEL_FILES:
            return self._model_numeric(k, rng)
        return self._identity_numeric(k, rng)

    def _model_numeric(self, k, rng):
        bp = self.checked
        root = bp.model.loss
        sizes = _sizes({s for n in bp.graph.nodes for d in n.shape for s in sp.S(d).free_symbols}, k)
        arrays = random_inputs(bp.graph, sizes, rng)
        env = oracle.named_values(root, arrays)
        truth = {}
        for name in bp.gradients:
            truth[name] = _in_layout(oracle.gradient(root, arrays, name), _concrete(bp.gradients[name].shape, sizes))
        for name, node in bp.delta_nodes.items():
            if node.name:  # ∂J/∂node with the node's value held as an input
                value = oracle.gradient(root, {**arrays, node.name: env[node.name]}, node.name)
                value = _in_layout(value, _concrete(bp.deltas[name].shape, sizes))
                for alias in (name, name.replace("_", "")):
                    truth[alias] = env[alias] = value
        return {**{str(s): int(v) for s, v in sizes.items() if str(s) not in env}, **env}, truth

    def _identity_numeric(self, k, rng):
        derivation = self.checked
        expression, variable = IDENTITIES[self.label].build()
        upstream = derivation.upstream
        symbols = {s for n in expression.walk() for d in n.shape for s in sp.S(d).free_symbols}
        if upstream is not None:
            symbols |= {s for d in upstream.shape for s in sp.S(d).free_symbols}
        sizes = _sizes(symbols, k)
        arrays = random_inputs(derivation.graph, sizes, rng)
        env = oracle.named_values(expression, arrays)
        shape = _concrete(derivation.closed_form.shape, sizes)
        if expression.shape == (1, 1):
            value = oracle.gradient(expression, arrays, variable.name)
        else:
            value = oracle.jacobian(expression, arrays, variable.name)
            if upstream is not None:  # J = δ z: the vector–Jacobian product
                env[upstream.name] = rng.normal(size=_concrete(upstream.shape, sizes))
                value = (env[upstream.name].reshape(-1) @ value).reshape(arrays[variable.name].shape)
        truth = {variable.name: _in_layout(value, shape)}
        return {**{str(s): int(v) for s, v in sizes.items() if str(s) not in env}, **env}, truth

    def shapes(self):
        """Symbolic shapes of the names a claim may use (for swapping a variable of the same shape)."""
        env, _ = self.numeric(0)
        return {name: np.shape(v) for name, v in env.items() if np.ndim(v) == 2}


def numerically_false(target: Target, wrt: str, claim: str) -> bool | None:
    """Whether NumPy shows ``claim`` differs from the truth; None when it does not evaluate."""
    tree = ast.parse(claim, mode="eval")
    for k in range(len(SIZE_SETS)):
        env, truth = target.numeric(k)
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(evaluate(tree, env), dtype=float)
        except (NotClaim, KeyError, ValueError, TypeError):
            return None
        want = truth[wrt]
        if got.shape != want.shape or not np.isfinite(got).all():
            return True
        if np.linalg.norm(got - want) > 1e-6 * max(1.0, np.linalg.norm(want)):
            return True
    return False


TARGETS = {label: Target(label) for label in [*MODEL_CLAIMS, *IDENTITY_CLAIMS]}
CASES = [(TARGETS[label], wrt, claim) for label, claims in {**MODEL_CLAIMS, **IDENTITY_CLAIMS}.items()
         for wrt, claim in claims]
#: the quick tier: the notes' identities and their network; the exhaustive tier: every model file
QUICK = [c for c in CASES if c[0].label not in MODEL_FILES or c[0].label == "one_layer.toml"]


def run_case(target, wrt, claim):
    assert numerically_false(target, wrt, claim) is False, f"the reference claim {claim} must be right"
    truth = js.check(target.checked, wrt, claim)
    assert truth.ok is True, f"{target.label}: the true claim {claim} did not hold: {truth.reason}"
    forms = [(m, m) for m in mutants(claim, target.shapes())]
    forms += [(m, latex_of(ast.parse(m, mode="eval"))) for m, _ in list(forms)]
    tried = 0
    for python_form, written in forms:
        if written is None or numerically_false(target, wrt, python_form) is not True:
            continue
        try:
            verdict = js.check(target.checked, wrt, written)
        except js.JacobianSymError:  # refused (a shape that does not fit): not a certificate
            continue
        tried += 1
        assert verdict.ok is not True, f"{target.label}: the false claim {written!r} holds ({verdict.decided})"
    return tried


def _id(case):
    return f"{case[0].label}-{case[1]}-{case[2]}"


@pytest.mark.parametrize("case", QUICK, ids=_id)
def test_no_mutant_of_a_true_claim_about_the_notes_holds(case):
    assert run_case(*case) >= 1


@pytest.mark.exhaustive
@pytest.mark.parametrize("case", [c for c in CASES if c not in QUICK], ids=_id)
def test_no_mutant_of_a_true_claim_about_a_model_file_holds(case):
    assert run_case(*case) >= 1


def test_every_model_file_has_true_claims():
    assert set(MODEL_CLAIMS) == set(MODEL_FILES)
