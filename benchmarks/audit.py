"""Benchmark: auditing a whole document from a cold process, on one core.

    python benchmarks/audit.py [--runs 3] [DOCUMENT [CONTEXT]]

Default: the notes' whole file (shipped with the package) with derivations/notes.context.toml. Each
run is a fresh `jacobian-sym audit` process (imports and SymPy's caches cold), pinned to one core with
taskset when it is there; reported: the median wall time, the time the audit itself took, and the
time per decided link. Target: the notes in < 30 s.
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from importlib import resources


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("document", nargs="?")
    parser.add_argument("context", nargs="?")
    args = parser.parse_args()
    document = args.document or str(resources.files("jacobian_sym.notes") / "computing-neural-network-gradients.md")
    context = args.context or ("derivations/notes.context.toml" if not args.document else None)
    command = [shutil.which("jacobian-sym"), "audit", document] + (["--context", context] if context else [])
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0"] + command
    walls, inner, decided = [], [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            sys.exit(proc.stderr)
        inner.append(float(re.search(r"\(([0-9.]+) s\)", proc.stdout).group(1)))
        decided = int(re.search(r"decided\s+(\d+)", proc.stdout).group(1))
        links = int(re.search(r"links found\s+(\d+)", proc.stdout).group(1))
    wall = statistics.median(walls)
    print(f"{document}: {links} links, {decided} decided")
    print(f"cold wall time: median {wall:.1f} s over {args.runs} runs (min {min(walls):.1f} s, max {max(walls):.1f} s; "
          f"target < 30 s)")
    per_link = 1000 * statistics.median(inner) / decided
    print(f"the audit itself: median {statistics.median(inner):.1f} s, {per_link:.0f} ms per decided link")


if __name__ == "__main__":
    main()
