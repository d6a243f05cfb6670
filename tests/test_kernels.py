"""Generated kernels: finite differences, batches, dtypes, stability, bad input, standalone source."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import jacobian_sym as js
from jacobian_sym.documents import model_files
from jacobian_sym.kernels.kernel_printer import KernelPrinter
from jacobian_sym.kernels.numeric import random_inputs
from jacobian_sym.kernels.timing import random_arrays
from jacobian_sym.models.batch_sums import batch_name
from jacobian_sym.proofs.model_proofs import backprop_values

MODELS = model_files()
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def kernels():
    return {p.stem: (js.backprop(js.Model.from_toml(p)),) for p in MODELS}


def _arrays(f, sizes, rng):
    return random_arrays(f, sizes, rng)


def _sizes(f, batch, rng):
    dims = sorted({d for ds in f.inputs.values() for d in ds if not d.isdigit()})
    return {d: (batch if d == "B" else int(rng.integers(2, 7))) for d in dims}


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
@pytest.mark.parametrize("batch", [1, 4])
def test_kernel_agrees_with_finite_differences(path, batch):
    rng = np.random.default_rng(1)
    f = js.kernel(js.backprop(js.Model.from_toml(path)))
    arrays = _arrays(f, _sizes(f, batch, rng), rng)
    check = js.gradcheck(f, arrays)
    assert check.ok, str(check)


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_kernel_agrees_with_the_closed_forms_of_one_example(path):
    """The batched kernel at B = 1 equals the single-example closed forms, evaluated independently."""
    bp = js.backprop(js.Model.from_toml(path))
    f = js.kernel(bp)
    rng = np.random.default_rng(2)
    import sympy as sp

    from jacobian_sym.kernels.numeric import NumericGraph, evaluate

    sizes = {}
    for node in bp.graph.nodes:
        for s in node.shape:
            for sym in getattr(s, "free_symbols", ()):
                sizes.setdefault(sym, sp.Integer(int(rng.integers(2, 6))))
    arrays = random_inputs(bp.graph, sizes, rng)
    numeric = NumericGraph(bp.graph, sizes)
    values = backprop_values(bp, numeric, arrays)
    taken = {k: v for k, v in arrays.items() if k in f.inputs}  # (a constant mask is the kernel's own)
    for name, (axis, _) in getattr(f.module, "LABELS", {}).items():  # int labels: the one-hot's ones, by index
        taken[name] = taken[name].argmax(axis=axis).reshape((1, -1) if axis == 0 else (-1, 1))
    out = f(**taken)
    assert np.isclose(out["J"], numeric.loss(arrays), rtol=1e-10)
    for name, closed in bp.gradients.items():
        want = evaluate(closed, values, sizes)
        assert np.linalg.norm(out[name] - want) <= 1e-10 * max(1.0, np.linalg.norm(want)), name


def test_float32_in_float32_out_and_float64_too():
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/one_layer.toml")))
    rng = np.random.default_rng(3)
    arrays = _arrays(f, {"B": 3, "D_x": 4, "D_h": 5, "N_c": 3}, rng)
    for dtype in (np.float32, np.float64):
        out = f(**{k: v.astype(dtype) for k, v in arrays.items()})
        assert all(np.asarray(v).dtype == dtype for v in out.values())


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_cross_entropy_is_stable_at_large_logits(scale):
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/one_layer.toml")))
    rng = np.random.default_rng(4)
    arrays = _arrays(f, {"B": 2, "D_x": 3, "D_h": 4, "N_c": 3}, rng)
    arrays["b2"] = np.array([[scale], [scale - 1], [scale - 2]])
    out = f(**arrays)
    assert all(np.isfinite(v).all() for v in out.values())


@pytest.mark.parametrize("scale, wrong", [(1000.0, 1), (-1000.0, 2)])
def test_sigmoid_bce_is_stable_at_large_logits(scale, wrong):
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/logistic.toml")))
    arrays = {"x": np.ones((2, 3)), "y": np.array([[1.0, 0.0, 1.0]]), "w": np.zeros((2, 1)),
              "b": np.array([[scale]])}
    out = f(**arrays)
    assert all(np.isfinite(v).all() for v in out.values())
    assert out["J"] == pytest.approx(wrong * abs(scale), rel=1e-3)  # each wrong example costs |logit|


@pytest.mark.parametrize("change, words", [
    ({"W": np.zeros((5, 3))}, "W has shape (5, 3) but x has 4 rows (D_x)"),
    ({"x": np.zeros((4, 2), dtype=np.int64)}, "dtype int64"),
    ({"x": np.full((4, 2), np.nan)}, "non-finite"),
    ({"y": np.full((3, 2), 0.5)}, "one-hot"),
    ({"x": np.zeros(4)}, "2-D"),
    ({"x": None}, "missing array(s): x"),
    ({"q": np.zeros((1, 1))}, "unexpected array(s): q"),
])
def test_bad_input_is_named_before_any_arithmetic(change, words):
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/one_layer.toml")))
    rng = np.random.default_rng(5)
    arrays = _arrays(f, {"B": 2, "D_x": 4, "D_h": 5, "N_c": 3}, rng)
    arrays.update(change)
    with pytest.raises(js.KernelInputError) as err:
        f(**{k: v for k, v in arrays.items() if v is not None})
    assert words in str(err.value)
    assert isinstance(err.value, ValueError)


def test_generated_source_is_deterministic_and_pinned():
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    text = js.codegen(bp)
    assert text == js.codegen(js.backprop(js.Model.from_toml("derivations/one_layer.toml")))
    golden = GOLDEN / "one_layer_kernel.py"
    if os.environ.get("JS_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), "regenerate with JS_UPDATE_GOLDEN=1 after checking the diff"


def test_generated_module_runs_without_sympy(tmp_path):
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    (tmp_path / "kernels.py").write_text(js.codegen(bp))
    script = (
        "import sys; sys.modules['sympy'] = None; sys.modules['jacobian_sym'] = None\n"
        "import numpy as np, kernels\n"
        "rng = np.random.default_rng(0)\n"
        "y = np.zeros((3, 2)); y[0, 0] = y[2, 1] = 1\n"
        "out = kernels.one_layer(x=rng.normal(size=(4, 2)), y=y, W=rng.normal(size=(5, 4)),\n"
        "    b1=np.zeros((5, 1)), U=rng.normal(size=(3, 5)), b2=np.zeros((3, 1)))\n"
        "print(sorted(out))\n"
        "try:\n    kernels.one_layer(x=np.zeros((4, 2)))\nexcept ValueError as e:\n    print('ValueError', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "['J', 'U', 'W', 'b1', 'b2', 'x']" in proc.stdout and "ValueError missing array(s)" in proc.stdout


def test_cli_codegen_and_bench(tmp_path):
    from click.testing import CliRunner

    from jacobian_sym.cli import cli

    out = tmp_path / "kernels.py"
    result = CliRunner().invoke(cli, ["codegen", "derivations/one_layer.toml", "-o", str(out)])
    assert result.exit_code == 0 and "def one_layer(" in out.read_text()
    result = CliRunner().invoke(cli, ["bench", "derivations/logistic.toml", "--size", "D=8", "--calls", "3"])
    assert result.exit_code == 0 and "float32" in result.output and "B=64" in result.output
    result = CliRunner().invoke(cli, ["bench", "derivations/logistic.toml", "--size", "D=eight"])
    assert result.exit_code == 2 and "--size" in result.output


def test_kernels_load_from_memory_concurrently(tmp_path, monkeypatch):
    """Kernels are compiled from memory: concurrent loads cannot race on a file, and nothing is read
    from (or written to) the temporary folder, where anyone could have placed a module."""
    from concurrent.futures import ThreadPoolExecutor

    from jacobian_sym.kernels.codegen import _load

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    f = js.kernel(bp)
    with ThreadPoolExecutor(8) as pool:
        modules = list(pool.map(lambda _: _load(f.source, f.name), range(200)))
    assert all(m.FUNCTION == "one_layer" for m in modules)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_a_wrong_kernel_is_refused(monkeypatch, backend):
    """The self-check is not decoration: a planner that prints a wrong gradient is caught, on every
    engine (each prints the same plan)."""
    from jacobian_sym.kernels.generate import KernelError

    if backend != "numpy":
        pytest.importorskip(backend)
    codegen = sys.modules["jacobian_sym.kernels.codegen"]  # (js.codegen is the function of that name)

    real = codegen.plan

    def wrong(bp, b):
        p = real(bp, b)
        p.backward = [line.replace("_g_W = _mm(delta2, x.T)", "_g_W = 2 * _mm(delta2, x.T)") for line in p.backward]
        return p

    monkeypatch.setattr(codegen, "plan", wrong)
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    with pytest.raises(KernelError, match="gradient for W disagrees"):
        js.kernel(bp, backend=backend)


def test_column_sums_are_taken_after_the_product_the_backward_has():
    """1ᵀ(P ∘ (c Bᵀ C)) = c 1ᵀ((B P) ∘ C), also with a number inside the Hadamard product."""
    import sympy as sp

    from jacobian_sym.kernels.products import column_sums_first

    B, C, P = sp.MatrixSymbol("B", 5, 3), sp.MatrixSymbol("C", 5, 4), sp.MatrixSymbol("P", 3, 4)
    rng = np.random.default_rng(0)
    values = {M: sp.Matrix(rng.normal(size=M.shape)) for M in (B, C, P)}
    for c in (1, sp.Rational(3, 2)):
        before = sp.MatMul(sp.OneMatrix(1, 3), sp.HadamardProduct(P, sp.MatMul(c, B.T, C)))
        after = column_sums_first(before)
        assert after != before and not after.has(sp.Transpose)
        difference = before.subs(values).doit().as_explicit() - after.subs(values).doit().as_explicit()
        assert difference.norm() < 1e-12


def _docstring_of(text: str) -> str:
    function = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_"))
    return ast.get_docstring(function)


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_generated_source_is_tidy(path):
    """No double transpose (it cancels); the docstring speaks of a batch only when an array has one."""
    model = js.Model.from_toml(path)
    text = js.codegen(js.backprop(model))
    assert ".T.T" not in text
    spec = next(n for n in ast.parse(text).body if isinstance(n, ast.Assign) and n.targets[0].id == "SPEC")
    # (the kernel's batch axis: B, or B1 when the model has a size B of its own, batch_norm's B×d)
    batched = batch_name(model) in {d for dims in ast.literal_eval(spec.value).values() for d in dims}
    assert ("over a batch of" in _docstring_of(text)) == batched  # (a model that refuses one says why)


def test_a_batch_is_where_the_model_file_puts_none_on_its_examples():
    """Column vectors (one example) are batched along B; a data matrix X: T×d is taken as declared."""
    one = js.codegen(js.backprop(js.Model.from_toml("derivations/one_layer.toml")))
    glu = js.codegen(js.backprop(js.Model.from_toml("derivations/glu.toml")))
    assert "over a batch of B examples" in _docstring_of(one) and "summed over the batch" in _docstring_of(one)
    assert "batch" not in _docstring_of(glu) and "X: T×d" in _docstring_of(glu)


def test_a_double_transpose_cancels_in_the_printers():
    A, v = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("v", 1, 3)
    printer = KernelPrinter(outputs={}, sizes=set())
    assert printer.doprint(sp.Transpose(sp.Transpose(A))) == "A"
    # A diag(v) of a row v is A * v, broadcast (its values: the layer-norm kernels' gradient checks above)
    assert printer.doprint(sp.MatMul(A, sp.DiagMatrix(v))) == "(A * v)"
