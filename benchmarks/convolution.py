"""Benchmark: the generated kernel of derivations/cnn_text.toml (conv1d → ReLU → global max-pool →
softmax cross-entropy) against the same forward and backward written by hand in NumPy with
``sliding_window_view``, at text-CNN sizes (Kim 2014: 300-dimensional embeddings, 100 filters of
width 3, two classes; a sentence of 50 tokens and a document of 400). Single-threaded BLAS (pinned
with threadpoolctl), the two contenders interleaved in one process, medians; the kernel's loss and
gradients are asserted equal to the hand-written ones before anything is timed.

    python benchmarks/convolution.py [--calls 200] [--dtype float32]
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels.timing import times_us  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 3


def handwritten(*, X, y, W, b, U, c):
    """The text CNN's loss and gradients as a person writes them: windows by sliding_window_view
    (taps side by side, as W stacks them), the max's gradient scattered to each filter's arg-max,
    ∂J/∂X by adding each tap's share back onto the rows it read."""
    T, d = X.shape[0] - WIDTH + 1, X.shape[1]
    cols = sliding_window_view(X, WIDTH, axis=0).transpose(0, 2, 1).reshape(T, WIDTH * d)
    Z = cols @ W + b
    H = np.maximum(Z, 0)
    filters = np.arange(H.shape[1])
    winner = H.argmax(axis=0)
    g = H[winner, filters][None]
    theta = g @ U + c
    shifted = theta - theta.max()
    log_p = shifted - np.log(np.exp(shifted).sum())
    d1 = np.exp(log_p) - y
    dZ = np.zeros_like(Z)
    dZ[winner, filters] = (d1 @ U.T)[0]
    dZ *= Z > 0
    dcols = dZ @ W.T
    dX = np.zeros_like(X)
    for k in range(WIDTH):
        dX[k:k + T] += dcols[:, k * d:(k + 1) * d]
    return {"J": -np.sum(y * log_p), "W": cols.T @ dZ, "b": dZ.sum(axis=0, keepdims=True), "U": g.T @ d1,
            "c": d1, "X": dX}


def arrays_at(T, d, F, C, dtype, rng):
    y = np.zeros((1, C), dtype=dtype)
    y[0, rng.integers(C)] = 1
    out = {"X": rng.standard_normal((T + WIDTH - 1, d)), "W": rng.standard_normal((WIDTH * d, F)) / np.sqrt(3 * d),
           "b": rng.standard_normal((1, F)) / 10, "U": rng.standard_normal((F, C)) / 10, "c": np.zeros((1, C))}
    return {"y": y, **{k: v.astype(dtype) for k, v in out.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls of each contender per size")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="the arrays' dtype")
    args = parser.parse_args(argv)
    dtype = np.dtype(args.dtype)
    f = js.kernel(js.backprop(js.Model.from_toml(ROOT / "derivations" / "cnn_text.toml")))
    rng = np.random.default_rng(0)
    print(f"text CNN, width {WIDTH}, {dtype}, one thread, median of {args.calls} interleaved calls (µs)")
    print(f"{'T':>5} {'d':>5} {'F':>5} {'C':>3}  {'generated':>10} {'by hand':>10} {'ratio':>6}")
    with threadpool_limits(limits=1):
        for T, d, F, C in ((50, 300, 100, 2), (400, 300, 100, 2)):
            arrays = arrays_at(T, d, F, C, dtype, rng)
            got, want = f(**arrays, check=False), handwritten(**arrays)
            tol = 1e-4 if dtype == np.float32 else 1e-10
            for k, v in want.items():
                assert np.linalg.norm(np.asarray(got[k]) - v) <= tol * max(np.linalg.norm(v), 1), k
            gen, hand = [], []

            def generated(arrays=arrays):
                return f(**arrays, check=False)

            def by_hand(arrays=arrays):
                return handwritten(**arrays)

            for _ in range(args.calls):  # interleaved, so a slow moment of the machine hits both
                gen += times_us(generated, 1)
                hand += times_us(by_hand, 1)
            g, h = float(np.median(gen)), float(np.median(hand))
            print(f"{T:>5} {d:>5} {F:>5} {C:>3}  {g:>10.1f} {h:>10.1f} {g / h:>6.2f}")


if __name__ == "__main__":
    main()
