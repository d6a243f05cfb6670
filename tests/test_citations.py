"""Citations are decided from the operands' shapes (engine/citations.py): each hypothesis is checked
against the identity the notes' module builds, and every model's cited steps satisfy them."""

from pathlib import Path

import pytest

import jacobian_sym as js
from jacobian_sym.documents import model_files
from jacobian_sym.engine.citations import identity_of
from jacobian_sym.graph.indexed import Graph
from jacobian_sym.notes.identities import IDENTITIES

#: the identities whose statement is one op on its variable (2.7 is softmax followed by cross-entropy)
ONE_OP = ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]


@pytest.mark.parametrize("section", ONE_OP)
def test_each_identity_is_an_instance_of_itself(section):
    expression, variable = IDENTITIES[section].build()
    graph = Graph(expression)
    node = graph.root
    position = [graph.canonical(a) for a in node.args].index(graph.node_named(variable.name))
    assert identity_of(graph, node, position) == section


def test_cross_entropy_through_softmax_is_2_7():
    expression, variable = IDENTITIES["2.7"].build()
    graph = Graph(expression)
    softmax = next(n for n in graph.nodes if n.op == "softmax")
    assert identity_of(graph, softmax, 0) == "2.7"


def test_a_product_of_two_matrices_is_none_of_them():
    X, W = js.matrix("X", "B", "n"), js.matrix("W", "n", "m")
    graph = Graph(js.sum(X @ W))
    product = next(n for n in graph.nodes if n.op == "matmul")
    assert identity_of(graph, product, 0) is None and identity_of(graph, product, 1) is None


MODELS = model_files() + sorted(Path("tests/regressions").glob("*.toml"))


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_cited_jacobian_is_the_identitys_form_for_these_operands(path):
    """Where a product is cited as (2.1) or (2.2), the engine's Jacobian of that product by its vector
    operand is the identity's own derived closed form with the operands put in (W, or Wᵀ)."""
    import sympy as sp

    bp = js.backprop(js.Model.from_toml(path))
    graph = bp.graph
    seen = 0
    for node in graph.nodes:
        if node.op != "matmul" or not all(a.is_leaf or a.name for a in node.args):
            continue
        for position in (0, 1):
            cited = identity_of(graph, node, position)
            if cited not in ("2.1", "2.2") or node.shape == (1, 1):
                continue
            variable = node.args[position]
            other = graph.symbol(graph.canonical(node.args[1 - position]))
            derived = js.jacobian(node.named("local"), variable).closed_form
            notes = js.derive(cited).closed_form  # W (2.1) or Wᵀ (2.2), in the identity's own symbols
            W = next(s for s in notes.free_symbols if isinstance(s, sp.MatrixSymbol))
            assert derived == notes.xreplace({W: other}), (path.stem, cited, derived, notes)
            seen += 1
    if path.stem in ("one_layer", "row_softmax"):  # W x by x, x W by x: each is checked here
        assert seen
    for name, form in bp.chain_forms.items():
        assert set(form.citations) <= set(IDENTITIES), (name, form.citations)
