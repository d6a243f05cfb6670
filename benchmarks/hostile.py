"""Benchmark: seconds until a hostile input of issue 27 is answered (refused on a limit, or read), the
median of three runs on one thread.

    OPENBLAS_NUM_THREADS=1 python benchmarks/hostile.py [--runs 3]

Each case ran for minutes, or overflowed the stack, before the limits of ``jacobian_sym/base/bounds.py``
and the guard's directions; the row says what the answer is (the error's class, or "read").
"""

import argparse
import statistics
import time

from threadpoolctl import threadpool_limits

import jacobian_sym as js
from jacobian_sym.claims import latex


def _doc(rows):
    return ("# S\n\nLet $W \\in \\mathbb{R}^{" + str(rows) + " \\times 3}$ and $x \\in \\mathbb{R}^{3}$.\n\n"
            "$$\n\\frac{\\partial}{\\partial x} \\lVert W x \\rVert^2 = 2 x^T W^T W\n$$\n")


def _nested(depth):
    inner = "W @ x"
    for _ in range(depth):
        inner = f"layer_norm({inner}, axis=0)"
    return ("title = 'deep'\n[inputs]\nx = ['n', 1]\ny = ['n', 1]\n[params]\nW = ['n', 'n']\n[forward]\n"
            f"J = 'sum({inner} * y)'\n")


def _hessian(n):
    x, W = js.vector("x", n), js.matrix("W", 3, n)
    return js.hessian(js.sum(js.square(js.tanh(W @ x))), x)


X = js.vector("x", "n")
CASES = {
    "audit: W in R^{100000x3}": lambda: js.audit(_doc(100000)).links[0].verdict,
    "backprop: 8 nested layer norms": lambda: js.backprop(js.Model.parse(_nested(8))),
    "hessian: literal n = 2000": lambda: _hessian(2000),
    "claim: 300-term chain": lambda: js.check(js.sum(js.square(X)), X, "x + " * 300 + "x"),
    "latex: 3000 nested braces": lambda: latex.read("{" * 3000 + "x" + "}" * 3000),
    "audit: 2^{-99999999999} x": lambda: js.audit("# S\n\nLet $x \\in \\mathbb{R}^{3}$.\n\n"
                                                  "$$ y = 2^{-99999999999} x = x $$\n").links[0].verdict,
}


def once(run):
    start = time.perf_counter()
    try:
        result = run()
        answer = result if isinstance(result, str) else "read"
    except js.JacobianSymError as err:
        answer = type(err).__name__
    return time.perf_counter() - start, answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'case':34s} {'median s':>9s}  answer")
    with threadpool_limits(1):
        for name, run in CASES.items():
            results = [once(run) for _ in range(args.runs)]
            seconds = statistics.median(t for t, _ in results)
            print(f"{name:34s} {seconds:9.2f}  {results[0][1]}")


if __name__ == "__main__":
    main()
