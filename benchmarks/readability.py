"""Benchmark: are the derived closed forms the size a textbook writes?

For models with a known textbook backward, each row puts a derived gradient or error signal (its text
form, as ``str`` prints it) beside the form the literature writes for the same quantity, in the same
names. Each textbook form is written twice: as a textbook prints it (what is measured) and as a claim
(what is checked: ``js.check`` must say it holds, or the row is reported as a broken reference).
Lengths are characters without spaces; terms are the summands at the top level.

    python benchmarks/readability.py            # the table, Markdown
    python benchmarks/readability.py --check    # exit 1 when a row misses the targets

Targets (issue 26): derived length ≤ 1.5 × textbook length, and no more terms than the textbook.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import jacobian_sym as js
from jacobian_sym.render.printers import plain

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "benchmarks" / "models"
DERIVATIONS = ROOT / "derivations"

LENGTH_TARGET = 1.5


@dataclass(frozen=True)
class Row:
    model: str          # a model file (derivations/ or benchmarks/models/)
    quantity: str       # a gradient's variable or an error signal's name (delta_2)
    textbook: str       # the form as the literature prints it, in the model's names
    claim: str          # the same form in the claim language, checked to hold
    source: str         # where the textbook form is from


ROWS = [
    # the notes' §3 (Stanford CS224n, "Computing Neural Network Gradients")
    Row("one_layer.toml", "delta_2", "δ₁U ∘ ReLU′(z)ᵀ", "(delta1 @ U) * relu_prime(z).T", "CS224n notes §3"),
    Row("one_layer.toml", "W", "δ₂ᵀxᵀ", "delta2.T @ x.T", "CS224n notes §3"),
    Row("one_layer.toml", "x", "Wᵀδ₂ᵀ", "W.T @ delta2.T", "CS224n notes §3"),
    # two hidden layers: σ′ and tanh′ as the textbook writes them, through the layers' outputs
    Row("two_layer_mse.toml", "delta_2", "δ₁W₃ ∘ (1 − h₂²)ᵀ", "(delta1 @ W3) * (1 - h2 * h2).T",
        "Nielsen, Neural Networks and Deep Learning, ch. 2 (BP2)"),
    Row("two_layer_mse.toml", "delta_3", "δ₂W₂ ∘ (h₁ ∘ (1 − h₁))ᵀ", "(delta2 @ W2) * (h1 * (1 - h1)).T",
        "Nielsen, ch. 2 (BP2)"),
    # logistic and softmax regression
    Row("logistic.toml", "w", "(p − y)x", "(p - y) * x", "Bishop, PRML (4.91)"),
    Row("logistic.toml", "b", "p − y", "p - y", "Bishop, PRML (4.91)"),
    Row("row_softmax.toml", "W", "xᵀ(ŷ − y)", "x.T @ (yhat - y)", "Bishop, PRML (4.109)"),
    Row("row_softmax.toml", "x", "(ŷ − y)Wᵀ", "(yhat - y) @ W.T", "Bishop, PRML (4.109)"),
    # a residual connection and a tied autoencoder: one term per path / per use
    Row("residual.toml", "x", "(δ₂W₁ + δ₁W₂)ᵀ", "(delta2 @ W1 + delta1 @ W2).T", "He et al. 2016, eq. (4)"),
    Row("autoencoder_tied.toml", "W", "hδ₁ + δ₂ᵀxᵀ", "h @ delta1 + delta2.T @ x.T", "Goodfellow et al. §14"),
    # layer norm (Ba, Kiros, Hinton 2016), in the staged form through the variance
    Row("layer_norm.toml", "g", "1ᵀ(δ₁ ∘ x̂)", "ones(1, T) @ (delta1 * xhat)", "Ba et al. 2016"),
    Row("layer_norm.toml", "X",
        "r ∘ (G − mean(G) − x̂ ∘ mean(G ∘ x̂)), G = δ₁ ∘ g",
        "diag(r) @ (delta1 @ diag(g) - mean(delta1 @ diag(g), axis=1) @ ones(1, d)"
        " - xhat * (mean(xhat * (delta1 @ diag(g)), axis=1) @ ones(1, d)))",
        "Ba et al. 2016; CS231n assignment 2"),
    Row("layer_norm.toml", "X", "r ∘ G + (2/d) δ₂ᵀ ∘ xc − (1/d)(r ∘ G)1 1ᵀ, G = δ₁ ∘ g",
        "diag(r) @ delta1 @ diag(g) + (2/d) * diag(delta2) @ xc - ((diag(r) @ delta1 @ diag(g)) @ ones(d, 1)"
        " @ ones(1, d)) / d",
        "staged through ∂J/∂var and ∂J/∂μ, as CS231n's assignment 2 and Kratzert's batch-norm post write it"),
    # batch norm (Ioffe & Szegedy 2015, section 3)
    Row("batch_norm.toml", "X",
        "(r/B) ∘ (BG − 1ᵀG − x̂ ∘ 1ᵀ(G ∘ x̂)), G = δ₁ ∘ g",
        "(ones(B, 1) @ r) * (delta1 @ diag(g) - ones(B, 1) @ mean(delta1 @ diag(g), axis=0)"
        " - xhat * (ones(B, 1) @ mean(xhat * (delta1 @ diag(g)), axis=0)))",
        "Ioffe & Szegedy 2015, §3"),
    Row("batch_norm.toml", "X", "r ∘ G + (2/B)(X − μ) ∘ δ₂ − (1/B)1 1ᵀ(r ∘ G), G = δ₁ ∘ g",
        "delta1 @ diag(g * r) + (2/B) * (X - ones(B, 1) @ mu) @ diag(delta2)"
        " - ones(B, 1) @ (ones(1, B) @ delta1 @ diag(g * r)) / B",
        "Ioffe & Szegedy 2015, §3, staged as Kratzert's batch-norm post"),
    # RMSNorm (Zhang & Sennrich 2019)
    Row("rmsnorm.toml", "X",
        "r ∘ (G − X ∘ r² ∘ mean(G ∘ X)), G = δ₁ ∘ g",
        "diag(r) @ (delta1 @ diag(g) - diag(r * r) @ X * (mean(X * (delta1 @ diag(g)), axis=1) @ ones(1, d)))",
        "Zhang & Sennrich 2019, §3"),
    Row("rmsnorm.toml", "X", "r ∘ G + (2/d) δ₂ᵀ ∘ X, G = δ₁ ∘ g",
        "diag(r) @ delta1 @ diag(g) + (2/d) * diag(delta2) @ X", "Zhang & Sennrich 2019, staged through ∂J/∂ms"),
    # attention (Vaswani et al. 2017), the row-softmax backward
    Row("attention.toml", "delta_2", "A ∘ (G − (A ∘ G)1 1ᵀ), G = δ₁(XV)ᵀ",
        "A * (delta1 @ (X @ V).T - ((A * (delta1 @ (X @ V).T)) @ ones(T, 1)) @ ones(1, T))",
        "Vaswani et al. 2017; the softmax Jacobian diag(a) − aaᵀ row by row"),
    Row("attention.toml", "V", "(AX)ᵀδ₁", "(A @ X).T @ delta1", "Vaswani et al. 2017"),
    # a gated linear unit (Dauphin et al. 2017)
    Row("glu.toml", "delta_2", "δ₁ ∘ lin ∘ gate ∘ (1 − gate)", "delta1 * lin * gate * (1 - gate)",
        "Dauphin et al. 2017"),
    Row("glu.toml", "X", "δ₂Wᵀ + (δ₁ ∘ gate)Vᵀ", "delta2 @ W.T + (delta1 * gate) @ V.T", "Dauphin et al. 2017"),
    # weight normalisation (Salimans & Kingma 2016, eq. 3): ∇_g = ∇_w·v/‖v‖, ∇_v = g/‖v‖ (∇_w − ∇_g v/‖v‖)
    Row("weight_norm.toml", "g", "vᵀXᵀδ₁ᵀ/‖v‖", "v.T @ X.T @ delta1.T / norm(v)", "Salimans & Kingma 2016, (3)"),
    Row("weight_norm.toml", "v", "(g/‖v‖)Xᵀδ₁ᵀ − (g vᵀXᵀδ₁ᵀ/‖v‖³)v",
        "g / norm(v) * X.T @ delta1.T - g * (v.T @ X.T @ delta1.T) / (norm(v) * norm(v) * norm(v)) * v",
        "Salimans & Kingma 2016, (3)"),
    # cosine similarity
    Row("cosine.toml", "w", "x/(‖w‖‖x‖) − (wᵀx)w/(‖w‖³‖x‖)",
        "x / (norm(w) * norm(x)) - (w.T @ x) * w / (norm(w) * norm(w) * norm(w) * norm(x))",
        "The Matrix Cookbook (2.6); SimCLR's cosine similarity"),
    # a GRU step (Cho et al. 2014), the gates' signals through their outputs
    Row("gru_step.toml", "delta_4", "δ₁ ∘ (h − n)", "delta1 * (h - n)", "Cho et al. 2014"),
    Row("gru_step.toml", "delta_5", "δ₄ ∘ z ∘ (1 − z)", "delta4 * z * (1 - z)", "Cho et al. 2014"),
    Row("gru_step.toml", "delta_2", "δ₁ ∘ (1 − z) ∘ (1 − n²)", "delta1 * (1 - z) * (1 - n * n)", "Cho et al. 2014"),
    Row("gru_step.toml", "h", "δ₁ ∘ z + r ∘ (δ₂Unᵀ) + δ₃Urᵀ + δ₅Uzᵀ",
        "delta1 * z + r * (delta2 @ Un.T) + delta3 @ Ur.T + delta5 @ Uz.T", "Cho et al. 2014"),
    # an LSTM step (Hochreiter & Schmidhuber 1997; Gers et al. 2000): the cell's signal and the gates'
    Row("lstm_step.toml", "delta_2", "δ₁ ∘ o ∘ (1 − tc²)", "delta1 * o * (1 - tc * tc)", "Graves 2012, §4.6"),
    Row("lstm_step.toml", "delta_5", "δ₂ ∘ c ∘ f ∘ (1 − f)", "delta2 * c * f * (1 - f)", "Graves 2012, §4.6"),
    Row("lstm_step.toml", "c", "δ₂ ∘ f", "delta2 * f", "Graves 2012, §4.6"),
    Row("lstm_step.toml", "h", "δ₄Uᵢᵀ + δ₅U_fᵀ + δ₆U_oᵀ + δ₃U_gᵀ",
        "delta4 @ Ui.T + delta5 @ Uf.T + delta6 @ Uo.T + delta3 @ Ug.T", "Graves 2012, §4.6"),
    # a pre-LN transformer block (derivations/transformer_block.toml): the second layer norm's scale
    Row("transformer_block.toml", "gamma2", "1ᵀ((δ₂W₁ᵀ) ∘ n₂)", "ones(1, T) @ ((delta2 @ W1.T) * n2)",
        "Ba et al. 2016 (γ's gradient: Σ over tokens of the signal times x̂)"),
    Row("transformer_block.toml", "W1", "h₂ᵀδ₂", "h2.T @ delta2", "Vaswani et al. 2017"),
    # Hessians
    Row("api:logistic_hessian", "H", "Xᵀ diag(p ∘ (1 − p)) X",
        "X.T @ diag(sigmoid(X @ w) * (1 - sigmoid(X @ w))) @ X", "Bishop, PRML (4.97)"),
    Row("api:softmax_hessian", "H", "diag(ŷ) − ŷŷᵀ, ŷ = softmax(θ)",
        "diag(softmax(theta)) - softmax(theta) @ softmax(theta).T", "Bishop, PRML (4.110), per example"),
]


def _logistic_hessian():
    """∇²_w of the binary cross-entropy of σ(X w), N examples (rows of X)."""
    X, w, y = js.matrix("X", "N", "d"), js.vector("w", "d"), js.vector("y", "N")
    return js.hessian(js.binary_cross_entropy(y, js.sigmoid(X @ w)), w), w


def _softmax_hessian():
    """∇²_θ of the cross-entropy of softmax(θ) against a one-hot t."""
    theta, t = js.vector("theta", "k"), js.vector("t", "k", one_hot=True)
    return js.hessian(js.cross_entropy(t, js.softmax(theta)), theta), theta


API_TARGETS = {"logistic_hessian": _logistic_hessian, "softmax_hessian": _softmax_hessian}


def model_path(name: str) -> Path:
    for folder in (DERIVATIONS, MODELS):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(name)


def length(text: str) -> int:
    return len("".join(text.split()))


def terms(text: str) -> int:
    """Summands at the top level: a + or − outside every bracket, not a sign in front (−x), not in
    an exponent or a named step after a comma."""
    text = text.split(", ")[0]
    depth, count, previous = 0, 1, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in "+-−" and depth == 0 and previous.strip() not in ("", "(", "^", "∘", "*"):
            count += 1
        if not ch.isspace():
            previous = ch
    return count


def reading(d) -> str:
    """A derivation's closed form as its page ends: what it repeats said once, by name (diag(u₁) − u₁u₁ᵀ,
    u₁ = softmax(θ)), the definitions after a comma as a textbook writes them."""
    return plain(d.named_form) + "".join(f", {plain(s)} = {plain(f)}" for s, f in d.names.items())


def quantity(bp, name: str):
    return bp.deltas[name] if name in bp.deltas else bp.gradients[name]


def claim_name(name: str) -> str:
    return name.replace("delta_", "delta")


def measure(rows=ROWS):
    """One dict per row: the derived form, both lengths and term counts, and whether the textbook
    form holds (a row whose reference does not hold is no measurement)."""
    results, cache = [], {}
    for row in rows:
        if row.model.startswith("api:"):
            target, wrt = API_TARGETS[row.model[4:]]()
            derived = reading(target)
        else:
            if row.model not in cache:
                cache[row.model] = js.backprop(js.Model.from_toml(model_path(row.model)))
            target, wrt = cache[row.model], claim_name(row.quantity)
            derived = plain(quantity(target, row.quantity))  # as a page prints it
        try:
            holds = js.check(target, wrt, row.claim).ok
        except js.JacobianSymError as err:  # a reference the claim language cannot read is no measurement
            holds = f"not read: {err}"
        results.append({
            "row": row, "derived": derived, "holds": holds,
            "derived_length": length(derived), "textbook_length": length(row.textbook),
            "derived_terms": terms(derived), "textbook_terms": terms(row.textbook),
        })
    return results


def meets(result) -> bool:
    return (result["holds"] is True
            and result["derived_length"] <= LENGTH_TARGET * result["textbook_length"]
            and result["derived_terms"] <= result["textbook_terms"])


def table(results) -> str:
    lines = ["| model | quantity | derived | textbook | length ratio | terms (derived / textbook) | met |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        row = r["row"]
        ratio = r["derived_length"] / r["textbook_length"]
        met = "yes" if meets(r) else ("**reference does not hold**" if r["holds"] is not True else "no")
        lines.append(f"| `{row.model}` | {row.quantity} | `{r['derived']}` | `{row.textbook}` | {ratio:.2f} "
                     f"| {r['derived_terms']} / {r['textbook_terms']} | {met} |")
    n_met = sum(meets(r) for r in results)
    lines.append(f"\n{n_met} of {len(results)} rows meet both targets (length ≤ {LENGTH_TARGET}×, terms ≤ textbook).")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a row misses a target")
    args = parser.parse_args(argv)
    results = measure()
    print(table(results))
    return 1 if args.check and not all(meets(r) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
