"""Benchmark: what the kernel self-check's start points (each parameter at zeros and at ones) add to the
check every generated kernel passes, side by side in one process, medians of 5, single-threaded.

    python benchmarks/self_check.py
"""

import statistics
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

import jacobian_sym as js
from jacobian_sym.kernels import self_check
from jacobian_sym.kernels.codegen import _load
from jacobian_sym.kernels.generate import batched_backprop, function_name, source

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, b, reps=5):
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        self_check.check_kernel(fn, b)
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def main():
    with threadpool_limits(1):
        for name in ("one_layer", "glu", "mahalanobis"):
            bp = js.backprop(js.Model.from_toml(ROOT / "derivations" / f"{name}.toml"))
            b = batched_backprop(bp)
            fn = getattr(_load(source(bp, b), function_name(bp)), function_name(bp))
            with_points = timed(fn, b)
            saved = self_check._not_finite_where_smooth
            self_check._not_finite_where_smooth = lambda *args: None
            try:
                without = timed(fn, b)
            finally:
                self_check._not_finite_where_smooth = saved
            print(f"{name}: check {without * 1e3:.1f} ms -> {with_points * 1e3:.1f} ms "
                  f"({with_points / without:.2f}x)")


if __name__ == "__main__":
    main()
