"""Benchmark: checking claims against the notes' network, and the whole errata run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/claims.py
"""

import statistics
import time

import sympy.core.cache

import jacobian_sym as js

CLAIMS = [("W", "delta2.T @ x.T"), ("W", "x @ delta2"), ("W", "-delta2.T @ x.T"), ("x", r"(\delta_2 W)^T"),
          ("delta2", r"\delta_1 U \circ \operatorname{ReLU}'(z)^T")]


def main():
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    for wrt, claim in CLAIMS:
        runs = []
        for _ in range(3):
            sympy.core.cache.clear_cache()
            t = time.perf_counter()
            verdict = js.check(bp, wrt, claim)
            runs.append(time.perf_counter() - t)
        print(f"check {wrt:<7} = {claim:<45} {'holds' if verdict.ok else 'fails':<6} "
              f"median {statistics.median(runs):.2f} s (target < 2 s)")
    sympy.core.cache.clear_cache()
    t = time.perf_counter()
    found = js.errata()
    print(f"errata: {len(found)} findings in {time.perf_counter() - t:.2f} s (target < 20 s)")


if __name__ == "__main__":
    main()
