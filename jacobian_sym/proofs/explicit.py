"""Explicit values at concrete sizes, shared by every proof: sizes chosen (or checked when given), the
cost of an explicit evaluation bounded before any work, variables as matrices of symbols, the forward
pass evaluated element by element, and closed forms evaluated on the same matrices."""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from jacobian_sym.base.bounds import MAX_EXPLICIT_DERIVATIVES, MAX_EXPLICIT_ELEMENTS
from jacobian_sym.engine.layout import gradient_layout, jacobian_layout
from jacobian_sym.errors import JacobianSymError, SizeError
from jacobian_sym.graph.expr import mask_cell, one_hot_axis
from jacobian_sym.graph.indexed import explicit_matrix
from jacobian_sym.graph.structure import is_symmetric
from jacobian_sym.ops.functions import explicit
from jacobian_sym.ops.indexing import IndexContext
from jacobian_sym.ops.linalg import explicit_inverse
from jacobian_sym.ops.slicing import Embedded
from jacobian_sym.ops.table import OpApply, get_op
from jacobian_sym.proofs.report import Check

SIZE_CYCLE = (3, 4, 2, 5, 6, 7)


# ----- concrete sizes -----
def size_symbols(derivation) -> list[sp.Symbol]:
    found = set()
    for node in derivation.graph.nodes:
        for s in node.shape:
            found |= set(s.free_symbols)
    return sorted(found, key=lambda s: s.name)


def concrete_sizes(derivation, count: int = 2) -> list[dict]:
    """``count`` assignments of distinct sizes (so no matrix is accidentally square)."""
    symbols = size_symbols(derivation)
    out = []
    for shift in range(count):
        values = SIZE_CYCLE[shift:] + SIZE_CYCLE[:shift]
        out.append({s: sp.Integer(values[n % len(values)]) for n, s in enumerate(symbols)})
    return out


def _elements(shape, sizes):
    return tuple(int(s.xreplace(sizes)) if isinstance(s, sp.Basic) else int(s) for s in shape)


def _check_cost(derivation, sizes):
    out = int(np.prod(_elements(derivation.expr.shape, sizes)))
    wrt = int(np.prod(_elements(derivation.wrt.shape, sizes)))
    check_explicit_cost(derivation.graph, sizes, out * wrt)


def check_explicit_cost(graph, sizes, derivatives: int = 0):
    """Refuse, before any work, an explicit proof whose symbolic matrices or derivatives would be
    too many to finish in seconds (the cost grows with every element of every node)."""
    elements = explicit_elements(graph, sizes)
    shown = ", ".join(f"{k}={v}" for k, v in sizes.items()) or "these sizes"
    if derivatives > MAX_EXPLICIT_DERIVATIVES:
        raise SizeError(f"the explicit check at {shown} would take {derivatives} symbolic derivatives "
                        f"(limit {MAX_EXPLICIT_DERIVATIVES}); use smaller sizes, or the numeric checks")
    if elements > MAX_EXPLICIT_ELEMENTS:
        raise SizeError(f"the explicit check at {shown} would build {elements} symbolic elements "
                        f"(limit {MAX_EXPLICIT_ELEMENTS}); use smaller sizes, or the numeric checks")


def explicit_elements(graph, sizes) -> int:
    """The symbolic elements an explicit evaluation of ``graph`` at ``sizes`` builds: every node's."""
    return sum(int(np.prod(_elements(n.shape, sizes))) for n in graph.nodes if n.op != "const")


def checked_sizes(symbols, assignments) -> list[dict]:
    """User-given sizes by name, checked against the target's size symbols (missing ones get the
    default values; an unknown name or a value that is not a positive integer is refused)."""
    known = {s.name: s for s in symbols}
    out = []
    for n, given in enumerate(assignments):
        if not isinstance(given, dict):
            raise SizeError(f"sizes are dicts of size name → positive integer, not {type(given).__name__}")
        values = {s: sp.Integer(SIZE_CYCLE[(k + n) % len(SIZE_CYCLE)]) for k, s in enumerate(symbols)}
        for key, value in given.items():
            name = str(key)
            if name not in known:
                raise SizeError(f"sizes names {name!r}, which the target does not have "
                                f"(it has: {', '.join(known) or 'no symbolic sizes'})")
            if isinstance(value, bool) or not isinstance(value, (int, sp.Integer)) or not 0 < int(value) < 10**6:
                raise SizeError(f"the size {name}={value!r} is not a positive integer")
            values[known[name]] = sp.Integer(int(value))
        out.append(values)
    return out


def guarded(name, sizes, run) -> Check:
    """A proof that cannot be carried out fails cleanly, with the reason, instead of crashing;
    a refusal on cost (SizeError) and other errors of the user's input still stop the run."""
    try:
        return run()
    except JacobianSymError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure to evaluate is a failed proof, not a crash
        return Check(name, False, sizes, detail=f"could not be carried out ({type(err).__name__}: {err})"[:300])


# ----- explicit values -----
def leaf_matrix(node, sizes):
    rows, cols = _elements(node.shape, sizes)
    if node.attr("constant"):  # a constant mask: its exact value (−oo above the diagonal of a causal one)
        return sp.Matrix(rows, cols, lambda i, j: mask_cell(node.attr("constant"), i, j, exact=True))
    if node.attr("one_hot"):  # one 1 per example along the class axis, in varying places
        if one_hot_axis(node) == 0:
            return sp.Matrix(rows, cols, lambda i, j: 1 if i == (rows // 2 + j) % rows else 0)
        return sp.Matrix(rows, cols, lambda i, j: 1 if j == (cols // 2 + i) % cols else 0)
    if is_symmetric(node):  # one symbol for S_ij and S_ji: SymPy's diff by it is the free entry's derivative
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{node.name}_{min(i, j)}_{max(i, j)}", real=True))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{node.name}_{i}_{j}", real=True))


class Explicit:
    """The forward pass of a derivation's graph at concrete sizes, with symbols for the variables."""

    def __init__(self, derivation, sizes):
        self.d, self.sizes = derivation, sizes
        graph = derivation.graph
        self.env = {"__sizes__": sizes}
        for node in graph.nodes:
            if node.is_leaf and node.name not in self.env:
                self.env[node.name] = leaf_matrix(node, sizes)
        self.values = {}
        for node in graph.nodes:
            if node.op != "const":
                self.values[graph.symbol(node)] = explicit_matrix(node, graph, self.env)
        if derivation.upstream is not None:
            up = derivation.upstream
            rows, cols = _elements(up.shape, sizes)
            self.values[up] = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"delta_{i}_{j}", real=True))

    def variable(self):
        return self.values[self.d.graph.symbol(self.d.wrt)]

    def truth(self) -> sp.Matrix:
        """The true derivative, by SymPy's own diff on the explicit forward pass."""
        d = self.d
        root = self.values[d.graph.symbol(d.expr)].applyfunc(explicit)
        var = self.variable()
        if d.kind == "jacobian":
            shape, where = jacobian_layout(d.expr.shape, d.wrt.shape, d.layout)
            jac = without_dirac(sp.Matrix(list(root)).jacobian(sp.Matrix(list(var))))
            return jac if d.layout == "numerator" else jac.T
        if d.upstream is not None:
            _, where_root = gradient_layout(d.expr.shape, d.layout)
            delta = self.values[d.upstream]
            J = sum(delta[where_root(p, q)] * root[p, q]
                    for p in range(root.rows) for q in range(root.cols))
        else:
            J = root[0, 0]
        shape, where = gradient_layout(d.wrt.shape, d.layout)
        G = sp.zeros(*_elements(shape, self.sizes))
        for p in range(var.rows):
            for q in range(var.cols):
                G[where(p, q)] = sp.diff(J, var[p, q])
        return without_dirac(G)

    def closed(self) -> sp.Matrix:
        """The closed form evaluated on the explicit matrices."""
        return evaluate_explicit(self.d.closed_form, self.values, self.sizes)


def evaluate_explicit(expr, values: dict, sizes: dict, number=None) -> sp.Matrix:
    """A matrix expression with its symbols replaced by explicit matrices (``values``) at concrete
    ``sizes``, multiplied out. Products, sums, transposes and Hadamard products are multiplied out
    bottom-up on the explicit matrices (SymPy's ``as_explicit`` of a product of them writes every entry
    as a ``Sum`` and takes seconds); any other node is evaluated by ``_evaluate_node``. With ``number``
    (an entry → a number, at a point) every intermediate matrix is made numbers at once: products of
    exact σ(3/7)s grow without end."""
    mapping = {k: sp.ImmutableMatrix(v) if isinstance(v, sp.MatrixBase) else v for k, v in values.items()}
    mapping.update(sizes)
    memo = {"_number": number}
    if not isinstance(expr, sp.MatrixExpr):  # a 1×1 result written as its number (the Hessian of b²)
        return sp.Matrix([[_scalar(expr, values, sizes, mapping, memo)]])
    return sp.Matrix(_bottom_up(expr, values, sizes, mapping, memo))


def _bottom_up(expr, values, sizes, mapping, memo):
    if not isinstance(expr, sp.MatrixExpr) or isinstance(expr, sp.ImmutableMatrix):
        return expr
    if expr in memo:
        return memo[expr]
    if expr in mapping and isinstance(mapping[expr], sp.ImmutableMatrix):
        out = mapping[expr]
    elif isinstance(expr, (sp.MatMul, sp.MatAdd, sp.HadamardProduct, sp.Transpose)):
        parts = [_bottom_up(a, values, sizes, mapping, memo) for a in expr.args]
        scalars = [_scalar(a, values, sizes, mapping, memo) for a in parts if not isinstance(a, sp.MatrixBase)]
        matrices = [a for a in parts if isinstance(a, sp.MatrixBase)]
        if isinstance(expr, sp.Transpose):
            out = matrices[0].T
        elif isinstance(expr, sp.MatMul):
            out = matrices[0]
            for m in matrices[1:]:
                out = out * m
            out = sp.Mul(*scalars) * out if scalars else out
        elif isinstance(expr, sp.MatAdd):
            out = matrices[0]
            for m in matrices[1:]:
                out = out + m
        else:
            out = matrices[0]
            for m in matrices[1:]:
                out = out.multiply_elementwise(m)
        out = sp.ImmutableMatrix(out)
    elif isinstance(expr, sp.Inverse):
        out = explicit_inverse(_bottom_up(expr.arg, values, sizes, mapping, memo))
    elif isinstance(expr, sp.DiagMatrix):
        v = _bottom_up(expr.args[0], values, sizes, mapping, memo)
        out = sp.ImmutableMatrix(sp.diag(*list(v))) if isinstance(v, sp.MatrixBase) else \
            sp.ImmutableMatrix(_evaluate_node(expr, values, sizes))
    elif isinstance(expr, OpApply) and all(isinstance(a, sp.MatrixExpr) for a in expr.operands):
        # an op's matrix form (softmax(θ), a sum along an axis, a concatenation): its element formula on
        # its operands' explicit values, as the pointwise truth evaluates a node
        operands = [_bottom_up(a, values, sizes, mapping, memo) for a in expr.operands]
        op, ix = get_op(expr.op_name), IndexContext(explicit=True)
        rows, cols = _elements(expr.shape, mapping)
        out = sp.ImmutableMatrix(rows, cols, lambda i, j: _summed(op.element(ix, i, j, *operands, **expr.params)))
    elif isinstance(expr, ElementwiseApplyFunction):  # f(A) element by element (σ(X), σ′(X))
        arg = _bottom_up(expr.expr, values, sizes, mapping, memo)
        out = arg.applyfunc(lambda e: expr.function(e)) if isinstance(arg, sp.MatrixBase) else \
            sp.ImmutableMatrix(_evaluate_node(expr, values, sizes))
    elif isinstance(expr, sp.HadamardPower):
        base = _bottom_up(expr.base, values, sizes, mapping, memo)
        exp = _scalar(expr.exp, values, sizes, mapping, memo)
        out = base.applyfunc(lambda e: e**exp) if isinstance(base, sp.MatrixBase) else \
            sp.ImmutableMatrix(_evaluate_node(expr, values, sizes))
    elif isinstance(expr, (Embedded, sp.BlockMatrix)):  # a sliced matrix's gradient: its blocks, then placed
        out = sp.ImmutableMatrix(_blocks(expr, lambda a: _bottom_up(a, values, sizes, mapping, memo), mapping))
    elif isinstance(expr, (sp.OneMatrix, sp.Identity, sp.ZeroMatrix)):
        rows, cols = _elements(expr.shape, mapping)
        out = sp.ImmutableMatrix(sp.ones(rows, cols) if isinstance(expr, sp.OneMatrix) else
                                 sp.eye(rows) if isinstance(expr, sp.Identity) else sp.zeros(rows, cols))
    else:
        out = sp.ImmutableMatrix(_evaluate_node(expr, values, sizes))
    if memo["_number"] is not None:
        out = out.applyfunc(memo["_number"])
    memo[expr] = out
    return out


def _blocks(expr, value, mapping) -> sp.Matrix:
    """A block matrix or a block set in zeros, from its blocks' explicit values (``value``)."""
    explicit = lambda a: value(a) if isinstance(value(a), sp.MatrixBase) else sp.Matrix([[value(a)]])  # noqa: E731
    if isinstance(expr, sp.BlockMatrix):
        rows = [[explicit(b) for b in expr.blocks.row(r)] for r in range(expr.blocks.rows)]
        return sp.Matrix.vstack(*(sp.Matrix.hstack(*row) for row in rows))
    block = explicit(expr.block)
    (n, m), (r0, c0) = _elements(expr.shape, mapping), (int(s.xreplace(mapping)) for s in expr.starts)
    out = sp.zeros(n, m)
    out[r0:r0 + block.rows, c0:c0 + block.cols] = block
    return out


def without_dirac(M: sp.Matrix) -> sp.Matrix:
    """SymPy's derivative of a step, DiracDelta, made 0: the project's convention (step′ = 0, ReLU″ = 0),
    which holds at every point but the kink, and the proofs' points are never on a kink."""
    return M.applyfunc(lambda e: e.replace(lambda a: isinstance(a, sp.DiracDelta), lambda a: sp.Integer(0))
                       if isinstance(e, sp.Basic) and e.has(sp.DiracDelta) else e)


def _summed(e):
    return e.doit() if isinstance(e, sp.Basic) and e.has(sp.Sum) else e


def _scalar(e, values, sizes, mapping, memo):
    """A scalar factor: the elements and traces of matrix expressions it reads (‖W‖ of a quotient, a
    1×1 product (xᵀx)∘(xᵀx) as a number) taken from those expressions evaluated bottom-up, then the
    symbols replaced."""
    def element(a):
        M = _bottom_up(a.parent, values, sizes, mapping, memo)
        return M[int(a.i), int(a.j)] if isinstance(M, sp.MatrixBase) else a

    def trace(a):
        M = _bottom_up(a.arg, values, sizes, mapping, memo)
        return M.trace() if isinstance(M, sp.MatrixBase) else a

    e = e if isinstance(e, sp.Basic) else sp.Integer(e)
    e = e.replace(lambda a: isinstance(a, MatrixElement) and isinstance(a.parent, sp.MatrixExpr)
                  and a.i.is_Integer and a.j.is_Integer, element)
    e = e.replace(lambda a: isinstance(a, sp.Trace) and isinstance(a.arg, sp.MatrixExpr), trace)
    e = e.xreplace(mapping).doit()
    return memo["_number"](e) if memo.get("_number") is not None else e


def _evaluate_node(expr, values: dict, sizes: dict) -> sp.Matrix:
    """One node, its symbols replaced by explicit matrices. Ones matrices and diagonals become
    explicit first: SymPy multiplies them with explicit matrices only then."""
    mapping = {k: sp.ImmutableMatrix(v) if isinstance(v, sp.MatrixBase) else v for k, v in values.items()}
    # (SymPy's DiagonalOf cannot even hold an explicit matrix: it is made explicit before the rest)
    out = expr.replace(lambda e: isinstance(e, sp.DiagonalOf) and e.arg in mapping,
                       lambda e: sp.ImmutableMatrix(mapping[e.arg].diagonal()).T)
    mapping.update(sizes)
    out = out.xreplace(mapping)
    out = out.replace(lambda e: isinstance(e, sp.OneMatrix), lambda e: sp.ImmutableMatrix.ones(*e.shape))
    out = out.doit()
    matrix = sp.Matrix(out.as_explicit() if hasattr(out, "as_explicit") else out)
    # an op's element formula comes back as a Sum (var(h)_i = Σ_k (h_ik − Σ_l h_il / d)² / d): summed
    # here, exactly — evalf of a nested Sum estimates it numerically and gave 0 for one row of a var
    return matrix.applyfunc(lambda x: x.doit() if x.has(sp.Sum) else x)
