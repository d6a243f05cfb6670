"""How each op of the op table is computed in JAX: the JAX backend's table (recipe 4 of
docs/ARCHITECTURE.md). Templates as in ``lowering.NUMPY``; ``{np}`` becomes ``jax.numpy.``. The stable
vector helpers (``_softmax`` …) are defined in ``jax_printer``, which alone imports JAX.
"""

from __future__ import annotations

JAX: dict[str, str] = {
    # structure
    "matmul": "{0} @ {1}",
    "transpose": "{0}.T",
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "div": "{0} / {1}",
    "neg": "-{0}",
    "copy": "{0}",
    # element-wise
    "relu": "{np}maximum({0}, 0)",
    "leaky_relu": "{np}where({0} > 0, {0}, 0.01 * {0})",
    "sigmoid": "0.5 * (1 + {np}tanh(0.5 * {0}))",
    "tanh": "{np}tanh({0})",
    "exp": "{np}exp({0})",
    "log": "{np}log({0})",
    "softplus": "{np}logaddexp(0, {0})",
    "square": "{0} ** 2",
    "gelu": "0.5 * {0} * (1 + {np}tanh(0.7978845608028654 * ({0} + 0.044715 * {0} ** 3)))",
    # along an axis, reductions, losses
    "softmax": "_softmax({0}, {axis})",
    "log_softmax": "_log_softmax({0}, {axis})",
    "sum": "{np}sum({0})",
    "tr": "{np}trace({0})",
    "norm": "{np}linalg.norm({0})",
    "cross_entropy": "_cross_entropy({0}, {1})",
    "binary_cross_entropy": "_binary_cross_entropy({0}, {1})",
    "mse": "0.5 * {np}sum(({1} - {0}) ** 2)",
}
