"""The rendered documents kept in ``derivations/``: one per model file, and the notes as a whole."""

from __future__ import annotations

from pathlib import Path

from jacobian_sym.audit.errata import notes_audit
from jacobian_sym.base.files import write_atomic
from jacobian_sym.graph import expr as E
from jacobian_sym.models.model import Model
from jacobian_sym.notes.identities import IDENTITIES
from jacobian_sym.proofs.guard import backprop, gauss_newton, hessian, hvp
from jacobian_sym.proofs.guard import derive_identity as derive
from jacobian_sym.render.compose import (
    notes_document,
    notes_markdown,
    render_backprop_latex,
    render_backprop_markdown,
    second_order_document,
    second_order_markdown,
)

NOTES_MODEL = "one_layer.toml"


def second_order(folder="derivations") -> list:
    """The second-order cases of ``derivations/second_order.*``: each derived by the engine."""
    x, A = E.vector("x", "n"), E.matrix("A", "n", "n")
    B_, b = E.matrix("A", "m", "n"), E.vector("b", "m")
    W = E.matrix("W", "m", "n")
    X, w, y = E.matrix("X", "B", "d"), E.vector("w", "d"), E.vector("y", "B")
    t, y_hot = E.vector("theta", "N"), E.vector("y", "N", one_hot=True)
    Xw, Wk, Y, V = E.matrix("X", "B", "d"), E.matrix("W", "d", "k"), E.matrix("Y", "B", "k"), E.matrix("V", "d", "k")
    cases = [
        ("xᵀAx", hessian(x.T @ A @ x, x)),
        ("least squares ‖Ax − b‖²", hessian(E.apply("sum", E.apply("square", B_ @ x - b)), x)),
        ("logistic regression over a batch", hessian(E.apply("binary_cross_entropy", y, E.apply(
            "sigmoid", X @ w)), w)),
        ("softmax cross-entropy in the logits, y one-hot", hessian(E.apply("cross_entropy", y_hot, E.apply(
            "softmax", t)), t)),
        ("log-sum-exp", hessian(E.apply("log", E.apply("sum", E.apply("exp", t))), t)),
        ("a sum of an element-wise f(Wx)", hessian(E.apply("sum", E.apply("tanh", W @ x)), x)),
        ("least squares in a matrix, along V", hvp(E.apply("sum", E.apply("square", Xw @ Wk - Y)), Wk, V)),
        ("least squares in a matrix, as Kronecker products", hessian(E.apply("sum", E.apply(
            "square", Xw @ Wk - Y)), Wk, kronecker=True)),
    ]
    notes_model = Path(folder) / NOTES_MODEL
    if notes_model.exists():
        model = Model.from_toml(notes_model)
        b2 = next(n for n in model.loss.walk() if n.name == "b2")
        cases.append(("the notes' §3 network: the block in b₂", hessian(model.loss, b2)))
        cases.append(("the notes' §3 network: the Gauss–Newton product in W", gauss_newton(backprop(model), "W")))
    return cases


def model_files(folder="derivations") -> list[Path]:
    """The model files of a folder (a ``*.context.toml`` is an audit's context, not a model)."""
    return sorted(p for p in Path(folder).glob("*.toml") if not p.name.endswith(".context.toml"))


def expected_paths(folder="derivations") -> list[Path]:
    """The paths of ``expected(folder)``, in its order, without rendering anything."""
    folder = Path(folder)
    out = [p.with_suffix(suffix) for p in model_files(folder) for suffix in (".tex", ".md")]
    if (folder / NOTES_MODEL).exists():
        out += [folder / name for name in ("notes.tex", "notes.md", "second_order.tex", "second_order.md",
                                           "errata.md")]
    return out


def expected(folder="derivations", progress=None) -> dict[Path, str]:
    """Every document's path and the text it must have (deterministic); ``progress(done, total, what)``
    is told before each model file and the notes' documents."""
    folder = Path(folder)
    out = {}
    models = model_files(folder)
    notes_model = folder / NOTES_MODEL
    total = len(models) + (3 if notes_model.exists() else 0)
    report = progress or (lambda done, total, what="": None)
    for done, path in enumerate(models):
        report(done, total, path.name)
        bp = backprop(Model.from_toml(path))
        out[path.with_suffix(".tex")] = render_backprop_latex(bp, standalone=True)
        out[path.with_suffix(".md")] = render_backprop_markdown(bp)
    if notes_model.exists():
        report(len(models), total, "notes")
        derivations = [derive(section) for section in IDENTITIES]
        bp = backprop(Model.from_toml(notes_model))
        out[folder / "notes.tex"] = notes_document(derivations, bp)
        out[folder / "notes.md"] = notes_markdown(derivations, bp)
        report(len(models) + 1, total, "second order")
        cases = second_order(folder)
        out[folder / "second_order.tex"] = second_order_document(cases)
        out[folder / "second_order.md"] = second_order_markdown(cases)
        report(len(models) + 2, total, "errata")
        out[folder / "errata.md"] = notes_audit().markdown()
    report(total, total)
    return out


def stale(folder="derivations", progress=None) -> list[Path]:
    """Documents that are missing or differ from what the engine renders now."""
    return [p for p, text in expected(folder, progress).items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]


def write(folder="derivations", progress=None) -> list[Path]:
    written = []
    for path, text in expected(folder, progress).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            written.append(path)
    return written
