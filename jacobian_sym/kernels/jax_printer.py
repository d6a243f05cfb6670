"""Closed forms as JAX functions (recipe 4 of docs/ARCHITECTURE.md): the closed-form printer with the
JAX table, and the stable vector helpers in ``jax.numpy``. JAX is an optional peer: this module is
imported only by who asks for it (``jax_function``), never by the package itself.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.printing.numpy import JaxPrinter

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


def _first_indicator(index, a, axis):
    return jax.nn.one_hot(index, a.shape[axis], axis=axis, dtype=a.dtype)


def _im2col(x, width, stride, padding):
    x = jnp.pad(x, ((padding, padding), (0, 0)))
    rows = (x.shape[0] - width) // stride + 1
    return jnp.concatenate([x[k:k + stride * (rows - 1) + 1:stride] for k in range(width)], axis=1)


def _col2im(g, length, width, stride, padding):
    rows, c = g.shape[0], g.shape[1] // width
    out = jnp.zeros((length + 2 * padding, c), dtype=g.dtype)
    for k in range(width):
        out = out.at[k:k + stride * (rows - 1) + 1:stride].add(g[:, k * c:(k + 1) * c])
    return out[padding:padding + length]


def _max_pool1d(x, width, stride):
    rows = (x.shape[0] - width) // stride + 1
    return jnp.max(jnp.stack([x[k:k + stride * (rows - 1) + 1:stride] for k in range(width)]), axis=0)


def _to_window_max(g, x, width, stride):
    rows = g.shape[0]
    taps = jnp.stack([x[k:k + stride * (rows - 1) + 1:stride] for k in range(width)])
    winner = jax.nn.one_hot(jnp.argmax(taps, axis=0), width, axis=0, dtype=g.dtype)
    out = jnp.zeros(x.shape, dtype=g.dtype)
    for k in range(width):
        out = out.at[k:k + stride * (rows - 1) + 1:stride].add(winner[k] * g)
    return out


RUNTIME = {"_softmax": _softmax, "_log_softmax": _log_softmax, "_cross_entropy": _cross_entropy,
           "_binary_cross_entropy": _binary_cross_entropy, "_scalar": _scalar, "_erf": jax.scipy.special.erf,
           "_first_indicator": _first_indicator, "_im2col": _im2col, "_col2im": _col2im,
           "_max_pool1d": _max_pool1d, "_to_window_max": _to_window_max}


def jax_function(args, expr):
    """A JAX callable of ``expr`` over the matrix symbols ``args`` (jit-able, differentiable)."""
    return sp.lambdify(args, expr, modules=[RUNTIME, "jax"], printer=JaxClosedFormPrinter, cse=True)
