"""The notes' identities, as inputs to the engine: what is differentiated, by what.

Nothing here states a result: each entry builds an expression and names the variable, and the
engine derives the Jacobian or gradient. (The notes' stated answers are claims, checked in
``claims``; they never feed the derivation.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jacobian_sym.engine.derive import Derivation, gradient, jacobian
from jacobian_sym.errors import JacobianSymError
from jacobian_sym.graph import expr as E
from jacobian_sym.ops.table import get_op, undefined_function


def _call(name, *args):
    return E.apply(name, *args)


@dataclass(frozen=True)
class Identity:
    section: str
    title: str
    kind: str  # "jacobian" | "gradient" | "vjp"
    build: Callable  # () -> (expression, variable)

    def derive(self, layout: str = "numerator"):
        expression, variable = self.build()
        title = f"({self.section}) {self.title}"
        if self.kind == "jacobian":
            return jacobian(expression, variable, layout=layout, title=title, section=self.section)
        upstream = "delta" if self.kind == "vjp" else None
        return gradient(expression, variable, layout=layout, upstream=upstream, title=title,
                        section=self.section)


def _composition():
    x = E.vector("x", "m")
    W = E.matrix("W", "n", "m")
    g = undefined_function("g")
    u = (W @ x).named("u")
    return E.apply(g.name, u).named("v"), x


def _wx_by_x():
    W, x = E.matrix("W", "n", "m"), E.vector("x", "m")
    return (W @ x).named("z"), x


def _xw_by_x():
    x, W = E.row("x", "m"), E.matrix("W", "m", "n")
    return (x @ W).named("z"), x


def _self():
    x = E.vector("x", "n")
    return E.apply("copy", x).named("z"), x


def _elementwise(name):
    def build():
        x = E.vector("x", "n")
        fn = name if name != "f" else undefined_function("f").name
        return E.apply(fn, x).named("z"), x

    return build


def _wx_by_w():
    W, x = E.matrix("W", "n", "m"), E.vector("x", "m")
    return (W @ x).named("z"), W


def _xw_by_w():
    x, W = E.row("x", "m"), E.matrix("W", "m", "n")
    return (x @ W).named("z"), W


def _ce_softmax():
    theta = E.vector("theta", "N")
    y = E.vector("y", "N", one_hot=True)
    yhat = E.apply("softmax", theta).named("yhat")
    return E.apply("cross_entropy", y, yhat).named("J"), theta


def _softmax():
    theta = E.vector("theta", "N")
    return E.apply("softmax", theta).named("yhat"), theta


ELEMENTWISE = ("relu", "sigmoid", "tanh", "exp")

IDENTITIES: dict[str, Identity] = {
    i.section: i
    for i in [
        Identity("1.2", "Jacobian of a composition g(f(x)): the product of the Jacobians", "jacobian",
                 _composition),
        Identity("2.1", "Matrix times column vector with respect to the column vector", "jacobian", _wx_by_x),
        Identity("2.2", "Row vector times matrix with respect to the row vector", "jacobian", _xw_by_x),
        Identity("2.3", "A vector with itself", "jacobian", _self),
        Identity("2.4", "An element-wise function f applied to a vector", "jacobian", _elementwise("f")),
        *(Identity(f"2.4-{n}", f"The element-wise function {n} applied to a vector", "jacobian",
                   _elementwise(n)) for n in ELEMENTWISE),
        Identity("2.5", "Matrix times column vector with respect to the matrix", "vjp", _wx_by_w),
        Identity("2.6", "Row vector times matrix with respect to the matrix", "vjp", _xw_by_w),
        Identity("2.7", "Cross-entropy loss with respect to the logits", "gradient", _ce_softmax),
        Identity("2.7-softmax", "The derivative of softmax", "jacobian", _softmax),
    ]
}

for _name in ELEMENTWISE:
    get_op(_name)  # every element-wise identity names a declared op


def get_identity(section: str) -> Identity:
    try:
        return IDENTITIES[str(section)]
    except KeyError:
        known = ", ".join(IDENTITIES)
        raise JacobianSymError(f"unknown identity {section!r}; the notes' identities are: {known}") from None


# ----- the notes' claims, as the notes state them (checked by claims.errata, never fed to the engine) -----
@dataclass(frozen=True)
class Claim:
    """A matrix-level claim: ∂(target)/∂wrt = claim, for an identity ("2.5") or a model file."""

    section: str
    stated: str  # the statement as the notes write it
    target: str
    wrt: str
    claim: str  # the right-hand side, in the notes' LaTeX or as Python syntax


@dataclass(frozen=True)
class ElementClaim:
    """An element-level claim (with the sums' stated bounds): ``claimed(E, i, j)`` against
    ``truth(E, i, j)``, both evaluated on an explicit instance E at concrete sizes."""

    section: str
    stated: str
    target: str
    claimed: Callable
    truth: Callable
    entries: Callable  # E -> the (i, j) pairs to compare
    #: True: the claim is a step towards the identity, corrected by its derived element form;
    #: False: a side statement, corrected by the true value the engine computes
    of_identity: bool = True


@dataclass(frozen=True)
class ShapeClaim:
    """The notes' dimension check: the shapes they write under an equation of §3."""

    section: str
    stated: str
    target: str
    signal: str
    shapes: tuple  # (lhs, factor, …); a 1-tuple is a vector of that length


def _dz_dw(E, k, i, j):
    return E.diff(E.m("z")[k], E.m("W")[i, j])


NOTES_CLAIMS = [
    Claim("2.1", r"\frac{\partial z}{\partial x} = W", "2.1", "x", r"W"),
    ElementClaim("2.1", r"\left(\frac{\partial z}{\partial x}\right)_{ij} = W_{ij}", "2.1",
                 lambda E, i, j: E.m("W")[i, j], lambda E, i, j: E.truth[i, j], lambda E: E.all_entries()),
    Claim("2.2", r"\frac{\partial z}{\partial x} = W^T", "2.2", "x", r"W^T"),
    Claim("2.4", r"\frac{\partial z}{\partial x} = \operatorname{diag}(f'(x))", "2.4", "x", "diag(f_prime(x))"),
    Claim("3", r"\operatorname{ReLU}'(x) = \operatorname{sng}(\operatorname{ReLU}(x))", "2.4-relu", "x",
          r"\operatorname{diag}(\operatorname{sng}(z))"),
    ElementClaim("2.5", r"z_k = \sum_{l=1}^{m} W_{kl} x_l", "2.5",
                 lambda E, k, _: sum(E.m("W")[k, q] * E.m("x")[q] for q in range(E.size("m"))),
                 lambda E, k, _: E.m("z")[k], lambda E: [(k, 0) for k in range(E.size("n"))]),
    ElementClaim("2.5", r"\text{the first row of } W \text{ is } [W_{11}\; W_{12} \cdots W_{1n}]", "2.5",
                 lambda E, i, j: E.size("n"), lambda E, i, j: E.m("W").shape[1], lambda E: [(0, 0)],
                 of_identity=False),
    ElementClaim("2.5", r"\frac{\partial J}{\partial W_{ij}} = \sum_{k=1}^{m} \delta_k "
                 r"\frac{\partial z_k}{\partial W_{ij}}", "2.5",
                 lambda E, i, j: sum(E.m("delta")[k] * _dz_dw(E, k, i, j) for k in range(E.size("m"))),
                 lambda E, i, j: E.truth[i, j], lambda E: E.all_entries()),
    ElementClaim("2.5", r"\frac{\partial J}{\partial W_{ij}} = \delta_i x_j", "2.5",
                 lambda E, i, j: E.m("delta")[i] * E.m("x")[j], lambda E, i, j: E.truth[i, j],
                 lambda E: E.all_entries()),
    Claim("2.5", r"\frac{\partial J}{\partial W} = \delta^T x^T", "2.5", "W", r"\delta^T x^T"),
    Claim("2.6", r"\frac{\partial J}{\partial W} = x^T \delta", "2.6", "W", r"x^T \delta"),
    ElementClaim("2.7", r"\frac{\partial \hat{y}_k}{\partial \theta_i} = \hat{y}_k(1-\hat{y}_i) \text{ if } k=i, "
                 r"\; -\hat{y}_i \hat{y}_k \text{ otherwise}", "2.7-softmax",
                 lambda E, k, i: E.m("yhat")[k] * ((1 - E.m("yhat")[i]) if k == i else -E.m("yhat")[i]),
                 lambda E, k, i: E.truth[k, i], lambda E: E.all_entries()),
    ElementClaim("2.7", r"\frac{\partial J}{\partial \theta_i} = -y_i(1-\hat{y}_i) - \sum_{k \neq i} y_k "
                 r"\frac{1}{\hat{y}_k}(-\hat{y}_k \hat{y}_i)", "2.7",
                 lambda E, _, i: -E.m("y")[i] * (1 - E.m("yhat")[i]) - sum(
                     E.m("y")[k] / E.m("yhat")[k] * (-E.m("yhat")[k] * E.m("yhat")[i])
                     for k in range(E.size("N")) if k != i),
                 lambda E, _, i: E.truth[0, i], lambda E: [(0, i) for i in range(E.size("N"))]),
    ElementClaim("2.7", r"\frac{\partial J}{\partial \theta_i} = -y_i(1-\hat{y}_i) - \sum_{k \neq i} y_k \hat{y}_i",
                 "2.7", lambda E, _, i: -E.m("y")[i] * (1 - E.m("yhat")[i]) - sum(
                     E.m("y")[k] * E.m("yhat")[i] for k in range(E.size("N")) if k != i),
                 lambda E, _, i: E.truth[0, i], lambda E: [(0, i) for i in range(E.size("N"))]),
    ElementClaim("2.7", r"\frac{\partial J}{\partial \theta_i} = \hat{y}_i(y_i + \sum_{k \neq i} y_k) - y_i", "2.7",
                 lambda E, _, i: E.m("yhat")[i] * sum(E.m("y")[k] for k in range(E.size("N"))) - E.m("y")[i],
                 lambda E, _, i: E.truth[0, i], lambda E: [(0, i) for i in range(E.size("N"))]),
    Claim("2.7", r"\frac{\partial J}{\partial \theta} = (\hat{y} - y)^T", "2.7", "theta", r"(\hat{y} - y)^T"),
    ElementClaim("2.7", r"\frac{\partial h}{\partial e^{\theta_j}} = e^{\theta_j}, \quad "
                 r"h = \sum_{k=1}^{N} e^{\theta_k}", "2.7-softmax",
                 lambda E, _, j: E.exp_theta(j), lambda E, _, j: E.d_sum_by_exp(j),
                 lambda E: [(0, j) for j in range(E.size("N"))], of_identity=False),
    ElementClaim("2.7", r"\frac{\partial y_i}{\partial \theta_j} = y_i(1-y_j) \text{ if } i=j, \; -y_j y_i "
                 r"\text{ otherwise}", "2.7-softmax",
                 lambda E, i, j: E.m("yhat")[i] * ((1 - E.m("yhat")[j]) if i == j else -E.m("yhat")[j]),
                 lambda E, i, j: E.truth[i, j], lambda E: E.all_entries()),
    Claim("3", r"\delta_1 = \frac{\partial J}{\partial \theta} = (\hat{y} - y)^T", "one_layer.toml", "delta_1",
          r"(\hat{y} - y)^T"),
    Claim("3", r"\delta_2 = \delta_1 U \circ \operatorname{ReLU}'(z)", "one_layer.toml", "delta_2",
          r"\delta_1 U \circ \operatorname{ReLU}'(z)"),
    Claim("3", r"\delta_2 = \delta_1 U \circ \operatorname{sng}(h)", "one_layer.toml", "delta_2",
          r"\delta_1 U \circ \operatorname{sng}(h)"),
    ShapeClaim("3", r"\frac{\partial J}{\partial z} = \delta_1 U \circ \operatorname{sng}(h): "
               r"(1 \times D_h) = (1 \times N_c)(N_c \times D_h) \circ D_h", "one_layer.toml", "delta_2",
               ((1, "D_h"), (1, "N_c"), ("N_c", "D_h"), ("D_h",))),
    Claim("3", r"\frac{\partial J}{\partial U} = \delta_1^T h^T", "one_layer.toml", "U", r"\delta_1^T h^T"),
    Claim("3", r"\frac{\partial J}{\partial b_2} = \delta_1^T", "one_layer.toml", "b2", r"\delta_1^T"),
    Claim("3", r"\frac{\partial J}{\partial W} = \delta_2^T x^T", "one_layer.toml", "W", r"\delta_2^T x^T"),
    Claim("3", r"\frac{\partial J}{\partial W} = \frac{\partial J}{\partial z}\frac{\partial z}{\partial b_1} "
          r"= \delta_2^T", "one_layer.toml", "W", r"\delta_2^T"),
    Claim("3", r"\frac{\partial J}{\partial x} = (\delta_2 W)^T", "one_layer.toml", "x", r"(\delta_2 W)^T"),
]


def derive(identity: str, *, layout: str = "numerator") -> Derivation:
    """An identity of the notes by its section number (``"2.5"``), derived by the engine."""
    return get_identity(identity).derive(layout=layout)
