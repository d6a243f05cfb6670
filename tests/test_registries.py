"""One op, many consumers: every op of the op table has an entry in each consumer's table (the printers'
notation, the NumPy lowering, the claim reader's spelling), no table names an op that does not exist,
and every op's generated kernel passes a gradient check. A new op that misses a table fails here with
the name of the table and the entry to add."""

import numpy as np
import pytest
import sympy as sp
from oracle import FORWARD

import jacobian_sym as js
from jacobian_sym.claims.spelling import SPELLING
from jacobian_sym.engine.facts import FACTS
from jacobian_sym.kernels.jax_lowering import JAX
from jacobian_sym.kernels.lowering import FUSED, NUMPY
from jacobian_sym.kernels.timing import random_arrays
from jacobian_sym.ops.table import OPS
from jacobian_sym.render.notation import NOTATION

TABLES = {
    "tests/oracle.py FORWARD (the tests' independent forward)": FORWARD,
    "render/notation.py NOTATION": NOTATION,
    "kernels/lowering.py NUMPY": NUMPY,
    "kernels/jax_lowering.py JAX": JAX,
    "claims/spelling.py SPELLING": SPELLING,
}


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_op_has_an_entry_in_every_table(op, table):
    assert op in TABLES[table], f"the op {op!r} has no entry in {table}: add one (docs/ARCHITECTURE.md)"


@pytest.mark.parametrize("table", sorted(TABLES))
def test_no_table_names_an_unknown_op(table):
    stale = sorted(set(TABLES[table]) - set(OPS))
    assert not stale, f"{table} has entries for ops the op table does not declare: {stale}"


def test_rule_facts_and_fused_lowerings_name_declared_ops():
    assert set(FACTS) <= set(OPS)
    for loss, fused in FUSED.items():
        assert loss in OPS and fused.link in OPS, (loss, fused.link)


def test_a_claim_spells_each_op_one_way_or_says_why_not():
    for op, spelling in SPELLING.items():
        ways = [bool(spelling.operator), spelling.reason is not None]
        assert not all(ways), f"{op}: an operator and a reason not to read it"
        assert (OPS[op].operator is not None) == bool(spelling.operator), f"{op}: operator disagrees with the op table"


# ----- every op through its kernel -----
def _model_using(name):
    """A small loss that goes through the op ``name`` once, with parameters on every path into it."""
    op = OPS[name]
    if name == "max_pool1d":  # windows of 2 rows, 2 apart, over 2n rows
        return js.sum(js.matrix("C", "n", "m") * js.apply(name, js.matrix("S", "2*n", "m"), width=2, stride=2))
    if name == "_unpool":  # the signal G routed to each window's maximum (S, G data: C's gradient reads it)
        S, G = js.matrix("S", "2*n", "m", role="input"), js.matrix("G", "n", "m", role="input")
        return js.sum(js.matrix("C", "2*n", "m") * js.apply(name, G, S, width=2, stride=2))
    if name == "unfold":  # windows of 2 rows of W x over a sequence of n + 1 rows, stride 1, padding 1
        S = js.matrix("S", "n + 1", "m")
        return js.sum(js.matrix("C", "n + 2", "2*m") * js.apply(name, S, width=2, stride=1, padding=1))
    if name == "_fold":  # col2im of a T × (2·m) matrix back onto n + 1 rows (S: their length only)
        S = js.matrix("S", "n + 1", "m", role="input")
        G = js.matrix("G", "n + 2", "2*m")
        return js.sum(js.matrix("C", "n + 1", "m") * js.apply(name, G, S, width=2, stride=1, padding=1))
    W = js.matrix("W", "n", "m")
    x = js.vector("x", "m")
    z = W @ x
    if op.kind == "loss":
        y = js.vector("y", "n", one_hot=name == "cross_entropy")
        p = js.softmax(z) if name == "cross_entropy" else js.sigmoid(z) if name == "binary_cross_entropy" else z
        return js.apply(name, y, p)
    if op.kind == "linalg":  # of a square parameter (random normal: nonsingular), read by weights
        A, v = js.matrix("A", "n", "n"), js.vector("v", "n")
        if name == "solve":
            return js.sum(js.vector("c", "n") * js.solve(A, v))
        if name == "inv":
            return js.sum(js.matrix("C", "n", "n") * js.inv(A))
        return js.apply(name, A)
    if op.arity == 2:
        if name == "pow":  # by a number: (W x) ** (1/3), W x > 0 in the check below
            return js.sum(js.vector("v", "n") * js.apply(name, z, sp.Rational(1, 3)))
        if name == "matmul":
            return js.sum(js.apply(name, W, x))
        other = js.exp(js.vector("v", "n")) if name == "div" else js.vector("v", "n")
        if "axis" in op.params:  # concat: the two vectors one above the other, read by a weighted sum
            return js.sum(js.tanh(js.apply(name, z, other, axis=0)))
        return js.sum(js.apply(name, z, other))
    if name == "tr":
        return js.tr(js.matrix("A", "n", "m") @ js.matrix("C", "m", "n"))
    if name == "slice":  # a column of W and the first row of W x: blocks of two parents
        return js.sum(js.tanh(W[:, 0:1]) * js.vector("c", "n")) + js.sum(js.sin(z[0:1, :]))
    if op.kind == "indicator":  # piecewise constant: read through a product, 1[argmax] ∘ W
        return js.sum(js.vector("c", "n") * js.sum(js.apply(name, W, axis=1) * W, axis=1))
    if "axis" in op.params and op.kind == "reduction":  # a statistic over an axis: one per row
        return js.sum(js.vector("c", "n") * js.apply(name, W, axis=1))
    inner = js.apply(name, z)
    if op.kind == "reduction":
        return inner
    weights = js.row("c", "n") if inner.shape[0] == 1 else js.vector("c", "n")
    return js.sum(weights * inner)  # a weighted sum: softmax's plain sum would be constant


#: ops whose argument must be positive: √ and 1/√ declare it; log's s > 0 is not declared in the op table
POSITIVE_ARGUMENT = {n for n, op in OPS.items() if "positive" in op.domains} | {"log"}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_compiles_to_a_kernel_that_passes_a_gradient_check(name):
    bp = js.backprop(js.Model.build(_model_using(name), title=f"uses {name}"))
    f = js.kernel(bp)
    arrays = random_arrays(f, {"n": 4, "m": 3, "B": 5}, np.random.default_rng(0))
    if name in POSITIVE_ARGUMENT:  # W x > 0: the argument inside the op's domain
        arrays = {k: np.abs(v) for k, v in arrays.items()}
    report = js.gradcheck(f, arrays)
    assert report.ok, f"{name}: {report}"


@pytest.mark.optional
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_prints_to_jax_and_agrees_with_numpy(name):
    """The second backend (recipe 4): every gradient's closed form, printed for JAX, gives the values
    the NumPy printer gives."""
    pytest.importorskip("jax")
    import jax

    jax.config.update("jax_enable_x64", True)
    from jacobian_sym.kernels.jax_printer import jax_function
    from jacobian_sym.kernels.numeric import NumericGraph, evaluate, random_inputs
    from jacobian_sym.proofs.model_proofs import backprop_values

    bp = js.backprop(js.Model.build(_model_using(name), title=f"uses {name}"))
    sizes = {s: v for s, v in zip(sorted({d for n in bp.graph.nodes for s in n.shape for d in getattr(
        s, "free_symbols", ())}, key=str), (4, 3, 5, 2))}
    numeric = NumericGraph(bp.graph, sizes)
    arrays = random_inputs(bp.graph, sizes, np.random.default_rng(1))
    if name in POSITIVE_ARGUMENT:
        arrays = {k: np.abs(v) for k, v in arrays.items()}
    values = backprop_values(bp, numeric, arrays)
    for wrt, closed in bp.gradients.items():
        form = closed.xreplace(sizes)
        symbols = sorted(form.atoms(sp.MatrixSymbol), key=str)
        want = evaluate(closed, values, sizes)
        got = np.asarray(jax_function(symbols, form)(*(values[s.name] for s in symbols)))
        assert np.linalg.norm(got - want) <= 1e-9 * max(np.linalg.norm(want), 1), (name, wrt)
