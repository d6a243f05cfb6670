"""Benchmark: derive and prove every identity of the notes in one process.

    OPENBLAS_NUM_THREADS=1 python benchmarks/identities.py [--repeat 5]

Each repeat derives every identity at symbolic sizes and runs the three proofs (exact at two
concrete sizes up to 4×3, numeric, finite differences). SymPy caches are cleared between repeats so
that every repeat does the full work.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sympy.core.cache  # noqa: E402

import jacobian_sym as js  # noqa: E402


def once() -> tuple[float, float]:
    sympy.core.cache.clear_cache()
    t0 = time.perf_counter()
    derivations = [js.derive(s) for s in js.IDENTITIES]
    t1 = time.perf_counter()
    reports = [js.verify(d) for d in derivations]
    t2 = time.perf_counter()
    assert all(r.ok for r in reports), [str(r) for r in reports if not r.ok]
    return t1 - t0, t2 - t0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = [once() for _ in range(args.repeat)]
    derive = statistics.median(r[0] for r in runs)
    total = statistics.median(r[1] for r in runs)
    print(f"{len(js.IDENTITIES)} identities, {args.repeat} repeats")
    print(f"derive only        median {derive:.2f} s")
    print(f"derive + 3 proofs  median {total:.2f} s  (target < 5 s)")


if __name__ == "__main__":
    main()
