"""Benchmark: the fused-QKV attention head (derivations/attention_fused_qkv.toml), its generated NumPy
kernel against the same forward and backward written by hand, one BLAS thread.

    python benchmarks/slices.py [--T 128] [--d 64] [--k 64] [--repeats 200]

The hand-written version is the textbook backward: Q, K, V as column blocks of X Wqkv (views),
dS = A ∘ (dA − rowsum(dA ∘ A)), dWqkv = Xᵀ [dQ dK dV]. Reported: the median time per call of each,
over ``repeats`` calls after a warm-up, and their ratio (target ≤ 1.05).
"""

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import jacobian_sym as js


def handwritten(*, X, Y, Wqkv):
    k = Y.shape[1]
    P = X @ Wqkv
    Q, K, V = P[:, :k], P[:, k:2 * k], P[:, 2 * k:]
    scale = k ** -0.5
    s = (Q @ K.T) * scale
    e = np.exp(s - s.max(axis=1, keepdims=True))
    A = e / e.sum(axis=1, keepdims=True)
    out = A @ V
    r = out - Y
    J = 0.5 * np.vdot(r, r)
    dA = r @ V.T
    dS = A * (dA - (dA * A).sum(axis=1, keepdims=True)) * scale
    dP = np.concatenate((dS @ K, dS.T @ Q, A.T @ r), axis=1)
    return {"J": J, "Wqkv": X.T @ dP}


def _median(f, arrays, repeats):
    f(**arrays)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f(**arrays)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--T", type=int, default=128)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    kernel = js.kernel(js.backprop(js.Model.from_toml("derivations/attention_fused_qkv.toml")))
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        arrays = {"X": rng.normal(size=(args.T, args.d)), "Y": rng.normal(size=(args.T, args.k)),
                  "Wqkv": rng.normal(size=(args.d, 3 * args.k)) / np.sqrt(args.d)}
        arrays = {n: a.astype(dtype) for n, a in arrays.items()}
        got, want = kernel(**arrays, check=False), handwritten(**arrays)
        gap = np.linalg.norm(got["Wqkv"] - want["Wqkv"]) / np.linalg.norm(want["Wqkv"])
        assert gap < (1e-4 if dtype == np.float32 else 1e-10), gap
        with threadpool_limits(1):
            generated = _median(lambda **a: kernel(**a, check=False), arrays, args.repeats)
            by_hand = _median(handwritten, arrays, args.repeats)
        print(f"{np.dtype(dtype).name} T={args.T} d={args.d} k={args.k}: generated {1e6 * generated:.0f} µs, "
              f"hand-written {1e6 * by_hand:.0f} µs, ratio {generated / by_hand:.2f} (target ≤ 1.05)")


if __name__ == "__main__":
    main()
