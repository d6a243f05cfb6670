"""Benchmark: checking claims against the notes' network, against quotients of quadratic forms and
second-order targets (a Hessian, an HVP), and the whole errata run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/claims.py
"""

import statistics
import time

import sympy.core.cache

import jacobian_sym as js

CLAIMS = [("W", "delta2.T @ x.T"), ("W", "x @ delta2"), ("W", "-delta2.T @ x.T"), ("x", r"(\delta_2 W)^T"),
          ("delta2", r"\delta_1 U \circ \operatorname{ReLU}'(z)^T")]


def _others():
    """(label, target, wrt, claim): quotients of quadratic forms and second-order claims."""
    x, A, B = js.vector("x", "n"), js.matrix("A", "n", "n"), js.matrix("B", "n", "n")
    W, V = js.matrix("W", "n", "m"), js.matrix("V", "n", "m")
    q = ((A @ x).T @ (A @ x)) / ((B @ x).T @ (B @ x))
    right = ("(2 * A.T @ A @ x / ((B @ x).T @ (B @ x)) - 2 * ((A @ x).T @ (A @ x)) * B.T @ B @ x"
             " / ((B @ x).T @ (B @ x)) / ((B @ x).T @ (B @ x))).T")
    rayleigh = (x.T @ A @ x) / (x.T @ x)
    return [
        ("(Ax)ᵀ(Ax) / (Bx)ᵀ(Bx), true", q, x, right),
        ("(Ax)ᵀ(Ax) / (Bx)ᵀ(Bx), false", q, x, right.replace("- 2", "+ 2", 1)),
        ("Rayleigh quotient, true", rayleigh, x,
         "((A + A.T) @ x / (x.T @ x) - 2 * (x.T @ A @ x) * x / ((x.T @ x) * (x.T @ x))).T"),
        ("Hessian of xᵀBx, true", js.hessian(x.T @ B @ x, x), x, "B + B.T"),
        ("Hessian of xᵀBx, false", js.hessian(x.T @ B @ x, x), x, "B"),
        ("HVP of ‖W‖², true", js.hvp(js.sum(js.square(W)), W, V), W, "2 * V"),
        ("HVP of ‖W‖², false (the gradient)", js.hvp(js.sum(js.square(W)), W, V), W, "2 * W"),
    ]


def _timed(run):
    runs = []
    for _ in range(3):
        sympy.core.cache.clear_cache()
        t = time.perf_counter()
        verdict = run()
        runs.append(time.perf_counter() - t)
    return verdict, statistics.median(runs)


def main():
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    for wrt, claim in CLAIMS:
        verdict, median = _timed(lambda wrt=wrt, claim=claim: js.check(bp, wrt, claim))
        print(f"check {wrt:<7} = {claim:<45} {verdict.status:<14} median {median:.2f} s (target < 2 s)")
    for label, target, wrt, claim in _others():
        verdict, median = _timed(lambda target=target, wrt=wrt, claim=claim: js.check(target, wrt, claim))
        print(f"check {label:<45} {verdict.status:<14} median {median:.2f} s (target < 2 s)")
    sympy.core.cache.clear_cache()
    t = time.perf_counter()
    found = js.errata()
    print(f"errata: {len(found)} findings in {time.perf_counter() - t:.2f} s (target < 20 s)")


if __name__ == "__main__":
    main()
