"""Composites: named functions that expand to the op table's primitives, so the engine derives their
backward from the primitives (the op table carries no hand-written derivative).

    layer_norm(X, axis=1, eps=1e-5) = (X − mean(X, axis)) ∘ rsqrt(var(X, axis) + eps)
    batch_norm(X, eps=1e-5)         = the same with the statistics over axis 0 (the batch, per feature)
    huber(Y, P, delta=1)            = Σ ½m² + δ(|r| − m),  r = P − Y, m = min(|r|, δ) = δ hardtanh(|r|/δ)
    maximum(a, b) = b + relu(a − b),  minimum(a, b) = b − relu(b − a)   (a tie's gradient goes to b)
    clip(a, lo, hi) = c + h hardtanh((a − c)/h),  c = (lo + hi)/2, h = (hi − lo)/2   (0 at the bounds)
    conv1d(X, W, stride, padding) = unfold(X, w, stride, padding) W   (W: the w taps stacked, (w·c_in)×c_out)

A scale γ and a shift β are written by the model (``layer_norm(X, axis=1) * g + b``), as they are
parameters of the model, not of the normalisation. When a model file's line is the composite alone
(``n2 = "layer_norm(x2, axis=1)"``), its steps are named after the line (``part_names``): μ₂ the
mean, v₂ the variance plus eps, r₂ = rsqrt(v₂), so that the derivation names r₂ rather than
repeating rsqrt(var(x₂) + eps) and a signal is ∂J/∂v₂, not ∂J/∂u₂₅.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from jacobian_sym.errors import ShapeError
from jacobian_sym.graph import expr as E
from jacobian_sym.graph.convolution import conv1d
from jacobian_sym.graph.expr import exact_number

DEFAULT_EPS = 1e-5


@dataclass(frozen=True)
class Composite:
    name: str
    params: tuple
    build: Callable  # (node, **params) -> Node
    doc: str
    #: how many operands it takes (huber: the target and the prediction)
    arity: int = 1
    #: whether a model-file line that is the composite alone names its steps (``part_names``)
    names_parts: bool = True


def _eps(eps) -> object:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ShapeError(f"eps must be a positive number, not {eps!r}")
    return exact_number(eps)


def _axis(axis, node) -> int:
    if type(axis) is not int or axis not in (0, 1):
        raise ShapeError(f"axis must be 0 or 1, not {axis!r} (the operand is {node.shape[0]}×{node.shape[1]})")
    return axis


def _named(node: E.Node, names: dict | None, role: str) -> E.Node:
    return node.named(names[role]) if names and role in names else node


def layer_norm(X: E.Node, axis: int = 1, eps=DEFAULT_EPS, names: dict | None = None) -> E.Node:
    """(X − mean(X, axis)) ∘ 1/√(var(X, axis) + eps): each row (axis 1) or column (axis 0) normalised.
    ``names`` may name its steps: {"mu": …, "c": …, "v": …, "r": …} (see ``part_names``)."""
    axis, eps = _axis(axis, X), _eps(eps)
    centred = _named(X - _named(E.apply("mean", X, axis=axis), names, "mu"), names, "c")
    v = _named(E.apply("var", X, axis=axis) + E.constant(eps), names, "v")
    return centred * _named(E.apply("rsqrt", v), names, "r")


def batch_norm(X: E.Node, eps=DEFAULT_EPS, names: dict | None = None) -> E.Node:
    """Layer norm's formula with the statistics over the batch (axis 0): each feature (column)
    normalised over the examples (rows)."""
    return layer_norm(X, axis=0, eps=eps, names=names)


def huber(Y: E.Node, P: E.Node, delta=1) -> E.Node:
    """The Huber loss Σᵢⱼ h(Pᵢⱼ − Yᵢⱼ), h(r) = ½r² for |r| ≤ δ and δ(|r| − ½δ) elsewhere, written
    ½m² + δ(|r| − m) with m = min(|r|, δ) = δ hardtanh(|r|/δ) (both branches at once: for |r| ≤ δ it is
    ½r², else ½δ² + δ(|r| − δ)); h′(r) = r inside, δ sign(r) outside, and both at |r| = δ."""
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
        raise ShapeError(f"delta must be a positive number, not {delta!r}")
    if Y.shape != P.shape:
        raise ShapeError(f"the target is {Y.shape[0]}×{Y.shape[1]} and the prediction {P.shape[0]}×{P.shape[1]}")
    d = exact_number(delta)
    a = E.apply("abs", P - Y)
    m = E.apply("hardtanh", a) if d == 1 else E.apply("hardtanh", a * E.constant(1 / d)) * E.constant(d)
    linear = a - m if d == 1 else (a - m) * E.constant(d)
    return E.apply("sum", E.constant(sp.Rational(1, 2)) * E.apply("square", m) + linear)


def maximum(a: E.Node, b: E.Node) -> E.Node:
    """max(a, b) element by element, b + relu(a − b): at a tie (a = b) ReLU′(0) = 0 gives the whole
    gradient to b."""
    return b + E.apply("relu", a - b)


def minimum(a: E.Node, b: E.Node) -> E.Node:
    """min(a, b) element by element, b − relu(b − a): at a tie the whole gradient goes to b, as in
    :func:`maximum`."""
    return b - E.apply("relu", b - a)


def _bound(value, which: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ShapeError(f"the {which} bound must be a number, not {value!r}")
    return exact_number(value)


def clip(a: E.Node, lo=-1, hi=1) -> E.Node:
    """a clipped to [lo, hi] element by element, c + h hardtanh((a − c)/h) with c = (lo + hi)/2 and
    h = (hi − lo)/2: its derivative is 1 inside, 0 outside and 0 on a bound (hardtanh′(±1) = 0)."""
    lo, hi = _bound(lo, "lower"), _bound(hi, "upper")
    if not lo < hi:
        raise ShapeError(f"clip needs lo < hi, not lo = {lo} and hi = {hi}")
    c, h = (lo + hi) / 2, (hi - lo) / 2
    inner = a if c == 0 else a - E.constant(c)
    inner = inner if h == 1 else inner * E.constant(1 / h)
    out = E.apply("hardtanh", inner)
    out = out if h == 1 else out * E.constant(h)
    return out if c == 0 else out + E.constant(c)


def where(a: E.Node, b: E.Node, c: E.Node, d: E.Node, strict: bool = True) -> E.Node:
    """where(a > b, c, d) element by element, d + step(a − b) ∘ (c − d) (``strict``), and where(a ≥ b,
    c, d) = c + step(b − a) ∘ (d − c): step(0) = 0 (as ReLU′(0) = 0), so a tie takes the branch the
    comparison names; the selector's derivative is 0 (a and b get no gradient), c gets step ∘ G, d
    the rest. a < b and a ≤ b are b > a and b ≥ a."""
    if strict:
        return d + E.apply("step", a - b) * (c - d)
    return c + E.apply("step", b - a) * (d - c)


ROLES = ("mu", "c", "v", "r")


def part_names(line: str) -> list[dict]:
    """The names a normalisation's steps on the model-file line ``line`` may take, the first one free
    wins: the line's trailing digits as their subscript (n2 → μ₂ = mu_2, the centred values c₂ = c_2,
    v₂, r₂); a line without digits takes the bare names as a textbook writes them (μ, c, v, r), and
    where those are taken, the line's name (ln → mu_ln)."""
    digits = line[len(line.rstrip("0123456789")):]
    suffixed = {role: f"{role}_{digits or line}" for role in ROLES}
    return [suffixed] if digits else [{role: role for role in ROLES}, suffixed]


COMPOSITES: dict[str, Composite] = {
    "layer_norm": Composite("layer_norm", ("axis", "eps"), layer_norm, layer_norm.__doc__),
    "batch_norm": Composite("batch_norm", ("eps",), batch_norm, batch_norm.__doc__),
    "huber": Composite("huber", ("delta",), huber, huber.__doc__, arity=2, names_parts=False),
    "maximum": Composite("maximum", (), maximum, maximum.__doc__, arity=2, names_parts=False),
    "minimum": Composite("minimum", (), minimum, minimum.__doc__, arity=2, names_parts=False),
    "clip": Composite("clip", ("lo", "hi"), clip, clip.__doc__, names_parts=False),
    "conv1d": Composite("conv1d", ("stride", "padding"), conv1d, conv1d.__doc__, arity=2, names_parts=False),
}
