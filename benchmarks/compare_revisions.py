"""Benchmark: two checkouts side by side, interleaved, in fresh processes (import, CLI, derivations).

    git worktree add /tmp/old <rev>
    python benchmarks/compare_revisions.py /tmp/old . [--runs 5]

Reports medians and the ratio new/old; BLAS pinned to one thread in the child processes (set before
NumPy is imported there).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES = {
    "import jacobian_sym": "import jacobian_sym",
    "CLI: derive one_layer.toml": ("import sys; sys.argv = ['jacobian-sym', 'derive', 'derivations/one_layer.toml']\n"
                                   "from jacobian_sym.cli import main; main()"),
    "every identity + backprop + kernel": ("import jacobian_sym as js\nfor i in js.IDENTITIES: js.derive(i)\n"
                                           "js.kernel(js.backprop(js.Model.from_toml('derivations/one_layer.toml')))"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    trees = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    for name, code in CASES.items():
        times = {k: [] for k in trees}
        for _ in range(args.runs):
            for key, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": tree, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True)
                times[key].append(time.perf_counter() - start)
        old, new = statistics.median(times["old"]), statistics.median(times["new"])
        print(f"{name:38s} old {old:5.2f} s   new {new:5.2f} s   new/old {new / old:.2f}")


if __name__ == "__main__":
    main()
