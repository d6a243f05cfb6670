"""A Hessian by several vectors: its blocks against second differences of a NumPy loss written here,
and how it prints — one block matrix with labelled blocks, each gradient and forward sweep said once."""

import numpy as np
import pytest

import jacobian_sym as js
from jacobian_sym.render.printers import plain

N, M = 3, 4
x, b = js.vector("x", N), js.vector("b", M)
W = js.matrix("W", M, N)

#: (the expression, the same loss in NumPy from the values by name)
CASES = {
    "separable": (lambda: js.sum(js.square(x)) + js.sum(js.square(b)),
                  lambda v: np.sum(v["x"] ** 2) + np.sum(v["b"] ** 2)),
    "coupled": (lambda: js.sum(js.square(W @ x + b)), lambda v: np.sum((v["W"] @ v["x"] + v["b"]) ** 2)),
    "tanh": (lambda: js.sum(js.tanh(W @ x + b)), lambda v: np.sum(np.tanh(v["W"] @ v["x"] + v["b"]))),
}


def _values(rng):
    return {"x": rng.normal(size=(N, 1)), "b": rng.normal(size=(M, 1)), "W": rng.normal(size=(M, N))}


def _second_differences(loss, values, names, h=1e-4):
    """∂²J/∂u∂uᵀ for u the named vectors stacked, by central differences of ``loss`` in both slots."""
    sizes = [values[n].size for n in names]

    def at(u):
        parts = np.split(u, np.cumsum(sizes)[:-1])
        return loss({**values, **{n: p.reshape(values[n].shape) for n, p in zip(names, parts)}})

    u0 = np.concatenate([values[n].ravel() for n in names])
    eye = np.eye(u0.size) * h
    return np.array([[(at(u0 + ei + ej) - at(u0 + ei - ej) - at(u0 - ei + ej) + at(u0 - ei - ej)) / (4 * h * h)
                      for ej in eye] for ei in eye])


@pytest.mark.parametrize("name", CASES)
def test_the_blocks_match_second_differences_of_the_loss(name):
    make, loss = CASES[name]
    d = js.hessian(make(), (x, b))
    values = _values(np.random.default_rng(3))
    kernel = js.kernel(d)
    got = kernel(**{k: v for k, v in values.items() if k in kernel.inputs})
    truth = _second_differences(loss, values, ("x", "b"))
    assert got.shape == truth.shape == (N + M, N + M)
    assert np.allclose(got, truth, rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def coupled():
    return js.hessian(CASES["coupled"][0](), (x, b))


def _labelled(d) -> str:
    return "[" + "; ".join(", ".join(f"∂²J/∂{r.wrt.name}∂{c.other.name}ᵀ" for c in row)
                           for row, r in zip(d.blocks, [row[0] for row in d.blocks])) + "]"


def _closed(d) -> str:
    return "[" + "; ".join(", ".join(str(c.closed_form) for c in row) for row in d.blocks) + "]"


def test_repr_names_the_whole_hessian_and_shows_its_blocks(coupled):
    text = repr(coupled)
    assert text.startswith(f"<Derivation ∂²J/∂(x,b)∂(x,b)ᵀ = {_closed(coupled)} (")
    assert "Matrix" not in text and "\n" not in text


def test_text_shows_the_block_matrix_labelled_then_closed(coupled):
    lines = str(coupled).splitlines()
    assert f"  ∂²J/∂(x,b)∂(x,b)ᵀ = {_labelled(coupled)}" in [ln.split("    [")[0] for ln in lines]
    assert lines[-1].startswith(f"  ∂²J/∂(x,b)∂(x,b)ᵀ = {_closed(coupled)}    [")
    assert "Matrix" not in str(coupled)


def test_each_gradient_and_forward_sweep_is_said_once(coupled):
    whys = [s.why for s in coupled.steps]
    assert whys.count("the gradient, derived element by element") == 2
    sweep = "forward: the tangent of the node, by the chain rule"
    # one forward sweep per variable: as many tangents as in one block of each column
    assert whys.count(sweep) == sum(s.why == sweep for d in coupled.blocks[0] for s in d.steps)
    # each block's closed form once, then the two rows of the whole
    closing = [s for s in coupled.steps if s.why == "the closed form of the element-wise result"]
    assert [plain(s.rhs) for s in closing] == [str(d.closed_form) for row in coupled.blocks for d in row]
    assert len({(str(s.lhs), str(s.rhs)) for s in coupled.steps}) == len(coupled.steps)


def test_latex_markdown_and_jupyter_show_the_labelled_blocks(coupled):
    whole = r"\frac{\partial^{2} J}{\partial (x, b)\, \partial (x, b)^{T}}"
    block = r"\frac{\partial^{2} J}{\partial x \, \partial b^{T}}"
    for tex in (coupled.latex(), coupled._repr_latex_(), coupled._repr_markdown_()):
        assert whole in tex and block in tex and r"\begin{matrix}" in tex
        assert tex.isascii()


def test_a_block_hessian_by_one_vector_is_its_hessian():
    one = js.hessian(CASES["tanh"][0](), (x,))
    assert str(one.blocks[0][0].closed_form) == str(js.hessian(CASES["tanh"][0](), x).closed_form)
    assert repr(one).startswith("<Derivation ∂²J/∂(x)∂(x)ᵀ = [")
