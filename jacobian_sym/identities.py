"""The notes' identities, as inputs to the engine: what is differentiated, by what.

Nothing here states a result: each entry builds an expression and names the variable, and the
engine derives the Jacobian or gradient. (The notes' stated answers are claims, checked in
``verify.py``; they never feed the derivation.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import expr as E
from .errors import JacobianSymError
from .ops import get_op, undefined_function


def _call(name, *args):
    return E.apply(name, *args)


@dataclass(frozen=True)
class Identity:
    section: str
    title: str
    kind: str  # "jacobian" | "gradient" | "vjp"
    build: Callable  # () -> (expression, variable)

    def derive(self, layout: str = "numerator"):
        from .derive import gradient, jacobian

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
    return E.apply("mul", 1, x).named("z"), x


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
