"""Benchmark: the NumPy kernel of a GeGLU MLP (``benchmarks/backends.py: GEGLU``) with GELU's tanh
computed once and read by GELU′ (``kernels/shared_values.py``, now) against GELU′ evaluating it
again from the argument (the same planner with ``shared_part`` patched to find nothing: the plan
before), side by side in one process, one thread (threadpoolctl), medians of interleaved rounds,
float32 and float64; with the tanh evaluations each kernel makes (``kernels/cost.py``).

    python benchmarks/shared_values.py [--calls 20]
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from backends import GEGLU  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels import generate  # noqa: E402
from jacobian_sym.kernels.cost import Counted, operation_count  # noqa: E402
from jacobian_sym.kernels.timing import median_us  # noqa: E402


def kernels():
    now = js.kernel(js.backprop(js.Model.parse(GEGLU, source="shared.toml")))
    found = generate.shared_part
    generate.shared_part = lambda op: None  # GELU′ from its argument alone, as before
    try:
        before = js.kernel(js.backprop(js.Model.parse(GEGLU, source="recomputed.toml")))
    finally:
        generate.shared_part = found
    return {"tanh again (before)": before, "tanh shared (now)": now}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20)
    opts = ap.parse_args()
    fs = kernels()
    rng = np.random.default_rng(0)
    T, d, m = 128, 256, 1024
    print(f"| GeGLU MLP (T={T}, d={d}, m={m}) | " + " | ".join(f"{k}: µs" for k in fs) + " | ratio | "
          + " | ".join(f"{k}: tanh evaluated" for k in fs) + " |")
    print("|---" * (2 * len(fs) + 2) + "|")
    with threadpool_limits(limits=1):
        for dtype in (np.float32, np.float64):
            a = {k: rng.normal(0, 0.1, size=s).astype(dtype) for k, s in
                 dict(X=(T, d), Y=(T, d), W1=(d, m), V1=(d, m), W2=(m, d)).items()}
            want = fs["tanh shared (now)"](**a)
            for f in fs.values():
                got = f(**a, check=False)
                assert all(np.allclose(got[k], want[k], rtol=1e-4 if dtype == np.float32 else 1e-10) for k in want)
            samples = {k: [] for k in fs}
            for _ in range(5):
                for k, f in fs.items():
                    samples[k].append(median_us(lambda f=f, a=a: f(**a, check=False), max(1, opts.calls // 5)))
            med = {k: statistics.median(v) for k, v in samples.items()}
            tanh = {}
            for k, f in fs.items():
                operation_count(f, a)
                tanh[k] = Counted.elements.get("tanh", 0)
            before, now = med["tanh again (before)"], med["tanh shared (now)"]
            print(f"| {np.dtype(dtype).name} | " + " | ".join(f"{v:.0f}" for v in med.values())
                  + f" | {now / before:.2f} | " + " | ".join(str(v) for v in tanh.values()) + " |", flush=True)


if __name__ == "__main__":
    main()
