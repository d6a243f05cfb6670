"""Benchmark: how long the proofs take — ``js.verify`` of every model file in ``derivations/`` and of the
two added here (``benchmarks/models/``: cross-attention, a post-LN block), and ``js.check`` of one true
textbook claim and one false one on each (mse is ½‖P − Y‖², so ∂J/∂P = P − Y). Medians of 3 runs,
SymPy's cache and the pointwise derivatives cleared before each (cold); the backprop is derived once,
outside the timings.

    OPENBLAS_NUM_THREADS=1 python benchmarks/proofs.py
"""

import statistics
import time
from pathlib import Path

import sympy.core.cache

import jacobian_sym as js
from jacobian_sym.proofs import pointwise

#: model file → (wrt, a true claim a textbook writes, a false one: a sign, a transpose or a factor off)
CLAIMS = {
    "attention.toml": ("V", "(A @ X).T @ (A @ X @ V - Y)", "(A @ X).T @ (Y - A @ X @ V)"),
    "autoencoder_tied.toml": ("c", "xr - x", "x - xr"),
    "batch_norm.toml": ("b", "sum(out - Y, axis=0)", "sum(out - Y, axis=1).T"),
    "glu.toml": ("V", "X.T @ ((out - Y) * gate)", "X.T @ (out - Y)"),
    "layer_norm.toml": ("b", "sum(out - Y, axis=0)", "2 * sum(out - Y, axis=0)"),
    "logistic.toml": ("b", "p - y", "y - p"),
    "multi_head_attention.toml": ("W_o", "H.T @ (H @ W_o - Y)", "H.T @ (Y - H @ W_o)"),
    "one_layer.toml": ("b2", "yhat - y", "y - yhat"),
    "residual.toml": ("b2", "yhat - y", "yhat + y"),
    "row_softmax.toml": ("b", "yhat - y", "y - yhat"),
    "transformer_block.toml": ("b2", "sum(out - Y, axis=0)", "sum(Y - out, axis=0)"),
    "two_layer_mse.toml": ("b3", "yhat - y", "y - yhat"),
    "cross_attention.toml": ("V", "(A @ Z).T @ (A @ Z @ V - Y)", "(A @ Z).T @ (A @ Z @ V + Y)"),
    "post_ln_block.toml": ("beta2", "sum(h2 - Y, axis=0)", "sum(Y - h2, axis=0)"),
}


def _median(run):
    runs, result = [], None
    for _ in range(3):
        sympy.core.cache.clear_cache()
        pointwise._LOCAL.clear()  # cold: the local derivatives a first proof of the model makes
        t = time.perf_counter()
        result = run()
        runs.append(time.perf_counter() - t)
    return result, statistics.median(runs)


def main():
    paths = sorted(Path("derivations").glob("*.toml")) + sorted(Path("benchmarks/models").glob("*.toml"))
    print("| model file | `js.verify` (s) | proved | true claim (s) | verdict | false claim (s) | verdict |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        if path.name.endswith(".context.toml"):
            continue
        bp = js.backprop(js.Model.from_toml(path))
        report, proof = _median(lambda bp=bp: js.verify(bp))
        wrt, right, wrong = CLAIMS[path.name]
        held, t_right = _median(lambda bp=bp, wrt=wrt, claim=right: js.check(bp, wrt, claim))
        refused, t_wrong = _median(lambda bp=bp, wrt=wrt, claim=wrong: js.check(bp, wrt, claim))
        print(f"| `{path.name}` | {proof:.1f} | {'yes' if report.ok else report.ok} | {t_right:.2f} | "
              f"{held.status} | {t_wrong:.2f} | {refused.status} |", flush=True)


if __name__ == "__main__":
    main()
