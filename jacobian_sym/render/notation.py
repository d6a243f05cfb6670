"""How each op of the op table is written, in LaTeX and in plain text: the printers' table.

An element-wise op's entry is the name of the function (``\\sigma``), printed before its argument in
parentheses and with a prime per derivative (σ′); any other op's entry is a template over its
arguments ({0}, {1}). A generic function (the notes' f) is written by its own name. Adding an op adds
one line here (``tests/test_registries.py`` says which is missing).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notation:
    latex: str
    #: plain text; None writes the op's name
    text: str | None = None


NOTATION: dict[str, Notation] = {
    # structure
    "matmul": Notation("{0} {1}", "{0} {1}"),
    "transpose": Notation("{0}^{T}", "{0}ᵀ"),
    "add": Notation("{0} + {1}", "{0} + {1}"),
    "sub": Notation("{0} - {1}", "{0} - {1}"),
    "mul": Notation(r"{0} \circ {1}", "{0} ∘ {1}"),
    "div": Notation(r"{0} \oslash {1}", "{0} / {1}"),
    "neg": Notation("-{0}", "-{0}"),
    "pow": Notation(r"{0}^{\circ {1}}", "{0}^∘{1}"),
    "copy": Notation("{0}", "{0}"),
    "slice": Notation("{0}_{[<span>]}", "{0}[<span>]"),  # (pages print its MatrixSlice: W_{[1:H, :]})
    # (width, stride, padding as subscripts: the adjoint fold is the transposed convolution)
    "unfold": Notation(r"\operatorname{unfold}_{{width}, {stride}, {padding}}({0})",
                       "unfold_{width},{stride},{padding}({0})"),
    "_fold": Notation(r"\operatorname{fold}_{{width}, {stride}, {padding}}({0})",
                      "fold_{width},{stride},{padding}({0})"),
    "max_pool1d": Notation(r"\operatorname{maxpool}_{{width}, {stride}}({0})", "maxpool_{width},{stride}({0})"),
    "_unpool": Notation(r"\operatorname{unpool}_{{width}, {stride}}({0};\ {1})", "unpool_{width},{stride}({0}; {1})"),
    "concat": Notation(r"\operatorname{concat}({0}, {1},\ \text{axis}=<axis>)", "concat({0}, {1}, axis=<axis>)"),
    # element-wise: the function's name
    "relu": Notation(r"\operatorname{ReLU}", "ReLU"),
    "leaky_relu": Notation(r"\operatorname{LeakyReLU}", "LeakyReLU"),
    "sigmoid": Notation(r"\sigma", "σ"),
    "tanh": Notation(r"\tanh", "tanh"),
    "exp": Notation(r"\exp", "exp"),
    "log": Notation(r"\log", "log"),
    "softplus": Notation(r"\operatorname{softplus}", "softplus"),
    "square": Notation(r"\operatorname{square}", "square"),
    "gelu": Notation(r"\operatorname{GELU}", "GELU"),
    "gelu_erf": Notation(r"\operatorname{GELU}_{\mathrm{erf}}", "GELU_erf"),
    "silu": Notation(r"\operatorname{SiLU}", "SiLU"),
    "sin": Notation(r"\sin", "sin"),
    "cos": Notation(r"\cos", "cos"),
    "tan": Notation(r"\tan", "tan"),
    "sqrt": Notation(r"\operatorname{sqrt}", "sqrt"),
    "rsqrt": Notation(r"\operatorname{rsqrt}", "rsqrt"),
    # piecewise
    "abs": Notation(r"\operatorname{abs}", "abs"),
    "softsign": Notation(r"\operatorname{softsign}", "softsign"),
    "hardtanh": Notation(r"\operatorname{hardtanh}", "hardtanh"),
    "elu": Notation(r"\operatorname{ELU}", "ELU"),
    "selu": Notation(r"\operatorname{SELU}", "SELU"),
    "step": Notation(r"\operatorname{step}", "step"),
    # along an axis, reductions, losses
    "softmax": Notation(r"\operatorname{softmax}({0})", "softmax({0})"),
    "log_softmax": Notation(r"\log\operatorname{softmax}({0})", "log_softmax({0})"),
    "sum": Notation(r"\operatorname{sum}({0}<axis_kw_tex>)", "sum({0}<axis_kw>)"),
    "mean": Notation(r"\operatorname{mean}({0},\ \text{axis}=<axis>)", "mean({0}, axis=<axis>)"),
    "var": Notation(r"\operatorname{var}({0},\ \text{axis}=<axis>)", "var({0}, axis=<axis>)"),
    "max": Notation(r"\operatorname{max}({0},\ \text{axis}=<axis>)", "max({0}, axis=<axis>)"),
    "min": Notation(r"\operatorname{min}({0},\ \text{axis}=<axis>)", "min({0}, axis=<axis>)"),
    "_argmax": Notation(r"\mathbf{1}[\operatorname{argmax}({0},\ \text{axis}=<axis>)]", "1[argmax({0}, axis=<axis>)]"),
    "_argmin": Notation(r"\mathbf{1}[\operatorname{argmin}({0},\ \text{axis}=<axis>)]", "1[argmin({0}, axis=<axis>)]"),
    "tr": Notation(r"\operatorname{tr}({0})", "tr({0})"),
    "norm": Notation(r"\left\lVert {0} \right\rVert_{F}", "‖{0}‖"),
    "cross_entropy": Notation(r"\operatorname{CE}({0}, {1})", "CE({0}, {1})"),
    "binary_cross_entropy": Notation(r"\operatorname{BCE}({0}, {1})", "BCE({0}, {1})"),
    "mse": Notation(r"\tfrac12\left\lVert {1} - {0} \right\rVert^2", "½‖{1} - {0}‖²"),
    # inverse and determinants
    "inv": Notation("{0}^{-1}", "{0}⁻¹"),
    "solve": Notation("{0}^{-1} {1}", "{0}⁻¹ {1}"),
    "det": Notation(r"\det {0}", "det {0}"),
    "logdet": Notation(r"\log\left\lvert \det {0} \right\rvert", "log|det {0}|"),
}


def latex_name(op_name: str) -> str:
    """The LaTeX name of an element-wise function (a generic f is written f)."""
    entry = NOTATION.get(op_name)
    return entry.latex if entry is not None else op_name


def text_name(op_name: str) -> str:
    entry = NOTATION.get(op_name)
    return entry.text if entry is not None and entry.text is not None else op_name
