"""Benchmark: what declared symmetry costs a kernel call (the check that A = Aᵀ, to rounding) and a
false claim (the screen at a symmetric point before "holds only for symmetric W" is tried), medians,
single-threaded.

    python benchmarks/symmetric.py [--n 256] [--calls 200]

Reported: µs per kernel call of derivations/quadratic_form_sym.toml with the input checks (which now
include the symmetry check) and without (check=False), and their ratio; seconds per false claim on
(x − s)ᵀW(x − s) with W undeclared (screened, not derived again) against a claim that holds only for a
symmetric W (derived again with W declared).
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import jacobian_sym as js

ROOT = Path(__file__).resolve().parent.parent


def median_us(fn, calls):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def median_s(fn, reps=3):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    threadpool_limits(1)
    f = js.kernel(js.backprop(js.Model.from_toml(ROOT / "derivations" / "quadratic_form_sym.toml")))
    rng = np.random.default_rng(0)
    R = rng.normal(size=(args.n, args.n))
    arrays = {"X": rng.normal(size=(64, args.n)), "A": (R + R.T) / 2, "lam": np.array([[0.5]])}
    checked = median_us(lambda: f(**arrays), args.calls)
    unchecked = median_us(lambda: f(**arrays, check=False), args.calls)
    print(f"kernel at n={args.n}: {checked:.1f} µs checked, {unchecked:.1f} µs unchecked "
          f"(ratio {checked / unchecked:.2f})")
    W, x, s = js.matrix("W", "n", "n"), js.vector("x", "n"), js.vector("s", "n")
    J = (x - s).T @ W @ (x - s)
    false = median_s(lambda: js.check(J, wrt=x, claim="3 * W @ (x - s)", layout="denominator"))
    only = median_s(lambda: js.check(J, wrt=x, claim="2 * W @ (x - s)", layout="denominator"))
    print(f"claims: {false:.2f} s a false claim (screened), {only:.2f} s one that holds only for symmetric W")


if __name__ == "__main__":
    main()
