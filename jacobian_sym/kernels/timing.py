"""Timing a generated kernel on random arrays (the `jacobian-sym bench` command)."""

from __future__ import annotations

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph.structure import symmetric_array
from jacobian_sym.kernels.runtime import _dim_value
from jacobian_sym.kernels.structure_checks import declared_definite, declared_symmetric

MAX_BENCH_BYTES = 4 * 2**30


def size_value(dim: str, sizes: dict) -> int:
    """A size of a kernel's input by its name, number or sum (``2*k``) at ``sizes``."""
    value = _dim_value(dim, sizes)
    if value is None and dim not in sizes:
        raise JacobianSymError(f"no value for the size {dim}")
    return value if value is not None else sizes[dim]


def random_arrays(f, sizes: dict, rng, dtype=np.float64) -> dict:
    """Random arrays that fit kernel ``f`` at ``sizes`` (by size name): one-hot labels where declared,
    labels in (0, 1) for a binary cross-entropy, int labels of an int input."""
    out = {}
    for name, dims in f.inputs.items():
        shape = tuple(size_value(d, sizes) for d in dims)
        out[name] = rng.normal(0, 0.1, size=shape)
    for name, axis in f.module.ONE_HOT.items():
        y = np.zeros_like(out[name])
        n, m = y.shape
        if axis == 0:
            y[rng.integers(0, n, m), np.arange(m)] = 1
        else:
            y[np.arange(n), rng.integers(0, m, n)] = 1
        out[name] = y
    for name, domain in f.domains.items():
        if domain == "probability" and name not in f.module.ONE_HOT:
            out[name] = rng.uniform(0.05, 0.95, size=out[name].shape)
        elif domain == "positive":
            out[name] = rng.uniform(0.5, 2.0, size=out[name].shape)
    labels = getattr(f.module, "LABELS", {})  # int labels and ids: classes 0 … C−1
    for name, (_, classes) in labels.items():
        out[name] = rng.integers(0, size_value(classes, sizes), size=out[name].shape)
    for name in declared_symmetric(f.module):
        out[name] = symmetric_array(out[name], name in declared_definite(f.module))
    return {k: v if k in labels else v.astype(dtype) for k, v in out.items()}


def times_us(fn, calls: int) -> list[float]:
    """The wall times of ``calls`` calls of ``fn``, in µs."""
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e6)
    return times


def median_us(fn, calls: int) -> float:
    """The median wall time of ``calls`` calls of ``fn``, in µs."""
    return statistics.median(times_us(fn, calls))


def spread(times: list[float]) -> str:
    """"median (p10–p90)" of a list of times."""
    deciles = statistics.quantiles(times, n=10) if len(times) > 1 else [times[0]] * 9
    return f"{statistics.median(times):.1f} ({deciles[0]:.1f}–{deciles[-1]:.1f})"


def bench_kernel(f, given: dict, calls: int = 200):
    """Rows of a table: sizes, dtype, median µs with check=False and with the input checks."""
    # the sizes by name (2*k is k's), and the batch B only when the model has one (tokens × features
    # models have none)
    names = sorted({part.rpartition("*")[2].strip() for dims in f.inputs.values() for d in dims
                    for part in d.split("+")} - {""})
    names = [n for n in names if not n.isdigit()]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise JacobianSymError(f"--size names {', '.join(unknown)}, which the model does not have "
                               f"(it has: {', '.join(names)})")
    batches = [given["B"]] if "B" in given else [1, 64] if "B" in names else [None]
    for B in batches:
        sizes = {n: given.get(n, 64) for n in names} | ({"B": B} if B is not None else {})
        elements = sum(int(np.prod([size_value(d, sizes) for d in dims])) for dims in f.inputs.values())
        if elements * 8 * 3 > MAX_BENCH_BYTES:  # the arrays, their gradients and the forward values
            raise JacobianSymError(f"at {', '.join(f'{k}={v}' for k, v in sizes.items())} the arrays alone take "
                                   f"{elements * 8 / 2**30:.1f} GiB; the benchmark allows "
                                   f"{MAX_BENCH_BYTES / 2**30:.0f} GiB in all")
    rng = np.random.default_rng(0)
    yield "µs per call: median (10th–90th percentile), BLAS pinned to one thread"
    yield f"{'sizes':<40} {'dtype':<8} {'check=False':>24} {'checked':>24}"
    # an environment variable set now would do nothing (NumPy has loaded BLAS): limit it at run time
    with threadpool_limits(limits=1, user_api="blas"):
        for B in batches:
            sizes = {n: given.get(n, 64) for n in names} | ({"B": B} if B is not None else {})
            for dtype in (np.float32, np.float64):
                a = random_arrays(f, sizes, rng, dtype)
                fast = getattr(f.module, f.name)
                fast(**a)
                unchecked = spread(times_us(lambda: fast(**a, check=False), calls))  # noqa: B023
                checked = spread(times_us(lambda: fast(**a), calls))  # noqa: B023
                shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
                yield f"{shown:<40} {np.dtype(dtype).name:<8} {unchecked:>24} {checked:>24}"
