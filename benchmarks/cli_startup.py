"""Benchmark: `jacobian-sym derive derivations/one_layer.toml` from a cold process (import included).

    python benchmarks/cli_startup.py [--runs 7]
"""

import argparse
import shutil
import statistics
import subprocess
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    exe = shutil.which("jacobian-sym")
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run([exe, "derive", "derivations/one_layer.toml"], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    print(f"jacobian-sym derive derivations/one_layer.toml: median {statistics.median(times):.2f} s over "
          f"{args.runs} cold runs (min {min(times):.2f} s, max {max(times):.2f} s; target < 1.5 s)")


if __name__ == "__main__":
    main()
