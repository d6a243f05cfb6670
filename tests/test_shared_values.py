"""A forward value the derivative reads again is computed once (kernels/shared_values.py): GELU's tanh.

The model is the GeGLU feed-forward layer of Shazeer 2020 ("GLU Variants Improve Transformer",
eq. 6: FFN_GEGLU(x, W, V, W₂) = (GELU(xW) ⊗ xV) W₂) with a squared error; GELU is the tanh form of
Hendrycks & Gimpel 2016. The oracle is a NumPy forward written here from those formulas, by central
differences; the count of tanh evaluations comes from running the kernel (kernels/cost.py).
"""

import numpy as np
import pytest

import jacobian_sym as js
from jacobian_sym.kernels.cost import Counted, operation_count
from jacobian_sym.kernels.shared_values import shared_part
from jacobian_sym.ops.table import OPS

GEGLU = """title = "GeGLU feed-forward (Shazeer 2020, eq. 6) with a squared error"
[inputs]
X = ["T", "d"]
Y = ["T", "d"]
[params]
W = ["d", "m"]
V = ["d", "m"]
W2 = ["m", "d"]
[forward]
h = "gelu(X @ W) * (X @ V)"
out = "h @ W2"
J = "mse(Y, out)"
"""


def _forward(X, Y, W, V, W2):
    """Shazeer 2020 eq. 6 with Hendrycks & Gimpel's tanh GELU, then ½‖out − Y‖²."""
    a = X @ W
    gelu = 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))
    return 0.5 * np.sum(((gelu * (X @ V)) @ W2 - Y) ** 2)


def _central(f, arrays, name, h=1e-6):
    out = np.zeros_like(arrays[name])
    for i in np.ndindex(out.shape):
        up, down = ({**arrays, name: arrays[name].copy()} for _ in range(2))
        up[name][i] += h
        down[name][i] -= h
        out[i] = (f(**up) - f(**down)) / (2 * h)
    return out


def test_the_geglu_kernel_evaluates_each_tanh_once_and_is_right():
    f = js.kernel(js.backprop(js.Model.parse(GEGLU)))
    T, d, m = 3, 4, 5
    rng = np.random.default_rng(0)
    a = dict(X=rng.normal(size=(T, d)), Y=rng.normal(size=(T, d)), W=rng.normal(size=(d, m)),
             V=rng.normal(size=(d, m)), W2=rng.normal(size=(m, d)))
    operation_count(f, a)
    assert Counted.elements["tanh"] == T * m  # once per hidden unit (the backward read it again before)
    out = f(**a)
    assert out["J"] == pytest.approx(_forward(**a), rel=1e-12)
    for name in ("W", "V", "W2"):
        want = _central(_forward, a, name)
        assert np.linalg.norm(out[name] - want) <= 1e-7 * np.linalg.norm(want), name


def test_the_shared_part_is_found_only_where_the_derivative_is_a_helper():
    """GELU's tanh and exact GELU's erf are taken out; not σ's or tanh's own (their derivatives read
    their outputs), not softplus's (its derivative is σ), not ELU's exp (its lowering is expm1)."""
    assert str(shared_part("gelu").func) == "tanh"
    assert str(shared_part("gelu_erf").func) == "erf"
    for name in ("sigmoid", "tanh", "softplus", "elu", "selu", "silu", "relu"):
        assert shared_part(name) is None, name
    assert all(shared_part(n) is None or OPS[n].kind == "elementwise" for n in OPS)


def test_a_gelu_of_an_inlined_argument_and_float32_keep_their_values():
    """gelu(W x + b) (the argument a line of its own) over a batch of columns, in float32 too."""
    f = js.kernel(js.backprop(js.Model.parse(
        '[inputs]\nx = ["n", 1]\n[params]\nW = ["n", "n"]\nb = ["n", 1]\n[forward]\nJ = "sum(gelu(W @ x + b))"\n')))
    rng = np.random.default_rng(1)
    a = dict(x=rng.normal(size=(3, 4)), W=rng.normal(size=(3, 3)), b=rng.normal(size=(3, 1)))

    def forward(x, W, b):
        z = W @ x + b
        return np.sum(0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3))))

    out = f(**a)
    want = _central(forward, a, "W")
    assert np.linalg.norm(out["W"] - want) <= 1e-7 * np.linalg.norm(want)
    out32 = f(**{k: v.astype(np.float32) for k, v in a.items()})
    assert out32["W"].dtype == np.float32
    assert np.linalg.norm(out32["W"] - out["W"]) <= 1e-5 * np.linalg.norm(out["W"])
