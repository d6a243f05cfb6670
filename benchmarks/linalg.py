"""Benchmark: the Gaussian negative log-likelihood's generated kernel (derivations/gaussian_nll.toml:
solves and slogdet, the inverse formed once for ∂J/∂Σ) against a hand-written NumPy gradient that
forms Σ⁻¹ with np.linalg.inv and multiplies by it, on one BLAS thread.

    python benchmarks/linalg.py [--sizes 16 64 256] [--repeats 50]

Reported per size: the median time per call of each and their ratio (generated / hand-written), and
the relative error between the two gradients (so a faster wrong kernel would show).
"""

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import jacobian_sym as js


def handwritten(x, mu, Sigma):
    """½ rᵀΣ⁻¹r + ½ log|Σ| and its gradients, as a textbook writes them, with the inverse formed."""
    P = np.linalg.inv(Sigma)
    r = x - mu
    Pr = P @ r
    J = 0.5 * (r.T @ Pr) + 0.5 * np.linalg.slogdet(Sigma)[1]
    return {"J": J, "mu": -0.5 * (Pr + P.T @ r), "Sigma": 0.5 * P.T - 0.5 * P.T @ r @ r.T @ P.T}


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    f = js.kernel(js.backprop(js.Model.from_toml("derivations/gaussian_nll.toml")))
    print(f"{'n':>5} {'generated µs':>13} {'inv-based µs':>13} {'ratio':>6} {'rel. diff':>10}")
    with threadpool_limits(limits=1):
        for n in args.sizes:
            rng = np.random.default_rng(n)
            A = rng.normal(size=(n, n))
            arrays = {"x": rng.normal(size=(n, 1)), "mu": rng.normal(size=(n, 1)), "Sigma": A @ A.T + n * np.eye(n)}
            ours = median_time(lambda arrays=arrays: f(check=False, **arrays), args.repeats)
            theirs = median_time(lambda arrays=arrays: handwritten(**arrays), args.repeats)
            a, b = f(**arrays)["Sigma"], handwritten(**arrays)["Sigma"]
            diff = np.linalg.norm(a - b) / np.linalg.norm(b)
            print(f"{n:>5} {ours * 1e6:>13.1f} {theirs * 1e6:>13.1f} {ours / theirs:>6.2f} {diff:>10.1e}")


if __name__ == "__main__":
    main()
