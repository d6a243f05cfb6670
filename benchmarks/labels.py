"""Benchmark: kernels over int labels and token ids (indexing) against the same models' one-hot kernels
and a hand-written NumPy version, one thread (threadpoolctl), medians of interleaved rounds, ratios.

    python benchmarks/labels.py [--calls 30] [--quick]

Rows: softmax regression (derivations/softmax_labels.toml), the bag of embeddings
(derivations/bag_of_embeddings.toml) and a token tagger (tanh(E[ids] W), per-token softmax CE: its
dJ/dE is an np.add.at scatter). Columns, µs per forward + backward, check=False:

* labels: the generated kernel, int arrays in (onehot(y) never built);
* one-hot: the one-hot model's generated kernel, given the dense one-hot matrices (built once, outside
  the timing): what a user of the one-hot form pays per call;
* by hand: NumPy written the usual way (fancy indexing, np.add.at), no input checks.

Before timing, every contender's loss and gradients are asserted equal to the label kernel's.
Target: labels ≤ 1.3× by hand, and no slower than one-hot.
"""

import argparse
import os
import statistics
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import jacobian_sym as js  # noqa: E402
from jacobian_sym.kernels.timing import median_us  # noqa: E402

ROOT = Path(__file__).parent.parent
SOFTMAX = (ROOT / "derivations/softmax_labels.toml").read_text()
BAG = (ROOT / "derivations/bag_of_embeddings.toml").read_text()
TAGGER = """title = "Token tagger"
[inputs]
ids = { shape = ["T", 1], dtype = "int", classes = "V" }
y = { shape = ["T", 1], dtype = "int", classes = "C" }
[params]
E = ["V", "d"]
W = ["d", "d"]
U = ["d", "C"]
[forward]
H = "tanh(E[ids] @ W)"
P = "softmax(H @ U, axis=1)"
J = "cross_entropy(y, P)"
[gradients]
wrt = ["E", "W", "U"]
"""


def _one_hot_text(text, decls):
    for old, new in decls:
        text = text.replace(old, new)
    return text


ONE_HOT = {
    "softmax": _one_hot_text(SOFTMAX, [('y = { shape = ["B", 1], dtype = "int", classes = "C" }',
                                        'y = { shape = ["B", "C"], one_hot = true, axis = 1 }')]),
    "bag": _one_hot_text(BAG, [('ids = { shape = ["T", 1], dtype = "int", classes = "V" }',
                                'ids = { shape = ["T", "V"], one_hot = true, axis = 1 }'),
                               ('y   = { shape = [1, 1], dtype = "int", classes = "C", axis = 1 }',
                                'y = { shape = [1, "C"], one_hot = true, axis = 1 }'),
                               ("E[ids]", "ids @ E")]),
    "tagger": _one_hot_text(TAGGER, [('ids = { shape = ["T", 1], dtype = "int", classes = "V" }',
                                      'ids = { shape = ["T", "V"], one_hot = true, axis = 1 }'),
                                     ('y = { shape = ["T", 1], dtype = "int", classes = "C" }',
                                      'y = { shape = ["T", "C"], one_hot = true, axis = 1 }'),
                                     ("E[ids]", "ids @ E")]),
}


# ----- by hand -----
def _log_softmax_rows(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def softmax_by_hand(*, X, y, W, b):
    logp = _log_softmax_rows(X @ W + b)
    rows, idx = np.arange(X.shape[0]), y[:, 0]
    d = np.exp(logp)
    d[rows, idx] -= 1
    return {"J": -logp[rows, idx].sum(), "W": X.T @ d, "b": d.sum(axis=0, keepdims=True), "X": d @ W.T}


def bag_by_hand(*, ids, y, E, U, c):
    x = E[ids[:, 0]].mean(axis=0, keepdims=True)
    logp = _log_softmax_rows(x @ U + c)
    d = np.exp(logp)
    d[0, y[0, 0]] -= 1
    gE = np.zeros_like(E)
    np.add.at(gE, ids[:, 0], np.broadcast_to((d @ U.T) / ids.shape[0], (ids.shape[0], E.shape[1])))
    return {"J": -logp[0, y[0, 0]], "E": gE, "U": x.T @ d, "c": d}


def tagger_by_hand(*, ids, y, E, W, U):
    X = E[ids[:, 0]]
    H = np.tanh(X @ W)
    logp = _log_softmax_rows(H @ U)
    rows, idx = np.arange(ids.shape[0]), y[:, 0]
    d1 = np.exp(logp)
    d1[rows, idx] -= 1
    d2 = (d1 @ U.T) * (1 - H * H)
    gE = np.zeros_like(E)
    np.add.at(gE, ids[:, 0], d2 @ W.T)
    return {"J": -logp[rows, idx].sum(), "E": gE, "W": X.T @ d2, "U": H.T @ d1}


def _dense(labels, classes):
    hot = np.zeros((labels.size, classes))
    hot[np.arange(labels.size), labels.reshape(-1)] = 1.0
    return hot


def cases(quick):
    rng = np.random.default_rng(0)
    s = (lambda small, big: small) if quick else (lambda small, big: big)
    B, D, C = s(64, 256), s(64, 512), s(100, 1000)
    softmax = {"X": rng.normal(size=(B, D)), "y": rng.integers(0, C, (B, 1)), "W": 0.1 * rng.normal(size=(D, C)),
               "b": rng.normal(size=(1, C))}
    T, V, d, K = s(32, 128), s(2000, 20000), s(32, 128), 20
    bag = {"ids": rng.integers(0, V, (T, 1)), "y": rng.integers(0, K, (1, 1)), "E": rng.normal(size=(V, d)),
           "U": 0.1 * rng.normal(size=(d, K)), "c": rng.normal(size=(1, K))}
    tagger = {"ids": rng.integers(0, V, (T, 1)), "y": rng.integers(0, K, (T, 1)), "E": rng.normal(size=(V, d)),
              "W": 0.1 * rng.normal(size=(d, d)), "U": 0.1 * rng.normal(size=(d, K))}
    return [
        (f"softmax regression B={B} D={D} C={C}", "softmax", SOFTMAX, softmax, softmax_by_hand,
         {"y": _dense(softmax["y"], C)}),
        (f"bag of embeddings T={T} V={V} d={d} C={K}", "bag", BAG, bag, bag_by_hand,
         {"ids": _dense(bag["ids"], V), "y": _dense(bag["y"], K)}),
        (f"token tagger T={T} V={V} d={d} C={K}", "tagger", TAGGER, tagger, tagger_by_hand,
         {"ids": _dense(tagger["ids"], V), "y": _dense(tagger["y"], K)}),
    ]


def _rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / max(np.linalg.norm(b), 1e-300))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=30, help="calls per round (the median is taken)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (the median of medians)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    print("µs per forward + backward (check=False), one BLAS thread; median of interleaved rounds")
    print(f"{'model':<44} {'labels':>10} {'one-hot':>10} {'by hand':>10} {'labels/one-hot':>15} {'labels/hand':>12}")
    with threadpool_limits(limits=1, user_api="blas"):
        for title, key, text, arrays, by_hand, hot in cases(args.quick):
            labels = js.kernel(js.backprop(js.Model.parse(text, source=f"{key}.toml")))
            one_hot = js.kernel(js.backprop(js.Model.parse(ONE_HOT[key], source=f"{key}_one_hot.toml")))
            f, g = getattr(labels.module, labels.name), getattr(one_hot.module, one_hot.name)
            hot_arrays = {**arrays, **hot}
            want = f(check=False, **arrays)
            for got in (g(check=False, **hot_arrays), by_hand(**arrays)):
                assert all(_rel(got[k], want[k]) < 1e-10 for k in want), title
            contenders = [lambda: f(check=False, **arrays), lambda: g(check=False, **hot_arrays),  # noqa: B023
                          lambda: by_hand(**arrays)]  # noqa: B023
            rounds = [[median_us(fn, args.calls) for fn in contenders] for _ in range(args.rounds)]
            t_labels, t_hot, t_hand = (statistics.median(r[k] for r in rounds) for k in range(3))
            print(f"{title:<44} {t_labels:>10.1f} {t_hot:>10.1f} {t_hand:>10.1f} {t_labels / t_hot:>15.2f}"
                  f" {t_labels / t_hand:>12.2f}")


if __name__ == "__main__":
    main()
