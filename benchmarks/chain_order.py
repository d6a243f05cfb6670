"""Benchmark: the NumPy kernel of a weight-normalised unit on column examples (Salimans & Kingma 2016,
eq. 2; ``benchmarks/backends.py: WEIGHT_NORM_COLUMN``), with its chain over the batch ordered by
``kernels/chain_order.py`` (now) against the left-to-right order the planner printed before (the same
planner with ``cheapest_split`` patched to split last), side by side in one process, one thread
(threadpoolctl), medians of interleaved rounds; with each kernel's operation count
(``kernels/cost.py``) and the independent count of the forward pass (``tests/flops.py``).

    python benchmarks/chain_order.py [--calls 20]
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

import numpy as np  # noqa: E402
from backends import WEIGHT_NORM_COLUMN  # noqa: E402
from flops import costs  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels import kernel_printer  # noqa: E402
from jacobian_sym.kernels.generate import batched_backprop  # noqa: E402
from jacobian_sym.kernels.timing import median_us  # noqa: E402


def kernels():
    now = js.backprop(js.Model.parse(WEIGHT_NORM_COLUMN, source="ordered.toml"))
    f_now = js.kernel(now)
    cheapest = kernel_printer.cheapest_split
    kernel_printer.cheapest_split = lambda shapes: len(shapes) - 1  # the chain left to right, as before
    try:
        before = js.backprop(js.Model.parse(WEIGHT_NORM_COLUMN, source="left_to_right.toml"))
        f_before = js.kernel(before)
    finally:
        kernel_printer.cheapest_split = cheapest
    return {"left to right (before)": f_before, "ordered (now)": f_now}, batched_backprop(now).model.loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20)
    opts = ap.parse_args()
    fs, root = kernels()
    rng = np.random.default_rng(0)
    print("| d = B | " + " | ".join(f"{k}: µs" for k in fs) + " | ratio | " +
          " | ".join(f"{k}: operations" for k in fs) + " | forward operations |")
    print("|---" * (2 * len(fs) + 3) + "|")
    with threadpool_limits(limits=1):
        for n in (256, 1024, 2048):
            a = dict(x=rng.normal(size=(n, n)), y=rng.normal(size=(1, n)), v=rng.normal(size=(n, 1)),
                     g=np.array([[1.5]]))
            want = fs["ordered (now)"](**a)
            for f in fs.values():
                got = f(**a, check=False)
                assert all(np.allclose(got[k], want[k], rtol=1e-9) for k in want)
            samples = {k: [] for k in fs}
            for _ in range(5):
                for k, f in fs.items():
                    samples[k].append(median_us(lambda f=f, a=a: f(**a, check=False), max(1, opts.calls // 5)))
            med = {k: statistics.median(v) for k, v in samples.items()}
            counts = {k: costs(f, root, n, rng) for k, f in fs.items()}
            before, now = med["left to right (before)"], med["ordered (now)"]
            print(f"| {n} | " + " | ".join(f"{v:.0f}" for v in med.values()) + f" | {before / now:.0f}× | "
                  + " | ".join(f"{c[0]:.3g}" for c in counts.values()) + f" | {counts['ordered (now)'][1]:.3g} |",
                  flush=True)


if __name__ == "__main__":
    main()
