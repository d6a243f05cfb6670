"""Multi-head attention and the pre-LN transformer block (derivations/*.toml): the generated kernels,
with a real −∞ causal mask, against central differences of NumPy forwards written here from the
textbook formulas; float32 stays float32; the derivation names its signals where paths meet; bad
concatenations and sizes are refused with the line."""

import numpy as np
import oracle
import pytest

import jacobian_sym as js
from jacobian_sym.models.model import Model


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))  # the masked entries give exp(−∞) = 0
    return e / e.sum(axis=1, keepdims=True)


def _head(x, Q, K, V, M):
    return _softmax_rows((x @ Q) @ (x @ K).T * 0.125 + M) @ x @ V


def _layer_norm(x, gamma, beta):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * gamma + beta


def _gelu(u):  # the tanh approximation (Hendrycks & Gimpel 2016)
    return 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u**3)))


def _attention(X, Y, M, Q1, K1, V1, Q2, K2, V2, W_o):
    H = np.hstack([_head(X, Q1, K1, V1, M), _head(X, Q2, K2, V2, M)])
    return 0.5 * np.sum((H @ W_o - Y) ** 2)


def _block(X, Y, M, gamma1, beta1, Q1, K1, V1, Q2, K2, V2, W_o, gamma2, beta2, W1, b1, W2, b2):
    h = _layer_norm(X, gamma1, beta1)
    x2 = X + np.hstack([_head(h, Q1, K1, V1, M), _head(h, Q2, K2, V2, M)]) @ W_o
    out = x2 + _gelu(_layer_norm(x2, gamma2, beta2) @ W1 + b1) @ W2 + b2
    return 0.5 * np.sum((out - Y) ** 2)


CASES = {"multi_head_attention": _attention, "transformer_block": _block}


def _arrays(model, rng, T=5, d=4, k=3, m=6):
    sizes = {"T": T, "d": d, "k": k, "m": m, "2*k": 2 * k}
    arrays = {name: rng.normal(size=tuple(sizes[str(s)] if not str(s).isdigit() else int(str(s)) for s in node.shape))
              for name, node in model.variables.items()}
    arrays["M"] = np.triu(np.full((T, T), -np.inf), 1)  # for the forwards here; the kernels build it
    return arrays


def _given(arrays, model):
    """The arrays a kernel takes: the causal mask is a constant of the model file, not an argument."""
    return {k: v for k, v in arrays.items() if not model.variables[k].attr("constant")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_kernel_matches_central_differences_of_an_independent_forward(name):
    model = Model.from_toml(f"derivations/{name}.toml")
    forward = CASES[name]
    f = js.kernel(js.backprop(model))
    arrays = _arrays(model, np.random.default_rng(5))
    out = f(**_given(arrays, model))
    assert np.isclose(out["J"], forward(**arrays), rtol=1e-12)
    for wrt in model.wrt:
        fd = oracle.central_differences(forward, arrays, wrt)
        assert np.isfinite(out[wrt]).all(), wrt
        assert np.linalg.norm(out[wrt] - fd) <= 1e-6 * np.linalg.norm(fd), wrt
    single = f(**{n: a.astype(np.float32) for n, a in _given(arrays, model).items()})
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in single.values())


def test_the_block_names_its_signals_where_paths_meet_and_slices_the_heads():
    bp = js.backprop(Model.from_toml("derivations/transformer_block.toml"))
    nodes = {k: bp.graph.symbol(n).name for k, n in bp.delta_nodes.items()}
    # the residual stream x2 and the normalised h1 that every head reads have signals of their own
    assert {"x2", "h1", "u", "out", "s1", "s2", "v_2"} <= set(nodes.values())
    assert str(bp.gradients["V2"]) == "h₁ᵀ A₂ᵀ δ₄ (Wₒ[k+1:2k, :])ᵀ"  # the rows of W_o head 2 feeds
    assert str(bp.gradients["W_o"]) == "Hᵀ δ₄"
    assert "u₁" not in str(bp) and "u₂" not in str(bp)  # no signal of an unnamed node


def test_a_kernel_checks_a_size_written_as_a_sum():
    model = Model.from_toml("derivations/multi_head_attention.toml")
    f = js.kernel(js.backprop(model))
    arrays = _given(_arrays(model, np.random.default_rng(0)), model)
    arrays["W_o"] = np.ones((7, 4))  # 2k = 6 rows
    with pytest.raises(js.KernelInputError, match=r"W_o has shape \(7, 4\) but its axis 0 must be 2\*k = 6"):
        f(**arrays)


_CONCAT = '[inputs]\nX = ["T", "d"]\nY = ["T", "d"]\nZ = ["d", "d"]\n[forward]\n{}\nJ = "sum(H)"\n'
_MASK = '[inputs]\nX = ["T", "d"]\n{}\n[forward]\nJ = "sum(softmax(X @ X.T + M, axis=1))"\n'


@pytest.mark.parametrize(("text", "where", "message"), [
    (_CONCAT.format('H = "concat(X, Y)"'), "6:6", "concat needs axis=0 (one above the other) or axis=1 (side by side)"),
    (_CONCAT.format('H = "concat(X, Z, axis=1)"'), "6:6",
     "concat along axis 1: T×d and d×d differ in their number of rows (T and d)"),
    (_CONCAT.format('H = "concat(X, Y, axis=2)"'), "6:6", "concat needs axis=0"),
    (_MASK.format('M = { shape = ["T", "T"], constant = "upper" }'), "3",
     "one of the constant masks 'causal', 'lower'"),
    (_MASK.format('M = { shape = ["T", "d"], constant = "causal" }'), "3", "the causal mask is square, not T×d"),
])
def test_a_bad_concatenation_or_constant_is_refused_with_its_line(text, where, message):
    with pytest.raises(js.ParseError, match=f"^m.toml:{where}: ") as err:
        Model.parse(text, source="m.toml")
    assert message in str(err.value)


@pytest.mark.parametrize("size", ["2*k-1", "k**2", "k*2", "2 * 3*k", "__import__('os')"])
def test_a_size_is_a_name_a_number_or_a_sum_of_multiples(size):
    text = f'[inputs]\nX = ["T", "{size}"]\n[forward]\nJ = "sum(X)"\n'
    with pytest.raises(js.ParseError, match=r"^m.toml:2: (\w+: .*)?size"):
        Model.parse(text, source="m.toml")


def test_dropout_with_a_given_mask_is_a_hadamard_product_with_an_input():
    """A fixed mask in a Hadamard product (dropout: kept units scaled by 1/(1 − p)) is an input, so
    no gradient is taken by it and the kernel uses it as given."""
    model = Model.parse('title = "dropout with a given mask"\n[inputs]\nX = ["T", "d"]\nY = ["T", "k"]\n'
                        'D = ["T", "m"]\n[params]\nW = ["d", "m"]\nV = ["m", "k"]\n[forward]\n'
                        'h = "relu(X @ W) * D"\nJ = "mse(Y, h @ V)"\n')
    f = js.kernel(js.backprop(model))
    rng = np.random.default_rng(3)
    arrays = {"X": rng.normal(size=(6, 4)), "Y": rng.normal(size=(6, 3)), "W": rng.normal(size=(4, 5)),
              "V": rng.normal(size=(5, 3)), "D": (rng.uniform(size=(6, 5)) > 0.3) / 0.7}

    def forward(X, Y, D, W, V):
        return 0.5 * np.sum((np.maximum(X @ W, 0) * D @ V - Y) ** 2)

    out = f(**arrays)
    for wrt in ("W", "V"):
        fd = oracle.central_differences(forward, arrays, wrt)
        assert np.linalg.norm(out[wrt] - fd) <= 1e-6 * np.linalg.norm(fd), wrt
    assert set(out) == {"J", "W", "V"}


def test_a_constant_mask_is_built_by_the_kernel_and_never_differentiated():
    model = Model.from_toml("derivations/multi_head_attention.toml")
    f = js.kernel(js.backprop(model))
    assert "M" not in f.inputs  # the kernel builds it, in the arrays' dtype
    with pytest.raises(js.KernelInputError, match="unexpected array"):
        f(**_arrays(model, np.random.default_rng(0)))


def test_a_constant_has_no_gradient():
    text = ('[inputs]\nX = ["T", "d"]\nM = { shape = ["T", "T"], constant = "lower" }\n[params]\nW = ["d", "d"]\n'
            '[forward]\nJ = "sum((X @ W @ X.T) * M)"\n[gradients]\nwrt = ["W", "M"]\n')
    with pytest.raises(js.ParseError, match="a constant \\(lower mask\\): it has no gradient"):
        Model.parse(text, source="m.toml")
    lower = Model.parse(text.replace('wrt = ["W", "M"]', 'wrt = ["W"]'))
    assert js.verify(js.backprop(lower)).ok  # the multiplicative mask, exact 0/1 values in the proofs


def test_division_by_a_broadcast_statistic_is_derived_and_proved():
    """h / √(var(h) + 1) − mean(h)/2, per row: a quotient by a column broadcast over the row. Its proof
    once failed falsely: the 50-digit evaluation left var's element as a nested Sum and evalf
    estimated it as 0 for one row (proofs/explicit.py sums it exactly now)."""
    model = Model.parse('[inputs]\nX = ["T", "d"]\nY = ["T", "d"]\n[params]\nW = ["d", "d"]\n[forward]\n'
                        'h = "X @ W"\nn = "h / sqrt(var(h, axis=1) + 1) - mean(h, axis=1) / 2"\nJ = "mse(Y, n)"\n')
    bp = js.backprop(model)
    assert js.verify(bp).ok
    rng = np.random.default_rng(1)
    arrays = {"X": rng.normal(size=(5, 4)), "Y": rng.normal(size=(5, 4)), "W": rng.normal(size=(4, 4))}
    assert js.gradcheck(js.kernel(bp), arrays).ok


def test_a_size_sum_is_checked_whichever_array_binds_its_names():
    """Y's k + 1 columns are checked against W's k although Y comes first (the fast path once
    compared only sums whose names were already bound, and let a wrong Y through to NumPy)."""
    model = Model.parse('[inputs]\nX = ["T", "d"]\nY = ["T", "k + 1"]\n[params]\nW = ["d", "k"]\n[forward]\n'
                        'J = "mse(Y, concat(X @ W, sum(X, axis=1), axis=1))"\n')
    f = js.kernel(js.backprop(model))
    rng = np.random.default_rng(0)
    arrays = {"X": rng.normal(size=(4, 3)), "Y": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 2))}
    assert js.gradcheck(f, arrays).ok
    with pytest.raises(js.KernelInputError, match=r"Y has shape \(4, 4\) but its axis 1 must be k \+ 1 = 3"):
        f(**{**arrays, "Y": rng.normal(size=(4, 4))})
