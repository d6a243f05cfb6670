"""Cost limits before work and readers with bounds (issue 27, items 2 and 3): an input whose explicit
work or whose nesting is past a limit is refused with a one-line JacobianSymError naming the limit
(and, for text, the column) — never a RecursionError, never minutes of work — while inputs just
inside the limits are still read and still computed right."""

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

import jacobian_sym as js
from jacobian_sym.base.bounds import MAX_EXPLICIT_ELEMENTS, Budget, deepest, too_deep
from jacobian_sym.claims import latex
from jacobian_sym.cli import cli
from jacobian_sym.engine.naming import tree_size
from jacobian_sym.errors import JacobianSymError, SizeError
from tests.oracle import central_differences, rel_error

# ----- the budget itself -----


def test_too_deep_names_the_column_of_the_first_bracket_past_the_limit():
    assert too_deep("(" * 3 + "x" + ")" * 3, limit=3) is None
    assert too_deep("a(" + "{" * 3 + "x" + "}" * 3 + ")", limit=3) == 5  # a ( { { {: the 4th opener is at column 5
    assert too_deep(")))(((", limit=3) is None  # closers that close nothing do not go negative


def test_deepest_walks_a_tree_deeper_than_the_stack():
    tree = ("leaf",)
    for _ in range(5000):  # far past Python's recursion limit
        tree = ("node", tree)
    children = lambda t: [a for a in t if isinstance(a, tuple)]  # noqa: E731
    assert deepest(tree, children, limit=6000) is None
    assert deepest(tree, children, limit=10) is not None


def test_a_budget_counts_every_matrix_it_is_charged_for():
    budget = Budget("the test", limit=100)
    budget.spend((5, 10))
    budget.spend((5, 10))
    with pytest.raises(SizeError, match="would build 101 elements \\(limit 100\\)"):
        budget.spend((1, 1))


def test_tree_size_counts_a_shared_part_at_each_use():
    a, b = sp.symbols("a b")
    shared = a * b
    e = sp.sin(shared) + sp.cos(shared)  # Add(sin(Mul(a, b)), cos(Mul(a, b))): 1 + 2·(1 + 3)
    assert tree_size(e) == len(list(sp.preorder_traversal(e))) == 9


# ----- 2. literal sizes in a document -----

def _doc(rows):
    return ("# Least squares\n\nLet $W \\in \\mathbb{R}^{" + str(rows) + " \\times 3}$ and "
            "$x \\in \\mathbb{R}^{3}$.\n\n$$\n\\frac{\\partial}{\\partial x} \\lVert W x \\rVert^2 = 2 x^T W^T W\n$$\n")


def test_a_documents_literal_huge_shape_is_not_decided_and_names_the_limit():
    """W ∈ ℝ^{100000×3} would be 300,000 symbols: the link is not decidable, the reason names the limit
    (it ran for minutes before)."""
    report = js.audit(_doc(100000))
    (link,) = report.links
    assert link.verdict == "not decidable" and f"limit {MAX_EXPLICIT_ELEMENTS:,}" in link.reason, link.reason


@pytest.mark.parametrize("claim, verdict", [("2 x^T W^T W", "holds"), ("x^T W^T W", "fails")])
def test_a_documents_small_literal_shape_is_still_decided(claim, verdict):
    """∂‖Wx‖²/∂x = 2xᵀWᵀW (the Matrix Cookbook, eq. 81 with A = WᵀW): decided at the literal size 4×3."""
    report = js.audit(_doc(4).replace("2 x^T W^T W", claim))
    assert [link.verdict for link in report.links] == [verdict]


# ----- 2. nested composites -----

def _nested_model(depth):
    inner = "W @ x"
    for _ in range(depth):
        inner = f"layer_norm({inner}, axis=0)"
    return ("title = 'deep'\n[inputs]\nx = ['n', 1]\ny = ['n', 1]\n[params]\nW = ['n', 'n']\n[forward]\n"
            f"J = 'sum({inner} * y)'\n[gradients]\nwrt = ['W']\n")


def test_eight_layer_norms_in_one_line_are_refused_before_any_work(tmp_path):
    model = js.Model.parse(_nested_model(8))
    with pytest.raises(SizeError, match="limit 2,000"):
        js.backprop(model)
    path = tmp_path / "deep.toml"
    path.write_text(_nested_model(8))
    result = CliRunner().invoke(cli, ["derive", str(path)])
    assert result.exit_code == 2 and "limit 2,000" in result.output and "Traceback" not in result.output


def _layer_norm(v, eps=1e-5):  # the textbook forward (Ba et al. 2016, eq. 4), over the column
    return (v - v.mean(axis=0)) / np.sqrt(v.var(axis=0) + eps)


def test_two_nested_layer_norms_are_still_derived_right():
    """Inside the limit the gradient is the engine's, checked against central differences of a NumPy
    forward written from the textbook formula."""
    f = js.kernel(js.backprop(js.Model.parse(_nested_model(2))))
    rng = np.random.default_rng(3)
    arrays = {"x": rng.normal(size=(3, 1)), "y": rng.normal(size=(3, 1)), "W": rng.normal(size=(3, 3))}
    forward = lambda x, y, W: float(np.sum(_layer_norm(_layer_norm(W @ x)) * y))  # noqa: E731
    assert rel_error(f(**arrays)["W"], central_differences(forward, arrays, "W")) < 1e-6


# ----- 3. claims: length, brackets, depth -----

X = js.vector("x", "n")
CLAIMS = {
    "brackets": ("(" * 100 + "x" + ")" * 100, "more than 60 brackets", (1, 61)),
    "calls": ("sigmoid(" * 70 + "x" + ")" * 70, "more than 60 brackets", (1, 8 * 61)),
    "chain": ("x + " * 300 + "x", "nested too deeply", (1, 1)),
    "transposes": ("x" + ".T" * 500, "nested too deeply", (1, 1)),
    "long": ("x + " * 2000 + "x", "characters long", None),
    "digits": ("9" * 4500 + " * x", "characters long", None),
    "latex braces": ("{" * 100 + "x" + "}" * 100 + "^T", "more than 60 brackets", (1, 61)),
    "latex fracs": ("\\frac{1}{" * 80 + "x" + "}" * 80, "more than 60 brackets", None),
    "latex chain": ("x^T + " * 300 + "x^T", "nested too deeply", None),
}


@pytest.mark.parametrize("name", list(CLAIMS))
def test_a_claim_past_the_readers_limits_is_a_claim_error_with_its_position(name):
    text, message, where = CLAIMS[name]
    with pytest.raises(js.ClaimError, match=message) as err:
        js.check(js.sum(js.square(X)), X, text)
    assert "\n" not in str(err.value)
    if where is not None:
        assert (err.value.line, err.value.col) == where


@pytest.mark.parametrize("claim", ["2 * x.T", "\\frac{1}{\\frac{1}{2}} x^T", "(" * 50 + "2 * x.T" + ")" * 50])
def test_a_claim_inside_the_limits_is_still_decided(claim):
    assert js.check(js.sum(js.square(X)), X, claim).ok is True


@pytest.mark.parametrize("text", ["{" * 3000 + "x" + "}" * 3000, "\\left(" * 500 + "x" + "\\right)" * 500,
                                  "\\sqrt{" * 500 + "x" + "}" * 500, "x^{" * 500 + "2" + "}" * 500])
def test_the_latex_reader_refuses_deep_nesting_with_the_column(text):
    with pytest.raises(latex.LatexError, match="more than 60 brackets") as err:
        latex.read(text)
    assert err.value.col is not None


def test_a_document_with_a_sum_too_long_to_nest_says_so_and_decides_the_rest():
    chain = "x + " * 130 + "x"
    doc = (f"# S\n\nLet $x \\in \\mathbb{{R}}^{{n}}$.\n\n$$ y = {chain} = 131 x $$\n\n$$ z = 3 x - 2 x = x $$\n")
    verdicts = [(link.verdict, link.reason) for link in js.audit(doc).links]
    assert verdicts[0][0] == "not decidable" and "nested too deeply" in verdicts[0][1]
    assert verdicts[-1][0] == "holds"


# ----- 3. context definitions -----

@pytest.mark.parametrize("definition, message", [
    ("\\\\sigma(" * 80 + "x" + ")" * 80, "more than 60 brackets"),
    ("x + " * 300 + "x", "nested too deeply"),
    ("x + " * 2000 + "x", "characters long"),
])
def test_a_context_definition_past_the_limits_is_refused_in_one_line(definition, message, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'[all]\nf = "{definition}"\n')
    with pytest.raises(JacobianSymError, match=message) as err:
        js.audit("# S\n\nLet $x \\in \\mathbb{R}^{n}$.\n\n$$ f = x $$\n", context=str(path))
    assert "\n" not in str(err.value)


def test_a_bracketed_exponent_that_is_no_label_is_a_power():
    """x^{\\left(x\\right)} is x to the power x (a KeyError before: the label reader expected ( or [)."""
    assert latex.read("x^{\\left(x\\right)}")[0] == "pow"


def test_a_keyword_given_twice_in_a_claim_is_refused_with_its_column():
    with pytest.raises(js.ClaimError, match="'axis' is given twice") as err:
        js.check(js.sum(X), X, "sum(x, axis=0, axis=1)")
    assert err.value.col == 21


@pytest.mark.parametrize("power", ["2^{-99999999999}", "0.5^{99999999999}", "10^{-400}"])
def test_a_power_of_numbers_too_small_to_compute_is_refused_by_the_reader(power):
    with pytest.raises(latex.LatexError, match="below 10\\^-300"):
        latex.read(f"{power} x")


@pytest.mark.parametrize("exponent, verdict", [(3, "holds"), (99999, "not decidable")])
def test_a_number_to_a_defined_huge_power_is_not_computed(exponent, verdict):
    """3^c with c = 99999 defined in the text would be an exact integer of 47,700 digits at every use."""
    doc = (f"# S\n\nLet $x \\in \\mathbb{{R}}^{{3}}$ and $c \\in \\mathbb{{R}}$, $c = {exponent}$.\n\n"
           "$$ y = 3^{c} x = 3^{c} x $$\n")
    assert [link.verdict for link in js.audit(doc).links] == [verdict]


@pytest.mark.parametrize("count", [3, 70])
def test_a_section_with_more_than_99_unknown_sizes_is_read(count):
    """70 definitions h⁽ᵏ⁾ = W⁽ᵏ⁾ x⁽ᵏ⁾ leave 140 sizes unknown (a StopIteration past the 99th before):
    with few the sum is decided, with many it is refused on the budget, by name — never a crash."""
    doc = ("# S\n\n" + "\n\n".join(f"$$ h^{{({k})}} = W^{{({k})}} x^{{({k})}} $$" for k in range(1, count + 1))
           + "\n\n$$ h^{(1)} + h^{(1)} = 2 h^{(1)} $$\n")
    (link,) = js.audit(doc).links
    if count == 3:
        assert link.verdict == "holds", link.reason
    else:
        assert link.verdict == "not decidable" and "limit 2,000" in link.reason, link.reason


def test_a_hessian_at_a_literal_size_is_refused_on_its_directions():
    """The second-order check differentiates the gradient along every element of x: at a literal n = 2000
    that is 4,000 gradient evaluations, refused by the budget before any (it ran for minutes)."""
    x, W = js.vector("x", 2000), js.matrix("W", 3, 2000)
    with pytest.raises(SizeError, match="limit 400000"):
        js.hessian(js.sum(js.square(js.tanh(W @ x))), x)


def test_the_exact_route_is_judged_by_counting_not_by_building(monkeypatch):
    """At a literal 3×700 W the explicit loss is not built to see whether it is small (that was the
    cost of js.check at N_c = 1000): the count says no first."""
    from jacobian_sym.models.backprop import backprop  # the engine's (the guard's own check is not the subject)
    from jacobian_sym.proofs import model_proofs
    model = js.Model.parse("title = 't'\n[inputs]\nx = [700, 1]\n[params]\nW = [3, 700]\n[forward]\n"
                           "J = 'sum(square(W @ x))'\n")
    bp = backprop(model)

    def built(*_):
        raise AssertionError("the explicit model was built")

    monkeypatch.setattr(model_proofs, "ExplicitModel", built)
    assert model_proofs.explicit_small(bp, [{}]) is False
