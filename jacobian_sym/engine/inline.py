"""Closed forms in terms of the variables and named nodes: unnamed inner nodes (u1, u2, …) inlined,
at the matrix level (their matrix forms) or at the element level (their forward in index notation)."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import IndexPool
from jacobian_sym.engine.closed_form import factor_hadamard, merge_like, merge_scalar_powers
from jacobian_sym.graph.indexed import Graph
from jacobian_sym.ops.functions import element_class
from jacobian_sym.ops.indexing import IndexContext
from jacobian_sym.ops.table import OpApply, get_op, vector_axis, whole_element


def matrix_form(graph: Graph, node, forms: dict, *, through_names: bool = False):
    """A node's matrix form (W x + b₁), over the variables and the named nodes — or the variables alone
    with ``through_names`` (ŷ written as softmax(θ)); ``forms`` caches the unnamed nodes' forms."""
    node = graph.canonical(node)
    if node.op == "const":
        return node.attr("value")
    if node.is_leaf or (node.name is not None and not through_names):
        return graph.symbol(node)
    key = (id(node), through_names)
    if key not in forms:
        args = [matrix_form(graph, a, forms, through_names=through_names) for a in node.args]
        forms[key] = get_op(node.op).matrix(*args, **dict(node.attrs))
    return forms[key]


def inline_unnamed(expr, graph: Graph):
    """Replace the symbols of unnamed inner nodes (u1, u2, …) by their matrix-level forms, so that a
    closed form speaks of the variables and the named nodes only."""
    forms: dict = {}
    mapping = {graph.symbol(n): matrix_form(graph, n, forms) for n in graph.nodes
               if not n.is_leaf and n.op != "const" and n.name is None}
    if not mapping:
        return expr
    # a 1×1 node whose form is a number (−2 · Σ XW): its element is that number
    scalars = {k[0, 0]: v for k, v in mapping.items() if not isinstance(v, sp.MatrixExpr)}
    # and a 1×1 node's element is its form's element, kept whole (a ScalarElement of a reduction would
    # write the reduction's element formula back, Σ W_ij X_jk, when SymPy evaluates it)
    scalars |= {k[0, 0]: whole_element(v) for k, v in mapping.items()
                if isinstance(v, sp.MatrixExpr) and k.shape == (1, 1)}
    out = expr.xreplace(scalars).xreplace(mapping).replace(
        lambda e: isinstance(e, sp.Transpose) and isinstance(e.arg, sp.Transpose), lambda e: e.arg.arg)
    out = (sp.MatAdd(*map(merge_scalar_powers, out.args)) if isinstance(out, sp.MatAdd)
           else merge_scalar_powers(out))
    if isinstance(out, sp.MatAdd):  # two paths through unnamed nodes may be one term now (x and (xᵀ)ᵀ)
        terms = merge_like(out.args)
        out = factor_hadamard(sp.MatAdd(*terms)) if len(terms) > 1 else terms[0] if terms else sp.ZeroMatrix(*out.shape)
    return out.replace(lambda e: _softmax_of(e) is not None, _softmax_of)


def in_variables(expr, graph: Graph):
    """A closed form in the variables alone: every node's symbol, named (ŷ) or not (u₁), replaced by
    its matrix form — what a kernel or a numeric check evaluates from the arrays it is given."""
    forms: dict = {}
    mapping = {graph.symbol(n): matrix_form(graph, n, forms, through_names=True) for n in graph.nodes
               if not n.is_leaf and n.op != "const"}
    return expr.xreplace(mapping) if mapping else expr


def _softmax_of(e):
    """sum(exp(v))⁻¹ · exp(v) → softmax(v) for a vector v (log-sum-exp's gradient, written as the
    composition it is), and the same with exp(v)ᵀ."""
    if not isinstance(e, sp.MatMul) or len(e.args) != 2:
        return None
    inverse, other = e.args if isinstance(e.args[0], sp.HadamardPower) else e.args[::-1]
    if not (isinstance(inverse, sp.HadamardPower) and inverse.exp == -1 and isinstance(inverse.base, OpApply)
            and inverse.base.op_name == "sum" and not inverse.base.params):
        return None
    (inner,) = inverse.base.operands
    transposed = isinstance(other, sp.Transpose)
    if (other.arg if transposed else other) != inner or not _is_exp_of_vector(inner):
        return None
    v = inner.expr
    softmax = OpApply("softmax", v.shape, v, axis=vector_axis(v.shape, None))
    return sp.Transpose(softmax) if transposed else softmax


def _is_exp_of_vector(M) -> bool:
    return (isinstance(M, ElementwiseApplyFunction) and element_class(M.function) is not None
            and element_class(M.function).op_name == "exp" and 1 in M.expr.shape)


def inline_unnamed_elements(expr, graph: Graph, pool: IndexPool | None = None, ops=None):
    """Replace the elements of unnamed inner nodes (of the ``ops`` given, or all) by their forward in
    index notation."""
    unnamed = {graph.symbol(n): n for n in graph.nodes if not n.is_leaf and n.op != "const" and n.name is None
               and (ops is None or n.op in ops)}
    pool = pool or IndexPool(str(s) for s in expr.free_symbols)
    pool.used |= {str(s) for s in expr.atoms(sp.Symbol)}
    ix = IndexContext(pool)
    for _ in range(len(unnamed) + 1):
        found = [e for e in expr.atoms(MatrixElement) if e.parent in unnamed]
        if not found:
            return expr
        expr = expr.xreplace({e: graph.element(unnamed[e.parent], *e.indices, ix) for e in found})
    return expr
