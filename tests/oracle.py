"""An independent NumPy forward pass of a graph, for the tests: every op written here from its textbook
definition, sharing nothing with the op table's NumPy templates, the printers or the generator. It
computes in extended precision (np.longdouble), so that its finite differences stay accurate where
a float64 forward would lose digits (1 − σ(z) for a saturated σ)."""

import math

import numpy as np
import sympy as sp


def _axis(node, a):
    axis = node.attr("axis")
    if axis is None:
        axis = 1 if a.shape[0] == 1 and a.shape[1] != 1 else 0
    return axis


def _softmax(node, a):
    ax = _axis(node, a)
    e = np.exp(a - a.max(axis=ax, keepdims=True))
    return e / e.sum(axis=ax, keepdims=True)


def _gauss_jordan(a):
    """(A⁻¹, det A) by Gauss–Jordan elimination with partial pivoting, in long double (NumPy's linalg
    has no long double): the textbook algorithm, not the package's LAPACK calls."""
    n = a.shape[0]
    m = np.hstack([np.asarray(a, dtype=np.longdouble), np.eye(n, dtype=np.longdouble)])
    det = np.longdouble(1)
    for col in range(n):
        pivot = col + int(np.argmax(np.abs(m[col:, col])))
        if pivot != col:
            m[[col, pivot]] = m[[pivot, col]]
            det = -det
        det *= m[col, col]
        m[col] /= m[col, col]
        for row in range(n):
            if row != col:
                m[row] -= m[row, col] * m[col]
    return m[:, n:], det


def _first_winner(a, axis, beats):
    """1 where an element beats every element before it and is not beaten by any after it, along axis."""
    b = a if axis == 1 else a.T
    out = np.zeros_like(b)
    for r in range(b.shape[0]):
        best = 0
        for k in range(1, b.shape[1]):
            if beats(b[r, k], b[r, best]):
                best = k
        out[r, best] = 1
    return out if axis == 1 else out.T


def _unfold(n, a):
    """Row t: the rows s·t − p … s·t − p + w − 1 of a (zeros outside) laid side by side."""
    w, s, p = n.attr("width"), n.attr("stride"), n.attr("padding")
    rows = (a.shape[0] + 2 * p - w) // s + 1
    out = np.zeros((rows, w * a.shape[1]), dtype=a.dtype)
    for t in range(rows):
        for k in range(w):
            if 0 <= s * t + k - p < a.shape[0]:
                out[t, k * a.shape[1]:(k + 1) * a.shape[1]] = a[s * t + k - p]
    return out


def _fold(n, g, x):
    """The adjoint of _unfold: Σ over the windows that read row r of each column's entry."""
    w, s, p = n.attr("width"), n.attr("stride"), n.attr("padding")
    out = np.zeros(x.shape, dtype=g.dtype)
    c = x.shape[1]
    for t in range(g.shape[0]):
        for k in range(w):
            if 0 <= s * t + k - p < x.shape[0]:
                out[s * t + k - p] += g[t, k * c:(k + 1) * c]
    return out


def _max_pool(n, a):
    w, s = n.attr("width"), n.attr("stride")
    return np.array([[max(a[s * t + k, j] for k in range(w)) for j in range(a.shape[1])]
                     for t in range((a.shape[0] - w) // s + 1)])


def _unpool(n, g, x):
    """g[t, j] added at the first row of window t that holds its maximum."""
    w, s = n.attr("width"), n.attr("stride")
    out = np.zeros(x.shape, dtype=g.dtype)
    for t in range(g.shape[0]):
        for j in range(x.shape[1]):
            window = [x[s * t + k, j] for k in range(w)]
            out[s * t + window.index(max(window)), j] += g[t, j]
    return out


FORWARD = {
    "matmul": lambda n, a, b: a @ b,
    "transpose": lambda n, a: np.transpose(a),
    "add": lambda n, a, b: a + b,
    "sub": lambda n, a, b: a - b,
    "mul": lambda n, a, b: a * b,
    "div": lambda n, a, b: a / b,
    "neg": lambda n, a: -a,
    "pow": lambda n, a, p: np.exp(np.log(a) * p),
    "copy": lambda n, a: a,
    "concat": lambda n, a, b: np.vstack([a, b]) if dict(n.attrs)["axis"] == 0 else np.hstack([a, b]),
    "relu": lambda n, a: np.where(a > 0, a, 0.0),
    "leaky_relu": lambda n, a: np.where(a > 0, a, a / 100),
    "sigmoid": lambda n, a: 1 / (1 + np.exp(-a)),
    "tanh": lambda n, a: (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1),
    "exp": lambda n, a: np.exp(a),
    "log": lambda n, a: np.log(a),
    "softplus": lambda n, a: np.log(1 + np.exp(a)),
    "square": lambda n, a: a * a,
    "gelu": lambda n, a: a / 2 * (1 + np.tanh(np.sqrt(np.longdouble(2) / np.pi) * (a + 0.044715 * a**3))),
    "gelu_erf": lambda n, a: a / 2 * (1 + np.vectorize(math.erf)(a.astype(float) / math.sqrt(2))),
    "silu": lambda n, a: a / (1 + np.exp(-a)),
    "sin": lambda n, a: np.sin(a),
    "cos": lambda n, a: np.cos(a),
    "tan": lambda n, a: np.sin(a) / np.cos(a),
    "sqrt": lambda n, a: np.sqrt(a),
    "rsqrt": lambda n, a: 1 / np.sqrt(a),
    # piecewise, from the textbook case definitions (SELU's constants: Klambauer et al. 2017)
    "abs": lambda n, a: np.where(a < 0, -a, a),
    "softsign": lambda n, a: a / (1 + np.where(a < 0, -a, a)),
    "hardtanh": lambda n, a: np.where(a > 1, 1.0, np.where(a < -1, -1.0, a)),
    "elu": lambda n, a: np.where(a > 0, a, np.exp(np.minimum(a, 0)) - 1),
    "selu": lambda n, a: np.longdouble("1.0507009873554804934193349852946") * np.where(
        a > 0, a, np.longdouble("1.6732632423543772848170429916717") * (np.exp(np.minimum(a, 0)) - 1)),
    "step": lambda n, a: np.where(a > 0, 1.0, 0.0),
    "softmax": _softmax,
    "unfold": _unfold,
    "_fold": _fold,
    "max_pool1d": _max_pool,
    "_unpool": _unpool,
    "max": lambda n, a: np.amax(a, axis=n.attr("axis"), keepdims=True),
    "min": lambda n, a: -np.amax(-a, axis=n.attr("axis"), keepdims=True),
    "_argmax": lambda n, a: _first_winner(a, n.attr("axis"), np.greater),
    "_argmin": lambda n, a: _first_winner(a, n.attr("axis"), np.less),
    "mean": lambda n, a: a.mean(axis=dict(n.attrs)["axis"], keepdims=True),
    "var": lambda n, a: ((a - a.mean(axis=dict(n.attrs)["axis"], keepdims=True)) ** 2).mean(
        axis=dict(n.attrs)["axis"], keepdims=True),
    "log_softmax": lambda n, a: np.log(_softmax(n, a)),
    "sum": lambda n, a: np.array([[a.sum()]]) if dict(n.attrs).get("axis") is None else a.sum(
        axis=dict(n.attrs)["axis"], keepdims=True),
    "tr": lambda n, a: np.array([[np.trace(a)]]),
    "norm": lambda n, a: np.array([[np.sqrt((a * a).sum())]]),
    "cross_entropy": lambda n, y, p: np.array([[-(y * np.log(p)).sum()]]),
    "binary_cross_entropy": lambda n, y, p: np.array([[-(y * np.log(p) + (1 - y) * np.log(1 - p)).sum()]]),
    "mse": lambda n, y, p: np.array([[0.5 * ((p - y) ** 2).sum()]]),
    "inv": lambda n, a: _gauss_jordan(a)[0],
    "solve": lambda n, a, b: _gauss_jordan(a)[0] @ b,
    "det": lambda n, a: np.array([[_gauss_jordan(a)[1]]]),
    "logdet": lambda n, a: np.array([[np.log(np.abs(_gauss_jordan(a)[1]))]]),
}


def _sizes(root, arrays: dict) -> dict:
    """Each size symbol's value, read off the arrays' shapes (a declared axis of length 1 is the batch's;
    a size only inside a sum, as Wqkv's 3k or x's m + n, solved for it)."""
    sizes, linear = {}, []
    for node in root.walk():
        if node.op == "variable" and node.name in arrays:
            for dim, length in zip(node.shape, np.shape(arrays[node.name])):
                if getattr(dim, "is_Symbol", False):
                    sizes[dim] = length
                elif isinstance(dim, sp.Expr) and dim.free_symbols:
                    linear.append((dim, length))
    for _ in range(len(linear)):  # each pass solves the sums that have one unknown size left
        for dim, length in linear:
            unknown = [k for k in dim.free_symbols if k not in sizes]
            if len(unknown) == 1:
                sizes[unknown[0]] = int(sp.solve(sp.Eq(dim.subs(sizes), length), unknown[0])[0])
    return sizes


def _slice(node, a, sizes):
    """A[r₀:r₁, c₀:c₁], the bounds of the node's span at the arrays' sizes (0-based, stops excluded)."""
    (r0, r1), (c0, c1) = [[int(sp.sympify(b).subs(sizes)) for b in span] for span in node.attr("span")]
    return a[r0:r1, c0:c1]


def _constant(value, sizes):
    """A number, a size or a rational function of sizes (n, 1/n), or a ones matrix, as an array."""
    if isinstance(value, sp.MatrixExpr):  # ones(n, 1)
        return np.ones(tuple(int(d.subs(sizes)) if hasattr(d, "subs") else int(d) for d in value.shape),
                       dtype=np.longdouble)
    value = value.subs(sizes)
    return np.array([[np.longdouble(int(value.p)) / np.longdouble(int(value.q))]])


def _values(root, arrays: dict) -> dict:
    """Every node's value by id; a named intermediate given in ``arrays`` takes that value (so that
    differences by it are ∂J/∂node, an error signal)."""
    values = {}
    for node in root.walk():
        if node.op == "variable" or (node.name in arrays and node.op != "const"):
            values[id(node)] = np.asarray(arrays[node.name], dtype=np.longdouble)
        elif node.op == "const":
            values[id(node)] = _constant(node.attr("value"), _sizes(root, arrays))
        elif node.op == "slice":
            values[id(node)] = FORWARD["slice"](node, values[id(node.args[0])], _sizes(root, arrays))
        else:
            values[id(node)] = FORWARD[node.op](node, *(values[id(a)] for a in node.args))
    return values


def forward(root, arrays: dict) -> float:
    """The loss of the graph under ``root`` on ``arrays`` (leaves by name), in float64."""
    return np.asarray(_values(root, arrays)[id(root)]).reshape(-1)[0]


def value(root, arrays: dict) -> np.ndarray:
    """The whole value of ``root`` (a vector or a matrix), in extended precision."""
    return np.asarray(_values(root, arrays)[id(root)])


def named_values(root, arrays: dict) -> dict:
    """The value of every named node under ``root`` (inputs, parameters and the model's forward names)."""
    values = _values(root, arrays)
    return {n.name: np.asarray(values[id(n)], dtype=np.float64) for n in root.walk() if n.name}


def jacobian(root, arrays: dict, name: str, h: float = 1e-4) -> np.ndarray:
    """∂ vec(root) / ∂ vec(name) by five-point central differences (rows: the value's elements, in
    row-major order; columns: the variable's), the numerator layout of a Jacobian."""
    base = arrays[name].astype(np.longdouble)
    columns = []
    for idx in np.ndindex(base.shape):
        def at(step, idx=idx):
            moved = base.copy()
            moved[idx] += step
            return value(root, {**arrays, name: moved}).reshape(-1)

        columns.append((8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h))
    return np.stack(columns, axis=1).astype(np.float64)


def gradient(root, arrays: dict, name: str, h: float = 1e-4) -> np.ndarray:
    """Five-point central differences of ``forward`` by every element of the array ``name``
    (error O(h⁴): about 1e-13 relative at h = 1e-4, where the two-point rule's O(h²) curvature
    term would reach 1e-5 on nested exponentials)."""
    base = arrays[name].astype(np.longdouble)
    out = np.zeros_like(base)

    def at(idx, step):
        moved = base.copy()
        moved[idx] += step
        return forward(root, {**arrays, name: moved})

    for idx in np.ndindex(base.shape):
        out[idx] = (8 * (at(idx, h) - at(idx, -h)) - (at(idx, 2 * h) - at(idx, -2 * h))) / (12 * h)
    return out.astype(np.float64)


def second_difference(root, arrays: dict, name: str, direction, h: float = 1e-4) -> np.ndarray:
    """The Hessian of ``forward`` by the array ``name`` applied to ``direction``: each element
    ∂²f/∂a_p∂t at t = 0 of f(a + t·direction), by the mixed central difference
    (f(+e_p, +V) − f(+e_p, −V) − f(−e_p, +V) + f(−e_p, −V)) / 4h² in extended precision
    (error O(h²), about 1e-8 relative at h = 1e-4)."""
    base = arrays[name].astype(np.longdouble)
    step = np.asarray(direction, dtype=np.longdouble)
    out = np.zeros_like(base)

    def at(idx, s, t):
        moved = base + t * h * step
        moved[idx] += s * h
        return forward(root, {**arrays, name: moved})

    for idx in np.ndindex(base.shape):
        out[idx] = (at(idx, 1, 1) - at(idx, 1, -1) - at(idx, -1, 1) + at(idx, -1, -1)) / (4 * h * h)
    return out.astype(np.float64)


def rel_error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb > 1e-12 else float(np.linalg.norm(a))


def central_differences(forward, arrays: dict, name: str, h: float = 1e-6) -> np.ndarray:
    """(f(x + h e) − f(x − h e)) / 2h for every element of the array ``name``, ``forward`` a plain
    NumPy function of the arrays by keyword (a test's own textbook forward)."""
    out = np.zeros_like(arrays[name], dtype=float)
    for idx in np.ndindex(out.shape):
        up, down = dict(arrays), dict(arrays)
        up[name], down[name] = arrays[name].copy(), arrays[name].copy()
        up[name][idx] += h
        down[name][idx] -= h
        out[idx] = (forward(**up) - forward(**down)) / (2 * h)
    return out


FORWARD["slice"] = _slice  # (called with the sizes, not the starts: its stops are sizes too)
