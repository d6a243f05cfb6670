"""Benchmark: what the check before return costs (``proofs/guard.py``) — the backprop of every model
file derived without it and checked after it, in one process, medians of 3 (SymPy's cache cleared).

    OPENBLAS_NUM_THREADS=1 python benchmarks/form_check.py
"""

import statistics
import time
from pathlib import Path

import sympy.core.cache

import jacobian_sym as js
from jacobian_sym.models.backprop import backprop as unchecked_backprop
from jacobian_sym.proofs.guard import checked


def _median(run):
    runs = []
    for _ in range(3):
        sympy.core.cache.clear_cache()
        t = time.perf_counter()
        run()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main():
    print("| model file | derive (s) | check (s) | check / derive |")
    print("|---|---|---|---|")
    for path in sorted(Path("derivations").glob("*.toml")):
        if path.name.endswith(".context.toml"):
            continue
        model = js.Model.from_toml(path)
        derive = _median(lambda model=model: unchecked_backprop(model))
        bp = unchecked_backprop(model)

        def check(bp=bp):
            bp.form_check = None
            checked(bp)

        cost = _median(check)
        print(f"| `{path.name}` | {derive:.2f} | {cost:.2f} | {cost / derive:.2f} |")


if __name__ == "__main__":
    main()
