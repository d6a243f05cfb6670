"""Element-wise activations, each declared by its scalar definition alone.

From ``relu: max(s, 0)`` the engine makes a SymPy function and derives its derivative (ReLU′ is the
step, 0 at 0); the printers, the kernels and the claim reader find the op by name in their own tables.
To add an activation, add one line here and one entry to each of those tables (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.ops.table import declare, elementwise_op

LEAKY_SLOPE = sp.Rational(1, 100)
#: √(2/π), the constant of GELU's tanh approximation, kept exact
GELU_C = sp.sqrt(2 / sp.pi)


def _sigmoid(s):
    return 1 / (1 + sp.exp(-s))



for _name, _form in [
    ("relu", lambda s: sp.Max(s, 0)),
    ("leaky_relu", lambda s: sp.Max(s, LEAKY_SLOPE * s)),
    ("sigmoid", _sigmoid),
    ("tanh", sp.tanh),
    ("exp", sp.exp),
    ("log", sp.log),
    ("softplus", lambda s: sp.log(1 + sp.exp(s))),
    ("square", lambda s: s**2),
    # GELU, tanh approximation (Hendrycks & Gimpel 2016; GPT-2, BERT): ½s(1 + tanh(√(2/π)(s + 0.044715s³)))
    ("gelu", lambda s: s / 2 * (1 + sp.tanh(GELU_C * (s + sp.Rational(44715, 10**6) * s**3)))),
    # GELU, exact (Hendrycks & Gimpel 2016; PyTorch's default): s Φ(s) = ½s(1 + erf(s/√2))
    ("gelu_erf", lambda s: s / 2 * (1 + sp.erf(s / sp.sqrt(2)))),
    # SiLU (swish, Elfwing et al. 2018): s σ(s)
    ("silu", lambda s: s * _sigmoid(s)),
    # the trigonometric functions (SymPy's own matrix-derivative tests use sin and cos)
    ("sin", sp.sin),
    ("cos", sp.cos),
    ("tan", sp.tan),
]:
    declare(elementwise_op(_name, _form))

# √s and 1/√s (layer norm's 1/√(var + ε)): defined for s > 0, which random test data respects
for _name, _form in [("sqrt", sp.sqrt), ("rsqrt", lambda s: 1 / sp.sqrt(s))]:
    declare(elementwise_op(_name, _form, domain="positive"))

# ----- piecewise: kinks, written with Max/Min so the derivative is a step (0 at its kink) -----
#: SELU's λ and α (Klambauer et al. 2017, the digits published with the paper), exact as rationals
SELU_LAMBDA = sp.Rational("1.0507009873554804934193349852946")
SELU_ALPHA = sp.Rational("1.6732632423543772848170429916717")


def _below_zero(s):
    """exp(min(s, 0)) − 1, the negative branch of ELU, with the min written s − max(s, 0): the
    derivative is then eᔆ⁻ᵐᵃˣ⁽ˢ,⁰⁾(1 − H(s)), which takes the exponential branch's value at 0 (e⁰ = 1,
    as PyTorch) where exp(Min(s, 0)) would give 0 there (both steps are 0 at 0)."""
    return sp.exp(s - sp.Max(s, 0)) - 1


for _name, _form in [
    ("abs", sp.Abs),  # abs′ = sign, 0 at 0
    ("softsign", lambda s: s / (1 + sp.Abs(s))),
    ("hardtanh", lambda s: sp.Max(-1, sp.Min(s, 1))),  # hardtanh′(±1) = 0 (as PyTorch)
    ("elu", lambda s: sp.Max(s, 0) + _below_zero(s)),  # α = 1; ELU′(0) = 1 (both sides agree)
    ("selu", lambda s: SELU_LAMBDA * (sp.Max(s, 0) + SELU_ALPHA * _below_zero(s))),  # SELU′(0) = λα
    # the indicator [s > 0] (where's selector): 0 at 0, as ReLU′(0) = 0; step′ = 0 (its Dirac delta dropped)
    ("step", lambda s: sp.Heaviside(s, 0)),
]:
    declare(elementwise_op(_name, _form))
