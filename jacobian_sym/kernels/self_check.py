"""The check every generated kernel passes before it is handed out: right, or refused.

The kernel runs on random arrays at small sizes (every size symbol a different small number, a batch
of 3). Its loss must equal the model's forward pass evaluated independently of the generator (each
node lambdified on its own through ``numeric.NumericGraph``), and every gradient must have its
variable's shape and agree with a central difference of that forward pass along a random direction
(⟨∂J/∂v, u⟩ against (J(v + hu) − J(v − hu)) / 2h). Then each parameter in turn is put at the
points users start from, zeros and ones: where the loss is finite and has one slope there, every
gradient must be finite (‖w‖² written through ‖w‖ is NaN at w = 0). A kernel that fails is not
returned: the caller gets a ``KernelError`` that names the value that disagreed.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from jacobian_sym.graph.structure import is_symmetric, pairing, symmetric_array
from jacobian_sym.kernels.numeric import NumericGraph, concrete_shape, random_inputs

#: a kink of ReLU may fall within h of a random point: one more draw settles that
DRAWS = 2


class PerExample:
    """The loss of a batch as the sum over its examples of the one-example model's loss (each
    example's column, or row, of every batched input evaluated on its own): the kernel's promise,
    computed without the batched graph, so that a batched derivation that mixes examples is seen."""

    def __init__(self, one, b, sizes):
        self.numeric = NumericGraph(one, sizes)
        B = b.model.batch
        self.axes = {name: (1 if node.shape[1] == B else 0) for name, node in b.model.inputs.items() if B in node.shape}
        self.count = int(sizes[B])

    def loss(self, arrays: dict) -> float:
        total = 0.0
        for k in range(self.count):
            one = {name: (a[:, k:k + 1] if self.axes[name] == 1 else a[k:k + 1, :]) if name in self.axes else a
                   for name, a in arrays.items()}
            total += self.numeric.loss(one)
        return total


def check_kernel(fn, b, seed: int = 0, one=None) -> str | None:
    """None when ``fn`` (the generated function) is right on random arrays for the batched backprop
    ``b``; else what disagreed, in one line. ``one`` is the one-example graph of the model: when
    given (and ``b`` has a batch), the loss and gradients are compared with the sum over examples of
    the one-example loss rather than with the batched graph."""
    rng = np.random.default_rng(seed)
    symbols = sorted({s for n in b.graph.nodes for x in n.shape for s in getattr(x, "free_symbols", ())},
                     key=lambda s: s.name)
    sizes = {s: sp.Integer(3 if s == b.model.batch else 2 + k % 3) for k, s in enumerate(symbols)}
    batched = b.model.batch in sizes  # (a batched input the loss does not read leaves no batch to split)
    numeric = PerExample(one, b, sizes) if one is not None and batched else NumericGraph(b.graph, sizes)
    problem = "no random inputs gave a finite loss to check it on"
    for draw in range(DRAWS + 1):
        arrays = random_inputs(b.graph, sizes, rng)
        arrays = {k: v for k, v in arrays.items() if k in b.model.variables}
        if draw == DRAWS:  # a last draw inside every log's domain: positive values
            arrays = {k: v if b.model.variables[k].attr("one_hot") or b.model.variables[k].attr("constant")
                      else np.abs(v) + 0.1 for k, v in arrays.items()}
        with np.errstate(all="ignore"):
            finite = np.isfinite(numeric.loss(arrays))
        if not finite:
            continue
        problem = _disagreement(fn, numeric, arrays, b, sizes, rng)
        if problem is None:
            return _not_finite_where_smooth(fn, numeric, arrays, b, rng)
    return problem


#: how the NumPy runtime, NumPy's and JAX's linalg and PyTorch's refuse a singular matrix
_SINGULAR = ("SingularMatrixError", "LinAlgError", "_LinAlgError")

#: the parameter values users start from (a zero-initialised bias or ridge weight, a ones scale)
START_POINTS = {"zeros": np.zeros_like, "ones": np.ones_like}


def _not_finite_where_smooth(fn, numeric, arrays, b, rng) -> str | None:
    """None unless, with a parameter at zeros or at ones, the kernel's gradient for it has a NaN or an
    infinity where the forward pass (and the kernel's loss) is finite and smooth (its one-sided differences agree): ‖w‖²
    written through ‖w‖ is NaN at w = 0, Σ w² is not. A kink (‖w‖ at 0, ReLU at 0) is no fault."""
    params = [k for k, v in b.model.variables.items() if k in arrays and v.attr("role") == "param"
              and not v.attr("one_hot") and not v.attr("constant")]
    if not params:
        return None
    for name in params:  # one at a time, the others random: g·W/‖W‖ at g = 0 says nothing about W
        if name not in b.gradients:
            continue
        for where, fill in START_POINTS.items():
            at = {**arrays, name: fill(arrays[name])}
            with np.errstate(all="ignore"):
                try:
                    out = fn(check=False, **{k: v.copy() for k, v in at.items()
                                             if not b.model.variables[k].attr("constant")})
                    loss = numeric.loss(at)
                except Exception as err:  # a singular matrix at zeros or ones is refused, not a NaN
                    if type(err).__name__ in _SINGULAR:
                        continue
                    raise
                if not (np.isfinite(loss) and np.all(np.isfinite(out["J"]))):
                    continue
            if not np.all(np.isfinite(out.get(name))) and _smooth_at(numeric, at, name, rng):
                return f"its gradient for {name} is not finite at {name} = {where}, where the loss is finite and smooth"
    return None


def _smooth_at(numeric, arrays, name, rng, h: float = 1e-5) -> bool:
    """Whether the loss has one slope along random directions at ``arrays`` in the variable ``name``:
    the forward and backward one-sided differences agree (they differ at a kink, |t| at 0)."""
    with np.errstate(all="ignore"):
        J = numeric.loss(arrays)
        for _ in range(2):
            u = rng.normal(size=arrays[name].shape)
            up = numeric.loss({**arrays, name: arrays[name] + h * u})
            down = numeric.loss({**arrays, name: arrays[name] - h * u})
            forward, backward = (up - J) / h, (J - down) / h
            if not (np.isfinite(forward) and np.isfinite(backward)):
                return False
            if abs(forward - backward) > 1e-3 * (1 + abs(forward) + abs(backward)):
                return False
    return True


def _disagreement(fn, numeric, arrays, b, sizes, rng) -> str | None:
    with np.errstate(all="ignore"):
        # (a constant mask is the kernel's own, not an argument)
        out = fn(check=False, **{k: v.copy() for k, v in arrays.items() if not b.model.variables[k].attr("constant")})
        want = numeric.loss(arrays)
    got = float(np.asarray(out["J"]).reshape(-1)[0]) if np.size(out["J"]) == 1 else None
    if got is None or not _close(got, want, 1e-9):
        return f"its loss is {got} where the forward pass gives {want}"
    for name in b.gradients:
        grad = np.asarray(out.get(name))
        node = b.model.variables.get(name) or b.model.forward.get(name)
        shape = concrete_shape(node.shape, sizes)
        if grad.shape != shape:
            return f"its gradient for {name} has shape {grad.shape}, not {shape}"
        if name not in arrays:
            continue
        u = rng.normal(size=arrays[name].shape)
        h = 1e-6 * max(1.0, float(np.abs(arrays[name]).max()))
        symmetric = is_symmetric(node)
        if symmetric:  # along a symmetric direction, each free entry once (graph.structure)
            u = symmetric_array(u)
        up, down = dict(arrays), dict(arrays)
        up[name], down[name] = arrays[name] + h * u, arrays[name] - h * u
        with np.errstate(all="ignore"):
            fd = (numeric.loss(up) - numeric.loss(down)) / (2 * h)
        directional = pairing(grad, u) if symmetric else float(np.sum(grad * u))
        scale = float(np.linalg.norm(grad) * np.linalg.norm(u)) + abs(fd)
        if not abs(directional - fd) <= 1e-5 * scale + 1e-7:
            return f"its gradient for {name} disagrees with finite differences ({directional:.6g} vs {fd:.6g})"
    return None


def _close(a: float, b: float, tol: float) -> bool:
    if not (np.isfinite(a) and np.isfinite(b)):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))
