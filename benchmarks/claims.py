"""Benchmark: checking claims against the notes' network, against quotients of quadratic forms and
second-order targets (a Hessian, an HVP), every model file's written-out textbook claims
(``tests/references/model_claims.py``) true and negated, the usual losses over a batch true and false,
and the whole errata run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/claims.py
"""

import statistics
import sys
import time
from pathlib import Path

import sympy.core.cache

import jacobian_sym as js

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from references.model_claims import MODEL_CLAIMS  # noqa: E402

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


#: softmax regression over a batch: a row of one-hot labels per example
SOFTMAX_REGRESSION = """
[inputs]
X = ["N", "d"]
Y = { shape = ["N", "k"], one_hot = true }
[params]
W = ["d", "k"]
[forward]
P = "softmax(X @ W, axis=1)"
J = "cross_entropy(Y, P)"
"""


def _losses():
    """(label, target, wrt, claim): the usual losses of a batch of N examples (rows of X), true and false."""
    X, w, y = js.matrix("X", "N", "d"), js.vector("w", "d"), js.vector("y", "N")
    bce = js.binary_cross_entropy(y, js.sigmoid(X @ w))
    mse = js.mse(X @ w, y)
    ce = js.backprop(js.Model.parse(SOFTMAX_REGRESSION))
    return [
        ("BCE of a logistic regression, true", bce, w, "(sigmoid(X @ w) - y).T @ X"),
        ("BCE of a logistic regression, false", bce, w, "(y - sigmoid(X @ w)).T @ X"),
        ("MSE of a linear regression, true", mse, w, "(X @ w - y).T @ X"),
        ("MSE of a linear regression, false", mse, w, "2 * (X @ w - y).T @ X"),
        ("softmax cross-entropy, true", ce, "W", "X.T @ (P - Y)"),
        ("softmax cross-entropy, false", ce, "W", "X.T @ (Y - P)"),
    ]


def _model_file(name):
    path = ROOT / "derivations" / name
    return path if path.exists() else ROOT / "benchmarks" / "models" / name


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
    for label, target, wrt, claim in _losses():
        verdict, median = _timed(lambda target=target, wrt=wrt, claim=claim: js.check(target, wrt, claim))
        print(f"check {label:<45} {verdict.status:<14} median {median:.2f} s (target < 2 s)")
    for name, claims in MODEL_CLAIMS.items():
        model = js.backprop(js.Model.from_toml(_model_file(name)))
        for wrt, claim in claims:
            for text in (claim, f"-({claim})"):
                verdict, median = _timed(lambda text=text, wrt=wrt, model=model: js.check(model, wrt, text))
                print(f"check {name:<26} {wrt:<6} = {text[:40]:<42} {verdict.status:<14} median {median:.2f} s")
    sympy.core.cache.clear_cache()
    t = time.perf_counter()
    found = js.errata()
    print(f"errata: {len(found)} findings in {time.perf_counter() - t:.2f} s (target < 20 s)")


if __name__ == "__main__":
    main()
