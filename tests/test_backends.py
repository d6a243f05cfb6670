"""The JAX and PyTorch backends against the frameworks themselves, over every model file.

For each model file: the JAX kernel's gradients (its jitted loss-and-gradients function and its
custom_vjp) equal ``jax.grad`` of the generated forward pass (plain ``jax.numpy``, differentiated by
JAX); the PyTorch kernel's (its checked function and its autograd Function) equal ``torch.autograd``
through the generated forward pass (plain torch ops), and ``torch.autograd.gradcheck`` passes on the
Function in float64. Norm-wise tolerances. Skipped when the framework is not installed (CI installs
the ``backends`` extra). Also: the planner's NumPy dialect is covered by each table, bad backend
names are one line, and asking for a gradient the model does not derive raises instead of a zero.
The framework tests are in the exhaustive tier: .ci/run installs the extra before that tier.
"""

import re

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli
from jacobian_sym.documents import model_files
from jacobian_sym.kernels.backends import BACKENDS, BackendError, get_backend
from jacobian_sym.kernels.generate import plan
from jacobian_sym.kernels.timing import random_arrays
from jacobian_sym.ops.table import OPS

MODELS = model_files()
#: model files with int inputs (labels, token ids): their kernels are NumPy's only, the other engines
#: refuse them in one line (tests/test_labels.py)
INT_INPUTS = {"bag_of_embeddings", "softmax_labels"}
FLOAT_MODELS = [p for p in MODELS if p.stem not in INT_INPUTS]
_BACKPROPS: dict = {}


def _backprop(path):
    if path.stem not in _BACKPROPS:
        _BACKPROPS[path.stem] = js.backprop(js.Model.from_toml(path))
    return _BACKPROPS[path.stem]


_PLANS: dict = {}


def _plan(path):
    if path.stem not in _PLANS:
        _PLANS[path.stem] = plan(_backprop(path))
    return _PLANS[path.stem]


def _arrays(bp, seed=0):
    """Random float64 arrays for the model's kernel, every size a different small number."""
    f = js.kernel(bp)
    names = sorted({n for dims in f.inputs.values() for d in dims for n in re.findall(r"[A-Za-z_]\w*", d)})
    sizes = {n: 3 + k % 4 for k, n in enumerate(names)}
    return random_arrays(f, sizes, np.random.default_rng(seed))


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def test_a_bad_backend_name_is_one_line():
    with pytest.raises(BackendError, match="unknown backend 'tf': choose one of numpy, jax, torch"):
        get_backend("tf")
    bp = _backprop(MODELS[0])
    with pytest.raises(BackendError):
        js.kernel(bp, backend="Torch")
    result = CliRunner().invoke(cli, ["codegen", str(MODELS[0]), "--backend", "tf"])
    assert result.exit_code == 2 and "unknown backend 'tf'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_every_planner_call_has_an_entry_in_every_table(path):
    """Printing a model for every engine needs no engine: the translation names a missing entry."""
    bp = _backprop(path)
    p = _plan(path)
    for backend in BACKENDS.values():
        if backend.name != "numpy" and path.stem in INT_INPUTS:
            with pytest.raises(BackendError, match="takes float arrays only"):
                backend.source(p, bp.model.title)
            continue
        text = backend.source(p, bp.model.title)
        if backend.name != "numpy":  # past the runtime (which ends with _erf): the translated kernel
            kernel = text[text.index("def _erf("):].split("\n\n\n", 1)[1]
            assert not re.search(r"\bnp\.", kernel), backend.name


_ELEMENTWISE = sorted(name for name, op in OPS.items() if op.function is not None and op.function.form is not None)


@pytest.mark.parametrize("op", _ELEMENTWISE)
def test_every_elementwise_op_has_an_entry_in_every_table(op):
    """Over the op table, so that a new op needs no new test: its lowering and its derivative's,
    printed for every engine, name no NumPy call an engine's table lacks."""
    arg = "1 + square(W @ x)" if "positive" in OPS[op].domains else "W @ x"
    bp = js.backprop(js.Model.parse(f'[inputs]\nx = ["n", 1]\n[params]\nW = ["n", "n"]\n'
                                    f'[forward]\nJ = "sum({op}({arg}))"\n'))
    p = plan(bp)
    for backend in BACKENDS.values():
        text = backend.source(p, op)
        if backend.name != "numpy":
            kernel = text[text.index("def _erf("):].split("\n\n\n", 1)[1]
            assert not re.search(r"\bnp\.", kernel), (backend.name, op)


@pytest.mark.optional
@pytest.mark.exhaustive  # (2–4 min with both engines: CI runs them after installing the backends extra)
@pytest.mark.parametrize("path", FLOAT_MODELS, ids=[p.stem for p in FLOAT_MODELS])
def test_jax_kernel_equals_jax_grad_of_its_forward(path):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    bp = _backprop(path)
    if _refused_as_symmetric(bp, "jax"):
        return
    f = js.kernel(bp, backend="jax")  # (built: audited and self-checked, both doors)
    m, name = f.module, f.name
    arrays = _arrays(bp)
    names = list(m.SPEC)
    wrt = [names.index(g) for g in m.GRADIENTS if g in names]
    with jax.enable_x64(True):
        args = [jnp.asarray(arrays[n]) for n in names]
        forward = getattr(m, f"_{name}_forward")
        want = jax.grad(lambda *a: jnp.sum(forward(*a)[0]), argnums=tuple(wrt))(*args)
        out = getattr(m, f"{name}_loss_and_grads")(*args)
        vjp = jax.grad(lambda *a: jnp.sum(getattr(m, f"{name}_loss")(*a)), argnums=tuple(wrt))(*args)
        checked = f(**{n: a for n, a in zip(names, args)})
        assert float(checked["J"]) == pytest.approx(float(out["J"]), rel=1e-12)
        assert _rel(out["J"], jax.jit(lambda *a: forward(*a)[0])(*args)) < 1e-12
    for k, w, v in zip(wrt, want, vjp):
        assert _rel(out[names[k]], w) < 1e-10, names[k]
        assert _rel(v, w) < 1e-10, names[k]


def _refused_as_symmetric(bp, backend):
    """A model with a symmetric array is refused by the autodiff engines' doors, in one line (its gradient
    is by the free entries, not a VJP of an unconstrained input): True when it is and was."""
    if not any(n.attr("symmetric") for n in bp.model.variables.values()):
        return False
    with pytest.raises(js.KernelError, match="takes no symmetric array") as err:
        js.kernel(bp, backend=backend)
    assert "\n" not in str(err.value)
    return True


def _torch_inputs(torch, arrays, gradients, dtype=None):
    return {k: torch.tensor(v, dtype=dtype or torch.float64).requires_grad_(k in gradients)
            for k, v in arrays.items()}


@pytest.mark.optional
@pytest.mark.exhaustive  # (2–4 min with both engines: CI runs them after installing the backends extra)
@pytest.mark.parametrize("path", FLOAT_MODELS, ids=[p.stem for p in FLOAT_MODELS])
def test_torch_kernel_equals_torch_autograd_and_passes_gradcheck(path):
    torch = pytest.importorskip("torch")
    bp = _backprop(path)
    if _refused_as_symmetric(bp, "torch"):
        return
    f = js.kernel(bp, backend="torch")
    m, name = f.module, f.name
    arrays = _arrays(bp)
    names = list(m.SPEC)
    grads = [g for g in m.GRADIENTS if g in names]
    # autograd through the forward pass written with plain torch ops
    t = _torch_inputs(torch, arrays, grads)
    loss = getattr(m, f"_{name}_forward")(*(t[n] for n in names))[0].sum()
    want = dict(zip(grads, torch.autograd.grad(loss, [t[g] for g in grads])))
    # the derived backward, through the autograd Function
    t2 = _torch_inputs(torch, arrays, grads)
    got = getattr(m, f"{m.CLASS}Function").apply(*(t2[n] for n in names))
    got.sum().backward()
    out = f(**{n: torch.tensor(a) for n, a in arrays.items()})
    assert float(got.sum()) == pytest.approx(float(loss), rel=1e-12)
    for g in grads:
        assert _rel(t2[g].grad, want[g]) < 1e-10, g
        assert _rel(out[g], want[g]) < 1e-10, g
    t3 = _torch_inputs(torch, arrays, grads)
    assert torch.autograd.gradcheck(lambda *a: getattr(m, f"{m.CLASS}Function").apply(*a).sum(),
                                    tuple(t3[n] for n in names), eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.optional
@pytest.mark.exhaustive  # (2–4 min with both engines: CI runs them after installing the backends extra)
def test_torch_kernel_keeps_float32_and_checks_tensors():
    torch = pytest.importorskip("torch")
    path = next(p for p in MODELS if p.stem == "one_layer")
    bp = _backprop(path)
    f = js.kernel(bp, backend="torch")
    arrays = {k: torch.tensor(v, dtype=torch.float32) for k, v in _arrays(bp).items()}
    out = f(**arrays)
    assert all(v.dtype == torch.float32 for v in out.values())
    with pytest.raises(js.KernelInputError, match="must be a torch.Tensor"):
        f(**{**arrays, "W": arrays["W"].numpy()})
    with pytest.raises(js.KernelInputError, match="has shape"):
        f(**{**arrays, "W": arrays["W"][:, :-1]})
    with pytest.raises(js.KernelInputError, match="one-hot"):
        f(**{**arrays, "y": arrays["y"] * 2})
    # the data y is not differentiated by the model: asking for its gradient is refused, not zero
    t = {k: v.clone().requires_grad_(k == "y") for k, v in arrays.items()}
    with pytest.raises(ValueError, match="derives no gradient for y"):
        getattr(f.module, f"{f.module.CLASS}Function").apply(*(t[n] for n in f.module.SPEC))


@pytest.mark.optional
@pytest.mark.exhaustive  # (2–4 min with both engines: CI runs them after installing the backends extra)
def test_jax_custom_vjp_refuses_a_gradient_it_does_not_derive():
    jax = pytest.importorskip("jax")
    path = next(p for p in MODELS if p.stem == "one_layer")
    bp = _backprop(path)
    f = js.kernel(bp, backend="jax")
    m = f.module
    arrays = _arrays(bp)
    args = [jax.numpy.asarray(arrays[n], dtype="float32") for n in m.SPEC]
    y = list(m.SPEC).index("y")
    with pytest.raises(ValueError, match="derives no gradient for y"):
        jax.grad(getattr(m, f"{f.name}_loss"), argnums=y)(*args)
    with pytest.raises(js.KernelInputError, match="must be 2-D"):
        f(**{**dict(zip(m.SPEC, args)), "W": args[2][0]})


#: a loss (Σ W x)² mixes the examples of a batch (it is not the sum of one-example losses)
SQUARED_SUM = '''[inputs]
x = ["n", 1]
[params]
W = ["n", "n"]
[forward]
s = "sum(W @ x)"
J = "s * s"
'''


@pytest.mark.optional
@pytest.mark.exhaustive
def test_jax_refuses_float64_while_its_64_bit_mode_is_off():
    """JAX with x64 off would compute float64 input in float32 without a word: the checked door says
    so and names the switch; with x64 on the same arrays go through, in float64."""
    jax = pytest.importorskip("jax")
    bp = _backprop(next(p for p in MODELS if p.stem == "one_layer"))
    f = js.kernel(bp, backend="jax")
    arrays = _arrays(bp)
    assert not jax.config.jax_enable_x64
    with pytest.raises(js.KernelInputError, match=r'dtype float64, .*jax\.config\.update\("jax_enable_x64", True\)'):
        f(**arrays)
    assert sorted(f(**{k: v.astype(np.float32) for k, v in arrays.items()})) == ["J", *sorted(f.module.GRADIENTS)]
    with jax.enable_x64(True):
        out = f(**arrays)
        assert out["W"].dtype == np.float64
    assert _rel(out["W"], js.kernel(bp)(**arrays)["W"]) < 1e-12


@pytest.mark.optional
@pytest.mark.exhaustive
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_a_one_example_kernel_refuses_a_batch_with_the_reason(backend):
    """The same refusal, in the same words, as the NumPy kernel's; one example still goes through."""
    engine = pytest.importorskip(backend)
    bp = js.backprop(js.Model.parse(SQUARED_SUM, source="squared_sum.toml"))
    rng = np.random.default_rng(0)
    batch = dict(x=rng.normal(size=(3, 4)), W=rng.normal(size=(3, 3)))
    with pytest.raises(js.KernelInputError) as numpy_refusal:
        js.kernel(bp)(**batch)
    assert "no batch" in str(numpy_refusal.value)
    to = (lambda a: engine.numpy.asarray(a, dtype="float32")) if backend == "jax" else (lambda a: engine.tensor(a))
    f = js.kernel(bp, backend=backend)
    with pytest.raises(js.KernelInputError) as refusal:
        f(**{k: to(v) for k, v in batch.items()})
    assert str(refusal.value) == str(numpy_refusal.value)
    one = {k: v[:, :1] if k == "x" else v for k, v in batch.items()}
    assert _rel(np.asarray(f(**{k: to(v) for k, v in one.items()})["W"]), js.kernel(bp)(**one)["W"]) < 1e-5


WEIGHT_NORM = """title = "A weight-normalised layer: X (g V / norm(V)), then a squared error"
[inputs]
X = ["T", "d"]
Y = ["T", "m"]
[params]
V = ["d", "m"]
g = [1, 1]
[forward]
W = "g * V / norm(V)"
out = "X @ W"
J = "mse(Y, out)"
"""


def _subexpressions(lines):
    import ast

    from jacobian_sym.kernels.common import _worth_a_line

    out = []
    for line in lines:
        out += [ast.dump(n) for n in ast.walk(ast.parse(line.strip()).body[0].value) if _worth_a_line(n)]
    return out


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_no_subexpression_is_computed_twice(path):
    """Operation count: every call and arithmetic operation of a kernel's plan appears once (the
    planner's last pass, kernels/common.py); all backends print that plan."""
    p = _plan(path)
    found = _subexpressions([*p.forward, *p.backward])
    assert len(found) == len(set(found))


def test_the_weight_normalised_layer_takes_its_norm_and_x_v_once():
    """The norm ‖V‖ and the product X V are read by both gradients and by ∂J/∂V three times: one
    line each, in every backend (the NumPy kernel's source counted; the JAX and PyTorch modules print
    the same plan)."""
    bp = js.backprop(js.Model.parse(WEIGHT_NORM))
    p = plan(bp)
    code = "\n".join([*p.forward, *p.backward])
    assert code.count("np.linalg.norm(") == 1
    assert code.count("X @ V") == 1
    # the kernel is right, at two sizes, against the NumPy kernel's own self-check and finite differences
    f = js.kernel(bp)
    for T, d, m in ((3, 4, 5), (6, 8, 10)):
        rng = np.random.default_rng(T)
        a = dict(X=rng.normal(size=(T, d)), Y=rng.normal(size=(T, m)), V=rng.normal(size=(d, m)),
                 g=np.array([[1.3]]))
        assert js.gradcheck(f, a).ok


@pytest.mark.optional
@pytest.mark.exhaustive
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_cli_codegen_writes_a_standalone_module_of_that_engine(backend, tmp_path):
    """`jacobian-sym codegen MODEL --backend B -o FILE`: the file imports the engine only (no SymPy, no
    jacobian_sym) and runs."""
    import subprocess
    import sys

    pytest.importorskip(backend)
    out = tmp_path / f"one_layer_{backend}.py"
    result = CliRunner().invoke(cli, ["codegen", "derivations/one_layer.toml", "--backend", backend, "-o", str(out)])
    assert result.exit_code == 0, result.output
    make = {"jax": "import jax.numpy as xp; t = lambda a: xp.asarray(a, dtype=xp.float32)",
            "torch": "import torch; t = lambda a: torch.tensor(a, dtype=torch.float32)"}[backend]
    code = (f"import sys; sys.modules['sympy'] = None; sys.modules['jacobian_sym'] = None\n"
            f"import numpy as np, one_layer_{backend} as k; {make}\n"
            "r = np.random.default_rng(0); y = np.eye(3)[:, [0, 2]]\n"
            "a = dict(x=r.normal(size=(4, 2)), y=y, W=r.normal(size=(5, 4)), b1=np.zeros((5, 1)),"
            " U=r.normal(size=(3, 5)), b2=np.zeros((3, 1)))\n"
            "o = k.one_layer(**{n: t(v) for n, v in a.items()}); print(sorted(o), tuple(o['W'].shape))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "['J', 'U', 'W', 'b1', 'b2', 'x'] (5, 4)" in run.stdout


def _random_model_texts():
    from test_every_path import model_files as drawn  # the every-path test's random models

    return drawn()


@pytest.mark.optional
@pytest.mark.exhaustive
def test_random_models_of_the_every_path_test_on_jax_and_torch():
    """Random models (the every-path test's strategy): each engine's kernel is built (audited, every
    door self-checked against the pointwise forward) and its gradients equal the engine's autodiff of
    the generated forward."""
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=6, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow])
    @given(text=_random_model_texts(), seed=st.integers(0, 2**16))
    def check(text, seed):
        bp = js.backprop(js.Model.parse(text, source="random.toml"))
        arrays = _arrays(bp, seed)
        ft = js.kernel(bp, backend="torch")
        fj = js.kernel(bp, backend="jax")
        names = list(ft.module.SPEC)
        grads = [g for g in ft.module.GRADIENTS if g in names]
        t = _torch_inputs(torch, arrays, grads)
        loss = getattr(ft.module, f"_{ft.name}_forward")(*(t[n] for n in names))[0].sum()
        want = dict(zip(grads, torch.autograd.grad(loss, [t[g] for g in grads]))) if grads else {}
        out = ft(**{n: torch.tensor(a) for n, a in arrays.items()})
        with jax.enable_x64(True):
            outj = getattr(fj.module, f"{fj.name}_loss_and_grads")(*(jax.numpy.asarray(arrays[n]) for n in names))
        for g in grads:
            assert _rel(out[g], want[g]) < 1e-9, (g, text)
            assert _rel(outj[g], want[g]) < 1e-9, (g, text)

    check()
