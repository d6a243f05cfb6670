"""The cost of every model file's kernel against its forward pass (``tests/flops.py``): a count of
operations at two sizes, not a clock. The kernel's count grows like the forward's (no plan is
asymptotically worse than hand-written backprop) and stays within the cheap gradient principle's
small multiple of it."""

from pathlib import Path

import numpy as np
import pytest
from flops import LARGE, SAME_ORDER, SMALL, costs, growth

import jacobian_sym as js
from jacobian_sym.documents import model_files
from jacobian_sym.kernels import chain_order
from jacobian_sym.kernels.generate import batched_backprop

ROOT = Path(__file__).parent.parent
# (benchmarks/models' blocks take a minute to derive: the exhaustive tier)
MODELS = [*(pytest.param(p, id=p.stem) for p in model_files(ROOT / "derivations")),
          *(pytest.param(p, id=p.stem, marks=pytest.mark.exhaustive)
            for p in sorted((ROOT / "benchmarks" / "models").glob("*.toml")))]
#: reverse mode's bound on (function and gradient) / function, in operations (Griewank & Walther
#: 2008, §4.6: 4 for their operation count, 5 counting memory moves)
CHEAP_GRADIENT = 5

#: Salimans & Kingma 2016 ("Weight normalization", eq. 2): w = g v / ‖v‖, y = φ(w·x + b), here a
#: linear unit on a column of examples x with a squared error. Its ∂J/∂v reads v (δ xᵀ) v: taken
#: left to right that is a d×d outer product per batch, where v (δ (xᵀ v)) costs d·B.
WEIGHT_NORM_COLUMN = """title = "A weight-normalised unit on column examples: (g v / norm(v))ᵀ x"
[inputs]
x = ["d", 1]
y = [1, 1]
[params]
v = ["d", 1]
g = [1, 1]
[forward]
w = "g * v / norm(v)"
out = "w.T @ x"
J = "mse(y, out)"
"""


def _kernel(bp):
    return js.kernel(bp), batched_backprop(bp).model.loss


def _assert_cheap(name, f, root):
    rng = np.random.default_rng(0)
    kernel, forward = growth(f, root, rng)
    assert kernel <= SAME_ORDER * forward, (
        f"{name}: the kernel's operations grow {kernel:.1f}× from sizes {SMALL} to {LARGE}, its forward's "
        f"{forward:.1f}×: the plan is asymptotically slower than backprop")
    for s in (SMALL, LARGE):
        k, fw = costs(f, root, s, rng)
        assert k <= CHEAP_GRADIENT * fw, f"{name}: at size {s} the kernel does {k / fw:.1f}× its forward's work"


@pytest.mark.parametrize("path", MODELS)
def test_every_model_files_kernel_costs_a_few_forward_passes(path):
    _assert_cheap(path.stem, *_kernel(js.backprop(js.Model.from_toml(path))))


def test_the_weight_normalised_column_layer_forms_no_outer_product():
    bp = js.backprop(js.Model.parse(WEIGHT_NORM_COLUMN))
    _assert_cheap("weight norm", *_kernel(bp))
    f = js.kernel(bp)
    rng = np.random.default_rng(1)
    a = dict(x=rng.normal(size=(5, 7)), y=rng.normal(size=(1, 7)), v=rng.normal(size=(5, 1)), g=np.array([[1.7]]))
    assert js.gradcheck(f, a).ok


def test_the_check_catches_a_chain_taken_left_to_right(monkeypatch):
    """The check fails on the plan the planner made before it ordered chains over the batch."""
    monkeypatch.setattr(chain_order, "cheapest_split", lambda shapes: len(shapes) - 1)
    monkeypatch.setattr("jacobian_sym.kernels.kernel_printer.cheapest_split", lambda shapes: len(shapes) - 1)
    bp = js.backprop(js.Model.parse(WEIGHT_NORM_COLUMN, source="left_to_right.toml"))
    with pytest.raises(AssertionError, match="asymptotically slower"):
        _assert_cheap("weight norm, left to right", *_kernel(bp))
