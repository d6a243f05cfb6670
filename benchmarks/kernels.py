"""Benchmark: the generated kernel of the notes' network against hand-written NumPy (and JAX /
PyTorch when installed), single-threaded BLAS, interleaved in one process, medians of many calls.

    OPENBLAS_NUM_THREADS=1 python benchmarks/kernels.py [--calls 300]

Prints one row per size and dtype: median µs per forward+backward call and the ratio to the
hand-written version, for the kernel as a training loop calls it (check=False: the hand-written
version validates nothing either) and with its input checks on (the default).
"""

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# XLA (JAX) on one thread too, so that every contender has the same single core
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from handwritten import one_layer as handwritten  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels.timing import median_us  # noqa: E402

SIZES = [(10, 20, 5, 1), (784, 256, 10, 1), (784, 256, 10, 64), (784, 256, 10, 256)]


def arrays(D_x, D_h, N_c, B, dtype, rng):
    y = np.zeros((N_c, B))
    y[rng.integers(0, N_c, B), np.arange(B)] = 1
    out = dict(x=rng.normal(size=(D_x, B)), y=y, W=rng.normal(0, 0.05, size=(D_h, D_x)),
               b1=rng.normal(size=(D_h, 1)), U=rng.normal(0, 0.1, size=(N_c, D_h)), b2=rng.normal(size=(N_c, 1)))
    return {k: v.astype(dtype) for k, v in out.items()}


def peers():
    """JAX jit(grad) and PyTorch eager autograd, when installed (each: arrays -> call)."""
    found = {}
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def loss(params, x, y):
            W, b1, U, b2 = params
            h = jnp.maximum(W @ x + b1, 0)
            theta = U @ h + b2
            return -jnp.sum(y * jax.nn.log_softmax(theta, axis=0))

        grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))

        def jax_call(a):
            params = tuple(jnp.asarray(a[k]) for k in ("W", "b1", "U", "b2"))
            x, y = jnp.asarray(a["x"]), jnp.asarray(a["y"])
            return lambda: jax.block_until_ready(grad(params, x, y))

        found["jax.jit(grad)"] = jax_call
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)

        def torch_call(a):
            t = {k: torch.from_numpy(v).requires_grad_(k not in ("y",)) for k, v in a.items()}

            def run():
                for v in t.values():
                    v.grad = None
                h = torch.relu(t["W"] @ t["x"] + t["b1"])
                theta = t["U"] @ h + t["b2"]
                J = -(t["y"] * torch.log_softmax(theta, dim=0)).sum()
                J.backward()
            return run

        found["torch eager"] = torch_call
    except ImportError:
        pass
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    try:  # pin BLAS at run time as well (the environment variables above only act before NumPy loads)
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(1)
        print("BLAS:", ", ".join(f"{p['internal_api']} {p.get('architecture', '')} threads={p['num_threads']}"
                                 for p in threadpool_info()))
    except ImportError:
        print("threadpoolctl is not installed: BLAS pinned through the environment only")
    t = time.perf_counter()
    bp = js.backprop(js.Model.from_toml(str(Path(__file__).parent.parent / "derivations/one_layer.toml")))
    derive = time.perf_counter() - t
    t = time.perf_counter()
    kernel = js.kernel(bp)
    build = time.perf_counter() - t
    print(f"derive {derive:.2f} s, build kernel {build:.2f} s (cold: SymPy caches empty)")
    others = peers()
    header = (f"{'(D_x, D_h, N_c, B)':<20} {'dtype':<8} {'hand µs':>9} {'kernel µs':>10} {'ratio':>6}"
              f" {'checked µs':>11} {'ratio':>6}")
    for name in others:
        header += f" {name + ' µs':>18} {'ratio':>6}"
    print(header)
    rng = np.random.default_rng(0)
    for sizes in SIZES:
        for dtype in (np.float32, np.float64):
            a = arrays(*sizes, dtype, rng)
            fast = getattr(kernel.module, kernel.name)
            candidates = {"hand": partial(handwritten, **a), "kernel": partial(fast, **a, check=False),
                          "checked": partial(fast, **a)}
            for name, make in others.items():
                candidates[name] = make(a)
            for fn in candidates.values():  # warm up
                fn()
            samples = {name: [] for name in candidates}
            for _ in range(5):  # interleaved rounds
                for name, fn in candidates.items():
                    samples[name].append(median_us(fn, max(1, args.calls // 5)))
            med = {name: statistics.median(v) for name, v in samples.items()}
            row = f"{str(sizes):<20} {np.dtype(dtype).name:<8} {med['hand']:>9.1f} {med['kernel']:>10.1f} "
            row += f"{med['kernel'] / med['hand']:>6.2f} {med['checked']:>11.1f} {med['checked'] / med['hand']:>6.2f}"
            for name in others:
                row += f" {med[name]:>18.1f} {med[name] / med['hand']:>6.2f}"
            print(row)


if __name__ == "__main__":
    main()
