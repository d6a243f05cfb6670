"""How each op of the op table is computed in NumPy: the NumPy backend's table.

``NUMPY`` holds one template per op over its arguments' code ({0}, {1}; ``{np}`` is the module
prefix, ``{axis}`` an along-axis op's axis); the vector ops and losses call the stable helpers of
``kernels.runtime``. ``FUSED`` holds the stable lowerings of a loss fed by its link function
(log-sum-exp cross-entropy after a softmax, softplus BCE after a sigmoid). A new backend (JAX,
PyTorch) is a module like this one with its printer; ``tests/test_registries.py`` checks that every
op has an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

NUMPY: dict[str, str] = {
    # structure
    "matmul": "{0} @ {1}",
    "transpose": "{0}.T",
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "div": "{0} / {1}",
    "neg": "-{0}",
    "pow": "{0} ** {1}",
    "copy": "{0}",
    "unfold": "_im2col({0}, {width}, {stride}, {padding})",  # im2col by sliding_window_view
    "_fold": "_col2im({0}, {1}.shape[0], {width}, {stride}, {padding})",  # col2im: windows added back
    "max_pool1d": "_max_pool1d({0}, {width}, {stride})",
    "_unpool": "_to_window_max({0}, {1}, {width}, {stride})",  # each window's signal to its first maximum
    "concat": "{np}concatenate(({0}, {1}), axis={axis})",
    "slice": "{0}[<span>]",  # 0-based, its stops from the shapes (generate.slice_code)
    # element-wise
    "relu": "{np}maximum({0}, 0)",
    "leaky_relu": "{np}where({0} > 0, {0}, 0.01 * {0})",
    "sigmoid": "0.5 * (1 + {np}tanh(0.5 * {0}))",  # no overflow in exp(−z) for z ≪ 0
    "tanh": "{np}tanh({0})",
    "exp": "{np}exp({0})",
    "log": "{np}log({0})",
    "softplus": "{np}logaddexp(0, {0})",
    "square": "{0} ** 2",
    # (s * s * s, not s ** 3: a float32 power of a negative base is 30× slower in NumPy 2.4)
    "gelu": "0.5 * {0} * (1 + {np}tanh(0.7978845608028654 * ({0} + 0.044715 * {0} * {0} * {0})))",
    "gelu_erf": "0.5 * {0} * (1 + _erf(0.7071067811865476 * {0}))",  # runtime._erf: NumPy has no erf
    "silu": "0.5 * {0} * (1 + {np}tanh(0.5 * {0}))",  # s σ(s), σ without overflow
    "sin": "{np}sin({0})",
    "cos": "{np}cos({0})",
    "tan": "{np}tan({0})",
    "sqrt": "{np}sqrt({0})",
    "rsqrt": "1 / {np}sqrt({0})",
    # piecewise (expm1: no cancellation in eᔆ − 1 near 0; the min keeps exp from overflowing for s ≫ 0)
    "abs": "{np}abs({0})",
    "softsign": "{0} / (1 + {np}abs({0}))",
    "hardtanh": "{np}clip({0}, -1, 1)",
    "elu": "{np}where({0} > 0, {0}, {np}expm1({np}minimum({0}, 0)))",
    "step": "{np}heaviside({0}, 0)",
    "selu": "1.0507009873554805 * {np}where({0} > 0, {0}, 1.6732632423543772 * {np}expm1({np}minimum({0}, 0)))",
    # along an axis, reductions, losses
    "softmax": "_softmax({0}, {axis})",
    "log_softmax": "_log_softmax({0}, {axis})",
    "sum": "{np}sum({0}{axis_kw})",  # the total, or per row/column with axis=
    "mean": "{np}mean({0}, axis={axis}, keepdims=True)",
    "var": "{np}var({0}, axis={axis}, keepdims=True)",  # the population variance
    "max": "{np}max({0}, axis={axis}, keepdims=True)",
    "min": "{np}min({0}, axis={axis}, keepdims=True)",
    "_argmax": "_first_indicator({np}argmax({0}, axis={axis}), {0}, {axis})",  # ties: the first index
    "_argmin": "_first_indicator({np}argmin({0}, axis={axis}), {0}, {axis})",
    "tr": "{np}trace({0})",
    "norm": "{np}linalg.norm({0})",
    "cross_entropy": "_cross_entropy({0}, {1})",
    "binary_cross_entropy": "_binary_cross_entropy({0}, {1})",
    "mse": "0.5 * {np}sum(({1} - {0}) ** 2)",
    # inverse and determinants: the runtime's checked helpers (a singular matrix is refused, not NaN)
    "inv": "_inv({0})",
    "solve": "_solve({0}, {1})",
    "det": "_det({0})",
    "logdet": "_logdet({0})",
}

#: first derivatives computed from the argument in a form that keeps its relative precision where the
#: output form loses it (σ(1 − σ) is 0 past a logit of ~37; 1 − tanh² past ~19): a Hessian's curvature
#: weights use these (``closed_kernel``), the backprop kernels the cheaper output forms
STABLE_DERIVATIVES: dict[str, str] = {
    "sigmoid": "_sigmoid_prime({0})",
    "tanh": "_tanh_prime({0})",
}


#: first derivatives whose derived form overflows where the op itself does not (SiLU′ is inf/inf below
#: z ≈ −710): every kernel computes these from the runtime's form, checked against the derived one by
#: ``tests/test_hostile_input.py`` over the op table at ±800 (float64) and ±100 (float32)
OVERFLOW_SAFE_DERIVATIVES: dict[str, str] = {
    "silu": "_silu_prime({0})",
}


def with_axis_code(code: str, axis) -> str:
    """A lowering with its axis put in: ``{axis}`` (0 when the op has none), ``{axis_kw}`` — nothing
    for sum(A), ``, axis=1, keepdims=True`` for sum(A, axis=1)."""
    kw = "" if axis is None else f", axis={int(axis)}, keepdims=True"
    return code.replace("{axis_kw}", kw).replace("{axis}", str(int(axis) if axis is not None else 0))


@dataclass(frozen=True)
class Fused:
    """A loss computed from its link function's argument z rather than from the link's output."""

    link: str  # the op whose output the loss reads (softmax, sigmoid)
    loss: str  # the loss over {y}, {z} and, when ``log_link`` is set, {log} (the log of the link)
    #: the log of the link's output, computed once from {z} (and {axis}); the link is then exp of it
    log_link: str | None = None


FUSED: dict[str, Fused] = {
    "cross_entropy": Fused("softmax", "-np.sum({y} * {log})", log_link="_log_softmax({z}, {axis})"),
    "binary_cross_entropy": Fused("sigmoid", "np.sum(np.logaddexp(0, {z}) - {y} * {z})"),
}
