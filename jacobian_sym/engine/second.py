"""Second order: Hessians and Hessian–vector products, derived by the same element-wise engine.

The gradient's element form g[p, q] = ∂J/∂a[p, q] comes from the reverse sweep (``derive.gradient``);
it is then differentiated again, forward over reverse, at the level of elements: a forward sweep
carries the tangent Ṅ[r, s] of every node's element along a direction in a variable b (the unit
vector e_j for column j of a Hessian block, a matrix V for a Hessian–vector product), and

    d g[p, q] = Σ over the node elements N[r, s] that g reads of  ∂g/∂N[r, s] · Ṅ[r, s].

The result is collapsed by the same rewrite rules and read as a closed form by the same recogniser
(xᵀAx gives A + Aᵀ, Σ tanh(Wx) gives Wᵀ diag(tanh″(Wx)) W); nothing here knows a Hessian's answer.
A Kronecker form of a matrix variable's Hessian is read off its Hessian–vector product: a term
A V B is vec⁻¹ of (Bᵀ ⊗ A) vec V.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.sizes import IndexPool, fmt_shape
from jacobian_sym.engine.closed_form import closed_form, flat_product, target_slots
from jacobian_sym.engine.derive import Derivation, _checked, _variable_of, gradient
from jacobian_sym.engine.facts import facts_of
from jacobian_sym.engine.inline import inline_unnamed, inline_unnamed_elements
from jacobian_sym.engine.layout import check_layout
from jacobian_sym.engine.local import delta, local_derivative
from jacobian_sym.engine.ranges import index_ranges, settle
from jacobian_sym.engine.rules import name_softmax, simplify_index
from jacobian_sym.engine.step import Step
from jacobian_sym.engine.symmetric import symmetric_symbols, with_symmetry
from jacobian_sym.errors import ClosedFormError, DerivationError, ShapeError
from jacobian_sym.graph import expr as E
from jacobian_sym.graph.expr import Node
from jacobian_sym.graph.indexed import Graph, element_symbol
from jacobian_sym.graph.structure import is_symmetric
from jacobian_sym.ops.functions import ElementFunction
from jacobian_sym.ops.indexing import IndexContext, PartElement
from jacobian_sym.ops.linalg import opaque_arguments
from jacobian_sym.ops.table import OpApply, get_op
from jacobian_sym.render.display import Label

J = sp.Symbol("J")


def _free(pool: IndexPool, shape) -> tuple:
    return tuple(sp.Integer(0) if size == 1 else pool.fresh() for size in shape)


def _summed(body, pairs):
    for idx, size in pairs:
        if size != 1:
            body = sp.Sum(body, (idx, 0, size - 1))
    return body


@dataclass
class Direction:
    """Along what the gradient is differentiated: the tangent of the variable's element (p, q), and
    how a step writes the tangent of an element and the result's element."""

    seed: object  # (p, q) -> the tangent of var[p, q]
    tangent_label: object  # element -> the left-hand side of its tangent's step
    result_label: object  # (gradient element) -> the left-hand side of the result's element
    #: the index of the unit vector e_j a Hessian column is taken along (None along a direction V)
    index: object = None


def _tangents(graph: Graph, var: Node, direction: Direction, pool: IndexPool, facts, steps: list) -> dict:
    """Ṅ[p, q] for every node that depends on ``var``: id(node) → ((p, q), index expression)."""
    tangents = {}
    ix = IndexContext(pool)
    for node in graph.nodes:
        node = graph.canonical(node)
        if id(node) in tangents:
            continue
        if node is var:
            p, q = _free(pool, node.shape)
            tangents[id(node)] = ((p, q), direction.seed(p, q))
            continue
        if node.is_leaf or node.op == "const":
            continue
        args = list(dict.fromkeys(graph.canonical(a) for a in node.args))
        if not any(id(a) in tangents for a in args):
            continue
        p, q = _free(pool, node.shape)
        element = graph.element(node, p, q, ix)
        total = sp.Integer(0)
        for a in args:
            if id(a) in tangents:
                (r, s), t = tangents[id(a)]
                local = local_derivative(element, element_symbol(graph.symbol(a), r, s))
                total += _summed(local * t, [(r, a.shape[0]), (s, a.shape[1])])
        tangents[id(node)] = ((p, q), simplify_index(total, facts))
        steps.append(Step(direction.tangent_label(element_symbol(graph.symbol(node), p, q)), tangents[id(node)][1],
                          "forward: the tangent of the node, by the chain rule"))
    return tangents


def _directional(graph: Graph, g, tangents: dict, pool: IndexPool) -> sp.Expr:
    """Σ over the node elements N[r, s] that ``g`` reads of ∂g/∂N[r, s] · Ṅ[r, s]."""
    present = {e.parent for e in g.atoms(MatrixElement)} | opaque_arguments(g)
    total = sp.Integer(0)
    seen = set()
    for node in graph.nodes:
        # two nodes made by js.vector("w", "n") twice are one variable (a name and a shape): counted once
        node = graph.canonical(node)
        if id(node) in seen or id(node) not in tangents or graph.symbol(node) not in present:
            continue
        seen.add(id(node))
        (r, s), t = tangents[id(node)]
        r2, s2 = _free(pool, node.shape)
        partial = local_derivative(g, element_symbol(graph.symbol(node), r2, s2))
        if partial != 0:
            total += _summed(partial * t.xreplace({r: r2, s: s2}), [(r2, node.shape[0]), (s2, node.shape[1])])
    return total


def _diagonal_inside(M):
    """(D A)ᵀ B → Aᵀ D B for a diagonal D: a Hessian reads Xᵀ diag(v) X, with the diagonal in the middle."""
    def flip(e):
        return sp.MatMul(*[a if isinstance(a, sp.DiagMatrix) else _transpose(a) for a in reversed(e.arg.args)])

    return M.replace(lambda e: isinstance(e, sp.Transpose) and isinstance(e.arg, sp.MatMul)
                     and any(isinstance(a, sp.DiagMatrix) for a in e.arg.args), flip)


def _transpose(M):
    return M.arg if isinstance(M, sp.Transpose) else sp.Transpose(M)


def _scalar(expr: Node, what: str) -> None:
    if expr.shape != (1, 1):
        raise DerivationError(f"{what} needs a scalar expression, but it is {fmt_shape(expr.shape)}")


def _not_symmetric(var: Node, what: str) -> None:
    """Refuse ``what`` by a variable declared symmetric: only its gradient (by its free entries) is derived
    (whose Hessian, by the free entries or on the symmetric matrices, is a convention not fixed here)."""
    if is_symmetric(var):
        raise DerivationError(f"{what} by the symmetric {var.name} are not derived: only its gradient (by its free "
                              "entries) is; differentiate by an unconstrained matrix")


def _second(expr: Node, a: Node, b: Node, make_direction, target_of, shape, title: str, kind: str,
            layout: str, final_lhs, reserved=()) -> Derivation:
    """∂/∂b of the gradient by a, along the direction ``make_direction(pool, graph, var_b)`` makes."""
    first = gradient(expr, a, layout="denominator")
    graph = first.graph
    var_a = graph.canonical(_variable_of(graph, a))
    var_b = graph.canonical(_variable_of(graph, b))
    for var in (var_a, var_b):
        _not_symmetric(var, "second derivatives")
    g = first.index_form
    pool = IndexPool(str(s) for s in g.atoms(sp.Symbol))
    pool.used |= set(reserved) | {n.name for n in graph.nodes if n.is_leaf and n.name}  # no index named b beside b
    facts = facts_of(graph)
    steps = [Step(sp.Derivative(J, element_symbol(graph.symbol(var_a), *first.free)), g,
                  "the gradient, derived element by element")]
    direction = make_direction(pool, graph, var_b)
    tangents = _tangents(graph, var_b, direction, pool, facts, steps)
    g, written = _op_elements_written(g, graph, tangents, pool)
    raw = _directional(graph, g, tangents, pool)
    lhs = direction.result_label(element_symbol(graph.symbol(var_a), *first.free))
    steps.append(Step(lhs, raw, "differentiate the gradient's element: Σ ∂g/∂N · (the tangent of N)"))
    index = simplify_index(raw, facts)
    target = target_of(first.free)
    settled = settle(index, index_ranges(target, shape), _concat_elements(graph, pool))
    if settled != index:  # a concatenation's part picked by the ranges of the free indices
        index = simplify_index(settled, facts)
    steps.append(Step(lhs, index, "collapse the sums ([i = k] keeps one term; declared facts)"))
    if written:  # the quotient written out above is softmax(h) again
        index = _named_again(index)
    closed = _diagonal_inside(inline_unnamed(closed_form(_softmax_named(index, graph, pool),
                                                         target_slots(target, shape), shape), graph))
    closed = with_symmetry(closed, symmetric_symbols(graph))  # (Sᵀ is S: the Hessian of xᵀSx is 2S)
    steps.append(Step(final_lhs(graph.symbol(var_a), graph.symbol(var_b)), closed,
                      "the closed form of the element-wise result"))
    return Derivation(title, kind, expr, var_a, layout, steps, index, target, closed, graph, other=var_b)


def _concat_elements(graph: Graph, pool: IndexPool):
    """The element formula of a node's element in terms of its arguments' (a concatenation's is
    [i < a] A[i] + (1 − [i < a]) B[i − a]), for ``ranges.settle`` to pick the part where the index's
    range decides it (tanh(h)[i] for i < k is tanh of the first part's element); only in a graph with a
    concatenation."""
    if not any(n.op == "concat" for n in graph.nodes):
        return None
    computed = {graph.symbol(n): n for n in graph.nodes if not n.is_leaf and n.op != "const"}
    ix = IndexContext(pool)

    def write(e):
        node = computed.get(e.parent)
        if node is None:
            return None
        formula = graph.element(node, *e.indices, ix)
        return formula.replace(lambda x: isinstance(x, PartElement), lambda x: x.doit())

    return write


def _op_elements_written(g, graph: Graph, tangents: dict, pool: IndexPool):
    """The elements of an op applied to graph values that the gradient names but the graph does not
    compute (softmax(h)_i in log-softmax's gradient (Σy) softmax(h) − y) written out from the op's
    element formula (exp(h_i) / Σ_k exp(h_k)), where the op reads a value that moves along the
    direction: the forward sweep carries tangents of graph nodes only, and ∂g/∂h must reach h through
    them. Returns g and whether anything was written."""
    moving = {graph.symbol(n) for n in graph.nodes if id(n) in tangents}
    ix = IndexContext(pool)
    written = False
    for _ in range(8):  # an op of an op: each pass writes one level
        found = [e for e in g.atoms(MatrixElement) if isinstance(e.parent, OpApply)
                 and e.parent.atoms(sp.MatrixSymbol) & moving]
        if not found:
            break
        g = g.xreplace({e: _op_element(ix, e) for e in found})
        written = True
    return g, written


def _op_element(ix, e):
    op = e.parent
    return get_op(op.op_name).element(ix, *e.indices, *op.operands, **op.params)


def _named_again(index):
    named = name_softmax(sp.expand(index, power_exp=False, log=False))
    return named if named.has(OpApply) else index


def _softmax_named(index, graph: Graph, pool: IndexPool):
    """exp(t_i) / Σ_k exp(t_k) → softmax(t)_i where the graph computes exp and its sum as unnamed
    nodes (log-sum-exp): their elements written out, then ``rules.name_softmax`` names the quotient,
    so that the Hessian of log Σ exp(t) reads diag(s) − s sᵀ. Unchanged when nothing is named."""
    if not any(n.op == "exp" and n.name is None for n in graph.nodes):
        return index
    written = inline_unnamed_elements(index, graph, pool, ops=("exp", "sum")).replace(
        lambda e: isinstance(e, ElementFunction) and e.op_name == "exp" and e.order == 0, lambda e: e.explicit())
    named = name_softmax(sp.expand(written, power_exp=False, log=False))
    return named if named.has(OpApply) else index


def _axis(shape) -> int:
    return 0 if shape[1] == 1 else 1


def _length(v: Node):
    return v.shape[_axis(v.shape)]


def _unit_direction(pool: IndexPool, graph: Graph, var: Node) -> Direction:
    """Along e_j in a vector variable: column j of a Hessian block (a scalar variable: j = 0)."""
    j = sp.Integer(0) if tuple(var.shape) == (1, 1) else pool.fresh()
    at = (j, sp.Integer(0)) if var.shape[1] == 1 else (sp.Integer(0), j)
    b_j = element_symbol(graph.symbol(var), *at)
    return Direction(lambda p, q: delta(p, at[0], var.shape[0]) * delta(q, at[1], var.shape[1]),
                     lambda element: sp.Derivative(element, b_j),
                     lambda g_element: sp.Derivative(J, g_element, b_j), j)


def _block(expr: Node, a: Node, b: Node, layout: str) -> Derivation:
    """∂²J/∂a∂bᵀ: rows indexed by a's elements, columns by b's (a vector each)."""
    for v in (a, b):
        if 1 not in v.shape:
            raise DerivationError(f"a Hessian block needs vectors; {v.name} is {fmt_shape(v.shape)}")
    made = {}

    def make(pool, graph, var):
        made["d"] = _unit_direction(pool, graph, var)
        return made["d"]

    shape = (_length(a), _length(b))
    name = expr.name or "J"
    title = f"The Hessian of {name} by {a.name}" if a is b or a.name == b.name else \
        f"The Hessian block of {name} by {a.name} and {b.name}"
    return _second(expr, a, b, make, lambda free: (free[_axis(a.shape)], made["d"].index), shape, title, "hessian",
                   layout, lambda A, B: sp.Derivative(J, A, B))


def hessian(expr: Node, wrt, *, layout: str = "numerator", kronecker: bool = False) -> Derivation:
    """∂²J/∂x∂xᵀ of a scalar expression J by a vector x (n×n), or by a tuple of vectors (a block matrix
    of the blocks ∂²J/∂a∂bᵀ); with ``kronecker=True``, the Hessian by vec W of a matrix W as a sum of
    Kronecker products (read off the Hessian–vector product)."""
    _checked(expr, "the expression")
    layout = check_layout(layout)
    _scalar(expr, "a Hessian")
    if isinstance(wrt, (tuple, list)):
        return _blocks(expr, tuple(wrt), layout)
    _checked(wrt, "the variable")
    if kronecker:
        return _kronecker(expr, wrt, layout)
    if 1 not in wrt.shape:
        raise DerivationError(
            f"{wrt.name} is {fmt_shape(wrt.shape)}: its Hessian is a 4-index object; ask for "
            f"js.hvp(expr, {wrt.name}, V) with a direction V of that shape, or for "
            f"js.hessian(expr, {wrt.name}, kronecker=True)")
    return _block(expr, wrt, wrt, layout)


def _blocks(expr: Node, variables: tuple, layout: str) -> Derivation:
    """The Hessian by several vectors: the block matrix of the blocks, each derived."""
    if not variables:
        raise DerivationError("a Hessian needs at least one variable")
    for v in variables:
        _checked(v, "a variable")
    blocks = [[_block(expr, a, b, layout) for b in variables] for a in variables]
    closed = sp.BlockMatrix([[_as_block(d) for d in row] for row in blocks])
    first = blocks[0][0]
    names = ", ".join(v.name for v in variables)
    return Derivation(f"The Hessian of {expr.name or 'J'} by ({names})", "hessian", expr, first.wrt, layout,
                      _block_steps(blocks, closed), first.index_form, first.free, closed, first.graph,
                      blocks=blocks)


#: a block's own steps, after its gradient's and tangents' (see ``_second``): differentiate, collapse, close
_OWN_STEPS = 3


def _block_steps(blocks: list, closed) -> list:
    """Each gradient once (the first block of its row has it), each forward sweep once (the first block of
    its column: the tangents along b are the same whatever gradient they meet), then each block's own
    steps, then the block matrix with its blocks labelled and its closed form."""
    gradients = [row[0].steps[0] for row in blocks]
    tangents = [s for d in blocks[0] for s in d.steps[1:-_OWN_STEPS]]
    own = [s for row in blocks for d in row for s in d.steps[-_OWN_STEPS:]]
    label = Label.block_hessian([row[0].graph.symbol(row[0].wrt) for row in blocks])
    labels = sp.ImmutableMatrix([[d.steps[-1].lhs for d in row] for row in blocks])
    return [*gradients, *tangents, *own,
            Step(label, labels, "the blocks, by the variables of their rows and columns"),
            Step(label, closed, "each block's closed form, derived above")]


def _as_block(d: Derivation):
    """A block of a block matrix in its own shape (len a × len b): a number c that the closed form of a
    block gives (0 where J does not couple a and b, c for a 1×1 block) as c·1 of that shape."""
    form = d.closed_form
    if isinstance(form, sp.MatrixExpr):
        return form
    shape = (_length(d.wrt), _length(d.other))
    return sp.ZeroMatrix(*shape) if form == 0 else sp.MatMul(form, sp.OneMatrix(*shape), evaluate=False)


def hvp(expr: Node, wrt: Node, direction: Node, *, layout: str = "numerator") -> Derivation:
    """The Hessian of a scalar J by ``wrt`` applied to ``direction`` (a variable of the same shape):
    (∇²J[V])[p, q] = Σ_rs ∂²J/∂W[p,q]∂W[r,s] · V[r, s], in closed form (2 XᵀX V for ‖XW − Y‖²)."""
    _checked(expr, "the expression")
    _checked(wrt, "the variable")
    _checked(direction, "the direction")
    layout = check_layout(layout)
    _scalar(expr, "a Hessian–vector product")
    if not direction.is_leaf or direction.name is None:
        raise DerivationError("the direction must be a variable (js.matrix('V', …)), not an expression")
    if direction.shape != wrt.shape:
        raise ShapeError(f"the direction {direction.name} is {fmt_shape(direction.shape)} but {wrt.name} is "
                         f"{fmt_shape(wrt.shape)}")
    if Graph(expr).node_named(direction.name) is not None:
        raise DerivationError(f"the direction {direction.name} must not occur in the expression")
    V = sp.MatrixSymbol(direction.name, *direction.shape)
    W_label = sp.MatrixSymbol(wrt.name, *wrt.shape)

    def make(pool, graph, var):
        return Direction(lambda p, q: V[p, q],
                         lambda element: Label.directional(element, V),
                         lambda g_element: Label.hvp(W_label, V, g_element.indices))

    name = expr.name or "J"
    d = _second(expr, wrt, wrt, make, lambda free: free, tuple(wrt.shape),
                f"The Hessian of {name} by {wrt.name}, applied to {direction.name}", "hvp", layout,
                lambda A, B: Label.hvp(A, V, None), reserved=(direction.name,))
    d.upstream = V
    return d


def _kronecker(expr: Node, wrt: Node, layout: str) -> Derivation:
    """∂²J/∂vec(W)∂vec(W)ᵀ as Σ Bᵀ ⊗ A, read off the HVP's closed form Σ A V B (vec column-major)."""
    graph, name = Graph(expr), "V"
    while graph.node_named(name) is not None or name == wrt.name:
        name += "_"
    direction = E.matrix(name, *wrt.shape)
    d = hvp(expr, wrt, direction, layout=layout)
    V = d.upstream
    rows, cols = wrt.shape
    terms = sp.MatAdd.make_args(d.closed_form) if isinstance(d.closed_form, sp.MatAdd) else (d.closed_form,)
    kron = []
    for term in terms:
        coeff, mats = flat_product(term)
        if mats.count(V) != 1 or any(m.has(V) and m != V for m in mats):
            raise ClosedFormError(f"the Hessian–vector product {d.closed_form} is not a sum of products A V B: "
                                  "no Kronecker form")
        k = mats.index(V)
        A = sp.MatMul(*mats[:k]) if k > 1 else (mats[0] if k == 1 else sp.Identity(rows))
        after = mats[k + 1:]
        B = sp.MatMul(*after) if len(after) > 1 else (after[0] if after else sp.Identity(cols))
        kron.append(coeff * sp.KroneckerProduct(_transpose(B) if not isinstance(B, sp.Identity) else B, A))
    closed = sp.MatAdd(*kron) if len(kron) > 1 else kron[0]
    steps = [*d.steps, Step(Label.vec_hessian(sp.MatrixSymbol(wrt.name, *wrt.shape)), closed,
                            "vec(A V B) = (Bᵀ ⊗ A) vec V, term by term (vec stacks columns)")]
    out = Derivation(f"The Hessian of {expr.name or 'J'} by vec {wrt.name}, as Kronecker products", "kronecker",
                     expr, d.wrt, layout, steps, d.index_form, d.free, closed, d.graph)
    out.upstream = V
    return out


def jvp(expr: Node, wrt: Node, direction: Node, *, layout: str = "numerator") -> Derivation:
    """The directional derivative of ``expr`` (any shape) along ``direction`` in ``wrt``: the Jacobian
    applied to V, in the expression's own shape (θ = U ReLU(Wx + b) along V in W: U diag(ReLU′(z)) V x)."""
    _checked(expr, "the expression")
    _checked(wrt, "the variable")
    _checked(direction, "the direction")
    layout = check_layout(layout)
    if direction.shape != wrt.shape:
        raise ShapeError(f"the direction {direction.name} is {fmt_shape(direction.shape)} but {wrt.name} is "
                         f"{fmt_shape(wrt.shape)}")
    graph = Graph(expr)
    var = graph.canonical(_variable_of(graph, wrt))
    _not_symmetric(var, "directional derivatives")
    V = sp.MatrixSymbol(direction.name, *direction.shape)
    pool = IndexPool({direction.name})
    facts = facts_of(graph)
    steps: list = []
    tangents = _tangents(graph, var, Direction(lambda p, q: V[p, q], lambda e: Label.directional(e, V), None),
                         pool, facts, steps)
    root = graph.canonical(graph.root)
    (p, q), index = tangents[id(root)]
    shape = tuple(root.shape)
    closed = _diagonal_inside(inline_unnamed(closed_form(index, target_slots((p, q), shape), shape), graph))
    steps.append(Step(Label.directional(graph.symbol(root), V), closed, "the closed form of the element-wise result"))
    d = Derivation(f"The derivative of {expr.name or 'the expression'} along {direction.name} in {wrt.name}", "jvp",
                   expr, var, layout, steps, index, (p, q), closed, graph)
    d.upstream = V
    return d
