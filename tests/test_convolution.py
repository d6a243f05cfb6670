"""Convolution, max-pooling over time and max/min along an axis (issue 23, parts 4 and 5), each checked
against an oracle that shares nothing with the package: a NumPy forward written here from the
textbook definition, differentiated by central differences; PyTorch's own conv1d and autograd; the
adjoint identity ⟨unfold(X), G⟩ = ⟨X, fold(G)⟩. Random Gaussian points never tie, so the arg-max
is unique where a difference is taken."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.cli import cli
from jacobian_sym.kernels.window_runtime import _col2im, _im2col

ROOT = Path(__file__).resolve().parent.parent
CNN = ROOT / "derivations" / "cnn_text.toml"


def _central(forward, arrays, name, h=1e-6):
    out = np.zeros_like(arrays[name])
    for idx in np.ndindex(out.shape):
        plus, minus = ({**arrays, name: arrays[name].copy()} for _ in range(2))
        plus[name][idx] += h
        minus[name][idx] -= h
        out[idx] = (forward(**plus) - forward(**minus)) / (2 * h)
    return out


def _close(got, want, tol=1e-6):
    assert np.linalg.norm(got - want) <= tol * max(np.linalg.norm(want), 1.0), (got, want)


# ----- the text CNN (Kim 2014, "Convolutional Neural Networks for Sentence Classification", eqs. 2-4) -----
def _kim_forward(X, y, W, b, U, c, width=3):
    """c_i = ReLU(w · x_{i:i+h−1} + b) for each filter, ĉ = max_i c_i, then softmax cross-entropy; the
    window product written tap by tap (W's rows k·d … k·d + d − 1 are tap k)."""
    d = X.shape[1]
    T = X.shape[0] - width + 1
    Z = np.array([sum(X[t + k] @ W[k * d:(k + 1) * d] for k in range(width)) for t in range(T)]) + b
    g = np.maximum(Z, 0).max(axis=0, keepdims=True)
    theta = g @ U + c
    log_p = theta - np.log(np.exp(theta - theta.max()).sum()) - theta.max()
    return -float(np.sum(y * log_p))


def _cnn_arrays(rng, T=7, d=4, F=5, C=3):
    y = np.zeros((1, C))
    y[0, rng.integers(C)] = 1
    return {"X": rng.standard_normal((T + 2, d)), "y": y, "W": rng.standard_normal((3 * d, F)) / 2,
            "b": rng.standard_normal((1, F)), "U": rng.standard_normal((F, C)), "c": rng.standard_normal((1, C))}


@pytest.fixture(scope="module")
def cnn_kernel():
    return js.kernel(js.backprop(js.Model.from_toml(CNN)))


def test_the_text_cnn_kernel_agrees_with_central_differences_of_kims_forward(cnn_kernel):
    arrays = _cnn_arrays(np.random.default_rng(3))
    out = cnn_kernel(**arrays)
    assert abs(out["J"] - _kim_forward(**arrays)) <= 1e-12 * max(1, abs(out["J"]))
    for name in ("W", "b", "U", "c", "X"):
        _close(out[name], _central(_kim_forward, arrays, name))


def test_the_text_cnn_derives_the_textbook_backward():
    """∂J/∂W is the correlation of the signal with the input, unfold(X)ᵀ δ; ∂J/∂X the transposed
    convolution fold(δ Wᵀ); the max routes δ through the indicator of the arg-max."""
    bp = js.backprop(js.Model.from_toml(CNN))
    text = {str(k): str(v) for k, v in bp.gradients.items()}
    assert text["W"] == "unfold_3,1,0(X)ᵀ δ₂"
    assert text["X"] == "fold_3,1,0(δ₂ Wᵀ)"
    assert str(bp.deltas["delta_2"]) == "(1[argmax(H, axis=0)] ∘ ReLU′(Z)) diag(δ₁ Uᵀ)"


def test_the_text_cnn_kernel_keeps_float32(cnn_kernel):
    arrays = {k: v.astype(np.float32) for k, v in _cnn_arrays(np.random.default_rng(4)).items()}
    out = cnn_kernel(**arrays)
    assert all(v.dtype == np.float32 for k, v in out.items() if k != "J")


# ----- stride and padding, against PyTorch -----
def test_conv1d_with_stride_and_padding_agrees_with_torch_autograd():
    torch = pytest.importorskip("torch")
    X, W, V = js.matrix("X", "2*T + 1", "c"), js.matrix("W", "3*c", "o"), js.matrix("V", "T + 1", "o", role="input")
    loss = js.sum(V * js.tanh(js.conv1d(X, W, stride=2, padding=1)))
    f = js.kernel(js.backprop(js.Model.build(loss, wrt=["W", "X"], title="strided conv")))
    rng = np.random.default_rng(5)
    T, c, o = 4, 3, 2
    arrays = {"X": rng.standard_normal((2 * T + 1, c)), "W": rng.standard_normal((3 * c, o)),
              "V": rng.standard_normal((T + 1, o))}
    out = f(**arrays)
    tx = torch.tensor(arrays["X"], requires_grad=True)
    # PyTorch's weight is (c_out, c_in, width); ours stacks the taps: W[k·c + j, o] = weight[o, j, k]
    weight = torch.tensor(arrays["W"].reshape(3, c, o).transpose(2, 1, 0).copy(), requires_grad=True)
    Y = torch.nn.functional.conv1d(tx.T[None], weight, stride=2, padding=1)[0].T
    J = (torch.tensor(arrays["V"]) * torch.tanh(Y)).sum()
    J.backward()
    assert abs(out["J"] - J.item()) <= 1e-12 * abs(J.item())
    _close(out["X"], tx.grad.numpy(), 1e-12)
    _close(out["W"], weight.grad.numpy().transpose(2, 1, 0).reshape(3 * c, o), 1e-12)


@pytest.mark.parametrize("width, stride, padding", [(3, 1, 0), (3, 2, 1), (2, 3, 1), (4, 1, 3)])
def test_fold_is_the_adjoint_of_unfold(width, stride, padding):
    """⟨unfold(X), G⟩ = ⟨X, fold(G)⟩ for random X and G, with unfold checked against its definition."""
    rng = np.random.default_rng(width + stride + padding)
    length = stride * 3 + width - 2 * padding
    X = rng.standard_normal((length, 2))
    U = _im2col(X, width, stride, padding)
    padded = np.vstack([np.zeros((padding, 2)), X, np.zeros((padding, 2))])
    assert np.array_equal(U, np.array([padded[stride * t:stride * t + width].ravel() for t in range(U.shape[0])]))
    G = rng.standard_normal(U.shape)
    assert abs(np.vdot(U, G) - np.vdot(X, _col2im(G, length, width, stride, padding))) <= 1e-12 * np.abs(G).sum()


# ----- max and min along an axis -----
@pytest.mark.parametrize("which, axis", [("max", 0), ("max", 1), ("min", 0), ("min", 1)])
def test_max_and_min_along_an_axis_agree_with_central_differences(which, axis):
    A = js.matrix("A", "n", "m")
    c = js.row("c", "m", role="param") if axis == 0 else js.vector("c", "n", role="param")
    f = js.kernel(js.backprop(js.Model.build(js.sum(c * js.tanh(js.apply(which, A, axis=axis))), wrt=["A", "c"],
                                             title=which)))
    rng = np.random.default_rng(7)
    arrays = {"A": rng.standard_normal((3, 4)), "c": rng.standard_normal((1, 4) if axis == 0 else (3, 1))}
    pick = np.max if which == "max" else np.min

    def forward(A, c):
        return float(np.sum(c * np.tanh(pick(A, axis=axis, keepdims=True))))

    out = f(**arrays)
    for name in ("A", "c"):
        _close(out[name], _central(forward, arrays, name))


def test_a_tie_sends_the_gradient_to_the_first_index():
    """The documented rule: one winner per slice, the first of a tie (NumPy's argmax)."""
    A = js.matrix("A", "n", "m")
    f = js.kernel(js.backprop(js.Model.build(js.sum(js.vector("c", "n", role="param") * js.apply("max", A, axis=1)),
                                             wrt=["A"], title="tie")))
    a = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0], [0.0, -1.0, 4.0, 4.0]])
    c = np.array([[2.0], [3.0], [-1.0]])
    got = f(A=a, c=c)["A"]
    want = np.zeros_like(a)
    for i, row in enumerate(a):
        want[i, np.flatnonzero(row == row.max())[0]] = c[i, 0]
    assert np.array_equal(got, want)


def test_the_indicator_is_printed_as_an_indicator():
    X = js.matrix("X", "T", "d")
    d = js.gradient(js.sum(js.row("u", "d") * js.apply("max", X, axis=0)), X)
    assert str(d.closed_form) == "1[argmax(X, axis=0)] diag(u)"
    assert r"\mathbf{1}[\operatorname{argmax}(X,\ \text{axis}=0)]" in d.latex()


# ----- bad input: one line, the place, exit 2 -----
@pytest.mark.parametrize("edit, words", [
    (("conv1d(X, W)", "conv1d(X, W, stride=2)"), "stride 2 does not divide"),
    (("conv1d(X, W)", "conv1d(X, U)"), "not a whole number of taps"),
    (("conv1d(X, W)", "conv1d(X, W, padding=3)"), "padding 3 must be less than the width 3"),
    (("max(H, axis=0)", "max(H, axis=2)"), "axis must be 0"),
    (("[\"T + 2\", \"d\"]", "[\"T\", \"d\"]"), "may be shorter than the window"),
])
def test_a_bad_convolution_or_max_is_one_line_with_its_place(tmp_path, edit, words):
    path = tmp_path / "bad.toml"
    path.write_text(CNN.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and f"{path}:" in lines[0], result.output
    assert "Traceback" not in result.output


# ----- max-pooling over windows -----
def test_max_pool1d_agrees_with_torch_and_central_differences():
    """Overlapping windows (width 3, stride 2): a row shared by two windows gets both their signals."""
    X = js.matrix("X", "2*T + 1", "d")
    V = js.matrix("V", "T", "d", role="input")
    f = js.kernel(js.backprop(js.Model.build(js.sum(V * js.tanh(js.max_pool1d(X, width=3, stride=2))),
                                             title="pooling")))
    rng = np.random.default_rng(11)
    arrays = {"X": rng.standard_normal((9, 3)), "V": rng.standard_normal((4, 3))}

    def forward(X, V):  # each window's maximum, written out
        pooled = np.array([[X[2 * t:2 * t + 3, j].max() for j in range(3)] for t in range(4)])
        return float(np.sum(V * np.tanh(pooled)))

    out = f(**arrays)
    _close(out["X"], _central(forward, arrays, "X"))
    torch = pytest.importorskip("torch")
    tx = torch.tensor(arrays["X"], requires_grad=True)
    pooled = torch.nn.functional.max_pool1d(tx.T[None], 3, stride=2)[0].T
    (torch.tensor(arrays["V"]) * torch.tanh(pooled)).sum().backward()
    _close(out["X"], tx.grad.numpy(), 1e-12)


def test_max_pool1d_refuses_a_stride_that_does_not_divide():
    with pytest.raises(js.ShapeError, match="stride 2 does not divide"):
        js.max_pool1d(js.matrix("X", "T + 3", "d"), width=3, stride=2)
