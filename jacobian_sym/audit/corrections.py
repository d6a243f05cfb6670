"""The statement a failing link should have made, derived by the engine from the section's definitions.

A section's definitions (z = Wx + b₁, h = ReLU(z), …) become a graph of the engine (``graph.expr``);
∂J/∂V is then ``engine.gradient`` of it — by an intermediate V (∂J/∂θ) with V made a variable, and
for a J known only by δ = ∂J/∂z as the vector–Jacobian product with upstream δ (identity 2.5's
form). A link about an element (∂J/∂W_ij) gets the engine's element form; anything else the true
value simplified.
"""

from __future__ import annotations

import sympy as sp

from jacobian_sym.audit.context import Scope
from jacobian_sym.audit.values import ELEMENTWISE, LOSSES
from jacobian_sym.engine.derive import Derivation
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph import expr as E
from jacobian_sym.proofs.guard import gradient
from jacobian_sym.render.printers import latex, plain


class _NotInEngine(Exception):
    pass


class Graph:
    """The section's definitions as engine nodes; ``leaf`` makes one name a variable."""

    def __init__(self, scope: Scope, leaf: str | None = None):
        self.scope, self.leaf, self.nodes = scope, leaf, {}
        self.index = None

    def node(self, name):
        if name in self.nodes:
            return self.nodes[name]
        var = self.scope.var(name)
        if var is None:
            raise _NotInEngine(name)
        if name == self.leaf or var.kind in ("leaf", "one_hot"):
            rows, cols = var.shape
            node = E.matrix(_safe(name), rows, cols) if var.kind != "one_hot" else \
                E.vector(_safe(name), rows, one_hot=True) if cols == 1 else E.row(_safe(name), cols, one_hot=True)
        elif var.kind == "defined" and var.definition is not None:
            node = self.build(var.definition).named(_safe(name))
        else:
            raise _NotInEngine(name)
        self.nodes[name] = node
        return node

    def build(self, tree):
        kind = tree[0]
        if kind == "sym":
            if tree[2] and self.scope.var(tree[1]) is not None:
                raise _NotInEngine("an element")
            for name in (tree[1] if not tree[2] else f"{tree[1]}_{''.join(tree[2])}", f"{tree[1]}{''.join(tree[2])}"):
                if self.scope.var(name) is not None:
                    return self.node(name)
            raise _NotInEngine(tree[1])
        if kind == "T":
            return self.build(tree[1]).T
        if kind == "neg":
            return -self.build(tree[1])
        if kind == "matmul" and tree[1][0] in ("num", "frac"):
            return self.build(tree[1]) * self.build(tree[2])
        if kind in ("matmul", "add", "sub", "hadamard"):
            a, b = self.build(tree[1]), self.build(tree[2])
            return {"matmul": lambda: a @ b, "add": lambda: a + b, "sub": lambda: a - b,
                    "hadamard": lambda: a * b}[kind]()
        if kind in ("num", "frac"):
            return E.constant(tree[1][1] / tree[2][1] if kind == "frac" else tree[1])
        if kind == "div":
            return self.build(tree[1]) / self.build(tree[2])
        if kind == "pow" and tree[2][0] == "num" and tree[2][1] == 2:
            return E.apply("square", self.build(tree[1]))
        if kind == "sum":
            return self.summed(tree)
        if kind == "call":
            name = tree[1].lower()
            args = [self.build(a) for a in tree[2]]
            if name in ELEMENTWISE:
                return E.apply(ELEMENTWISE[name], *args)
            if name == "softmax":
                return E.apply("softmax", *args)
            if name in ("ce", "cross_entropy"):
                return E.apply("cross_entropy", *args)
            if name in LOSSES:
                return E.apply({"bce": "binary_cross_entropy", "mse": "mse"}[LOSSES[name]], *args)
        raise _NotInEngine(kind)


    def summed(self, tree):
        """Σ_i over a vector's whole length of terms in its i-th elements: sum of the vector expression
        (½ Σ_i r_i² → ½ sum(square(r)))."""
        _, var, lo, hi, excluded, body, _pos = tree
        if excluded is not None or (lo is not None and lo[1] != 1):
            raise _NotInEngine("a partial sum")
        vector = Graph(self.scope, self.leaf)
        vector.nodes = self.nodes
        vector.index = var
        expression = vector.build_elements(body)
        if hi is not None and hi[0] == "sym" and hi[1] not in {str(d) for d in expression.shape}:
            raise _NotInEngine("a sum over part of a vector")
        return E.apply("sum", expression)

    def build_elements(self, tree):
        if tree[0] == "sym" and tree[2] == (self.index,) and self.scope.var(tree[1]) is not None:
            return self.node(tree[1])
        if tree[0] == "sym" and tree[2]:
            raise _NotInEngine("an element by another index")
        if tree[0] == "matmul":  # r_i x_i: element by element
            return self.build_elements(tree[1]) * self.build_elements(tree[2])
        if tree[0] in ("add", "sub", "div"):
            a, b = self.build_elements(tree[1]), self.build_elements(tree[2])
            return a + b if tree[0] == "add" else a - b if tree[0] == "sub" else a / b
        if tree[0] == "pow" and tree[2][0] == "num" and tree[2][1] == 2:
            return E.apply("square", self.build_elements(tree[1]))
        if tree[0] == "call" and tree[1].lower() in ELEMENTWISE:
            return E.apply(ELEMENTWISE[tree[1].lower()], *(self.build_elements(a) for a in tree[2]))
        if tree[0] in ("num", "frac", "neg"):
            return self.build(tree) if tree[0] != "neg" else -self.build_elements(tree[1])
        raise _NotInEngine(tree[0])


def _safe(name):
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def derived(scope: Scope, ref) -> tuple[str, str] | None:
    """(text, LaTeX) of what the engine derives for the reference side ``ref`` — ∂J/∂V or ∂J/∂V_ij — or
    None when it is not a derivative of a scalar by a variable the engine can build."""
    if ref[0] != "deriv" or ref[1][0] != "sym" or ref[1][2] or ref[2][0] != "sym":
        return None
    top, by = ref[1][1], ref[2]
    var_name = _variable(scope, by)
    if var_name is None:
        return None
    element = var_name == by[1] and bool(by[2]) and scope.var(f"{by[1]}_{''.join(by[2])}") is None
    try:
        d = _derivation(scope, top, var_name)
    except (_NotInEngine, JacobianSymError, ValueError, TypeError):
        return None
    lhs = sp.Derivative(sp.Symbol(top), sp.Symbol(var_name))
    if element:  # the engine's element form, in the document's index letters
        free = [f for f in d.free if isinstance(f, sp.Symbol)]
        if len(free) != len(by[2]):
            return None
        names = [sp.Symbol(ix, integer=True) for ix in by[2]]
        form = d.index_form.xreplace(dict(zip(free, names)))
        sub = "".join(by[2])
        return (f"({plain(lhs)})_{sub} = {plain(form)}",
                rf"\left({latex(lhs)}\right)_{{{sub}}} = {latex(form)}")
    return f"{plain(lhs)} = {plain(d.closed_form)}", f"{latex(lhs)} = {latex(d.closed_form)}"


def _variable(scope, by):
    base, indices = by[1], by[2]
    for name in ((f"{base}_{''.join(indices)}", f"{base}{''.join(indices)}") if indices else (base,)):
        if scope.var(name) is not None:
            return name
    if indices and scope.var(base) is not None:
        return base
    return None


def _derivation(scope: Scope, top: str, by: str) -> Derivation:
    loss = scope.var(top)
    if loss is None:
        raise _NotInEngine(top)
    byvar = scope.var(by)
    graph = Graph(scope, leaf=by if byvar.kind == "defined" else None)
    if loss.kind == "loss_of":
        z = graph.node(loss.of)
        return gradient(z, graph.node(by), upstream=_safe(loss.signal))
    J = graph.node(top)
    if J.shape != (1, 1):
        raise _NotInEngine("not a number")
    return gradient(J, graph.node(by))
