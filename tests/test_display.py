"""What a person sees, checked by the real thing that shows it: every Markdown math block and every
Jupyter display through MathJax 3, every LaTeX output through pdflatex; reprs in the notes' notation."""

import functools
from pathlib import Path

import pytest
import sympy as sp
from typeset import math_blocks, mathjax_errors, pdflatex_errors

import jacobian_sym as js
from jacobian_sym.base.safe_text import tex_math_text
from jacobian_sym.documents import expected_paths, model_files
from jacobian_sym.notes.identities import IDENTITIES
from jacobian_sym.render import compose
from jacobian_sym.render.pages import PREAMBLE

MODELS = model_files() + sorted(Path("tests/regressions").glob("*.toml"))


def _assert_typesets(blocks, where):
    errors = mathjax_errors(blocks)
    bad = [(tex[:120], err) for (tex, _), err in zip(blocks, errors) if err]
    assert not bad, f"{where}: {len(bad)} of {len(blocks)} math blocks fail in MathJax: {bad[:3]}"


@pytest.mark.parametrize("path", sorted(p for p in expected_paths() if p.suffix == ".md"), ids=lambda p: p.name)
def test_every_markdown_document_typesets_in_mathjax(path):
    blocks = math_blocks(path.read_text(encoding="utf-8"))
    assert blocks, f"{path} has no math"
    _assert_typesets(blocks, path)


def _recipes():
    """What each result is made from, by name: made when a test asks for it (once per process), not
    when the module is collected — each test worker collects every module."""
    def model(p):
        return lambda: js.backprop(js.Model.from_toml(p))

    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    W1 = js.matrix("W1", "n", "m")
    c, W = js.vector("c", "m"), js.matrix("W", "m", "n")
    X, Wk, Y, V = js.matrix("X", "B", "n"), js.matrix("W", "n", "k"), js.matrix("Y", "B", "k"), js.matrix("V", "n", "k")
    x3, b3, W3 = js.vector("x", 3), js.vector("b", 3), js.matrix("W", 3, 3)
    out = [(f"identity {s}", lambda s=s: js.derive(s)) for s in IDENTITIES]
    out += [(p.name, model(p)) for p in MODELS]
    out += [
        ("batched one_layer", lambda: js.backprop(js.Model.from_toml("derivations/one_layer.toml").batched("B"))),
        ("xᵀAx", lambda: js.gradient(x.T @ A @ x, x)),
        ("W1 x", lambda: js.jacobian(W1 @ js.vector("x", "m"), js.vector("x", "m"))),
        ("Hessian of xᵀAx", lambda: js.hessian(x.T @ A @ x, x)),
        ("Hessian blocks", lambda: js.hessian(js.sum(js.tanh(W @ x + c)), (x, c))),
        ("HVP", lambda: js.hvp(js.sum(js.square(X @ Wk - Y)), Wk, V)),
        ("block Hessian", lambda: js.hessian(js.sum(js.square(W3 @ x3 + b3)), (x3, b3))),
        ("block Hessian, uncoupled", lambda: js.hessian(js.sum(js.square(x3)) + js.sum(js.square(b3)), (x3, b3))),
        ("Kronecker", lambda: js.hessian(js.sum(js.square(X @ Wk - Y)), Wk, kronecker=True)),
        ("Gauss–Newton", lambda: js.gauss_newton(js.backprop(js.Model.from_toml("derivations/one_layer.toml")), "W")),
    ]
    return dict(out)


RECIPES = _recipes()
NAMES = list(RECIPES)


@functools.cache
def result_of(name):
    return RECIPES[name]()


def test_every_jupyter_display_typesets_in_mathjax():
    blocks, where = [], []
    for name in NAMES:
        result = result_of(name)
        latex = result._repr_latex_()
        assert "**" not in latex and "#" not in latex, f"{name}: text/latex must be math only"
        for tex, display in math_blocks(latex):
            blocks.append((tex, display))
            where.append(name)
        for tex, display in math_blocks(result._repr_markdown_()):
            blocks.append((tex, display))
            where.append(name)
    errors = mathjax_errors(blocks)
    bad = [(w, err) for w, err in zip(where, errors) if err]
    assert not bad, bad[:5]


def test_closed_forms_print_in_the_notes_notation():
    W, b = js.matrix("W", "n", "m"), js.vector("b", "m")
    cf = js.gradient(js.sum(js.sigmoid(W @ b)), W).closed_form
    assert str(cf) == repr(cf) == "σ′(W b) bᵀ"
    assert isinstance(cf, sp.MatMul) and cf == sp.MatMul(*cf.args)  # still SymPy underneath, equal to itself
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    assert repr(bp.deltas) == "{'delta_1': (ŷ - y)ᵀ, 'delta_2': (δ₁ U) ∘ ReLU′(z)ᵀ}"
    assert str(bp.gradients["W"]) == "δ₂ᵀ xᵀ"
    assert "δ₂: (1×Dₕ) = (1×N_c) (N_c×Dₕ) ∘ (1×Dₕ)" in str(bp.shape_table)
    bias = js.backprop(js.Model.from_toml("derivations/logistic.toml")).gradients["b"]
    assert isinstance(bias, sp.MatrixSymbol) and str(bias) == repr(bias) == "δ₁"  # a bare signal, shown too


@pytest.mark.parametrize("name", NAMES)
def test_nothing_internal_leaks_into_what_is_printed(name):
    result = result_of(name)
    texts = [str(result), repr(result), result._repr_markdown_(), result._repr_latex_()]
    forms = [result.closed_form] if hasattr(result, "closed_form") else [*result.deltas.values(),
                                                                        *result.gradients.values()]
    texts += [str(f) for f in forms] + [repr(f) for f in forms]
    for text in texts:
        for leak in ("Lambda", "_prime", "OpApply", "HadamardProduct", "MatrixElement", "KroneckerDelta", "_d,",
                     ".T", "**", "\\cdot 1", "*1", "<axis>"):
            assert leak not in text, f"{name}: {leak!r} in {text[:300]}"
    assert len(repr(result)) < 1500


@pytest.mark.parametrize("name", NAMES)
def test_every_latex_output_compiles(name, tmp_path):
    result = result_of(name)
    tex = result.latex(standalone=True)
    errors = pdflatex_errors(tex, tmp_path)
    assert not errors, f"{name}: {errors[:3]}"


def _as_document(blocks) -> str:
    """Math as MathJax gets it ($$ displays, $ inline), set in one pdflatex document."""
    body = [rf"\[{tex}\]" if display else f"${tex}$" for tex, display in blocks]
    return "\n".join([*PREAMBLE, r"\begin{document}", *(f"{b}\n" for b in body), r"\end{document}", ""])


def test_every_display_and_markdown_math_compiles_in_pdflatex_too(tmp_path):
    """What Jupyter shows is copied into papers: its LaTeX holds no Unicode and compiles as it is."""
    blocks = []
    for name in NAMES:
        result = result_of(name)
        math = math_blocks(result._repr_latex_()) + math_blocks(result._repr_markdown_())
        for text in [result.latex(), *(tex for tex, _ in math)]:
            assert text.isascii(), f"{name}: {sorted(set(c for c in text if not c.isascii()))} in {text[:200]}"
        blocks += math
    errors = pdflatex_errors(_as_document(blocks), tmp_path)
    assert not errors, errors[:3]


def test_prose_in_a_display_is_ascii_and_typesets_in_both(tmp_path):
    nasty = "Ünïcödé ½‖ŷ − y‖² δ₁ ∂J/∂W · Σ ∘ ᵀ — 中文 & 50% $x_1$ {braces} \\ ^^5c ~ # _"
    tex = r"a &= b && " + tex_math_text(nasty)
    assert tex.isascii()
    block = "\\begin{aligned}" + tex + "\\end{aligned}"
    assert not pdflatex_errors(_as_document([(block, True)]), tmp_path)
    assert not [e for e in mathjax_errors([(block, True)]) if e]


def test_each_element_is_defined_once_on_a_page():
    """xᵀAx: u₃ = Σ_j u₂_j x_j is read once per argument of the product, but said once."""
    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    d = js.gradient(x.T @ A @ x, x)
    computed = [n for n in d.graph.nodes if not n.is_leaf and n.op != "const"]  # u₁ = xᵀ, u₂ = u₁ A, u₃ = u₂ x
    assert len(computed) == 3
    for page in (str(d), d.latex(), d._repr_markdown_()):
        assert page.count("in index notation") == len(computed)


def test_backprop_page_shows_the_chain_rule_as_the_notes_do():
    bp = js.backprop(js.Model.from_toml("derivations/one_layer.toml"))
    text = compose.render_backprop_text(bp)
    assert "δ₂ = ∂J/∂z = ∂J/∂θ ∂θ/∂h ∂h/∂z" in text
    assert "= δ₁ ∂θ/∂h ∂h/∂z" in text and "= δ₁ U diag(ReLU′(z))    [using identity (2.1), identity (2.4)]" in text
    assert "= (δ₁ U) ∘ ReLU′(z)ᵀ" in text


def _help_examples():
    """Every example line of every command's --help."""
    from click.testing import CliRunner

    from jacobian_sym.cli import cli

    out = []
    for command in [None, *sorted(cli.commands)]:
        text = CliRunner().invoke(cli, [command, "--help"] if command else ["--help"]).output
        out += [ln.strip() for ln in text.splitlines() if ln.strip().startswith("jacobian-sym ")]
    return out


HELP_EXAMPLES = _help_examples()


def test_the_help_has_examples():
    assert len(HELP_EXAMPLES) >= 12


@pytest.mark.parametrize("line", [ln for ln in HELP_EXAMPLES if " derive " in f" {ln} "])
def test_every_derive_example_of_the_help_runs_and_its_latex_compiles(line, tmp_path):
    """The --help's derive examples run as written (in a copy of derivations/), and the LaTeX each
    produces compiles — standalone as it is, a body inside a minimal document."""
    import shlex
    import shutil
    import subprocess
    import sys

    shutil.copytree("derivations", tmp_path / "derivations")
    args = shlex.split(line)[1:]
    if "--pdf" in args and not shutil.which("pdflatex"):
        pytest.skip("pdflatex is not installed")
    proc = subprocess.run([sys.executable, "-m", "jacobian_sym", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    if "--format" in args:
        return
    tex = (tmp_path / args[args.index("-o") + 1]).read_text() if "-o" in args else proc.stdout
    if r"\documentclass" not in tex:
        from jacobian_sym.render.pages import PREAMBLE

        tex = "\n".join([*PREAMBLE, r"\begin{document}", tex, r"\end{document}"])
    (tmp_path / "compile").mkdir()
    assert not pdflatex_errors(tex, tmp_path / "compile")


def test_a_title_in_any_script_compiles(tmp_path):
    text = Path("derivations/one_layer.toml").read_text().splitlines()
    text[0] = 'title = "Ünïcödé ½‖ŷ − y‖² δ₁ ∂J/∂W — 中文 & 50% $x_1$ {braces} \\\\ ^^5c ~"'
    model = tmp_path / "m.toml"
    model.write_text("\n".join(text))
    bp = js.backprop(js.Model.from_toml(model))
    assert not pdflatex_errors(bp.latex(standalone=True), tmp_path)
    assert not [e for e in mathjax_errors(math_blocks(compose.render_backprop_markdown(bp))) if e]
