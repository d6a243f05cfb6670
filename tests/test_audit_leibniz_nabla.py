"""Notation the real collection needed (tests/audit/real/): Leibniz d/dx, ∇_x, lists [a, b, …], TeX's
one-letter scripts (β_ix_i), shapes stated in words, and values an example sets. Each reading is tested
where it applies and where it must not; the identities are textbook ones (The Matrix Cookbook,
Petersen & Pedersen 2012, eqs. (69), (81); d2l's calculus chapter), decided by the audit's own
SymPy values, never by a stored answer."""

from __future__ import annotations

import pytest

import jacobian_sym as js
from jacobian_sym.audit import verdicts as A
from jacobian_sym.audit.prose_shapes import stated_shapes
from jacobian_sym.claims import latex


def _verdicts(text: str) -> list[tuple[int, str]]:
    return [(link.line, link.verdict) for link in js.audit(text, kind="markdown").links]


def _wrong(text: str) -> set[int]:
    return {line for line, verdict in _verdicts(text) if verdict == A.FAILS}


# ----- Leibniz -----
def test_leibniz_fractions_are_derivatives():
    assert latex.read(r"\frac{df}{dx_1}")[0] == "deriv"
    assert latex.read(r"\frac{d}{d\mathbf{V}} \|X\|^2")[0] == "deriv"
    assert latex.read(r"\frac{d\sigma(x)}{dx}")[1][0] == "call"


@pytest.mark.parametrize("text", [r"\frac{d}{2}", r"\frac{1}{d}", r"\frac{dy}{dxy}", r"\frac{d}{d + 1}"])
def test_a_fraction_of_a_size_d_is_a_quotient(text):
    assert latex.read(text)[0] == "div"


_SCALAR = "# Rules\nLet $x \\in \\mathbb{R}$ and $c \\in \\mathbb{R}$.\n\n$$\\frac{d}{dx} (c x^3) = {rhs}$$\n"


def test_a_leibniz_derivative_is_checked():
    assert _verdicts(_SCALAR.replace("{rhs}", "3 c x^2")) == [(4, A.HOLDS)]
    assert _wrong(_SCALAR.replace("{rhs}", "3 c x")) == {4}


def test_a_size_named_d_stays_a_number():
    doc = "# Sizes\nLet $d \\in \\mathbb{R}$.\n\n$$\\frac{d}{2} + \\frac{d}{2} = d$$\n"
    assert _verdicts(doc) == [(4, A.HOLDS)]


# ----- ∇ -----
_NABLA = ("# Gradients\nFor $\\mathbf{A} \\in \\mathbb{R}^{n \\times n}$, $\\mathbf{a} \\in \\mathbb{R}^{n}$ and "
          "$\\mathbf{x} \\in \\mathbb{R}^{n}$:\n\n"
          "$$\\nabla_{\\mathbf{x}} \\mathbf{x}^\\top \\mathbf{A} \\mathbf{x} = {q}$$\n\n"
          "$$\\nabla_{\\mathbf{x}} \\mathbf{a}^\\top \\mathbf{x} = {l}$$\n")


def test_nabla_is_the_gradient_arranged_like_its_variable():
    """Cookbook (81) ∂xᵀAx/∂x = (A + Aᵀ)x and (69) ∂aᵀx/∂x = a, as columns."""
    doc = _NABLA.replace("{q}", "(\\mathbf{A} + \\mathbf{A}^\\top)\\mathbf{x}").replace("{l}", "\\mathbf{a}")
    assert _verdicts(doc) == [(4, A.HOLDS), (6, A.HOLDS)]


def test_nabla_finds_a_symmetric_shortcut_and_a_lost_term():
    doc = _NABLA.replace("{q}", "2\\mathbf{A}\\mathbf{x}").replace("{l}", "\\mathbf{a} + \\mathbf{x}")
    assert _wrong(doc) == {4, 6}


def test_nabla_without_its_variable_is_a_one_line_reason():
    with pytest.raises(latex.LatexError, match="without the variable"):
        latex.read(r"\nabla f")


# ----- lists, scripts -----
def test_a_bracketed_list_is_a_row_and_a_bracket_stays_a_bracket():
    assert latex.read("[y, x]")[0] == "matrix"
    assert latex.read("[C f(x)]")[0] == "matmul"


def _shape_of_tree(node):
    """A tree without its columns (two spellings of one expression compare equal)."""
    if latex.is_node(node):
        return tuple(_shape_of_tree(part) for part in node[:-1])
    if isinstance(node, tuple):
        return tuple(_shape_of_tree(part) for part in node)
    return node


def test_an_unbraced_script_is_one_letter():
    assert _shape_of_tree(latex.read(r"\beta_ix_i")) == _shape_of_tree(latex.read(r"\beta_{i} x_{i}"))
    assert _shape_of_tree(latex.read(r"x^Ty")) == _shape_of_tree(latex.read(r"x^{T} y"))
    assert latex.read(r"W_{ij}")[2] == ("i", "j")  # braced: both letters are indices


def test_a_sum_with_juxtaposed_elements_is_read():
    doc = ("# Dot product\nLet $\\boldsymbol{\\beta} \\in \\mathbb{R}^{n}$ and $\\mathbf{x} \\in \\mathbb{R}^{n}$.\n\n"
           "$$\\boldsymbol{\\beta}^\\top\\mathbf{x} = \\sum_{i = 1}^{n} \\beta_ix_i$$\n")
    assert _verdicts(doc) == [(4, A.HOLDS)]


# ----- shapes in words, values an example sets -----
def test_shapes_stated_in_words():
    prose = (r"Suppose that $\mathbf{X}$ is a $n \times m$ matrix, $\mathbf{U}$ is an $n \times r$ "
             r"and $V$ is a $3\times m$.")
    assert stated_shapes(prose) == [("X", ("n", "m")), ("U", ("n", "r")), ("V", (3, "m"))]
    assert stated_shapes(r"for $1\times1$ matrices, $X$ is a matrix") == []


def test_a_new_value_for_an_example_is_not_a_wrong_value():
    doc = ("# Example\nConsider $f(x,y) = x y$. For example, if $x = 4, y = -3$ then $f(x,y) = -12$.\n"
           "Later, if the inputs are $x = 4,y = 2$, the product is positive.\n")
    verdicts = _verdicts(doc)
    assert (2, A.HOLDS) in verdicts and not _wrong(doc)


# ----- Einstein's convention -----
_EINSTEIN = ("# Quadratic form\nLet $A \\in \\mathbb{R}^{n \\times n}$ and "
             "$\\mathbf{x} \\in \\mathbb{R}^{n}${said}.\n\n"
             "$$\\mathbf{x}^\\top A \\mathbf{x} = x_iA_{ij}x_j$$\n\n"
             "$$\\frac{d}{dx_k}(\\mathbf{x}^\\top A \\mathbf{x}) = A_{kj}x_j + x_iA_{ik}$$\n\n"
             "$$\\frac{d}{dx_k}(\\mathbf{x}^\\top A \\mathbf{x}) = A_{kj}x_j$$\n")


def test_einstein_sums_a_repeated_index_where_the_text_says_so():
    """d2l's matrix calculus: xᵀAx = x_i a_ij x_j, ∂/∂x_k = a_kj x_j + x_i a_ik; the half is wrong."""
    verdicts = _verdicts(_EINSTEIN.replace("{said}", ", written in Einstein notation"))
    assert verdicts == [(4, A.HOLDS), (6, A.HOLDS), (8, A.FAILS)]


def test_an_implied_sum_the_text_does_not_declare_is_not_a_wrong_value():
    verdicts = _verdicts(_EINSTEIN.replace("{said}", ""))
    assert [v for _, v in verdicts] == [A.UNDECIDABLE] * 3


def test_a_written_sum_is_not_summed_twice():
    doc = ("# Dot\nLet $\\mathbf{a} \\in \\mathbb{R}^{n}$ and $\\mathbf{x} \\in \\mathbb{R}^{n}$, "
           "in Einstein notation.\n\n$$\\mathbf{a}^\\top \\mathbf{x} = \\sum_{i=1}^{n} a_ix_i = a_ix_i$$\n")
    assert _verdicts(doc) == [(4, A.HOLDS), (4, A.HOLDS)]


# ----- a_{ij} of A -----
def test_the_small_letter_of_a_shown_matrix_with_two_indices_is_its_element():
    from jacobian_sym.audit import elements
    tree = latex.read(r"\sum_k u_{ik}v_{kb}")
    lifted = elements.lifted(tree, {"U", "V"})
    names = {n[1] for n in latex.walk(lifted) if n[0] == "sym"}
    assert names == {"U", "V"}
    assert elements.lifted(tree, {"U"}) != tree and "v" in {n[1] for n in latex.walk(elements.lifted(tree, {"U"}))
                                                           if n[0] == "sym"}


def test_a_small_letter_used_otherwise_in_the_statement_stays():
    from jacobian_sym.audit import elements
    tree = latex.read(r"x_{ij} + x_i")  # x_i of a vector x beside x_{ij}: not X's element
    assert elements.lifted(tree, {"X"}) == tree
    assert elements.capitals([r"\mathbf{X} - \mathbf{U}\mathbf{V}", "W_{ij}", r"\mathbb{R}"]) == {"X", "U", "V"}


def test_elements_of_stated_matrices_are_checked():
    """d2l: Σ_k u_ik v_kb = [UV]_ib; also [VᵀUᵀ]_bi ((UV)ᵀ = VᵀUᵀ); the indices swapped are wrong."""
    doc = ("# Product\nSuppose that $\\mathbf{U}$ is an $n \\times r$ and $\\mathbf{V}$ is an $r \\times m$.\n\n"
           "$$\\sum_k u_{ik}v_{kb} = [\\mathbf{U}\\mathbf{V}]_{ib}$$\n\n"
           "$$\\sum_k u_{ik}v_{kb} = [\\mathbf{V}^\\top\\mathbf{U}^\\top]_{bi}$$\n\n"
           "$$\\sum_k u_{ik}v_{kb} = [\\mathbf{U}\\mathbf{V}]_{bi}$$\n")
    assert _verdicts(doc) == [(4, A.HOLDS), (6, A.HOLDS), (8, A.FAILS)]


def test_rows_of_arrows_are_several_equations_and_a_new_f_is_a_new_example():
    """cs231n's gates: f = xy → ∂f/∂x = y, ∂f/∂y = x; then f = x + y → ∂f/∂x = 1: no wrong value (the
    second f is another example), while a wrong derivative of the first is still found."""
    row = ("$$\nf(x,y) = {f} \\hspace{{0.5in}} \\rightarrow \\hspace{{0.5in}} "
           "\\frac{{\\partial f}}{{\\partial x}} = {d} \\hspace{{0.5in}} "
           "\\frac{{\\partial f}}{{\\partial y}} = {e}\n$$\n")
    doc = ("# Gates\nLet $x \\in \\mathbb{R}$ and $y \\in \\mathbb{R}$; consider $f(x,y) = x y$.\n\n"
           + row.format(f="x y", d="y", e="x") + "\n" + row.format(f="x + y", d="1", e="1"))
    assert not _wrong(doc)
    planted = doc.replace("= y \\hspace", "= x \\hspace", 1)
    assert _wrong(planted) == {5}


def test_brackets_nested_too_deeply_are_a_reason_not_a_traceback():
    report = js.audit("$$" + "[" * 500 + "x" + "]" * 500 + " = 1$$", kind="markdown")
    assert [link.verdict for link in report.links] == [A.UNDECIDABLE]
    assert "brackets open at once" in report.links[0].reason  # the reader's bracket limit, named
