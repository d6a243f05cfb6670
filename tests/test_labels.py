"""Int class labels and embedding lookups (issue 23, part 6): cross_entropy(y, P) with y an int input,
E[ids], against independent NumPy forwards written from the sources' formulas; the label kernel
against the one-hot model's kernel; the range check; refusals."""

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli
from jacobian_sym.errors import LabelRangeError, ParseError
from jacobian_sym.kernels.backends import BACKENDS, BackendError
from jacobian_sym.kernels.generate import plan

SOFTMAX_LABELS = Path("derivations/softmax_labels.toml")
BAG = Path("derivations/bag_of_embeddings.toml")

#: the softmax-regression file with its labels declared one-hot instead (the form the notes use)
SOFTMAX_ONE_HOT = SOFTMAX_LABELS.read_text().replace(
    'y = { shape = ["B", 1], dtype = "int", classes = "C" }', 'y = { shape = ["B", "C"], one_hot = true, axis = 1 }')
BAG_ONE_HOT = BAG.read_text().replace(
    'ids = { shape = ["T", 1], dtype = "int", classes = "V" }', 'O = { shape = ["T", "V"], one_hot = true, axis = 1 }'
).replace(
    'y   = { shape = [1, 1], dtype = "int", classes = "C", axis = 1 }',
    'y = { shape = [1, "C"], one_hot = true, axis = 1 }',
).replace("E[ids]", "O @ E")

#: a token tagger, one label per token: the gradient at E[ids] differs from token to token, so dJ/dE
#: is a scatter of rows (np.add.at), not a count
TAGGER = """title = "Token tagger"
[inputs]
ids = { shape = ["T", 1], dtype = "int", classes = "V" }
y = { shape = ["T", 1], dtype = "int", classes = "C" }
[params]
E = ["V", "d"]
W = ["d", "d"]
U = ["d", "C"]
[forward]
H = "tanh(E[ids] @ W)"
P = "softmax(H @ U, axis=1)"
J = "cross_entropy(y, P)"
[gradients]
wrt = ["E", "W", "U"]
"""


def _log_softmax_rows(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


# ----- independent forwards, from the sources' formulas (loops and plain indexing; no package code) -----
def softmax_regression_loss(X, y, W, b):
    """D2L, softmax-regression-scratch: cross_entropy(y_hat, y) = −log y_hat[range(B), y], summed."""
    logp = _log_softmax_rows(X @ W + b)
    return -sum(logp[i, int(y[i, 0])] for i in range(X.shape[0]))


def bag_loss(ids, y, E, U, c):
    """fastText (Joulin et al. 2017): the mean of the tokens' embeddings, a linear layer, −log softmax."""
    x = sum(E[int(t)] for t in ids[:, 0]) / ids.shape[0]
    logp = _log_softmax_rows((x @ U)[None, :] + c)
    return -logp[0, int(y[0, 0])]


def tagger_loss(ids, y, E, W, U):
    H = np.tanh(np.stack([E[int(t)] for t in ids[:, 0]]) @ W)
    logp = _log_softmax_rows(H @ U)
    return -sum(logp[t, int(y[t, 0])] for t in range(ids.shape[0]))


def central_differences(loss, arrays, name, h=1e-6):
    grad = np.zeros_like(arrays[name])
    for idx in np.ndindex(grad.shape):
        up = {k: v.copy() for k, v in arrays.items()}
        down = {k: v.copy() for k, v in arrays.items()}
        up[name][idx] += h
        down[name][idx] -= h
        grad[idx] = (loss(**up) - loss(**down)) / (2 * h)
    return grad


def _rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / max(np.linalg.norm(b), 1e-300))


def _kernel(text_or_path, source=None):
    model = js.Model.from_toml(text_or_path) if isinstance(text_or_path, Path) else js.Model.parse(text_or_path,
                                                                                                    source=source)
    return js.kernel(js.backprop(model))


@pytest.fixture(scope="module")
def kernels():
    return {"softmax": _kernel(SOFTMAX_LABELS), "bag": _kernel(BAG), "tagger": _kernel(TAGGER, "tagger.toml")}


def _softmax_arrays(rng, B=5, D=3, C=4):
    return {"X": rng.normal(size=(B, D)), "y": rng.integers(0, C, size=(B, 1)),
            "W": rng.normal(size=(D, C)), "b": rng.normal(size=(1, C))}


# ----- against central differences of the independent forwards -----
def test_softmax_regression_with_int_labels_matches_central_differences(kernels):
    rng = np.random.default_rng(1)
    arrays = _softmax_arrays(rng)
    out = kernels["softmax"](**arrays)
    assert out["J"] == pytest.approx(softmax_regression_loss(**arrays), rel=1e-12)
    for name in ("W", "b", "X"):
        assert _rel(out[name], central_differences(softmax_regression_loss, arrays, name)) < 1e-7, name


def test_bag_of_embeddings_matches_central_differences_with_repeated_ids(kernels):
    rng = np.random.default_rng(2)
    V, d, C = 5, 3, 4
    ids = np.array([[1], [3], [1], [1], [0]])  # id 1 three times, id 2 and 4 absent
    arrays = {"ids": ids, "y": np.array([[2]]), "E": rng.normal(size=(V, d)), "U": rng.normal(size=(d, C)),
              "c": rng.normal(size=(1, C))}
    out = kernels["bag"](**arrays)
    assert out["J"] == pytest.approx(bag_loss(**arrays), rel=1e-12)
    for name in ("E", "U", "c"):
        assert _rel(out[name], central_differences(bag_loss, arrays, name)) < 1e-7, name
    assert np.all(out["E"][[2, 4]] == 0)  # no token, no gradient
    # each occurrence of an id adds its share: row 1 is three times row 3 (both see the same signal)
    assert _rel(out["E"][1], 3 * out["E"][3]) < 1e-12


def test_the_embedding_gradient_adds_up_repeated_ids(kernels):
    rng = np.random.default_rng(3)
    V, d, C = 4, 3, 3
    ids = np.array([[2], [0], [2], [2], [1], [0]])
    arrays = {"ids": ids, "y": rng.integers(0, C, size=(6, 1)), "E": rng.normal(size=(V, d)),
              "W": rng.normal(size=(d, d)), "U": rng.normal(size=(d, C))}
    out = kernels["tagger"](**arrays)
    assert out["J"] == pytest.approx(tagger_loss(**arrays), rel=1e-12)
    for name in ("E", "W", "U"):
        assert _rel(out[name], central_differences(tagger_loss, arrays, name)) < 1e-7, name
    assert np.all(out["E"][3] == 0)
    assert "_scatter(" in kernels["tagger"].source  # (np.add.at: the rows of repeated ids add up)


# ----- the label model's kernel is the one-hot model's -----
def _one_hot(labels, classes):
    hot = np.zeros((labels.shape[0], classes))
    hot[np.arange(labels.shape[0]), labels[:, 0]] = 1.0
    return hot


def test_the_label_kernel_equals_the_one_hot_kernel(kernels):
    rng = np.random.default_rng(4)
    one_hot = _kernel(SOFTMAX_ONE_HOT, "softmax_one_hot.toml")
    arrays = _softmax_arrays(rng, B=7, C=5)
    got = kernels["softmax"](**arrays)
    want = one_hot(**{**arrays, "y": _one_hot(arrays["y"], 5)})
    assert set(got) == set(want)
    for k in want:
        assert _rel(got[k], want[k]) < 1e-13, k


def test_the_bag_kernel_equals_its_one_hot_form(kernels):
    rng = np.random.default_rng(5)
    one_hot = _kernel(BAG_ONE_HOT, "bag_one_hot.toml")
    ids = rng.integers(0, 6, size=(8, 1))
    floats = {"E": rng.normal(size=(6, 3)), "U": rng.normal(size=(3, 4)), "c": rng.normal(size=(1, 4))}
    got = kernels["bag"](ids=ids, y=np.array([[3]]), **floats)
    want = one_hot(O=_one_hot(ids, 6), y=_one_hot(np.array([[3]]), 4), **floats)
    for k in want:
        assert _rel(got[k], want[k]) < 1e-13, k


def test_the_same_derivation_reads_the_one_hot_facts():
    """δ = P − onehot(y): the engine's softmax cross-entropy facts apply to the labels' one-hot matrix."""
    labels = js.backprop(js.Model.from_toml(SOFTMAX_LABELS))
    hot = js.backprop(js.Model.parse(SOFTMAX_ONE_HOT, source="softmax_one_hot.toml"))
    assert [str(v) for v in labels.deltas.values()] == ["P - onehot(y)"]  # (printed as the matrix it is)
    assert [str(v).replace("onehot(y)", "y") for v in labels.deltas.values()] == [str(v) for v in hot.deltas.values()]
    assert {k: str(v) for k, v in labels.gradients.items()} == {k: str(v) for k, v in hot.gradients.items()}


@pytest.mark.parametrize("name", ["softmax", "bag", "tagger"])
def test_no_kernel_builds_a_dense_one_hot_matrix(kernels, name):
    f = kernels[name]
    body = f.source[f.source.index(f"def {f.name}("):]
    assert not re.search(r"(?<!\w)_onehot\(", body) and "np.zeros" not in body


def test_float32_stays_float32(kernels):
    rng = np.random.default_rng(6)
    arrays = _softmax_arrays(rng)
    out = kernels["softmax"](**{k: v if k == "y" else v.astype(np.float32) for k, v in arrays.items()})
    assert all(np.asarray(v).dtype == np.float32 for v in out.values())


# ----- the range check -----
@pytest.mark.parametrize("bad, where", [(4, "y[3, 0] = 4"), (-1, "y[3, 0] = -1")])
def test_a_label_out_of_range_is_named_with_its_position(kernels, bad, where):
    arrays = _softmax_arrays(np.random.default_rng(7))
    arrays["y"][3, 0] = bad
    arrays["y"][4, 0] = 9  # (a later bad label: the first is named)
    with pytest.raises(LabelRangeError, match=re.escape(where) + r" is not a class: y holds labels 0 … 3 \(C = 4\)"):
        kernels["softmax"](**arrays)


def test_an_id_out_of_range_is_named(kernels):
    rng = np.random.default_rng(8)
    arrays = {"ids": np.array([[0], [5]]), "y": np.array([[0]]), "E": rng.normal(size=(5, 2)),
              "U": rng.normal(size=(2, 3)), "c": rng.normal(size=(1, 3))}
    with pytest.raises(LabelRangeError, match=r"ids\[1, 0\] = 5 is not a class: ids holds labels 0 … 4 \(V = 5\)"):
        kernels["bag"](**arrays)


def test_float_labels_and_wrong_sizes_are_input_errors(kernels):
    arrays = _softmax_arrays(np.random.default_rng(9))
    with pytest.raises(js.KernelInputError, match="y holds class indices: pass an int array, not float64"):
        kernels["softmax"](**{**arrays, "y": arrays["y"].astype(float)})
    with pytest.raises(js.KernelInputError, match=r"y has shape \(4, 1\) but X has 5 rows \(B\)"):
        kernels["softmax"](**{**arrays, "y": arrays["y"][:4]})


# ----- model files: declarations and refusals -----
BASE = """[inputs]
X = ["B", "D"]
{decl}
[params]
W = ["D", "C"]
[forward]
J = "{line}"
"""


@pytest.mark.parametrize("decl, line, message", [
    ('y = { shape = ["B", 1], dtype = "float", classes = "C" }', "cross_entropy(y, softmax(X @ W, axis=1))",
     r"m\.toml:3: y: dtype = 'float'; an input may be declared dtype = \"int\""),
    ('y = { shape = ["B", 1], dtype = "int" }', "cross_entropy(y, softmax(X @ W, axis=1))",
     r"m\.toml:3: y: an int input names its number of classes"),
    ('y = { shape = ["B", "C"], dtype = "int", classes = "C" }', "cross_entropy(y, softmax(X @ W, axis=1))",
     r"m\.toml:3: y: int labels are a column \(n×1\) or a row \(1×n\)"),
    ('y = { shape = ["B", 1], dtype = "int", classes = "K" }', "cross_entropy(y, softmax(X @ W, axis=1))",
     r"m\.toml:7:\d+: cross_entropy: shapes B×K and B×C differ"),
    ('y = { shape = ["B", 1], dtype = "int", classes = "C" }', "sum(W[X])",
     r"m\.toml:7:\d+: E\[ids\] takes an int input as the index"),
    ('y = { shape = ["B", 1], dtype = "int", classes = "C" }', "sum(onehot(y, D))",
     r"m\.toml:7:\d+: onehot\(y, D\): y is declared with C classes"),
    ('ids = { shape = ["B", 1], dtype = "int", classes = "V" }', "sum(W[ids])",
     r"m\.toml:7:\d+: ids indexes V rows but the table has D \(D×C\)"),
])
def test_bad_declarations_and_uses_are_one_line_parse_errors(decl, line, message):
    with pytest.raises(ParseError, match=message):
        js.Model.parse(BASE.format(decl=decl, line=line), source="m.toml")


def test_onehot_written_out_is_the_same_model():
    text = SOFTMAX_LABELS.read_text().replace('"cross_entropy(y, P)"', '"cross_entropy(onehot(y, C), P)"')
    written = js.backprop(js.Model.parse(text, source="softmax_labels.toml"))
    assert {k: str(v) for k, v in written.gradients.items()} == \
        {k: str(v) for k, v in js.backprop(js.Model.from_toml(SOFTMAX_LABELS)).gradients.items()}


def test_the_cli_refuses_a_bad_int_input_with_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BASE.format(decl='y = { shape = ["B", 1], dtype = "int", classes = "C" }', line="sum(W[X])"))
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2 and "E[ids] takes an int input" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_jax_and_torch_refuse_int_inputs_in_one_line(backend):
    bp = js.backprop(js.Model.from_toml(BAG))
    with pytest.raises(BackendError, match=r"backend takes float arrays only, and ids, y are int inputs"):
        BACKENDS[backend].source(plan(bp), bp.model.title)


# ----- claims: onehot(y) is written as a model file writes it -----
def test_a_claim_may_write_onehot_of_a_label_input():
    runner = CliRunner()
    holds = runner.invoke(cli, ["check", str(SOFTMAX_LABELS), "--wrt", "W", "--claim", "X.T @ (P - onehot(y))"])
    assert holds.exit_code == 0 and holds.output.startswith("holds")
    wrong = runner.invoke(cli, ["check", str(SOFTMAX_LABELS), "--wrt", "W", "--claim", "X.T @ (onehot(y) - P)"])
    assert wrong.exit_code == 1 and wrong.output.startswith("does not hold")
    bad = runner.invoke(cli, ["check", str(SOFTMAX_LABELS), "--wrt", "W", "--claim", "X.T @ (P - onehot(X))"])
    assert bad.exit_code == 2 and "onehot takes an int label input" in bad.output and "Traceback" not in bad.output


# ----- one example per call in the file, a batch in the kernel: both conventions -----
COLUMN = """[inputs]
x = ["D", 1]
y = { shape = [1, 1], dtype = "int", classes = "C" }
[params]
W = ["C", "D"]
[forward]
p = "softmax(W @ x)"
J = "cross_entropy(y, p)"
"""


def column_loss(x, y, W):
    """The notes' §3 loss summed over the columns of a batch: −Σ_k log softmax(W x_k)[y_k]."""
    logp = _log_softmax_rows((W @ x).T)
    return -sum(logp[k, int(y[0, k])] for k in range(x.shape[1]))


def test_one_label_per_example_is_a_row_of_labels_over_a_batch_of_columns():
    f = _kernel(COLUMN, "column.toml")
    assert f.inputs == {"x": ("D", "B"), "y": ("1", "B"), "W": ("C", "D")}
    rng = np.random.default_rng(10)
    arrays = {"x": rng.normal(size=(3, 4)), "y": np.array([[0, 4, 1, 4]]), "W": rng.normal(size=(5, 3))}
    out = f(**arrays)
    assert out["J"] == pytest.approx(column_loss(**arrays), rel=1e-12)
    assert _rel(out["W"], central_differences(column_loss, arrays, "W")) < 1e-7
