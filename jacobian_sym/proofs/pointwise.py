"""Derivatives at a point, by reverse accumulation over the graph, in 50-digit arithmetic.

The truth an exact proof expands symbolically (SymPy's ``diff`` of the whole explicit loss) is here
computed at one point: exact rational values for the variables, every node's value from the op
table's element formula (evaluated to ``DIGITS`` digits), and every node's adjoint ∂J/∂node from its
consumers' local derivatives — SymPy's ``diff`` of the consumer's element formula by the elements of
its arguments, evaluated at the point. Nothing comes from the engine's closed forms, and the cost is
one local derivative per node: linear in the depth of the graph, where the symbolic expansion of the
whole loss grows exponentially with it.

Deciding an identity this way is polynomial identity testing on analytic functions: a false identity
holds at a random rational point only on a set of measure zero, and two draws make a coincidence
vanishingly unlikely; agreement is required to ``TOLERANCE``, far below any real difference and far
above 50-digit rounding.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import mpmath
import sympy as sp

from jacobian_sym.engine.layout import gradient_layout, jacobian_layout
from jacobian_sym.graph.expr import mask_cell, one_hot_axis, size_value
from jacobian_sym.graph.indexed import Graph
from jacobian_sym.graph.structure import is_symmetric, symmetric_exact, tied_gradient
from jacobian_sym.ops.functions import explicit
from jacobian_sym.ops.indexing import IndexContext
from jacobian_sym.ops.table import get_op
from jacobian_sym.proofs import linalg_adjoints, tape
from jacobian_sym.proofs.explicit import evaluate_explicit

DIGITS = 50
#: the digits a point is evaluated to: ``DIGITS``, or more inside ``precision`` (a saturated σ loses
#: 30 digits in 1 − σ: a disagreement that vanishes at more digits was rounding, not a wrong form)
_digits: contextvars.ContextVar = contextvars.ContextVar("pointwise_digits", default=DIGITS)


@contextlib.contextmanager
def precision(digits: int):
    token = _digits.set(digits)
    try:
        yield
    finally:
        _digits.reset(token)
TOLERANCE = sp.Float("1e-30", DIGITS)
#: the most nonlinear ops (activations, softmax, losses) for which SymPy's diff of the whole explicit
#: loss is affordable (it grows exponentially with them: one hidden layer, 3 of them, 0.8 s for a false
#: claim; two, 4 of them, 22 s); past it claims and proofs are decided here, linearly in depth
MAX_EXACT_NONLINEAR = 3
#: the most operations in the explicit loss (at the exact sizes) for which the exact proof is affordable:
#: single-head attention has 2 nonlinear ops, but at T = 2, d = 3, k = 4 its explicit loss has 7,871
#: operations and the exact test took 165 s (cross-attention: 1,541 and 30 s; the notes' two layers:
#: 454 and 12 s); past it proofs and claims are decided at points
MAX_EXPLICIT_OPS = 1000
#: random rational points per size, and the most draws to find each (a point where the truth
#: vanishes tells nothing: a deep ReLU network at random weights often has a layer all off)
POINTS = 2
MAX_DRAWS = 30
#: sizes for points: wider than the exact ones (cost is linear in the elements), so that a layer
#: rarely has all its units off
POINT_SIZES = (6, 7, 5, 8)


def nonlinear_ops(graph: Graph) -> int:
    return len([n for n in graph.nodes if not n.is_leaf and n.op != "const"
                and get_op(n.op).operator is None and n.op != "copy"])


def exact_affordable(graph: Graph) -> bool:
    """Whether the whole explicit expansion of ``graph``'s loss is affordable (``MAX_EXACT_NONLINEAR``)."""
    return nonlinear_ops(graph) <= MAX_EXACT_NONLINEAR


def explicit_affordable(loss) -> bool:
    """Whether an explicit loss (a SymPy scalar at concrete sizes) is small enough for the exact proof."""
    return sp.count_ops(loss) <= MAX_EXPLICIT_OPS


def point_sizes(symbols, shifts=(0,)) -> list[dict]:
    """``POINT_SIZES`` cycled over the size symbols, once per shift."""
    return [{s: sp.Integer(POINT_SIZES[(k + shift) % len(POINT_SIZES)]) for k, s in enumerate(symbols)}
            for shift in shifts]


def informative(draw, truth) -> object | None:
    """The first of up to ``MAX_DRAWS`` points ``draw()`` gives whose ``truth(point)`` does not vanish."""
    for _ in range(MAX_DRAWS):
        point = draw()
        if any(x != 0 for x in truth(point)):
            return point
    return None


def _number(e) -> sp.Float:
    """An element as a 50-digit number (element-wise functions by their definitions; a generic f by
    its numeric surrogate, as in every numeric check)."""
    return sp.N(explicit(e, numeric=True), _digits.get())


def concrete(shape, sizes) -> tuple[int, int]:
    return tuple(int(s.xreplace(sizes)) if isinstance(s, sp.Basic) else int(s) for s in shape)


#: graph id → (the graph, kept alive while cached, {(node id, sizes): local derivatives}); a few graphs
#: are kept (a proof draws several points on one graph; a process derives many models)
_LOCAL: dict = {}
MAX_CACHED_GRAPHS = 8


class _Adjoints(dict):
    """Adjoints by node id as SymPy matrices, each made from its numbers when it is first read (a
    claim reads one or two of a model's hundred)."""

    def __init__(self, numbers: dict, shapes: dict, digits: int):
        super().__init__()
        self._numbers, self._shapes, self._digits = numbers, shapes, digits

    def __contains__(self, key):
        return key in self._numbers

    def get(self, key, default=None):
        return self[key] if key in self._numbers else default

    def __missing__(self, key):
        rows, cols = self._shapes[key]
        value = sp.Matrix(rows, cols, [tape.to_sympy(x, self._digits) if x else sp.Integer(0)
                                       for x in self._numbers[key]])
        self[key] = value
        return value


class PointwiseGraph:
    """Values and adjoints of every node of ``graph`` at one point (``leaves``: name → Matrix of
    exact rationals) and concrete ``sizes``; the root must be a scalar.

    Each node's element formulas are built once per graph and sizes over symbols for its arguments'
    elements (``_LOCAL``); at a point each is evaluated, and differentiated by the elements it reads,
    in mpmath by reverse accumulation over the formula's own tree (``tape.py``) — a formula with a
    node that module has no rule for is differentiated by SymPy's ``diff`` instead."""

    def __init__(self, graph: Graph, sizes: dict, leaves: dict):
        self.graph, self.sizes = graph, sizes
        self.values: dict[int, sp.Matrix] = {}
        self._numbers: dict[int, list] = {}  # node id → its elements as mpmath numbers, row-major
        digits = _digits.get()
        with mpmath.workdps(digits):
            for node in graph.nodes:
                if node.op == "const":
                    continue
                if node.is_leaf:
                    value = leaves[graph.canonical(node).name]
                    self.values[id(node)] = value
                    self._numbers[id(node)] = [tape.number(x) for x in value]
                    continue
                rows, cols = concrete(node.shape, sizes)
                numbers = self._forward(node, rows, cols)
                self._numbers[id(node)] = numbers
                self.values[id(node)] = sp.Matrix(rows, cols, [tape.to_sympy(x, digits) for x in numbers])
        rows, cols = concrete(graph.root.shape, sizes)
        self.adjoints = self.reverse(sp.Matrix([[1]])) if (rows, cols) == (1, 1) else {}

    def _forward(self, node, rows, cols) -> list:
        if node.op in linalg_adjoints.OPS:  # as matrices: their element formulas grow factorially
            return linalg_adjoints.forward(node.op, self._arg_numbers(node))
        formulas, env = self._formulas(node), self._env(node)
        try:
            return [formulas[p, q].value(env) for p in range(rows) for q in range(cols)]
        except tape.Unsupported:  # SymPy's own evaluation of the element formulas
            args = [self._value(a) for a in node.args]
            ix, op, params = IndexContext(explicit=True), get_op(node.op), dict(node.attrs)
            return [tape.number(_number(op.element(ix, p, q, *args, **params)))
                    for p in range(rows) for q in range(cols)]

    def _env(self, node) -> dict:
        """The node's argument elements, symbol → number at the point (one dict per node and point: a
        formula keeps the values of its last point's forward pass for the reverse one)."""
        envs = self.__dict__.setdefault("_envs", {})
        if id(node) not in envs:
            distinct, symbols = self._cached(node)[:2]
            envs[id(node)] = {s: v for a in distinct if a.op != "const"
                              for s, v in zip(symbols[id(a)], self._numbers[id(a)])}
        return envs[id(node)]

    def _value(self, node):
        node = self.graph.canonical(node)
        return size_value(node.attr("value"), self.sizes) if node.op == "const" else self.values[id(node)]

    def value(self, node) -> sp.Matrix:
        return self._value(node)

    def loss(self) -> sp.Float:
        return self.values[id(self.graph.root)][0, 0]

    def reverse(self, seed: sp.Matrix) -> dict:
        """∂(Σ seed ∘ root)/∂node for every node, in the node's own shape: each consumer hands down the
        derivative of Σ_pq G_pq · node_pq (G its adjoint, numbers) by its arguments' elements."""
        graph, digits = self.graph, _digits.get()
        with mpmath.workdps(digits):
            adjoints = {id(graph.root): [tape.number(x) for x in seed]}
            for node in reversed(graph.nodes):
                if node.is_leaf or node.op == "const" or id(node) not in adjoints:
                    continue
                G = adjoints[id(node)]
                distinct, symbols = self._cached(node)[:2]
                terms = self._hand_down(node, G)
                for a in distinct:
                    if a.op == "const":
                        continue
                    down = [terms.get(s, 0) for s in symbols[id(a)]]
                    before = adjoints.get(id(a))
                    adjoints[id(a)] = down if before is None else [x + y for x, y in zip(before, down)]
        return _Adjoints(adjoints, self._shapes, digits)

    def _arg_numbers(self, node) -> list:
        """Each argument of ``node`` as (rows, cols, its elements as numbers, row-major)."""
        return [(*self._shapes[id(self.graph.canonical(a))], self._numbers[id(self.graph.canonical(a))])
                for a in node.args]

    def _hand_down_matrices(self, node, G) -> dict:
        """``_hand_down`` of an inverse, a solve or a determinant, by the rule (``linalg_adjoints``)."""
        symbols = self._cached(node)[1]
        terms: dict = {}
        down = linalg_adjoints.adjoints(node.op, self._arg_numbers(node), self._numbers[id(node)], G)
        for a, numbers in zip(node.args, down):
            for s, x in zip(symbols[id(self.graph.canonical(a))], numbers):
                terms[s] = terms.get(s, 0) + x
        return terms

    def _hand_down(self, node, G) -> dict:
        """{argument element symbol: Σ_pq G_pq ∂node_pq/∂symbol} at the point."""
        if node.op in linalg_adjoints.OPS:
            return self._hand_down_matrices(node, G)
        formulas, env = self._formulas(node), self._env(node)
        cols = concrete(node.shape, self.sizes)[1]
        terms: dict = {}
        try:
            for k, g in enumerate(G):
                if g:
                    _, partials = formulas[divmod(k, cols)].partials(env)
                    for s, d in partials.items():
                        terms[s] = terms.get(s, 0) + g * d
            return terms
        except tape.Unsupported:
            return self._hand_down_symbolic(node, G)

    def _hand_down_symbolic(self, node, G) -> dict:
        """The same by SymPy's diff of the element formulas (for a formula ``tape`` has no rule for)."""
        _, _, local = self._local_derivatives(node)
        at = {s: sp.Float(v, _digits.get()) for s, v in self._env(node).items()}
        cols = concrete(node.shape, self.sizes)[1]
        terms: dict = {}
        for k, g in enumerate(G):
            if g:
                for s, derivative in local[divmod(k, cols)]:
                    terms[s] = terms.get(s, 0) + g * tape.number(_at(derivative, at))
        return terms

    @property
    def _shapes(self) -> dict:
        if not hasattr(self, "_shape_cache"):
            self._shape_cache = {id(n): concrete(n.shape, self.sizes) for n in self.graph.nodes}
        return self._shape_cache

    def _cached(self, node) -> list:
        """The cache entry of a node at these sizes: [distinct arguments, their symbols, formulas,
        local derivatives (made only for the SymPy fallback)]."""
        while len(_LOCAL) >= MAX_CACHED_GRAPHS and id(self.graph) not in _LOCAL:
            _LOCAL.pop(next(iter(_LOCAL)))
        cache = _LOCAL.setdefault(id(self.graph), (self.graph, {}))[1]
        key = (id(node), tuple(sorted((str(k), int(v)) for k, v in self.sizes.items())))
        if key not in cache:
            graph = self.graph
            distinct = graph.arguments(node)
            symbols = {id(a): self._symbols(a, k) for k, a in enumerate(distinct) if a.op != "const"}
            cache[key] = [distinct, symbols, None, None]
        return cache[key]

    def _formulas(self, node) -> dict:
        """{(p, q): the element formula of node_pq over its arguments' element symbols, as a tape}."""
        entry = self._cached(node)
        if entry[2] is None:
            symbols = entry[1]
            args = [symbols.get(id(self.graph.canonical(a)), self._value(a)) for a in node.args]
            op, params = get_op(node.op), dict(node.attrs)
            ix = IndexContext(explicit=True)
            rows, cols = concrete(node.shape, self.sizes)
            entry[2] = {(p, q): tape.Formula(op.element(ix, p, q, *args, **params))
                        for p in range(rows) for q in range(cols)}
        return entry[2]

    def _local_derivatives(self, node):
        """(the node's distinct arguments, their elements as symbols, {(p, q): [(symbol, ∂node_pq/∂symbol)]})
        — symbolic, the same at every point, made once per graph and sizes: each output element's
        formula differentiated by the argument elements it reads (as the op's function: ReLU′ is
        derived with the project's step, 0 at 0), a sum term by term."""
        entry = self._cached(node)
        if entry[3] is None:
            distinct, symbols = entry[0], entry[1]
            readable = {x for a in distinct if a.op != "const" for x in symbols[id(a)]}
            local = {}
            for (p, q), formula in self._formulas(node).items():
                local[p, q] = [(x, _partial(part, x)) for part in sp.Add.make_args(formula.expr)
                               for x in part.free_symbols if x in readable]
            entry[3] = local
        return entry[0], entry[1], entry[3]

    def _symbols(self, node, k):
        rows, cols = concrete(node.shape, self.sizes)
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"_a{k}_{i}_{j}", real=True))

    def gradient(self, node, layout: str, batch=None, to_shape: bool = False, adjoints=None) -> sp.Matrix:
        """∂J/∂node arranged as the layout arranges it (a row δ for a column in the numerator layout)."""
        node = self.graph.canonical(node)
        adjoint = (self.adjoints if adjoints is None else adjoints).get(id(node))
        rows, cols = concrete(node.shape, self.sizes)
        if adjoint is None:
            adjoint = sp.zeros(rows, cols)
        if is_symmetric(node):  # S_ij and S_ji are one entry (graph.structure)
            adjoint = tied_gradient(adjoint)
        shape, where = gradient_layout(node.shape, layout, batch=batch, to_shape=to_shape)
        out = sp.zeros(*concrete(shape, self.sizes))
        for p in range(rows):
            for q in range(cols):
                out[where(p, q)] = adjoint[p, q]
        return out


def _partial(part, s):
    """∂part/∂s: a product with s a plain factor once (a matrix product's W_ik x_k) by dropping it,
    anything else by SymPy's diff (the plain cases were 40 % of the time of a pointwise sweep)."""
    if part == s:
        return sp.Integer(1)
    if isinstance(part, sp.Mul):
        rest = [a for a in part.args if a != s]
        if len(rest) == len(part.args) - 1 and not any(a.has(s) for a in rest):
            return sp.Mul(*rest)
    return sp.diff(part, s)


def _at(derivative, at):
    """A derivative at the point, a number (a product of numbers is cheap, of expressions is not)."""
    if derivative.is_Number:
        return derivative
    if derivative in at:
        return at[derivative]
    return _number(derivative.xreplace(at))


def differ(a: sp.Matrix, b: sp.Matrix) -> list[tuple[int, int]]:
    """The entries where two 50-digit matrices differ by more than rounding, relative to the larger
    of the two (a tiny gradient is compared at its own scale, not against 1)."""
    scale = max([abs(x) for x in b] + [abs(x) for x in a] + [sp.Float("1e-300", DIGITS)])
    return [(r, c) for r in range(a.rows) for c in range(a.cols) if abs(a[r, c] - b[r, c]) > TOLERANCE * scale]


def relative_error(a: sp.Matrix, b: sp.Matrix) -> float:
    num = sum((x - y) ** 2 for x, y in zip(a, b)) ** sp.Rational(1, 2)
    den = sum(y**2 for y in b) ** sp.Rational(1, 2)
    return float(num / den) if den != 0 else float(num)


def random_point(graph: Graph, sizes: dict, rng) -> dict:
    """Exact rational values for every variable, drawn in the graph's order so that a seed names the
    point: a one-hot label gets one 1 per example in a random place, a probability k/10, any other
    ±k/7 — a weight matrix divided by ⌈√fan-in⌉ and a bias added to a product kept positive, as a
    network is initialised, so that a deep ReLU network keeps units on at the point (at plain ±k/7
    some layer has all its units off and every gradient below it vanishes)."""
    leaves = {}
    for node in graph.nodes:
        if not node.is_leaf or node.name in leaves:
            continue
        rows, cols = concrete(node.shape, sizes)
        role = _role(graph, node)
        kind = node.attr("constant")
        if kind:  # a constant mask: its exact value
            cell = (lambda i, j, kind=kind: mask_cell(kind, i, j, exact=True))
        elif node.attr("one_hot"):
            axis = one_hot_axis(node)
            hot = [int(rng.integers(0, rows if axis == 0 else cols)) for _ in range(cols if axis == 0 else rows)]
            cell = (lambda i, j, hot=hot: int(i == hot[j])) if axis == 0 else (lambda i, j, hot=hot: int(j == hot[i]))
        elif graph.domain(node) == "probability":
            cell = (lambda i, j: sp.Rational(int(rng.integers(1, 10)), 10))
        elif graph.domain(node) == "positive":
            cell = (lambda i, j: sp.Rational(int(rng.integers(1, 20)), 7))
        elif role == "bias":
            cell = (lambda i, j: sp.Rational(int(rng.integers(1, 8)), 7))
        else:
            scale = 7 * (math.isqrt(cols - 1) + 1 if role == "weight" else 1)
            cell = (lambda i, j, scale=scale: sp.Rational(int(rng.choice((-1, 1)) * rng.integers(1, 15)), scale))
        leaves[node.name] = sp.Matrix([[cell(i, j) for j in range(cols)] for i in range(rows)])
        if is_symmetric(node):
            leaves[node.name] = symmetric_exact(leaves[node.name], bool(node.attr("positive_definite")))
    return leaves


def _role(graph: Graph, node) -> str | None:
    """"weight" for the left factor of a matrix product, "bias" for a term added to a product."""
    for consumer in graph.consumers[id(graph.canonical(node))]:
        args = [graph.canonical(a) for a in consumer.args]
        if consumer.op == "matmul" and args[0] is graph.canonical(node) and node.shape[1] != 1:
            return "weight"
        if consumer.op == "add" and any(a.op == "matmul" for a in args if a is not graph.canonical(node)):
            return "bias"
    return None


class PointwiseModel:
    """A backprop's truth at one point: every gradient and every error signal, in the backprop's
    layout, and the values a claim or a closed form may name (nodes by symbol, δ by symbol)."""

    def __init__(self, bp, sizes: dict, leaves: dict):
        self.bp, self.sizes, self.leaves = bp, sizes, leaves
        self.graph = PointwiseGraph(bp.graph, sizes, leaves)
        graph = bp.graph
        self.values = {graph.symbol(n): self.graph.value(n) for n in graph.nodes if n.op != "const"}
        for name, symbol in bp.delta_symbols.items():
            self.values[symbol] = self.truth(name)

    def truth(self, name) -> sp.Matrix:
        """∂J/∂name for a variable (in its shape) or the true value of an error signal δ."""
        bp = self.bp
        if name in bp.delta_nodes:
            return self.graph.gradient(bp.delta_nodes[name], bp.layout, batch=bp.model.batch)
        return self.graph.gradient(bp.graph.node_named(name), bp.layout, to_shape=True)

    def evaluate(self, expr) -> sp.Matrix:
        """A matrix expression over the backprop's names, at the point, to 50 digits."""
        return evaluate_explicit(expr, self.values, self.sizes, number=_number).applyfunc(_number)


class PointwiseDerivation:
    """A derivation's truth at one point: the gradient (seeded with a random upstream δ when the
    derivation has one) or the Jacobian, one reverse sweep per output element."""

    def __init__(self, d, sizes: dict, leaves: dict, rng):
        self.d, self.sizes, self.leaves = d, sizes, leaves
        self.graph = PointwiseGraph(d.graph, sizes, leaves)
        self.values = {d.graph.symbol(n): self.graph.value(n) for n in d.graph.nodes if n.op != "const"}
        self.seed = None
        if d.upstream is not None:
            rows, cols = concrete(d.upstream.shape, sizes)
            self.values[d.upstream] = sp.Matrix(rows, cols, [sp.Rational(int(rng.integers(-9, 10)), 7)
                                                             for _ in range(rows * cols)])

    def truth(self, name=None) -> sp.Matrix:
        d, g = self.d, self.graph
        if d.kind == "jacobian":
            out_rows, out_cols = concrete(d.expr.shape, self.sizes)
            shape, where = jacobian_layout(d.expr.shape, d.wrt.shape, d.layout)
            J = sp.zeros(*concrete(shape, self.sizes))
            for r in range(out_rows):
                for s in range(out_cols):
                    seed = sp.zeros(out_rows, out_cols)
                    seed[r, s] = 1
                    A = g.gradient(d.wrt, "denominator", adjoints=g.reverse(seed))
                    for p in range(A.rows):
                        for q in range(A.cols):
                            J[where(r, s, p, q)] = A[p, q]
            return J
        if d.upstream is None:
            return g.gradient(d.wrt, d.layout)
        delta = self.values[d.upstream]
        rows, cols = concrete(d.expr.shape, self.sizes)
        _, where = gradient_layout(d.expr.shape, d.layout)
        seed = sp.Matrix(rows, cols, [delta[where(p, q)] for p in range(rows) for q in range(cols)])
        return g.gradient(d.wrt, d.layout, adjoints=g.reverse(seed))

    def evaluate(self, expr) -> sp.Matrix:
        return evaluate_explicit(expr, self.values, self.sizes, number=_number).applyfunc(_number)
