"""How a claim writes each op of the op table: the claim reader's table.

In Python syntax a claim calls an op by its name (``relu_prime(z)``, ``softmax(theta)``); in the
notes' LaTeX it uses one of ``latex`` (``\\sigma'(z)``, ``\\operatorname{relu}``). A structural op is
written with its ``operator``. An op a claim cannot write has a ``reason``, which the reader gives
when a claim tries. ``tests/test_registries.py`` checks that every op has an entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spelling:
    #: names of the function in the notes' LaTeX (case-insensitive), besides its op name in Python
    latex: tuple = ()
    #: the operator that writes a structural op
    operator: str | None = None
    #: why a claim cannot write this op (the reader's error message)
    reason: str | None = None


_LOSS = "a loss is what a claim is about (its target), not a part of a gradient's closed form"

SPELLING: dict[str, Spelling] = {
    # structure
    "matmul": Spelling(operator="@ (juxtaposition in LaTeX)"),
    "transpose": Spelling(operator=".T (^T in LaTeX)"),
    "add": Spelling(operator="+"),
    "sub": Spelling(operator="-"),
    "mul": Spelling(operator="* (\\circ in LaTeX)"),
    "div": Spelling(operator="/"),
    "neg": Spelling(operator="unary -"),
    "pow": Spelling(operator="** (element-wise, by a number)"),
    "unfold": Spelling(reason="unfold (im2col) is not in claim notation yet"),
    "_fold": Spelling(reason="fold (col2im) is the engine's own (the adjoint of unfold), not claim notation"),
    "max_pool1d": Spelling(reason="max-pooling is not in claim notation yet"),
    "_unpool": Spelling(reason="unpool is the engine's own (the derivative of max_pool1d), not claim notation"),
    "concat": Spelling(reason="concatenation is not in claim notation yet (a claim writes each part's gradient)"),
    "slice": Spelling(reason="a slice is not in claim notation yet (a claim writes the gradient of the sliced "
                             "value, or of a named line that holds the slice)"),
    "copy": Spelling(reason="copy is the identity: a claim writes its argument itself"),
    # element-wise (their derivatives: relu_prime, sigma')
    "relu": Spelling(latex=("relu",)),
    "leaky_relu": Spelling(),
    "sigmoid": Spelling(latex=("sigma", "sigmoid")),
    "tanh": Spelling(latex=("tanh",)),
    "exp": Spelling(latex=("exp",)),
    "log": Spelling(latex=("log",)),
    "softplus": Spelling(latex=("softplus",)),
    "square": Spelling(),
    "gelu": Spelling(latex=("gelu",)),
    "gelu_erf": Spelling(latex=("gelu_erf",)),
    "silu": Spelling(latex=("silu", "swish")),
    "sin": Spelling(latex=("sin",)),
    "cos": Spelling(latex=("cos",)),
    "tan": Spelling(latex=("tan",)),
    "sqrt": Spelling(latex=("sqrt",)),
    "rsqrt": Spelling(latex=("rsqrt",)),
    # piecewise
    "abs": Spelling(latex=("abs",)),
    "softsign": Spelling(latex=("softsign",)),
    "hardtanh": Spelling(latex=("hardtanh",)),
    "elu": Spelling(latex=("elu",)),
    "selu": Spelling(latex=("selu",)),
    "step": Spelling(latex=("step",)),
    # along an axis, reductions, losses
    "softmax": Spelling(latex=("softmax",)),
    "log_softmax": Spelling(),
    "sum": Spelling(),  # sum(A), sum(A, axis=0|1): the reader's own, with mean
    "mean": Spelling(),  # mean(A, axis=0|1): the reader's own
    "var": Spelling(reason="a claim writes a variance as mean(square(A - mean(A, axis=1)), axis=1)"),
    "max": Spelling(reason="max along an axis is not in claim notation yet (a claim writes its gradient's indicator)"),
    "min": Spelling(reason="min along an axis is not in claim notation yet (a claim writes its gradient's indicator)"),
    "_argmax": Spelling(reason="the arg-max indicator is the engine's own (the derivative of max), not claim notation"),
    "_argmin": Spelling(reason="the arg-min indicator is the engine's own (the derivative of min), not claim notation"),
    "tr": Spelling(latex=("tr", "trace")),
    "norm": Spelling(),
    "cross_entropy": Spelling(reason=_LOSS),
    "binary_cross_entropy": Spelling(reason=_LOSS),
    "mse": Spelling(reason=_LOSS),
    # inverse and determinants (LaTeX: X^{-1}, X^{-T}, \\det X, \\log\\det X, \\log|X|, read by the reader itself)
    "inv": Spelling(),
    "solve": Spelling(),
    "det": Spelling(latex=("det",)),
    "logdet": Spelling(),
}
