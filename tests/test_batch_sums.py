"""A kernel given a batch returns the sum over the examples of the one-example loss and gradients,
or refuses the batch (issue 27, item 1): random models mixing per-example ops with ops that mix the
examples (a norm, a log-sum-exp, a product of sums, xᵀ A x, softmax/sum/mean/var/layer norm along the
batch axis, a parameter term added to a sum over examples) are called on a batch and column by column."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import jacobian_sym as js
from jacobian_sym.errors import BatchError
from jacobian_sym.kernels import codegen
from jacobian_sym.kernels.generate import KernelError
from jacobian_sym.models import batch_sums
from jacobian_sym.ops.table import OPS

ACTIVATIONS = sorted(n for n, op in OPS.items() if op.kind == "elementwise" and OPS[n].domains != ("positive",)
                     and n not in ("log", "exp"))

#: hidden units, {h}: the previous value, {f}: the feature axis, {b}: the batch axis
UNITS = ["{act}({h})", "{act}({h}) - mean({h}, axis={f})", "{h} * rsqrt(var({h}, axis={f}) + 1)",
         "layer_norm({h}, axis={f})", "softmax({h}, axis={f})",
         # mixing the examples
         "{act}({h}) - mean({h}, axis={b})", "softmax({h}, axis={b})", "layer_norm({h}, axis={b})",
         "{h} * rsqrt(var({h}, axis={b}) + 1)", "{h} - sum({h}, axis={b})"]
#: losses of the last value {h} (its width m), {y} a label of the same shape
LOSSES = ["mse({y}, {h})", "sum(square({h}))", "-2 * sum({h})", "cross_entropy({y}, softmax({h}, axis={f}))",
          # mixing the examples
          "norm({h})", "log(sum(exp({h})))", "sum(square({h})) * sum({h})", "sum(mean({h}, axis={b}))",
          "sum(square({h})) + sum(square(V))", "sum({q})", "sum(square({h})) * sum(square(V))"]


@st.composite
def batch_models(draw):
    column = draw(st.booleans())
    f, b = (0, 1) if column else (1, 0)
    shape = (lambda n: [n, 1]) if column else (lambda n: [1, n])
    forward = [("z", "W @ x + c" if column else "x @ W + c")]
    h = "z"
    for k in range(draw(st.integers(0, 2))):
        unit = draw(st.sampled_from(UNITS)).format(act=draw(st.sampled_from(ACTIVATIONS)), h=h, f=f, b=b)
        forward.append((f"h{k}", unit))
        h = f"h{k}"
    quadratic = "{h}.T @ V @ {h}" if column else "{h} @ V @ {h}.T"
    loss = draw(st.sampled_from(LOSSES)).format(h=h, y="y", f=f, b=b, q=quadratic.format(h=h))
    forward.append(("J", loss))
    params = {"W": ["n", "m"] if not column else ["m", "n"], "c": shape("m"), "V": ["m", "m"]}
    if "V" not in loss:
        del params["V"]
    lines = ['title = "batch model"', "[inputs]", f"x = {json.dumps(shape('n'))}"]
    if "y," in loss:
        lines.append(f"y = {json.dumps(shape('m'))}")
    lines += ["[params]", *(f"{k} = {json.dumps(v)}" for k, v in params.items()), "[forward]",
              *(f'{k} = "{v}"' for k, v in forward)]
    return "\n".join(lines) + "\n", column


def _arrays(model, column, batch, rng):
    out = {}
    sizes = {"n": 3, "m": 4}
    for name, node in model.variables.items():
        rows, cols = (sizes.get(str(d), 1) for d in node.shape)
        if name in model.inputs:
            rows, cols = (rows, batch) if column else (batch, cols)
        out[name] = rng.normal(0, 0.7, size=(rows, cols))
    if "y" in out:  # a label: one 1 per example (cross-entropy's y is declared as a plain array here)
        y = np.zeros_like(out["y"])
        if column:
            y[rng.integers(0, y.shape[0], size=batch), np.arange(batch)] = 1
        else:
            y[np.arange(batch), rng.integers(0, y.shape[1], size=batch)] = 1
        out["y"] = y
    return out


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(drawn=batch_models(), seed=st.integers(0, 2**32 - 1))
def test_a_batch_is_the_sum_of_its_examples_or_refused(drawn, seed):
    text, column = drawn
    model = js.Model.parse(text)
    try:
        f = js.kernel(js.backprop(model))
    except js.errors.DerivationError:  # a model the engine refuses (layer norm over one example: 0/0)
        return
    except js.KernelError as err:  # a kernel its self-check refuses (‖elu(z) − z‖ at z > 0: 0/0 where J is flat)
        assert "refusing the generated" in str(err), str(err)
        return
    rng = np.random.default_rng(seed)
    arrays = _arrays(model, column, 3, rng)
    try:
        out = f(**arrays)
    except js.errors.JacobianSymError as err:
        assert "no batch" in str(err) and "one example at a time" in str(err), str(err)
        with pytest.raises(BatchError):
            model.batched("B")
        return
    axis = 1 if column else 0
    ones = [f(**{k: (np.take(v, [e], axis=axis) if k in model.inputs else v) for k, v in arrays.items()})
            for e in range(3)]
    for key in out:
        want = sum(o[key] for o in ones)
        scale = sum(float(np.linalg.norm(o[key])) for o in ones) + 1.0  # (a sum that cancels to ~0)
        assert float(np.linalg.norm(out[key] - want)) <= 1e-9 * scale, (key, text)


@pytest.mark.parametrize("loss", ["norm(W @ x)", "log(sum(exp(W @ x)))", "sum(square(W @ x)) * sum(W @ x)",
                                  "sum(x.T @ V @ x)", "sum(softmax(W @ x, axis=1) * (W @ x))",
                                  "sum(mean(W @ x, axis=1) * (W @ x))", "sum(var(W @ x, axis=1))",
                                  "sum(layer_norm(W @ x, axis=1) * (W @ x))", "sum(mean(W @ x, axis=1))",
                                  "sum(square(W @ x)) + sum(square(V))"])
def test_the_issues_losses_refuse_a_batch_in_one_line(loss):
    params = ("W = ['m', 'n']\n" if "W" in loss else "") + ("V = ['n', 'n']\n" if "V" in loss else "")
    model = js.Model.parse(f"title = 't'\n[inputs]\nx = ['n', 1]\n[params]\n{params}[forward]\nJ = '{loss}'\n")
    with pytest.raises(BatchError, match="mixes the examples"):
        model.batched("B")
    f = js.kernel(js.backprop(model))
    rng = np.random.default_rng(0)
    arrays = {k: rng.normal(size=(3, 1) if k == "x" else tuple(3 if d == "n" else 2 for d in map(str, v.shape)))
              for k, v in model.variables.items()}
    one = f(**arrays)  # one example: the kernel answers
    assert np.isfinite(one["J"])
    arrays["x"] = rng.normal(size=(3, 4))
    with pytest.raises(js.errors.JacobianSymError, match="x has shape \\(3, 4\\).*no batch"):
        f(**arrays)


def test_the_self_check_compares_with_the_examples_one_by_one(monkeypatch):
    """With the structural refusal switched off, the batched kernel of ‖W X‖ is ‖W X‖ over the whole
    batch — a right derivative of the wrong function — and the self-check refuses it."""
    model = js.Model.parse("title = 't'\n[inputs]\nx = ['n', 1]\n[params]\nW = ['m', 'n']\n[forward]\n"
                           "J = 'norm(W @ x)'\n")
    monkeypatch.setattr("jacobian_sym.models.model.mixing_node", lambda m: None)
    with pytest.raises(KernelError, match="loss is"):
        codegen.kernel(js.backprop(model))


def test_a_size_named_B_does_not_merge_with_the_batch():
    model = js.Model.parse("title = 't'\n[inputs]\nx = ['B', 1]\n[params]\nW = ['m', 'B']\n[forward]\n"
                           "J = 'sum(square(W @ x))'\n")
    assert batch_sums.batch_name(model) == "B1"
    with pytest.raises(js.errors.ShapeError, match="already a size"):
        model.batched("B")
    f = js.kernel(js.backprop(model))
    assert f.inputs["x"] == ("B", "B1")
    rng = np.random.default_rng(1)
    W, x = rng.normal(size=(2, 3)), rng.normal(size=(3, 5))
    out = f(W=W, x=x)
    assert _rel(out["J"], sum(f(W=W, x=x[:, k:k + 1])["J"] for k in range(5))) < 1e-12


def test_a_negated_sum_over_examples_keeps_its_batch():
    """−Σ y ∘ log_softmax(U h) is a sum over examples (the regression test_every_path found)."""
    model = js.Model.parse("title = 't'\n[inputs]\nx = ['n', 1]\n[params]\nW = ['m', 'n']\n[forward]\n"
                           "J = '-sum(square(W @ x))'\n")
    assert model.batched("B").batch is not None
