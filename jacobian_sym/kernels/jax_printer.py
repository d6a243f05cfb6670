"""Closed forms as JAX functions (recipe 4 of docs/ARCHITECTURE.md): the closed-form printer with the
JAX table, and the stable vector helpers in ``jax.numpy``. JAX is an optional peer: this module is
imported only by who asks for it (``jax_function``), never by the package itself.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.printing.numpy import JaxPrinter

from jacobian_sym.kernels.backends.jax_runtime import _col2im, _first_indicator, _im2col, _max_pool1d, _to_window_max
from jacobian_sym.kernels.jax_lowering import JAX
from jacobian_sym.kernels.numpy_printer import ClosedFormPrinter


class JaxClosedFormPrinter(ClosedFormPrinter, JaxPrinter):
    """Closed forms as ``jax.numpy`` code."""

    lowering = JAX
    _module = "jax.numpy"


def _softmax(a, axis):
    return jax.nn.softmax(a, axis=axis)


def _log_softmax(a, axis):
    return jax.nn.log_softmax(a, axis=axis)


def _cross_entropy(y, p):
    return -jnp.sum(y * jnp.log(p))


def _binary_cross_entropy(y, p):
    return -jnp.sum(y * jnp.log(p) + (1 - y) * jnp.log1p(-p))


def _scalar(a):
    return jnp.reshape(a, ())


RUNTIME = {"_softmax": _softmax, "_log_softmax": _log_softmax, "_cross_entropy": _cross_entropy,
           "_binary_cross_entropy": _binary_cross_entropy, "_scalar": _scalar, "_erf": jax.scipy.special.erf,
           "_first_indicator": _first_indicator, "_im2col": _im2col, "_col2im": _col2im,
           "_max_pool1d": _max_pool1d, "_to_window_max": _to_window_max}


def jax_function(args, expr):
    """A JAX callable of ``expr`` over the matrix symbols ``args`` (jit-able, differentiable)."""
    return sp.lambdify(args, expr, modules=[RUNTIME, "jax"], printer=JaxClosedFormPrinter, cse=True)
