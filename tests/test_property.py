"""Random models composed from the op table, checked against central finite differences."""

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jacobian_sym as js
from jacobian_sym.backprop import backprop
from jacobian_sym.model import Model
from jacobian_sym.model_proofs import model_fd_check
from jacobian_sym.ops import OPS

ACTIVATIONS = sorted(n for n, op in OPS.items()
                     if op.kind == "elementwise" and op.function.form is not None and n not in ("log", "exp"))
LOSSES = ["mse", "cross_entropy", "sum", "binary_cross_entropy"]


@st.composite
def models(draw):
    depth = draw(st.integers(1, 3))
    sizes = ["n0"]
    for k in range(depth):  # a layer may keep an earlier width, which allows a residual connection
        sizes.append(draw(st.sampled_from([*sorted(set(sizes)), f"n{k + 1}"])))
    x = js.vector("x", sizes[0])
    h, params = x, []
    for k in range(depth):
        W = js.matrix(f"W{k}", sizes[k + 1], sizes[k])
        b = js.matrix(f"b{k}", sizes[k + 1], 1)
        params += [W.name, b.name]
        z = (W @ h + b).named(f"z{k}")
        act = draw(st.sampled_from(ACTIVATIONS))
        a = js.apply(act, z).named(f"h{k}")
        if draw(st.booleans()) and sizes[k + 1] == sizes[k]:
            a = (a + h).named(f"r{k}")  # a residual connection
        elif draw(st.booleans()):
            a = (a * z).named(f"g{k}")  # a gated (Hadamard) unit: z used twice
        h = a
    loss = draw(st.sampled_from(LOSSES))
    n_out = sizes[-1]
    if loss == "mse":
        J = js.mse(js.vector("y", n_out), h)
    elif loss == "cross_entropy":
        J = js.cross_entropy(js.vector("y", n_out, one_hot=True), js.softmax(h).named("yhat"))
    elif loss == "binary_cross_entropy":
        J = js.binary_cross_entropy(js.vector("y", n_out), js.sigmoid(h).named("p"))
    else:
        J = js.sum(h)
    wrt = params + ["x"]
    values = {sp.Symbol(s, integer=True, positive=True): sp.Integer(draw(st.integers(2, 7)))
              for s in sorted(set(sizes))}
    return Model.build(J.named("J"), wrt), values


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.integers(0, 2**32 - 1))
def test_random_models_agree_with_finite_differences(case, seed):
    model, sizes = case
    bp = backprop(model)
    checks = model_fd_check(bp, sizes, np.random.default_rng(seed))
    assert checks and all(c.ok for c in checks), "\n".join(map(str, checks))


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.integers(0, 2**32 - 1))
def test_random_models_kernels_pass_gradcheck(case, seed):
    from jacobian_sym.numeric import random_inputs

    model, sizes = case
    f = js.kernel(backprop(model))
    rng = np.random.default_rng(seed)
    batch = {sp.Symbol("B", integer=True, positive=True): sp.Integer(3), **sizes}
    arrays = random_inputs(backprop(model.batched("B")).graph, batch, rng)
    check = js.gradcheck(f, arrays)
    assert check.ok, str(check)
