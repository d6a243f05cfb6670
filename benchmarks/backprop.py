"""Benchmark: backprop of whole models, and the exact whole-model proof.

    OPENBLAS_NUM_THREADS=1 python benchmarks/backprop.py [--repeat 5]

Medians over repeats, SymPy caches cleared before each repeat (every repeat does the full work).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402
import sympy.core.cache  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.proofs.model_proofs import model_exact_check  # noqa: E402


def five_layers() -> js.Model:
    acts = ["relu", "tanh", "sigmoid", "leaky_relu", "softplus"]
    h = js.vector("x", "n0")
    for k, act in enumerate(acts):
        W, b = js.matrix(f"W{k}", f"n{k + 1}", f"n{k}"), js.matrix(f"b{k}", f"n{k + 1}", 1)
        h = js.apply(act, (W @ h + b).named(f"z{k}")).named(f"h{k}")
    J = js.cross_entropy(js.vector("y", "n5", one_hot=True), js.softmax(h).named("yhat")).named("J")
    return js.Model.build(J)


def timed(fn, repeat):
    runs = []
    for _ in range(repeat):
        sympy.core.cache.clear_cache()
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    one = js.Model.from_toml("derivations/one_layer.toml")
    five = five_layers()
    sizes = {sp.Symbol(k, integer=True, positive=True): sp.Integer(v) for k, v in
             {"D_x": 3, "D_h": 4, "N_c": 3}.items()}
    rows = [
        ("backprop, the notes' network (symbolic sizes)", timed(lambda: js.backprop(one), args.repeat), 1.0),
        ("backprop, a 5-layer model (symbolic sizes)", timed(lambda: js.backprop(five), args.repeat), 3.0),
        ("exact proof of all 5 gradients at (3, 4, 3)",
         timed(lambda: model_exact_check(js.backprop(one), sizes, np.random.default_rng(0)), max(1, args.repeat // 2)),
         10.0),
    ]
    for name, median, target in rows:
        print(f"{name:<48} median {median:6.2f} s   target < {target:g} s")


if __name__ == "__main__":
    main()
