"""Slices in forward lines (W[:k, :], P[:, k:2*k], x[:m], G[:, 0:1]) with whole numbers, sizes and sums
or products of sizes as bounds: every slice model derives, is proved, compiles (float32 kept), is
claimable, and its kernel's gradients agree with central differences of the tests' independent forward
(``tests/oracle.py``, which slices by Python's own rules) and, for the fused-QKV attention head, of a
NumPy forward written here from GPT-2's formula. Bad slices get one line with the line and column."""

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from oracle import central_differences, gradient, rel_error

import jacobian_sym as js
from jacobian_sym.cli import cli
from jacobian_sym.documents import model_files
from jacobian_sym.models.batch_sums import model_sizes
from jacobian_sym.render.printers import latex, plain

#: each slice model, and the concrete sizes its kernel is run at (non-square, distinct)
MODELS = {
    "two_blocks_of_rows": ('''[inputs]
x = ["n", 1]
[params]
W = ["2*k", "n"]
[forward]
a = "W[:k, :] @ x"
b = "W[k:2*k, :] @ x"
J = "sum(tanh(a) * b)"
[gradients]
wrt = ["W", "a", "b"]
''', {"n": 3, "k": 2}),
    "rows_by_a_sum_of_sizes": ('''[inputs]
x = ["n", 1]
y = ["H", 1]
[params]
W = ["H + D", "n"]
[forward]
h = "sigmoid(W[:H, :] @ x)"
g = "W[H:H + D, :] @ x"
J = "sum(h * y) + sum(tanh(g) * g)"
[gradients]
wrt = ["W", "h", "g"]
''', {"n": 3, "H": 2, "D": 4}),
    "parts_of_an_input_vector": ('''[inputs]
x = ["m + n", 1]
[params]
W = ["k", "n"]
[forward]
z = "W @ x[m:m + n]"
J = "sum(square(tanh(z))) + sum(x[:m] * x[:m])"
[gradients]
wrt = ["W", "x", "z"]
''', {"m": 2, "n": 3, "k": 4}),
    "one_column_of_a_parameter": ('''[inputs]
X = ["T", "d"]
[params]
G = ["d", "c + 1"]
[forward]
s = "X @ G[:, 0:1]"
t = "X @ G[:, 1:c + 1]"
J = "sum(exp(s) * t)"
[gradients]
wrt = ["G", "s", "t"]
''', {"T": 3, "d": 2, "c": 4}),
}


def _slice_model_files():
    """Every model file of derivations/ with a slice in it, at distinct sizes 2, 3, 4, … in name order."""
    for path in model_files():
        model = js.Model.from_toml(path)
        if any(n.op == "slice" for n in model.loss.walk()):
            sizes = sorted(str(s) for s in model_sizes(model) if s.is_Symbol)
            yield path.stem, (str(path), {s: 2 + k for k, s in enumerate(sizes)})


MODELS.update(_slice_model_files())


def _model(name):
    text, _ = MODELS[name]
    return js.Model.from_toml(text) if text.endswith(".toml") else js.Model.parse(text, source=f"{name}.toml")


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request):
    model = _model(request.param)
    return request.param, model, js.backprop(model)


def _arrays(model, sizes, seed=0):
    rng = np.random.default_rng(seed)
    symbols = {sp.Symbol(k, integer=True, positive=True): v for k, v in sizes.items()}
    shape = lambda node: tuple(int(sp.sympify(d).xreplace(symbols)) for d in node.shape)  # noqa: E731
    return {name: rng.normal(size=shape(node)) / 2 for name, node in model.variables.items()}


def test_the_kernel_agrees_with_central_differences_of_the_independent_forward(case):
    name, model, bp = case
    arrays = _arrays(model, MODELS[name][1])
    out = js.kernel(bp)(**arrays)
    for w in model.wrt:
        if w not in model.variables:
            continue
        want = gradient(model.loss, arrays, w)
        assert rel_error(out[w], want) < 1e-8, (name, w)


def test_every_gradient_is_proved(case):
    name, _, bp = case
    assert js.verify(bp).ok, name


def test_float32_stays_float32(case):
    name, model, bp = case
    arrays = {k: v.astype(np.float32) for k, v in _arrays(model, MODELS[name][1], seed=1).items()}
    out = js.kernel(bp)(**arrays)
    assert all(v.dtype == np.float32 for v in out.values()), {k: v.dtype for k, v in out.items()}


def test_claims_about_the_sliced_lines_hold_as_printed_and_a_wrong_one_is_refused(case):
    """Each gradient's printed form, pasted back as a claim, holds, and the same form negated does not.
    A form the claim reader cannot read yet (blocks [0; G], sum(…) beside a vector) is one ClaimError
    line, not a guess; every model has at least one gradient decided this way."""
    name, model, bp = case
    decided = 0
    for w, form in bp.gradients.items():
        text = plain(form)
        try:
            verdict = js.check(bp, wrt=w, claim=text)
        except js.ClaimError as err:
            assert "\n" not in str(err)
            continue
        assert verdict.ok is True, (name, w, text, verdict.reason)
        assert js.check(bp, wrt=w, claim=f"-({text})").ok is False, (name, w, text)
        decided += 1
    assert decided >= 1, name


def test_a_sliced_parameters_gradient_is_its_signals_in_their_blocks():
    bp = js.backprop(_model("two_blocks_of_rows"))
    assert plain(bp.gradients["W"]) == "[δ₁ᵀ xᵀ; tanh(a) xᵀ]"  # (its values: the tests above)
    assert r"\left[\begin{matrix}" in latex(bp.gradients["W"])


# ----- the fused-QKV head against GPT-2's formula -----
def _gpt2_head(X, Y, Wqkv):
    """nanoGPT's CausalSelfAttention for one head without a mask: q, k, v = (x Wqkv).split(k);
    att = softmax(q kᵀ / √k); y = att v — then ½‖y − Y‖²."""
    k = Wqkv.shape[1] // 3
    q, kk, v = np.split(X @ Wqkv, 3, axis=1)
    s = q @ kk.T / np.sqrt(k)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return 0.5 * np.sum((e / e.sum(axis=1, keepdims=True) @ v - Y) ** 2)


@pytest.mark.parametrize("T, d, k", [(3, 4, 2), (5, 3, 3)])
def test_the_fused_qkv_head_against_central_differences_of_gpt2s_formula(T, d, k):
    bp = js.backprop(js.Model.from_toml("derivations/attention_fused_qkv.toml"))
    rng = np.random.default_rng(T)
    arrays = {"X": rng.normal(size=(T, d)), "Y": rng.normal(size=(T, k)), "Wqkv": rng.normal(size=(d, 3 * k))}
    out = js.kernel(bp)(**arrays)
    assert out["J"] == pytest.approx(_gpt2_head(**arrays), rel=1e-12)
    assert rel_error(out["Wqkv"], central_differences(_gpt2_head, arrays, "Wqkv")) < 1e-7


def test_the_fused_qkv_signal_is_the_three_heads_side_by_side_scaled_by_one_over_root_k():
    bp = js.backprop(js.Model.from_toml("derivations/attention_fused_qkv.toml"))
    page = bp.latex()
    assert r"\frac{1}{\sqrt{k}} \delta_{2} K" in page and r"\operatorname{sqrt}(k)}" not in page
    assert "attention_fused_qkv" in MODELS  # (the model file is found as a slice model)
    assert "np.concatenate((" in js.codegen(bp)  # [δ_Q δ_K δ_V], not three padded matrices summed
    assert r"{P}_{[{:},\, k+1{:}2k]}" in page  # K: columns k+1 … 2k, counted from 1 as the notes count


def test_a_slice_prints_one_based_on_pages_and_zero_based_in_code():
    bp = js.backprop(_model("two_blocks_of_rows"))
    assert r"{W}_{[k+1{:}2k,\, {:}]}" in bp.latex()
    source = js.codegen(bp)
    assert "W[_size_k:, :]" in source and "W[:_size_k, :]" in source


def test_the_text_of_a_slice_reads_back_as_the_same_graph():
    model = _model("rows_by_a_sum_of_sizes")
    line = str(model.forward["g"])
    again = js.Model.parse(f'[inputs]\nx = ["n", 1]\n[params]\nW = ["H + D", "n"]\n[forward]\nJ = "sum({line})"\n')
    assert str(again.loss.args[0]) == line


def test_a_kernel_whose_split_no_array_shows_says_which_size_it_lacks():
    """W: (H + D) × n alone does not tell H from D; the kernel says so rather than guess."""
    text = MODELS["rows_by_a_sum_of_sizes"][0].replace('y = ["H", 1]\n', "").replace("sum(h * y)", "sum(h)")
    with pytest.raises(js.JacobianSymError, match="size H"):
        js.kernel(js.backprop(js.Model.parse(text)))


# ----- bad slices: one line with the line and column -----
HEAD = '[inputs]\nx = ["n", 1]\n[params]\nW = ["2*k", "n"]\n[forward]\n'


@pytest.mark.parametrize("line, column, message", [
    ("W[:3*k, :] @ x", 3, "may pass its end"),
    ("W[k:k, :] @ x", 3, "is empty"),
    ("W[:m, :] @ x", 4, "'m' is not a size of the model"),
    ("W[:1.5, :] @ x", 4, "a whole number, a size"),
    ("W[::2, :] @ x", 5, "no step"),
    ("W[0, :] @ x", 3, "not an index"),
    ("(W @ x)[:k]", 2, "give W @ x a line of its own"),
    ("W[:k] @ x", 3, "takes two spans"),
])
def test_a_bad_slice_is_one_line_with_its_column(line, column, message):
    with pytest.raises(js.ParseError, match=message) as err:
        js.Model.parse(HEAD + f'J = "sum({line})"\n', source="bad.toml")
    text = str(err.value)
    assert "\n" not in text and "bad.toml:6:" in text
    assert f":6:{9 + column}:" in text, text


def test_the_command_line_says_a_bad_slice_in_one_line_with_exit_code_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + 'J = "sum(W[:3*k, :] @ x)"\n')
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "bad.toml:6:" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_batch_keeps_each_examples_whole_column_and_sums_the_gradients():
    """x: n×B in the kernel (the one-example model's x is n×1): each example's rows are sliced, and
    the gradient is the sum of the one-example gradients."""
    bp = js.backprop(_model("parts_of_an_input_vector"))
    kernel = js.kernel(bp)
    rng = np.random.default_rng(4)
    W, X = rng.normal(size=(4, 3)), rng.normal(size=(5, 6))  # m + n = 5 rows, a batch of 6
    whole = kernel(x=X, W=W)
    single = [kernel(x=X[:, b:b + 1], W=W) for b in range(X.shape[1])]
    assert whole["J"] == pytest.approx(sum(s["J"] for s in single), rel=1e-12)
    assert rel_error(whole["W"], sum(s["W"] for s in single)) < 1e-12
