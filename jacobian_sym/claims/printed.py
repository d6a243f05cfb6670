"""The tool's own printed notation read back as a claim: what ``str`` of a form prints (δ₂ᵀ xᵀ,
(δ₁ U) ∘ ReLU′(z)ᵀ, σ′(z), ŷ − y, ½‖x‖) becomes the LaTeX the claim reader knows, so that a printed
form pasted back holds. Only characters are translated; the reader decides what they mean."""

from __future__ import annotations

import re
import unicodedata

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "Δ": "Delta", "ε": "epsilon", "η": "eta",
    "θ": "theta", "λ": "lambda", "μ": "mu", "σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega",
}
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕᵢⱼₖₗₘₙₚᵣₛₜᵤᵥ", "0123456789aeoxhijklmnprstuv"))
_ACCENTS = {"\u0302": "hat", "\u0303": "tilde", "\u0304": "bar"}
_SYMBOLS = {"ᵀ": "^T", "′": "'", "″": "''", "∘": r" \circ ", "⊙": r" \circ ", "·": " ", "−": "-",
            "½": r"\frac{1}{2}", "‖": r"\|"}
#: the printers' names of functions (ReLU′, GELU, softplus, diag …), written as LaTeX operators
_WORDS = (r"(?<![A-Za-z\\])(ReLU|LeakyReLU|GELU_erf|GELU|SiLU|softplus|softmax|square|rsqrt|sqrt|tanh|exp|log|diag|tr"
          r"|onehot)(?=['(])")


def is_printed(text: str) -> bool:
    """Whether a claim is written in the printed notation (Unicode, no LaTeX backslash)."""
    return "\\" not in text and any(ord(c) > 127 for c in text)


def to_latex(text: str) -> str:
    out = []
    # a Hadamard power, x^∘3: a claim's powers are element-wise already
    for char in unicodedata.normalize("NFD", text.replace("^∘", "^")):
        if char in _ACCENTS and out:
            out[-1] = f"\\{_ACCENTS[char]}{{{out[-1]}}}"
        elif char in _SUBSCRIPTS:
            if out and out[-1].startswith("_{"):
                out[-1] = out[-1][:-1] + _SUBSCRIPTS[char] + "}"
            else:
                out.append("_{" + _SUBSCRIPTS[char] + "}")
        elif char in _GREEK:
            out.append(f"\\{_GREEK[char]} ")
        elif char in _SYMBOLS:
            out.append(_SYMBOLS[char])
        else:
            out.append(char)
    latex = "".join(out)
    # a number over a number or a size, as the printers write a coefficient (1/d, 2/B)
    latex = re.sub(r"(?<![\w)}])(\d+)/([A-Za-z]\w*|\d+)", r"\\frac{\1}{\2}", latex)
    # the printers' ones vector: 1ᵀ, and a 1 beside a matrix with no operator between (A 1, 1 b₂)
    latex = re.sub(r"(?<![\w./])1(?=\^T)", r"\\mathbf{1}", latex)
    latex = re.sub(r"(?<=[\w)}]) 1(?![\w./^])", r" \\mathbf{1}", latex)
    latex = re.sub(r"(?<![\w./])1 (?=[A-Za-z(\\])(?!\\circ)", r"\\mathbf{1} ", latex)
    latex = re.sub(r"\\(\w+) (?=_|\^|')", r"\\\1", latex)  # \delta _{2} → \delta_{2}
    latex = re.sub(_WORDS, lambda m: r"\operatorname{" + m.group(1) + "}", latex)
    # a word of several letters that is no function is one name (gate, lin, xc), not g·a·t·e
    return re.sub(r"(?<![A-Za-z\\{])([A-Za-z][A-Za-z0-9]+)(?![A-Za-z0-9({])",
                  lambda m: m.group(1) if m.group(1) in _KEEP else r"\mathrm{" + m.group(1) + "}", latex)


#: words the LaTeX reader knows as they are
_KEEP = {"circ", "frac", "operatorname", "hat", "tilde", "bar", "mathrm"}
