"""The pointwise truth (reverse accumulation in 50-digit arithmetic) against the exact one: SymPy's diff
of the whole explicit loss, evaluated at the same rational point; and the ReLU′(0) = 0 convention at
a point that lands on the kink."""

import numpy as np
import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.ops.functions import explicit
from jacobian_sym.proofs.model_proofs import ExplicitModel
from jacobian_sym.proofs.pointwise import PointwiseModel, differ, random_point

MODELS = ["one_layer", "two_layer_mse", "logistic", "residual"]


@pytest.mark.parametrize("name", MODELS)
def test_pointwise_truth_is_the_exact_derivative_at_the_point(name):
    bp = js.backprop(js.Model.from_toml(f"derivations/{name}.toml"))
    symbols = sorted({s for n in bp.graph.nodes for x in n.shape for s in x.free_symbols}, key=str)
    sizes = {s: sp.Integer((3, 2, 4)[k % 3]) for k, s in enumerate(symbols)}
    exact = ExplicitModel(bp, sizes)
    leaves = random_point(bp.graph, sizes, np.random.default_rng(3))
    for n in bp.graph.nodes:  # the exact model's labels are fixed: the point takes them over
        if n.is_leaf and n.attr("one_hot"):
            leaves[n.name] = exact.env[n.name]
    point = PointwiseModel(bp, sizes, leaves)
    at = {s: v for leaf, m in leaves.items() for s, v in zip(exact.env[leaf], m) if isinstance(s, sp.Symbol)}
    for wrt in bp.gradients:
        truth = exact.truth(wrt).applyfunc(lambda e: sp.N(explicit(e).xreplace(at), 50))
        assert not differ(point.truth(wrt), truth), wrt


def test_relu_derivative_is_zero_on_the_kink():
    W, x = js.matrix("W", 2, 2), js.vector("x", 2)
    bp = js.backprop(js.Model.build(js.sum(js.relu(W @ x)), title="kink"))
    leaves = {"W": sp.Matrix([[1, -1], [1, 1]]), "x": sp.Matrix([[2], [2]])}  # W x = (0, 4): the first on the kink
    truth = PointwiseModel(bp, {}, leaves).truth("W")
    assert not differ(truth, sp.Matrix([[0, 0], [2, 2]])), truth
