"""Benchmark: peak memory of a generated kernel against hand-written NumPy (an L-hidden-layer ReLU MLP
with softmax cross-entropy), measured with tracemalloc (NumPy reports its buffers to it).

    python benchmarks/memory.py [--layers 4] [--batch 256] [--width 512]

The hand-written backprop is the one a person writes: forward keeping z and h, then per layer the
error signal, its two gradients, and on to the next layer.
"""

import argparse
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mlp import mlp_text  # noqa: E402

import jacobian_sym as js  # noqa: E402


def handwritten(L, x, y, Ws, bs, U, c):
    zs, hs = [], [x]
    for W, b in zip(Ws, bs):
        z = W @ hs[-1] + b
        zs.append(z)
        hs.append(np.maximum(z, 0))
    theta = U @ hs[-1] + c
    m = theta.max(axis=0, keepdims=True)
    log_p = theta - m - np.log(np.exp(theta - m).sum(axis=0, keepdims=True))
    J = -np.sum(y * log_p)
    delta = np.exp(log_p) - y
    del log_p, theta
    grads = {"U": delta @ hs[-1].T, "c": delta.sum(axis=1, keepdims=True)}
    back = U
    for k in range(L, 0, -1):
        delta = (back.T @ delta) * (zs[k - 1] > 0)
        grads[f"W{k}"] = delta @ hs[k - 1].T
        grads[f"b{k}"] = delta.sum(axis=1, keepdims=True)
        back = Ws[k - 1]
        zs.pop(), hs.pop()
    grads["J"] = J
    return grads


def peak(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del out
    return top


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    args = parser.parse_args()
    L, B, n, classes = args.layers, args.batch, args.width, 10
    f = js.kernel(js.backprop(js.Model.parse(mlp_text(L))))
    rng = np.random.default_rng(0)
    arrays = {"x": rng.normal(size=(n, B)), "y": np.eye(classes)[:, rng.integers(0, classes, B)]}
    for k in range(1, L + 1):
        arrays[f"W{k}"] = rng.normal(size=(n, n)) / np.sqrt(n)
        arrays[f"b{k}"] = np.zeros((n, 1))
    arrays["U"], arrays["c"] = rng.normal(size=(classes, n)) / np.sqrt(n), np.zeros((classes, 1))
    Ws = [arrays[f"W{k}"] for k in range(1, L + 1)]
    bs = [arrays[f"b{k}"] for k in range(1, L + 1)]
    ours = f(check=False, **arrays)
    theirs = handwritten(L, arrays["x"], arrays["y"], Ws, bs, arrays["U"], arrays["c"])
    worst = max(np.linalg.norm(ours[k] - theirs[k]) / max(np.linalg.norm(theirs[k]), 1e-300) for k in ours)
    generated = peak(lambda: f(check=False, **arrays))
    hand = peak(lambda: handwritten(L, arrays["x"], arrays["y"], Ws, bs, arrays["U"], arrays["c"]))
    print(f"{L}-hidden-layer MLP, width {n}, batch {B}, float64 (results agree to {worst:.1e}):")
    print(f"  peak memory, generated kernel: {generated / 2**20:.2f} MiB")
    print(f"  peak memory, hand-written:     {hand / 2**20:.2f} MiB")
    print(f"  ratio: {generated / hand:.3f}")


if __name__ == "__main__":
    main()
