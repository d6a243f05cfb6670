"""A part a closed form writes more than once is said once, by the name it has among the definitions
(u₁ = softmax(θ)); the named form is the closed form exactly when the names are put back, and a form
that repeats nothing worth a name is left as it is."""

import numpy as np
import pytest

import jacobian_sym as js
from jacobian_sym.engine.naming import occurrences, restored
from jacobian_sym.render.printers import plain


def _softmax_hessian():
    theta, t = js.vector("theta", "k"), js.vector("t", "k", one_hot=True)
    return js.hessian(js.cross_entropy(t, js.softmax(theta)), theta)


def _logsumexp_hessian():
    theta = js.vector("theta", "k")
    return js.hessian(js.log(js.sum(js.exp(theta))), theta)


def _tanh_gradient():
    W, x = js.matrix("W", "m", "n"), js.vector("x", "n")
    return js.gradient(js.sum(js.tanh(W @ x)), W)


def _quadratic():
    x, A = js.vector("x", "n"), js.matrix("A", "n", "n")
    return js.gradient(x.T @ A @ x, x)


CASES = {"softmax Hessian": _softmax_hessian, "log-sum-exp Hessian": _logsumexp_hessian,
         "tanh gradient": _tanh_gradient, "xᵀAx": _quadratic}


@pytest.mark.parametrize("name", CASES)
def test_the_named_form_is_the_closed_form_with_its_names_put_back(name):
    d = CASES[name]()
    assert restored(d.named_form, d.names) == d.closed_form
    for symbol, form in d.names.items():
        assert occurrences(d.closed_form, form) >= 2, (symbol, form)  # only what is repeated
        assert occurrences(d.named_form, form) == 0 and occurrences(d.named_form, symbol) >= 2
    if d.names:
        assert len(plain(d.named_form)) < len(plain(d.closed_form))


def test_the_softmax_hessian_names_its_probabilities_on_the_page():
    d = _softmax_hessian()
    (symbol, form), = d.names.items()
    u = plain(symbol)
    assert plain(form) == "softmax(θ)" and plain(d.named_form) == f"diag({u}) - {u} {u}ᵀ"
    text = str(d)
    assert f"{plain(symbol)} = softmax(θ)" in text  # the definition the name points to is on the page
    assert text.rstrip().splitlines()[-1].lstrip().startswith(f"∂²J/∂θ∂θᵀ = {plain(d.named_form)}")


def test_the_named_form_evaluates_to_the_hessian_of_the_loss():
    """Independent of the engine: u₁ = softmax(θ) by NumPy, the named form evaluated with it, against
    central differences of NumPy's cross-entropy gradient."""
    d = _softmax_hessian()
    rng = np.random.default_rng(3)
    theta = rng.normal(size=4)
    t = np.eye(4)[1]

    def grad(th):
        p = np.exp(th - th.max())
        p /= p.sum()
        return p - t

    h = 1e-6
    fd = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(4)]).T
    u = np.exp(theta - theta.max())
    u /= u.sum()
    named = np.diag(u) - np.outer(u, u)  # diag(u₁) − u₁u₁ᵀ, as printed
    assert np.linalg.norm(named - fd) <= 1e-6 * np.linalg.norm(fd)
    assert plain(d.named_form).replace(" ", "") == "diag(u₁)-u₁u₁ᵀ"


def test_a_repeated_application_that_is_no_node_gets_a_fresh_name_and_its_definition():
    """log-sum-exp's Hessian: the engine writes softmax(θ), which the expression never made; it is
    named past the graph's names (u₄ after u₁ … u₃) and defined on the page."""
    d = _logsumexp_hessian()
    (symbol, form), = d.names.items()
    taken = {d.graph.symbol(n).name for n in d.graph.nodes if n.op != "const"}
    assert plain(form) == "softmax(θ)" and symbol.name not in taken
    text, tex = str(d), d.latex()
    assert f"{plain(symbol)} = softmax(θ)" in text and text.count(f"{plain(symbol)} = ") == 1
    assert r"\operatorname{diag}(u_{4})" in tex and r"u_{4} &= \operatorname{softmax}" in tex


def test_a_form_that_repeats_nothing_keeps_its_closed_form():
    d = _tanh_gradient()
    assert d.names == {} and d.named_form is d.closed_form
